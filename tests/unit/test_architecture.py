"""Dependencies point one way: entry points -> services -> domain and models.

``marketplace/domain`` is plain Python (no Flask, no SQLAlchemy, nothing else from the app), and
``marketplace`` never imports ``workers``.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FRAMEWORKS = ("flask", "flask_sqlalchemy", "flask_login", "flask_wtf", "sqlalchemy", "werkzeug", "celery", "wtforms")


def imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def violations(folder: Path, forbidden) -> list[str]:
    bad = []
    for path in sorted(folder.rglob("*.py")):
        for line, module in imported_modules(path):
            if forbidden(module):
                bad.append(f"{path.relative_to(folder)}:{line} imports {module}")
    return bad


def test_domain_imports_no_framework_and_nothing_else_from_the_app():
    def forbidden(module: str) -> bool:
        top = module.split(".")[0]
        if top in FRAMEWORKS:
            return True
        return top == "marketplace" and not module.startswith("marketplace.domain")

    assert violations(ROOT / "marketplace" / "domain", forbidden) == []


def test_marketplace_never_imports_workers():
    assert violations(ROOT / "marketplace", lambda m: m.split(".")[0] == "workers") == []


def test_the_checker_sees_a_violation(tmp_path):
    """The rule above would catch a bad import (guards against a checker that can never fail)."""
    bad = tmp_path / "bad.py"
    bad.write_text("import flask\nfrom sqlalchemy import select\nfrom workers.tasks import mail\n")
    assert [m for _, m in imported_modules(bad)] == ["flask", "sqlalchemy", "workers.tasks"]
    assert len(violations(tmp_path, lambda m: m.split(".")[0] in FRAMEWORKS + ("workers",))) == 3

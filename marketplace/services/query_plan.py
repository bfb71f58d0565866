"""The database's plan for a statement, to check that hot queries use their indexes."""

from __future__ import annotations

from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.base import Executable
from sqlalchemy.sql.elements import ClauseElement

from marketplace.extensions import db


class Explain(Executable, ClauseElement):
    """``EXPLAIN`` (PostgreSQL) or ``EXPLAIN QUERY PLAN`` (SQLite) of a statement, with its bound values."""

    inherit_cache = False

    def __init__(self, statement):
        self.statement = statement


@compiles(Explain, "postgresql")
def _explain_postgresql(element: Explain, compiler, **kw) -> str:
    return "EXPLAIN " + compiler.process(element.statement, **kw)


@compiles(Explain, "sqlite")
def _explain_sqlite(element: Explain, compiler, **kw) -> str:
    return "EXPLAIN QUERY PLAN " + compiler.process(element.statement, **kw)


def explain(statement, session=None) -> list[str]:
    """The plan as text lines: PostgreSQL's ``EXPLAIN`` lines, or SQLite's ``detail`` column."""
    rows = (session or db.session).execute(Explain(statement)).all()
    return [row[-1] for row in rows]

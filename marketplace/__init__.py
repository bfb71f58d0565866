"""The co-op marketplace Flask application."""

from __future__ import annotations

import copy
from pathlib import Path

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine
from werkzeug.routing import IntegerConverter

from config import DEFAULT_SECRET_KEY, config_for

ROOT = Path(__file__).resolve().parent.parent


def create_app(config_name: str | None = None, overrides: dict | None = None) -> Flask:
    """Build the app: configuration, extensions, Celery, blueprints, CLI. Never touches the schema."""
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(Path(__file__).resolve().parent / "static"),
        instance_path=str(config_for(config_name).INSTANCE_DIR),
    )
    app.config.from_object(config_for(config_name))
    # Nested dicts on the config class must not be shared (and mutated) between app instances.
    app.config["CELERY"] = copy.deepcopy(app.config["CELERY"])
    app.config.from_prefixed_env()
    if overrides:
        app.config.update(overrides)
    _check_production_secret(app)
    _trust_proxies(app)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    _configure_logging(app)

    from marketplace.extensions import csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).resolve().parent / "migrations"),
                     render_as_batch=True, compare_type=True)
    csrf.init_app(app)
    limiter.init_app(app)
    login_manager.init_app(app)

    from marketplace import models  # noqa: F401  (register every table on the metadata)
    from marketplace.celery_setup import celery_init_app

    celery_init_app(app)

    from marketplace.api import register_api
    from marketplace.cli import register_cli
    from marketplace.web import register_web

    app.url_map.converters["int"] = RecordId  # before any route is added: every <int:…> in a URL is a record id
    register_web(app)
    register_api(app)
    register_cli(app)

    from marketplace import page_cache

    with app.app_context():  # after register_web: the cache's hooks run after the request id is assigned
        page_cache.init_app(app, db.engine, db.metadata)
    return app


class RecordId(IntegerConverter):
    """``<int:…>`` in every route: record ids are 32-bit ``integer`` columns, so a larger number in a URL names
    nothing and answers 404 before any query runs (the database would fail the statement instead)."""

    def __init__(self, url_map, *args, **kwargs):
        from marketplace.models.base import MAX_ID

        kwargs.setdefault("max", MAX_ID)
        super().__init__(url_map, *args, **kwargs)
        # The pattern itself stops at MAX_ID: when only ``max`` refuses a number, the router goes on to the same
        # path's rules for other methods and answers 405 (GET /api/v1/jobs/99999999999/messages) instead of 404.
        self.regex = _digits_at_most(MAX_ID)


def _digits_at_most(limit: int) -> str:
    """A regex matching exactly the digit strings whose value is at most ``limit`` (e.g. 0-2147483647)."""
    text = str(limit)
    parts = [rf"\d{{1,{len(text) - 1}}}"] if len(text) > 1 else []
    for i, digit in enumerate(text):
        if digit != "0":  # same length, equal up to i, smaller at i
            rest = len(text) - i - 1
            parts.append(f"{text[:i]}[0-{int(digit) - 1}]" + (rf"\d{{{rest}}}" if rest else ""))
    parts.append(text)
    return "(?:" + "|".join(parts) + ")"


def _check_production_secret(app: Flask) -> None:
    if app.config["ENV_NAME"] == "production":
        key = app.config.get("SECRET_KEY") or ""
        if key == DEFAULT_SECRET_KEY or len(key) < 32:
            raise RuntimeError(
                "SECRET_KEY must be set to a random value of at least 32 characters in production "
                "(python -c 'import secrets; print(secrets.token_hex(32))')."
            )


def _trust_proxies(app: Flask) -> None:
    """Behind ``TRUSTED_PROXY_COUNT`` proxies, take the client's address and scheme from their forwarded headers."""
    hops = int(app.config.get("TRUSTED_PROXY_COUNT") or 0)
    if hops > 0:
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0)


def _configure_logging(app: Flask) -> None:
    from marketplace import logging_setup

    if not app.testing:
        logging_setup.configure(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record) -> None:
    """Foreign keys on, WAL and a busy timeout so concurrent writers wait instead of failing at once."""
    module = type(dbapi_connection).__module__
    if "sqlite" not in module:
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()

"""Structured logs: every line carries the request id, the user id and the Celery task id when there is one.

``LOG_FORMAT=json`` (the default in production) writes one JSON object per line for log collectors;
otherwise a readable text line. Operators find a failing request by its ``X-Request-ID`` header.
"""

from __future__ import annotations

import json
import logging
import sys

from flask import g, has_request_context


class ContextFilter(logging.Filter):
    """Adds request_id, user_id and task_id to every record (``-`` when not known)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = record.user_id = "-"
        if has_request_context():
            record.request_id = g.get("request_id", "-")
            user = g.get("_login_user") or g.get("api_user")
            record.user_id = getattr(user, "id", None) or g.get("page_cache_user_id") or "-"
        record.task_id = _current_task_id() or "-"
        return True


def _current_task_id() -> str | None:
    try:
        from celery import current_task
    except ImportError:  # pragma: no cover - celery is a hard dependency
        return None
    task = current_task
    return getattr(getattr(task, "request", None), "id", None) if task else None


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        payload = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
            "user_id": getattr(record, "user_id", "-"),
            "task_id": getattr(record, "task_id", "-"),
        }
        if record.exc_info:
            payload["exception"] = self.formatException(record.exc_info)
        return json.dumps(payload, default=str)


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s user=%(user_id)s task=%(task_id)s] %(message)s"


def configure(fmt: str = "text", level: str = "INFO") -> None:
    """Install one handler on the root logger (idempotent: a second call replaces the first)."""
    root = logging.getLogger()
    for handler in list(root.handlers):
        if getattr(handler, "_coop_handler", False):
            root.removeHandler(handler)
    handler = logging.StreamHandler(sys.stderr)
    handler._coop_handler = True
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

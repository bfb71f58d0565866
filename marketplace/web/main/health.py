"""Health checks for load balancers and orchestrators."""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from marketplace.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up and serving requests."""
    return jsonify({"status": "ok"})


@bp.get("/readyz")
def readyz():
    """The database and the Celery broker are reachable; 503 names whichever is not."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        checks["database"] = f"unreachable: {type(exc).__name__}"
    try:
        with current_app.extensions["celery"].connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=3)
        checks["broker"] = "ok"
    except Exception as exc:  # noqa: BLE001
        checks["broker"] = f"unreachable: {type(exc).__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify({"status": "ready" if ready else "not ready", "checks": checks}), 200 if ready else 503

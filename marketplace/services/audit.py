"""The audit trail: one row per security-relevant or money-relevant action."""

from __future__ import annotations

from flask import has_request_context, request

from marketplace.extensions import db
from marketplace.models import AuditEvent


def record(action: str, *, actor_id: int | None = None, subject=None, detail: str | None = None) -> AuditEvent:
    """Add an audit row to the current transaction (the calling service commits it)."""
    event = AuditEvent(
        action=action,
        actor_id=actor_id,
        subject_type=type(subject).__name__ if subject is not None else None,
        subject_id=getattr(subject, "id", None),
        detail=detail,
        ip_address=request.remote_addr if has_request_context() else None,
    )
    db.session.add(event)
    return event

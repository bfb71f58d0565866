"""In-app notifications (the bell in the nav), optionally mirrored by an email through the outbox."""

from __future__ import annotations

from flask import has_request_context, request
from sqlalchemy import func, select, update

from marketplace.extensions import db
from marketplace.models import Notification, User
from marketplace.models.base import utcnow
from marketplace.services import mail

_TEXT_LIMIT = 300


def absolute_url(path: str) -> str:
    """``path`` as a full link when a request tells us the site's address; emails read better with one."""
    if path.startswith("/") and has_request_context():
        return request.url_root.rstrip("/") + path
    return path


def notify(user_id: int, kind: str, text: str, url: str, *, email_subject: str | None = None,
           email_template: str | None = None, **ctx) -> Notification:
    """Add an in-app notice for ``user_id`` to the caller's transaction (the caller commits).

    When ``email_template`` is given, the same event is also written to the mail outbox
    (``templates/email/<template>.txt`` with ``user``, ``text``, ``url`` and ``ctx``); the delivery task is
    enqueued only after the commit, so a rolled-back action never sends mail.
    """
    text = text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"
    row = Notification(user_id=user_id, kind=kind, text=text, url=url[:300])
    db.session.add(row)
    if email_template:
        user = db.session.get(User, user_id)
        if user is not None and user.is_active_account:
            mail.queue_email(user.email, email_subject or text, email_template, kind=kind, user=user, text=text,
                             url=absolute_url(url), **ctx)
    return row


def unread_count(user_id: int) -> int:
    """How many of the user's notices are not read yet (the number on the bell)."""
    return db.session.scalar(
        select(func.count()).select_from(Notification)
        .where(Notification.user_id == user_id, Notification.read_at.is_(None))
    ) or 0


def recent(user_id: int, limit: int = 30) -> list[Notification]:
    """The user's latest notices, newest first (read and unread)."""
    return list(db.session.scalars(
        select(Notification).where(Notification.user_id == user_id)
        .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    ))


def mark_all_read(user_id: int) -> int:
    """Mark every unread notice of the user as read now; returns how many changed. Commits."""
    changed = db.session.execute(
        update(Notification).where(Notification.user_id == user_id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
    ).rowcount
    db.session.commit()
    return changed

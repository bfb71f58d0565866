"""Outgoing mail: written to the outbox in the caller's transaction, delivered by a Celery task."""

from __future__ import annotations

import logging
import smtplib
from email.message import EmailMessage

from flask import current_app, render_template

from marketplace import dispatch
from marketplace.extensions import db
from marketplace.models import OutboxEmail
from marketplace.models.base import utcnow

log = logging.getLogger(__name__)


def queue_email(to: str, subject: str, template: str, *, kind: str = "general", **context) -> OutboxEmail:
    """Render ``templates/email/<template>.txt`` into the outbox; delivery is enqueued after commit."""
    body = render_template(f"email/{template}.txt", **context)
    message = OutboxEmail(to_address=to, subject=subject, body_text=body, kind=kind)
    db.session.add(message)
    db.session.flush()
    dispatch.enqueue(dispatch.DELIVER_EMAIL, message.id)
    return message


def deliver(outbox_id: int) -> str:
    """Deliver one outbox message once: by SMTP when MAIL_SERVER is set, otherwise to the log.

    Idempotent: a message already delivered is not sent again (a redelivered task is harmless).
    """
    message = db.session.get(OutboxEmail, outbox_id)
    if message is None:
        return "missing"
    if message.delivered_at is not None:
        return "already-delivered"
    message.attempts += 1
    cfg = current_app.config
    try:
        if cfg.get("MAIL_SERVER"):
            _send_smtp(message, cfg)
            message.delivery = "smtp"
        else:
            log.info("mail to %s: %s\n%s", message.to_address, message.subject, message.body_text)
            message.delivery = "log"
        message.delivered_at = utcnow()
        message.last_error = None
    except (OSError, smtplib.SMTPException) as exc:
        message.last_error = str(exc)[:2000]
        db.session.commit()
        raise
    db.session.commit()
    return message.delivery


def _send_smtp(message: OutboxEmail, cfg) -> None:
    email = EmailMessage()
    email["From"] = cfg["MAIL_DEFAULT_SENDER"]
    email["To"] = message.to_address
    email["Subject"] = message.subject
    email.set_content(message.body_text)
    with smtplib.SMTP(cfg["MAIL_SERVER"], cfg["MAIL_PORT"], timeout=30) as smtp:
        if cfg.get("MAIL_USE_TLS"):
            smtp.starttls()
        if cfg.get("MAIL_USERNAME"):
            smtp.login(cfg["MAIL_USERNAME"], cfg["MAIL_PASSWORD"])
        smtp.send_message(email)

"""Enqueue Celery tasks by name, only after the transaction they depend on has committed.

The web app never imports ``workers``: it sends tasks by name through the Celery app bound to it.
``enqueue`` records the task on the current database session; the session's ``after_commit`` hook
sends it, and a rollback drops it, so a worker never looks for a row that is not there yet.
"""

from __future__ import annotations

import logging

from flask import current_app
from sqlalchemy import event
from sqlalchemy.orm import Session

from marketplace.extensions import db

log = logging.getLogger(__name__)
_PENDING = "pending_tasks"

# Task names, one place: workers/tasks registers tasks under exactly these names.
DELIVER_EMAIL = "mail.deliver_email"
CREATE_PAYOUTS = "money.create_payouts"
BILL_CONFIRMED = "money.bill_confirmed"
EXPIRE_OFFERS = "marketplace.expire_offers"
AUTO_CONFIRM = "marketplace.auto_confirm"
PUBLISH_REVIEWS = "marketplace.publish_reviews"
RUN_DIVIDENDS = "treasury.run_dividends"
REVOLVE = "treasury.revolve"
EMAIL_NOTICES = "treasury.email_notices"
RECOVER_RUNS = "treasury.recover_runs"
GOVERNANCE_ANNOUNCE = "governance.announce"
GOVERNANCE_CLOSE_DUE = "governance.close_due_proposals"
GOVERNANCE_REMINDERS = "governance.send_reminders"
GOVERNANCE_INSTALMENTS = "governance.collect_instalments"


def enqueue(task_name: str, *args, **kwargs) -> None:
    """Send ``task_name`` after the current transaction commits (or at once if none is open)."""
    session = db.session()
    if session.in_transaction():
        session.info.setdefault(_PENDING, []).append((task_name, args, kwargs, current_app._get_current_object()))
    else:
        _send(current_app._get_current_object(), task_name, args, kwargs)


def _send(app, task_name: str, args, kwargs) -> None:
    celery = app.extensions["celery"]
    try:
        celery.send_task(task_name, args=list(args), kwargs=kwargs)
    except Exception:  # noqa: BLE001 - a broker outage must not undo the committed work; the row stays queued
        log.exception("could not enqueue %s%r; it stays pending in the database", task_name, args)


@event.listens_for(Session, "after_commit")
def _send_pending(session: Session) -> None:
    pending = session.info.pop(_PENDING, [])
    for task_name, args, kwargs, app in pending:
        _send(app, task_name, args, kwargs)


@event.listens_for(Session, "after_soft_rollback")
def _drop_pending(session: Session, previous_transaction) -> None:
    if not session.in_transaction():
        session.info.pop(_PENDING, None)

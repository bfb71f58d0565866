"""Treasury tasks: the dividend run, revolving capital accounts, emailing notices, recovering lost runs.

Each takes ids or plain values, calls one service and is safe to run twice or concurrently: the run is
claimed with a conditional update and fenced, redemptions and notices are keyed, so a redelivered task
(acks_late + reject_on_worker_lost) finishes the work instead of repeating it.
"""

from celery import shared_task
from sqlalchemy.exc import OperationalError

from marketplace import dispatch
from marketplace.errors import Conflict
from marketplace.services import capital, dividend_run, dividends, notice_mail


@shared_task(name=dispatch.RUN_DIVIDENDS, bind=True, autoretry_for=(OperationalError,), retry_backoff=10,
             max_retries=30)
def run_dividends(self, run_id: int) -> str:
    """Execute a queued dividend run; if another live worker holds it, check again once its claim could lapse."""
    outcome = dividends.execute_run(run_id, task_id=self.request.id)
    if outcome == "busy":
        raise self.retry(countdown=dividend_run.stale_after().total_seconds() + 1)
    return outcome


@shared_task(name=dispatch.REVOLVE, bind=True, autoretry_for=(OperationalError, Conflict), retry_backoff=10,
             max_retries=10)
def revolve(self, before_year: int, actor_id: int | None = None) -> int:
    """Pay out retained allocations of periods ended before ``before_year``; returns allocations revolved."""
    return capital.revolve(before_year, actor_id)["allocations"]


@shared_task(name=dispatch.EMAIL_NOTICES, autoretry_for=(OperationalError,), retry_backoff=10, max_retries=10)
def email_notices(run_id: int) -> int:
    """Email every not-yet-emailed notice of a completed run; returns how many were queued."""
    return notice_mail.email_notices(run_id)


@shared_task(name=dispatch.RECOVER_RUNS)
def recover_runs() -> int:
    """Beat: re-enqueue dividend runs whose task was lost; returns how many."""
    return len(dividends.recover_stalled_runs())

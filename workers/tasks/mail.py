from celery import shared_task

from marketplace.services import mail


@shared_task(name="mail.deliver_email", autoretry_for=(OSError,), retry_backoff=30, max_retries=5)
def deliver_email(outbox_id: int) -> str:
    """Deliver one outbox message (idempotent: a delivered message is not sent again)."""
    return mail.deliver(outbox_id)

from celery import shared_task

from marketplace.dispatch import BILL_CONFIRMED, CREATE_PAYOUTS
from marketplace.services import billing, payouts


@shared_task(name=CREATE_PAYOUTS)
def create_payouts() -> int | None:
    """The weekly payout batch (idempotent: a week has one batch); returns its id, None when nobody is due."""
    batch = payouts.create_payout_batch()
    return batch.id if batch is not None else None


@shared_task(name=BILL_CONFIRMED)
def bill_confirmed() -> int:
    """Hourly sweep: bill confirmed gigs whose confirmation hook did not (idempotent per gig)."""
    return billing.charge_unbilled()

"""The receipt of a confirmed gig: hours, rate, the worker's earnings, the co-op fee and what it funds
(issue 4 §3). The same dictionary feeds the page, the PDF and the API."""

from __future__ import annotations

from sqlalchemy import select

from marketplace.domain import ledger as rules
from marketplace.domain.money import allocate_largest_remainder
from marketplace.errors import Forbidden, NotFound
from marketplace.extensions import db
from marketplace.models import Invoice, Job, User
from marketplace.services import billing, fees, gigs, ledger

FEE_FUNDS = (
    "Running the platform: hosting, maintenance and development.",
    "Payment processing, insurance, vetting and dispute handling.",
    "The collective reserve that keeps the co-op steady.",
    "What is left after costs is surplus, returned to worker-owners as patronage dividends.",
)
STAFF_ROLES = ("treasurer", "admin")
TOP_CATEGORIES = 5


def _hours_text(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if rest else f"{hours} h"


def spending_breakdown() -> list[dict]:
    """How the co-op's expenses split by category so far, in whole percents that sum to 100."""
    totals = {code.partition(":")[2]: amount for code, amount in ledger.balances(rules.EXPENSE + ":").items()
              if amount > 0}
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    shown = ranked[:TOP_CATEGORIES]
    other = sum(amount for _, amount in ranked[TOP_CATEGORIES:])
    if other:
        shown.append(("other", other))
    if not shown:
        return []
    percents = allocate_largest_remainder(100, [amount for _, amount in shown])
    return [{"category": slug.replace("-", " ").capitalize(), "percent": pct}
            for (slug, _), pct in zip(shown, percents, strict=True)]


def _payment_text(job_id: int) -> dict:
    payment = billing.payment_for(job_id)
    if payment is None:
        return {"method": "Not yet collected", "status": "none", "refunded_cents": 0}
    if payment.provider == "test_card":
        method = f"Card ending {payment.card_last4}"
    else:
        invoice = db.session.scalar(select(Invoice).where(Invoice.payment_id == payment.id))
        method = f"Bank transfer, invoice {invoice.number}" if invoice else "Bank transfer"
    return {"method": method, "status": payment.status, "refunded_cents": payment.refunded_cents}


def receipt(job_id: int) -> dict:
    """The receipt of a confirmed gig, priced as it was charged; NotFound before confirmation."""
    job = db.session.get(Job, job_id)
    if job is None or job.status not in billing.CHARGEABLE:
        raise NotFound("This gig has no receipt yet: receipts exist once the gig is confirmed.")
    rate = fees.fee_rate_for_job(job)
    price = billing.price_for_job(job)
    return {
        "job_id": job.id, "title": job.title, "category": job.category.name,
        "date": fees.local_date(job.confirmed_at or job.completed_at or job.starts_at).isoformat(),
        "client_name": job.client.name, "worker_name": job.worker.name if job.worker else "",
        "minutes": job.actual_minutes, "hours_text": _hours_text(job.actual_minutes),
        "rate_cents": job.agreed_rate_cents, "labour_cents": price.labour_cents,
        "materials_cents": price.materials_cents, "subtotal_cents": price.subtotal_cents,
        "fee_cents": price.fee_cents, "fee_percent": fees.percent_text(int(rate.percent * 100)),
        "fee_mode": price.mode, "fee_mode_text": fees.MODE_LABELS[price.mode],
        "fee_min_cents": rate.min_cents, "fee_max_cents": rate.max_cents,
        "client_total_cents": price.client_total_cents, "worker_earnings_cents": price.worker_earnings_cents,
        "member_gig": bool(job.worker_was_member), "payment": _payment_text(job.id),
        "fee_funds": list(FEE_FUNDS), "spending": spending_breakdown(),
    }


def receipt_for(job_id: int, viewer_id: int) -> dict:
    """The receipt, for the gig's client or worker, a treasurer or an admin only: Forbidden for others who
    may see the gig (a worker it was offered to), NotFound for everyone else, as for the gig itself."""
    job = db.session.get(Job, job_id)
    viewer = db.session.get(User, viewer_id)
    if job is None or viewer is None:
        raise NotFound(f"Gig {job_id} does not exist.")
    if viewer_id not in (job.client_id, job.worker_id) and not viewer.has_role(*STAFF_ROLES):
        if not gigs.can_view(job, viewer):
            raise NotFound(f"Gig {job_id} does not exist.")
        raise Forbidden("Only the gig's client and worker, the treasurer and admins can see this receipt.")
    return receipt(job_id)

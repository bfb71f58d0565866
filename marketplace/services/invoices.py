"""Bank-transfer invoices: the gigs the bank-transfer provider billed, and marking them paid when the
money arrives (issue 4 §4: "invoices an admin marks paid")."""

from __future__ import annotations

from sqlalchemy import select, update

from marketplace.errors import Conflict, NotFound
from marketplace.extensions import db
from marketplace.models import Invoice, Payment
from marketplace.models.base import utcnow
from marketplace.services import audit, billing, fees


def mark_invoice_paid(invoice_id: int, actor_id: int | None) -> Invoice:
    """A bank transfer arrived: mark the invoice paid and post the payment into the bank, once (commits)."""
    invoice = db.session.get(Invoice, invoice_id)
    if invoice is None:
        raise NotFound(f"Invoice {invoice_id} does not exist.")
    claimed = db.session.execute(
        update(Invoice).where(Invoice.id == invoice_id, Invoice.status == "open")
        .values(status="paid", paid_at=utcnow(), marked_paid_by_id=actor_id)
        .execution_options(synchronize_session=False)).rowcount == 1
    db.session.refresh(invoice)
    if not claimed and invoice.status != "paid":
        raise Conflict(f"Invoice {invoice.number} is {invoice.status}; it cannot be marked paid.")
    if claimed:
        payment = db.session.get(Payment, invoice.payment_id)
        payment.status, payment.amount_cents = "captured", invoice.amount_cents
        billing.post_capture(payment, invoice.amount_cents, fees.local_date())
        audit.record("invoice.paid", actor_id=actor_id, subject=invoice, detail=f"{invoice.amount_cents} cents")
    db.session.commit()
    return invoice


def open_invoices() -> list[Invoice]:
    """Invoices waiting for a bank transfer, oldest first."""
    return list(db.session.scalars(select(Invoice).where(Invoice.status == "open").order_by(Invoice.issued_on,
                                                                                             Invoice.id)))

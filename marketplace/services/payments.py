"""Payment providers: how a client's money for a gig is held, taken and given back.

The interface (``PaymentProvider``), so that a real processor can be added beside the built-in ones:

``authorize(job, amount_cents, method, idempotency_key) -> ProviderResult``
    Hold ``amount_cents`` (the gig's estimated total) when the gig is booked. ``method`` is the client's
    ``PaymentMethod`` (a token, never a card number) or None.
``capture(payment, amount_cents, idempotency_key) -> ProviderResult``
    Take ``amount_cents`` (the confirmed total, or a late-cancellation charge) from the hold.
``refund(payment, amount_cents, idempotency_key) -> ProviderResult``
    Give ``amount_cents`` of a captured payment back to the client (dispute outcome).
``void(payment, idempotency_key) -> ProviderResult``
    Release a hold that will not be captured (cancelled gig, no charge).

Each call gets an idempotency key derived from the business event (``job:<id>:capture`` …). A real
processor must be sent that key (Stripe's ``Idempotency-Key`` header, for example), so that a retry
after a crash between the processor's answer and our commit never charges twice. Results carry
``ok``, the provider's reference and a message fit to show the client. Providers never commit; the
billing service records the outcome and posts the ledger entries.

Built in, both fully offline:

- ``TestCardProvider``: accepts only the published test numbers (4242 4242 4242 4242 succeeds,
  4000 0000 0000 0002 is declined, 4000 0000 0000 9995 has insufficient funds). It keeps the last four
  digits and a random token; no card number is ever stored.
- ``BankTransferProvider``: nothing is held; on capture it issues an ``Invoice`` that an admin or the
  treasurer marks paid when the transfer arrives. Refunds are sent back by the treasurer by transfer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from sqlalchemy import select

from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import Invoice, Job, Payment, PaymentMethod
from marketplace.services import audit

TEST_CARDS = {
    "4242424242424242": ("visa", "ok", ""),
    "4000000000000002": ("visa", "declined", "Your card was declined."),
    "4000000000009995": ("visa", "insufficient_funds", "Your card has insufficient funds."),
}
_OUTCOME_BY_LAST4 = {number[-4:]: (outcome, message) for number, (_, outcome, message) in TEST_CARDS.items()}
INVOICE_DAYS = 14


@dataclass(frozen=True)
class ProviderResult:
    """What a provider answered: ``ok``, the status the payment moves to, its reference, a message."""

    ok: bool
    status: str
    reference: str | None = None
    message: str = ""


class PaymentProvider(Protocol):
    name: str

    def authorize(self, job: Job, amount_cents: int, method: PaymentMethod | None,
                  idempotency_key: str) -> ProviderResult: ...

    def capture(self, payment: Payment, amount_cents: int, idempotency_key: str) -> ProviderResult: ...

    def refund(self, payment: Payment, amount_cents: int, idempotency_key: str) -> ProviderResult: ...

    def void(self, payment: Payment, idempotency_key: str) -> ProviderResult: ...


def _reference(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


class TestCardProvider:
    """Offline card processor for the published test numbers; the outcome follows the card's last four."""

    name = "test_card"
    __test__ = False  # not a pytest test class, despite the name

    def _outcome(self, last4: str | None) -> tuple[str, str]:
        return _OUTCOME_BY_LAST4.get(last4 or "", ("declined", "This card is not a test card."))

    def authorize(self, job, amount_cents, method, idempotency_key):
        outcome, message = self._outcome(method.last4 if method else None)
        if outcome != "ok":
            return ProviderResult(False, "failed", None, message)
        return ProviderResult(True, "authorized", _reference("auth"))

    def capture(self, payment, amount_cents, idempotency_key):
        outcome, message = self._outcome(payment.card_last4)
        if outcome != "ok":
            return ProviderResult(False, "failed", None, message)
        return ProviderResult(True, "captured", _reference("ch"))

    def refund(self, payment, amount_cents, idempotency_key):
        return ProviderResult(True, payment.status, _reference("re"))

    def void(self, payment, idempotency_key):
        return ProviderResult(True, "voided", payment.provider_ref)


class BankTransferProvider:
    """Manual bank transfer: capture issues an invoice; an admin marks it paid (invoices.mark_invoice_paid)."""

    name = "bank_transfer"

    def authorize(self, job, amount_cents, method, idempotency_key):
        return ProviderResult(True, "pending", None, "You will receive an invoice when the gig is confirmed.")

    def capture(self, payment, amount_cents, idempotency_key):
        from marketplace.services.fees import local_date

        today = local_date()
        invoice = Invoice(payment_id=payment.id, job_id=payment.job_id, client_id=payment.client_id,
                          amount_cents=amount_cents, status="open", issued_on=today,
                          due_on=today + timedelta(days=INVOICE_DAYS))
        db.session.add(invoice)
        db.session.flush()
        return ProviderResult(True, "invoiced", invoice.number, f"Invoice {invoice.number} issued.")

    def refund(self, payment, amount_cents, idempotency_key):
        return ProviderResult(True, payment.status, _reference("transfer"), "The treasurer sends the refund back.")

    def void(self, payment, idempotency_key):
        invoice = db.session.scalar(select(Invoice).where(Invoice.payment_id == payment.id))
        if invoice is not None and invoice.status == "open":
            invoice.status = "void"
        return ProviderResult(True, "voided", None)


PROVIDERS: dict[str, PaymentProvider] = {p.name: p for p in (TestCardProvider(), BankTransferProvider())}


def provider(name: str) -> PaymentProvider:
    """The provider registered under ``name`` (a payment's ``provider`` column)."""
    return PROVIDERS[name]


def _digits(card_number: str) -> str:
    return "".join(ch for ch in str(card_number) if ch.isdigit())


def card_on_file(user_id: int) -> PaymentMethod | None:
    """The client's saved card, if any; gigs are invoiced for bank transfer otherwise."""
    return db.session.scalar(select(PaymentMethod).where(PaymentMethod.user_id == user_id))


def save_test_card(user_id: int, card_number: str) -> PaymentMethod:
    """Save a card for future gigs (commits), replacing any earlier one.

    Only the published test numbers are accepted, so no real card number can reach the database; only
    the brand, the last four digits and a random token are kept.
    """
    digits = _digits(card_number)
    if digits not in TEST_CARDS or len(str(card_number).strip()) > 23:
        raise ValidationFailed({"card_number": "Use a test card number: 4242 4242 4242 4242 (succeeds), "
                                               "4000 0000 0000 0002 (declined) or 4000 0000 0000 9995 "
                                               "(insufficient funds). Real cards are not accepted."})
    brand = TEST_CARDS[digits][0]
    method = card_on_file(user_id)
    if method is None:
        method = PaymentMethod(user_id=user_id)
        db.session.add(method)
    method.provider, method.brand, method.last4, method.token = "test_card", brand, digits[-4:], _reference("tok")
    audit.record("payment_method.saved", actor_id=user_id, detail=f"{brand} ending {digits[-4:]}")
    db.session.commit()
    return method


def remove_card(user_id: int) -> None:
    """Forget the client's card (commits); later gigs are invoiced for bank transfer."""
    method = card_on_file(user_id)
    if method is not None:
        db.session.delete(method)
        audit.record("payment_method.removed", actor_id=user_id)
        db.session.commit()

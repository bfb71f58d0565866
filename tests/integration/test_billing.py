"""Billing a gig: authorization at booking, charge and capture at confirmation, card failures falling back to
an invoice, fee rates kept from the booking date, late cancellations, dispute refunds, receipts."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.models import FeeRate, Offer
from marketplace.services import billing, fees, invoices, ledger, payments, payouts, receipts
from marketplace.web.money.pdf import receipt_pdf
from money_support import BOOKED_AT, entry_count, make_job, postings_total, set_status


@pytest.fixture
def people(make_user):
    return make_user("client"), make_user("worker", "member")


def accepted_gig(client, worker, card: str | None = "4242424242424242", **kwargs):
    if card:
        payments.save_test_card(client.id, card)
    job = make_job(client, worker, status="accepted", **kwargs)
    billing.on_gig_accepted(job.id)
    return job


def test_booking_holds_the_estimate_and_confirmation_charges_the_confirmed_hours(app, db, people):
    client, worker = people
    job = accepted_gig(client, worker, rate_cents=3_000, estimated_minutes=120)
    payment = billing.payment_for(job.id)
    assert (payment.status, payment.authorized_cents, payment.card_last4) == ("authorized", 6_000, "4242")
    assert billing.on_gig_accepted(job.id).id == payment.id
    set_status(job.id, "confirmed", actual_minutes=150)
    summary = billing.on_gig_confirmed(job.id)
    assert summary["payment"]["amount_cents"] == 7_500
    assert ledger.balances() == {"1100": 7_500, f"1200:{client.id}": 0, f"2100:{worker.id}": -7_125, "4000": -375}


def test_non_member_fees_are_kept_apart(app, db, make_user):
    client, worker = make_user("client"), make_user("worker")
    job = make_job(client, worker, member=False)
    billing.on_gig_confirmed(job.id)
    assert ledger.balance("4010") == -300 and ledger.balance("4000") == 0


@pytest.mark.parametrize("card, message", [("4000000000000002", "declined"), ("4000000000009995", "insufficient")])
def test_a_failing_card_falls_back_to_an_invoice(app, db, people, card, message):
    client, worker = people
    job = accepted_gig(client, worker, card=card)
    assert billing.payment_for(job.id).status == "failed"
    set_status(job.id, "confirmed")
    summary = billing.on_gig_confirmed(job.id)
    assert summary["payment"]["provider"] == "bank_transfer" and message in summary["payment"]["failure_message"]
    assert summary["invoice"]["status"] == "open" and summary["invoice"]["amount_cents"] == 6_000
    assert f"gig:{job.id}:capture" not in summary["entries"]
    invoices.mark_invoice_paid(summary["invoice"]["id"], None)
    assert ledger.balance("1000") == 6_000 and ledger.balance(f"1200:{client.id}") == 0
    with pytest.raises(NotFound):
        invoices.mark_invoice_paid(999_999, None)


def test_a_gig_keeps_the_fee_rate_in_force_when_it_was_booked(app, db, people):
    client, worker = people
    db.session.add(FeeRate(effective_from=date(2026, 4, 1), percent_bp=1_000, mode="on_top", min_cents=700,
                           max_cents=5_000))
    db.session.commit()
    before = make_job(client, worker, accepted_at=BOOKED_AT)
    after = make_job(client, worker, accepted_at=BOOKED_AT + timedelta(days=40))
    assert billing.price_for_job(before).fee_cents == 300
    price = billing.price_for_job(after)
    assert (price.fee_cents, price.client_total_cents, price.worker_earnings_cents) == (700, 6_700, 6_000)
    billing.on_gig_confirmed(before.id)
    billing.on_gig_confirmed(after.id)
    assert ledger.balance("4000") == -1_000 and ledger.verify() == []


def test_set_fee_rate_validates_and_keeps_history(app, db, make_user):
    treasurer = make_user("treasurer")
    tomorrow = fees.local_date() + timedelta(days=1)
    with pytest.raises(ValidationFailed) as caught:
        fees.set_fee_rate("5.123", fees.local_date() - timedelta(days=1), 500, 100, "sideways", treasurer.id)
    assert set(caught.value.fields) == {"percent", "effective_from", "max_cents", "mode"}
    fees.set_fee_rate("4.5", tomorrow, None, 2_000, "deducted", treasurer.id, "Vote of the general assembly")
    with pytest.raises(ValidationFailed) as caught:
        fees.set_fee_rate("6", tomorrow, None, None, "on_top", treasurer.id)
    assert "already starts" in caught.value.fields["effective_from"]
    assert fees.current_fee_rate().percent == 5
    assert fees.current_fee_rate(tomorrow).percent == fees.current_fee_rate(tomorrow).percent.__class__(9, 2)
    history = fees.fee_rate_history()
    assert [row["percent"] for row in history] == ["4.5", "5"] and history[-1]["is_default"]


def test_a_late_cancellation_is_charged_per_policy_and_an_early_one_is_free(app, db, people):
    client, worker = people
    late = accepted_gig(client, worker, rate_cents=3_000, estimated_minutes=120)
    set_status(late.id, "cancelled")
    summary = billing.on_gig_cancelled(late.id, late=True)
    assert summary["payment"]["amount_cents"] == 3_000  # 50 % of the 60.00 subtotal
    assert ledger.balance(f"2100:{worker.id}") == -2_400 and ledger.balance("4000") == -600
    assert billing.on_gig_cancelled(late.id, late=True) == summary
    early = accepted_gig(client, worker)
    set_status(early.id, "cancelled")
    assert billing.on_gig_cancelled(early.id, late=False)["payment"]["status"] == "voided"
    assert entry_count(f"gig:{early.id}:%") == 0
    with pytest.raises(Conflict):
        billing.on_gig_confirmed(early.id)


def test_a_dispute_refund_is_shared_by_worker_and_fee_once(app, db, people):
    client, worker = people
    job = accepted_gig(client, worker, rate_cents=3_000, estimated_minutes=120)
    set_status(job.id, "confirmed")
    summary = billing.refund_dispute(job.id, "25", None)  # also posts the charge if not yet posted
    assert summary["payment"]["refunded_cents"] == 1_500
    assert ledger.balance(f"2100:{worker.id}") == -(5_700 - 1_425) and ledger.balance("4000") == -(300 - 75)
    assert billing.refund_dispute(job.id, "25", None) == summary
    with pytest.raises(Conflict):
        billing.refund_dispute(job.id, "50", None)
    with pytest.raises(ValidationFailed):
        billing.refund_dispute(job.id, "120", None)
    assert postings_total() == 0 and ledger.verify() == []


def test_a_refund_is_refused_before_payment_and_after_the_worker_was_paid_out(app, db, people):
    client, worker = people
    unpaid = make_job(client, worker)
    billing.on_gig_confirmed(unpaid.id)
    with pytest.raises(Conflict, match="not paid"):
        billing.refund_dispute(unpaid.id, "100", None)
    paid = accepted_gig(client, worker)
    set_status(paid.id, "confirmed")
    billing.on_gig_confirmed(paid.id)
    payouts.set_payout_account(worker.id, worker.name, "GB82 WEST 1234 5698 7654 32")
    assert payouts.create_payout_batch(date(2026, 3, 9), minimum_cents=0) is not None
    with pytest.raises(Conflict, match="paid out"):
        billing.refund_dispute(paid.id, "100", None)
    assert payouts.earnings_balance(worker.id) == 0


def test_billing_refuses_gigs_in_the_wrong_state(app, db, people):
    client, worker = people
    job = make_job(client, worker, status="completed")
    with pytest.raises(Conflict):
        billing.on_gig_confirmed(job.id)
    with pytest.raises(Conflict):
        billing.on_gig_cancelled(job.id, late=True)
    with pytest.raises(NotFound):
        billing.on_gig_confirmed(987_654)


def test_the_receipt_shows_hours_rate_earnings_fee_and_what_it_funds(app, db, people, make_user):
    client, worker = people
    job = accepted_gig(client, worker, rate_cents=3_000)
    with pytest.raises(NotFound):
        receipts.receipt_for(job.id, client.id)
    set_status(job.id, "confirmed", actual_minutes=150)
    billing.on_gig_confirmed(job.id)
    data = receipts.receipt_for(job.id, worker.id)
    assert (data["hours_text"], data["rate_cents"], data["worker_earnings_cents"], data["fee_cents"]) == (
        "2 h 30 min", 3_000, 7_125, 375)
    assert data["fee_percent"] == "5" and data["payment"]["method"] == "Card ending 4242" and data["fee_funds"]
    assert receipts.receipt_for(job.id, make_user("treasurer").id)["job_id"] == job.id
    with pytest.raises(NotFound):  # a stranger to the gig: as for the gig itself, it does not exist for them
        receipts.receipt_for(job.id, make_user("client").id)
    offered = make_user("worker")  # was offered the job, so may see it, but the receipt is not theirs
    db.session.add(Offer(job_id=job.id, worker_id=offered.id, round=1, status="expired", rate_cents=3_000,
                         distance_m=0, score_ppm=0, expires_at=BOOKED_AT))
    db.session.commit()
    with pytest.raises(Forbidden):
        receipts.receipt_for(job.id, offered.id)
    pdf = receipt_pdf(data, "Commons Co-op")
    assert pdf.startswith(b"%PDF")
    for amount in (b"$75.00", b"$71.25", b"$3.75", b"$30.00", b"2 h 30 min"):
        assert amount in pdf


def test_the_sweep_bills_confirmed_gigs_that_were_missed_once(app, db, people):
    client, worker = people
    missed = [make_job(client, worker).id for _ in range(3)]
    make_job(client, worker, status="completed")
    billing.on_gig_confirmed(missed[0])
    assert ledger.verify() == [f"gig {job_id} is confirmed but its charge is not posted" for job_id in missed[1:]]
    assert billing.charge_unbilled() == 2
    assert billing.charge_unbilled() == 0
    assert ledger.verify() == [] and entry_count("gig:%:charge") == 3

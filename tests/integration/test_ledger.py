"""The ledger: entries post once per idempotency key (also when callers race), the database refuses to edit
or delete posted rows, corrections are reversals, balances and ``verify`` read the books."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from marketplace.domain import ledger as rules
from marketplace.errors import Conflict, ValidationFailed
from marketplace.models import JournalEntry, LedgerAccount, Payment
from marketplace.services import billing, invoices, ledger, payments
from money_support import entry_count, make_job, postings_total, set_status

ON = date(2026, 3, 4)


def expense_spec(expense_id: int = 1, cents: int = 12_345) -> rules.JournalEntrySpec:
    return rules.entry_expense(expense_id, "hosting", cents, ON)


def run_together(app, count: int, work):
    """Run ``work()`` in ``count`` threads released at the same moment, each in its own app context."""
    barrier = threading.Barrier(count)
    results, errors = [None] * count, []

    def runner(index: int) -> None:
        with app.app_context():
            barrier.wait()
            try:
                results[index] = work()
            except Exception as exc:  # noqa: BLE001 - reported by the test below
                errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == []
    return results


def test_post_creates_accounts_and_is_idempotent(app, db):
    first = ledger.post(expense_spec(), source_type="expense", source_id=1)
    db.session.commit()
    again = ledger.post(expense_spec(), source_type="expense", source_id=1)
    db.session.commit()
    assert again.id == first.id
    assert entry_count() == 1 and postings_total() == 0
    account = db.session.get(LedgerAccount, "5000:hosting")
    assert (account.kind, account.name) == ("expense", "Operating expenses · hosting")
    assert ledger.balances() == {"1000": -12_345, "5000:hosting": 12_345}


def test_same_key_with_other_amounts_is_a_conflict(app, db):
    ledger.post(expense_spec(cents=100))
    db.session.commit()
    with pytest.raises(Conflict):
        ledger.post(expense_spec(cents=101))


def test_unbalanced_entry_is_refused(app, db):
    spec = rules.JournalEntrySpec("bad:1", "bad", ON, (rules.Posting("1000", 5), rules.Posting("4500", -4)))
    with pytest.raises(ValidationFailed) as caught:
        ledger.post(spec)
    assert "does not balance" in caught.value.fields["entry"]
    assert entry_count() == 0


def test_reversal_restores_every_balance_and_cannot_be_reversed(app, db):
    original = ledger.post(expense_spec())
    db.session.commit()
    reversal = ledger.reverse(original.id, "expense:1:reversal", "Entered twice")
    db.session.commit()
    assert reversal.reverses_entry_id == original.id
    assert all(total == 0 for total in ledger.balances().values())
    assert ledger.reverse(original.id, "expense:1:reversal", "Entered twice").id == reversal.id
    with pytest.raises(Conflict):
        ledger.reverse(reversal.id, "expense:1:reversal:reversal", "again")


def test_balances_as_of_a_date_and_by_prefix(app, db):
    ledger.post(rules.entry_expense(1, "hosting", 100, date(2026, 1, 10)))
    ledger.post(rules.entry_expense(2, "insurance", 250, date(2026, 2, 10)))
    db.session.commit()
    assert ledger.balance("1000", as_of=date(2026, 1, 31)) == -100
    assert ledger.balance("1000") == -350
    assert ledger.balances("5000:", as_of=date(2026, 1, 31)) == {"5000:hosting": 100}
    assert ledger.balances("5000:") == {"5000:hosting": 100, "5000:insurance": 250}


@pytest.mark.parametrize("statement", [
    "UPDATE journal_entries SET memo = 'edited'",
    "DELETE FROM journal_entries",
    "UPDATE postings SET amount_cents = amount_cents * 2",
    "DELETE FROM postings",
])
def test_the_database_refuses_to_edit_or_delete_posted_rows(app, db, statement):
    ledger.post(expense_spec())
    db.session.commit()
    with pytest.raises(DBAPIError) as caught:
        db.session.execute(text(statement))
        db.session.flush()
    assert "ledger rows are immutable" in str(caught.value)
    db.session.rollback()
    assert entry_count() == 1
    assert db.session.scalar(select(JournalEntry.memo)) == "Expense 1 (hosting)"
    assert ledger.balances() == {"1000": -12_345, "5000:hosting": 12_345}


def test_concurrent_posts_of_one_event_write_one_entry(app, db):
    ids = run_together(app, 4, lambda: _post_and_commit())
    assert len(set(ids)) == 1
    assert entry_count() == 1 and postings_total() == 0


def _post_and_commit() -> int:
    entry = ledger.post(expense_spec(7))
    from marketplace.extensions import db as _db

    _db.session.commit()
    return entry.id


@pytest.fixture
def card_gig(app, db, make_user):
    client, worker = make_user("client"), make_user("worker", "member")
    payments.save_test_card(client.id, "4242424242424242")
    job = make_job(client, worker, status="accepted", rate_cents=2_500, estimated_minutes=120)
    billing.on_gig_accepted(job.id)
    set_status(job.id, "confirmed", actual_minutes=90)
    return job.id


def test_confirming_twice_charges_once_and_answers_the_same(app, db, card_gig):
    first = billing.on_gig_confirmed(card_gig)
    second = billing.on_gig_confirmed(card_gig)
    assert first == second
    assert set(first["entries"]) == {f"gig:{card_gig}:charge", f"gig:{card_gig}:capture"}
    assert first["payment"]["status"] == "captured" and first["payment"]["amount_cents"] == 3_750
    assert entry_count(f"gig:{card_gig}:%") == 2 and postings_total() == 0


def test_concurrent_confirmations_charge_once_and_answer_the_same(app, db, card_gig, monkeypatch):
    calls = []
    original = payments.TestCardProvider.capture

    def counting_capture(self, payment, amount_cents, idempotency_key):
        calls.append(amount_cents)
        return original(self, payment, amount_cents, idempotency_key)

    monkeypatch.setattr(payments.TestCardProvider, "capture", counting_capture)
    results = run_together(app, 4, lambda: billing.on_gig_confirmed(card_gig))
    assert all(result == results[0] for result in results)
    assert calls == [3_750]
    assert entry_count(f"gig:{card_gig}:charge") == 1 and entry_count(f"gig:{card_gig}:capture") == 1
    db.session.expire_all()
    assert db.session.scalar(select(Payment.amount_cents).where(Payment.job_id == card_gig)) == 3_750
    assert ledger.verify() == []


def test_a_bank_transfer_marked_paid_twice_at_once_posts_one_payment(app, db, make_user):
    client, worker = make_user("client"), make_user("worker")
    job = make_job(client, worker, status="confirmed", member=False)
    summary = billing.on_gig_confirmed(job.id)
    assert summary["payment"]["provider"] == "bank_transfer" and summary["invoice"]["status"] == "open"
    invoice_id = summary["invoice"]["id"]
    results = run_together(app, 3, lambda: invoices.mark_invoice_paid(invoice_id, None).status)
    assert results == ["paid"] * 3
    assert entry_count(f"gig:{job.id}:capture") == 1
    assert ledger.balances() == {"1000": 6_000, f"1200:{client.id}": 0, f"2100:{worker.id}": -5_700, "4010": -300}


def test_verify_reports_broken_books(app, db, make_user):
    client, worker = make_user("client"), make_user("worker")
    assert ledger.verify() == []
    job = make_job(client, worker, status="confirmed")
    assert ledger.verify() == [f"gig {job.id} is confirmed but its charge is not posted"]
    billing.on_gig_confirmed(job.id)
    assert ledger.verify() == []
    ledger.post(rules.JournalEntrySpec("manual:1", "overpaid", ON, (
        rules.Posting(rules.worker_payable(worker.id), 999_999), rules.Posting("1000", -999_999))))
    db.session.execute(text("INSERT INTO journal_entries (idempotency_key, memo, occurred_on, posted_at) "
                            "VALUES ('broken:1', 'one-legged', '2026-03-04', '2026-03-04 10:00:00')"))
    db.session.commit()
    problems = ledger.verify()
    assert any("broken:1" in p and "0 postings" in p for p in problems)
    assert any(f"2100:{worker.id}" in p and "debit" in p for p in problems)

"""Weekly payouts: who is paid, the bank file, one batch per week (also when two runs race), history."""

from __future__ import annotations

import threading
from datetime import date

import pytest

from marketplace.errors import NotFound, ValidationFailed
from marketplace.models import PayoutBatch
from marketplace.services import billing, ledger, payments, payouts, settings
from money_support import entry_count, make_job

MONDAY = date(2026, 3, 9)


@pytest.fixture
def earners(make_user):
    """Three workers owed 57.00 (with bank details), 28.50 (with) and 57.00 (no bank details)."""
    client = make_user("client")
    payments.save_test_card(client.id, "4242 4242 4242 4242")
    workers = [make_user("worker", "member", name=name) for name in ("Ana Morales", "=HYPERLINK(1)", "Li Wei")]
    for worker, minutes in zip(workers, (120, 60, 120), strict=True):
        billing.on_gig_confirmed(make_job(client, worker, actual_minutes=minutes).id)
    payouts.set_payout_account(workers[0].id, "Ana Morales", "DE89 3704 0044 0532 0130 00")
    payouts.set_payout_account(workers[1].id, "=HYPERLINK(1)", "GB82-WEST-1234-5698-7654-32")
    return workers


def test_a_batch_pays_whole_balances_above_the_minimum_to_workers_with_bank_details(app, db, earners):
    ana, hyper, li = earners
    assert [payouts.earnings_balance(w.id) for w in earners] == [5_700, 2_850, 5_700]
    batch = payouts.create_payout_batch(MONDAY, minimum_cents=3_000)
    assert (batch.week_start, batch.line_count, batch.total_cents) == (MONDAY, 1, 5_700)
    assert [payouts.earnings_balance(w.id) for w in earners] == [0, 2_850, 5_700]
    assert payouts.bank_csv_for(batch.id) == (
        "reference,payee,account,amount\r\n"
        f"COOP-PAYOUT-{batch.id}-{ana.id},Ana Morales,DE89 3704 0044 0532 0130 00,57.00\r\n")
    assert ledger.verify() == []


def test_the_week_has_one_batch_and_the_next_week_pays_the_rest(app, db, earners):
    ana, hyper, li = earners
    first = payouts.create_payout_batch(MONDAY, minimum_cents=0)
    assert first.line_count == 2
    assert payouts.create_payout_batch(date(2026, 3, 13), minimum_cents=0).id == first.id
    assert entry_count("payout:%") == 2
    assert payouts.create_payout_batch(date(2026, 3, 16), minimum_cents=0) is None
    payouts.set_payout_account(li.id, "Li Wei", "FR14 2004 1010 0505 0001 3M02 606")
    second = payouts.create_payout_batch(date(2026, 3, 16), minimum_cents=0)
    assert (second.line_count, second.total_cents) == (1, 5_700)
    csv_text = payouts.bank_csv_for(first.id)
    assert "'=HYPERLINK(1)" in csv_text  # a payee name cannot run as a spreadsheet formula
    history = payouts.payout_history(ana.id)
    assert [(row["paid_on"], row["amount_cents"], row["account"]) for row in history] == [
        (MONDAY, 5_700, "•••• 3000")]
    assert ledger.balance("1100") == 0 and ledger.balance("1000") == 15_000 - 14_250  # settled, then paid out


def test_minimum_comes_from_the_settings(app, db, earners):
    settings.set_value("payout_minimum_cents", "5000", date(2026, 1, 1))
    db.session.commit()
    assert payouts.create_payout_batch(MONDAY).line_count == 1


def test_two_runs_at_the_same_moment_make_one_batch(app, db, earners):
    barrier, ids = threading.Barrier(3), []

    def run():
        with app.app_context():
            barrier.wait()
            ids.append(payouts.create_payout_batch(MONDAY, minimum_cents=0).id)

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert len(ids) == 3 and len(set(ids)) == 1
    assert db.session.query(PayoutBatch).count() == 1 and entry_count("payout:%") == 2


def test_bank_details_are_validated_and_masked(app, db, make_user):
    worker = make_user("worker")
    with pytest.raises(ValidationFailed) as caught:
        payouts.set_payout_account(worker.id, " ", "12")
    assert set(caught.value.fields) == {"holder_name", "account_number"}
    assert payouts.mask_account("DE89 3704 0044 0532 0130 00") == "•••• 3000"
    with pytest.raises(NotFound):
        payouts.bank_csv_for(424_242)


def test_a_batch_pays_only_earnings_dated_up_to_its_day(app, db, earners):
    assert payouts.create_payout_batch(date(2026, 3, 2), minimum_cents=0) is None  # the gigs were confirmed 4 March
    assert payouts.create_payout_batch(date(2026, 3, 6), minimum_cents=0).total_cents == 5_700 + 2_850

"""Random sequences of bookings, confirmations, payments, refunds, cancellations, payouts and expenses
(issue 4 acceptance). A plain-Python model predicts every balance; after every step all postings sum to
zero, no worker balance goes negative, each gig's fee is posted exactly once, the fee revenue and each
worker's balance equal the model's; at the end of each history ``ledger.verify()`` finds nothing wrong."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from marketplace.domain import ledger as rules
from marketplace.domain import pricing
from marketplace.domain.money import allocate_largest_remainder
from marketplace.errors import Conflict
from marketplace.extensions import db
from marketplace.models import FeeRate, JournalEntry, Posting
from marketplace.services import billing, invoices, ledger, payments, payouts
from money_support import make_job, postings_total, set_status

GOOD, DECLINED, BROKE = "4242424242424242", "4000000000000002", "4000000000009995"
POLICY = pricing.CancellationPolicy(Fraction(50), Fraction(80))  # the settings' defaults
START = date(2026, 1, 5)  # a Monday


def empty_postgres(engine) -> None:
    """Delete every row in one short transaction with triggers off (TRUNCATE of every table is slow on a
    small test server; ``session_replication_role = replica`` needs the superuser the test server runs as)."""
    with engine.begin() as conn:
        names = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                  "AND tablename <> 'alembic_version'")).scalars().all()
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        for name in names:
            conn.execute(text(f'DELETE FROM "{name}"'))


def reset_database(app, template) -> None:
    """Each example starts from the freshly migrated database, so the model sees every row and a failing
    example replays exactly (on SQLite the template file is copied back)."""
    kind, location = template
    db.session.remove()
    if kind == "postgresql":
        empty_postgres(db.engine)
        return
    db.engine.dispose()
    path = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    for suffix in ("-wal", "-shm"):
        Path(path + suffix).unlink(missing_ok=True)
    shutil.copyfile(location, path)


@dataclass
class Gig:
    id: int
    worker_id: int
    member: bool
    rate: int
    estimated: int
    card: str | None
    state: str = "accepted"
    price: pricing.GigPrice | None = None
    pay: str = "held"
    paid: int = 0
    refunded: int = 0


def machine_for(app, template, make_user):
    class MoneyMachine(RuleBasedStateMachine):
        @initialize(percent_bp=st.integers(0, 2_000), mode=st.sampled_from(pricing.FEE_MODES),
                    minimum=st.none() | st.integers(0, 500), maximum=st.none() | st.integers(500, 3_000))
        def setup(self, percent_bp, mode, minimum, maximum):
            reset_database(app, template)
            self.booked_on = START + timedelta(days=1)
            self.weeks, self.expense_ids = itertools.count(1), itertools.count(1)
            rate = FeeRate(effective_from=self.booked_on, percent_bp=percent_bp, mode=mode, min_cents=minimum,
                           max_cents=maximum)
            db.session.add(rate)
            db.session.commit()
            self.fee_rate = pricing.FeeRate(self.booked_on, Fraction(percent_bp, 100), minimum, maximum, mode)
            self.clients = [make_user("client") for _ in range(2)]
            self.workers = [make_user("worker", "member"), make_user("worker")]
            for worker in self.workers:
                payouts.set_payout_account(worker.id, worker.name, f"NL91ABNA04171643{worker.id:02d}")
            self.gigs: list[Gig] = []
            self.owed = {worker.id: 0 for worker in self.workers}
            self.fees = 0

        def _pick(self, data, state, pay=None) -> Gig:
            choices = [g for g in self.gigs if g.state == state and (pay is None or g.pay == pay)]
            return data.draw(st.sampled_from(choices))

        def _has(self, state, pay=None) -> bool:
            return any(g.state == state and (pay is None or g.pay == pay) for g in self.gigs)

        @rule(client=st.integers(0, 1), worker=st.integers(0, 1), rate=st.integers(1_000, 9_000),
              estimated=st.integers(30, 720), card=st.sampled_from([None, GOOD, GOOD, DECLINED, BROKE]))
        def book(self, client, worker, rate, estimated, card):
            client_user, worker_user = self.clients[client], self.workers[worker]
            if card:
                payments.save_test_card(client_user.id, card)
            else:
                payments.remove_card(client_user.id)
            accepted = datetime.combine(self.booked_on, time(18), tzinfo=UTC)
            job = make_job(client_user, worker_user, status="accepted", rate_cents=rate, estimated_minutes=estimated,
                           member=worker == 0, accepted_at=accepted)
            payment = billing.on_gig_accepted(job.id)
            assert payment.status == {None: "pending", GOOD: "authorized"}.get(card, "failed")
            self.gigs.append(Gig(job.id, worker_user.id, worker == 0, rate, estimated, card))

        def _collect(self, gig: Gig, amount: int) -> None:
            gig.paid, gig.pay = (amount, "captured") if gig.card == GOOD else (amount, "invoiced")

        @precondition(lambda self: self._has("accepted"))
        @rule(data=st.data(), minutes=st.integers(1, 1_440), twice=st.booleans())
        def confirm(self, data, minutes, twice):
            gig = self._pick(data, "accepted")
            set_status(gig.id, "confirmed", actual_minutes=minutes)
            answer = billing.on_gig_confirmed(gig.id)
            if twice:
                assert billing.on_gig_confirmed(gig.id) == answer
            gig.state, gig.price = "confirmed", pricing.price_gig(gig.rate, minutes, self.fee_rate)
            self.owed[gig.worker_id] += gig.price.worker_earnings_cents
            self.fees += gig.price.fee_cents
            self._collect(gig, gig.price.client_total_cents)
            assert answer["payment"]["status"] == gig.pay and answer["payment"]["amount_cents"] == (
                gig.paid if gig.pay == "captured" else 0)

        @precondition(lambda self: self._has("accepted"))
        @rule(data=st.data(), late=st.booleans())
        def cancel(self, data, late):
            gig = self._pick(data, "accepted")
            set_status(gig.id, "cancelled")
            answer = billing.on_gig_cancelled(gig.id, late)
            gig.state = "cancelled"
            labour = pricing.labour_cents(gig.rate, gig.estimated)
            charge = pricing.cancellation_charge(labour, late, POLICY)
            if charge.charged_cents:
                self.owed[gig.worker_id] += charge.worker_cents
                self.fees += charge.coop_cents
                self._collect(gig, charge.charged_cents)
            else:
                gig.pay = "voided"
            assert answer["payment"]["status"] == gig.pay

        @precondition(lambda self: any(g.pay == "invoiced" for g in self.gigs))
        @rule(data=st.data(), twice=st.booleans())
        def pay_invoice(self, data, twice):
            gig = data.draw(st.sampled_from([g for g in self.gigs if g.pay == "invoiced"]))
            invoice_id = billing.summary(gig.id)["invoice"]["id"]
            for _ in range(2 if twice else 1):
                assert invoices.mark_invoice_paid(invoice_id, None).status == "paid"
            gig.pay = "captured"

        @precondition(lambda self: self._has("confirmed"))
        @rule(data=st.data(), percent=st.integers(0, 100))
        def refund(self, data, percent):
            gig = self._pick(data, "confirmed")
            refund = pricing.dispute_refund(gig.paid, Fraction(percent)).refund_cents
            worker_part, fee_part = allocate_largest_remainder(
                refund, [gig.price.worker_earnings_cents, gig.price.fee_cents])
            refused = (gig.pay != "captured" or (gig.refunded and gig.refunded != refund)
                       or (not gig.refunded and refund and worker_part > self.owed[gig.worker_id]))
            try:
                answer = billing.refund_dispute(gig.id, str(percent), None)
            except Conflict:
                assert refused, "the refund was refused but the model allows it"
                return
            assert not refused, "the refund went through but the model refuses it"
            if refund and not gig.refunded:
                gig.refunded = refund
                self.owed[gig.worker_id] -= worker_part
                self.fees -= fee_part
            assert answer["payment"]["refunded_cents"] == gig.refunded

        @rule(minimum=st.integers(0, 20_000))
        def payout(self, minimum):
            on = START + timedelta(days=7 * next(self.weeks) + 3)
            batch = payouts.create_payout_batch(on, minimum_cents=minimum)
            due = {w: owed for w, owed in self.owed.items() if owed > 0 and owed >= minimum}
            paid = {line.worker_id: line.amount_cents for line in batch.lines} if batch else {}
            assert paid == due
            for worker_id, amount in paid.items():
                self.owed[worker_id] -= amount

        @rule(cents=st.integers(1, 10_000_000), category=st.sampled_from(["hosting", "insurance", "software"]))
        def expense(self, cents, category):
            expense_id = next(self.expense_ids)
            ledger.post(rules.entry_expense(expense_id, category, cents, self.booked_on), source_type="expense",
                        source_id=expense_id)
            db.session.commit()

        @invariant()
        def books_balance(self):
            assert postings_total() == 0

        @invariant()
        def no_worker_balance_goes_negative(self):
            for worker_id, owed in self.owed.items():
                assert owed >= 0
                assert payouts.earnings_balance(worker_id) == owed

        @invariant()
        def each_gig_fee_is_posted_exactly_once(self):
            for gig in self.gigs:
                key = f"gig:{gig.id}:charge"
                count = db.session.scalar(select(func.count()).where(JournalEntry.idempotency_key == key))
                assert count == (1 if gig.state == "confirmed" else 0)
                if gig.state == "confirmed":
                    fee = db.session.scalar(
                        select(func.coalesce(func.sum(Posting.amount_cents), 0)).join(JournalEntry)
                        .where(JournalEntry.idempotency_key == key, Posting.account_code.in_(("4000", "4010"))))
                    assert -fee == gig.price.fee_cents

        @invariant()
        def fee_revenue_matches_the_model(self):
            mine = {g.id for g in self.gigs}
            rows = db.session.execute(
                select(JournalEntry.source_id, func.sum(Posting.amount_cents)).join(Posting)
                .where(JournalEntry.source_type == "job", Posting.account_code.in_(("4000", "4010")))
                .group_by(JournalEntry.source_id)).all()
            assert -sum(int(total) for job_id, total in rows if job_id in mine) == self.fees

        def teardown(self):
            # The full audit is slower than the invariants above, so it runs once at the end of each history.
            assert ledger.verify() == []

    return MoneyMachine


@pytest.mark.slow
def test_random_money_histories_keep_the_books_sound(app, db, make_user, database_template):
    machine = machine_for(app, database_template, make_user)
    run_state_machine_as_test(machine, settings=settings(
        max_examples=15, stateful_step_count=15, deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]))

"""Fault test (issue 5 acceptance): a dividend run over 20,000 members on PostgreSQL + Redis, its worker process
tree SIGKILLed mid-run and a new worker started: the run completes exactly once, with allocations identical to
the domain engine's on the same figures, no duplicate ledger entries, ``flask ledger verify`` passing, and a
second run of the finished period refused."""

from __future__ import annotations

import sys
import time
from fractions import Fraction

import pytest
from sqlalchemy import func, select
from treasury_helpers import isolated_broker, period_2025

from bench import dividend_data
from bench.process_tools import alive, kill_tree
from marketplace.domain.patronage import AllocationPolicy, IncomeFigures, MemberPatronage, compute_allocation
from marketplace.errors import Conflict
from marketplace.extensions import db as _db
from marketplace.models import JournalEntry, User, UserRole
from marketplace.models.treasury import Allocation, AllocationNotice, DividendRun
from marketplace.services import dividends, ledger
from support import (
    create_postgres_database,
    drop_postgres_database,
    migrate_database,
    postgres_url,
    process_env,
    redis_available,
    redis_url,
    require,
    run_flask,
    start_celery_worker,
    stop_process,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.worker, pytest.mark.postgres, pytest.mark.redis]

MEMBERS = 20_000
GIGS = 22_000  # one gig per member, the rest spread (about a tenth by non-members)
_started = time.monotonic()


def step(message: str) -> None:
    """A timeline on stderr (shown with -s, or under a failure) to see where the minutes go."""
    print(f"{time.monotonic() - _started:6.1f}s {message}", file=sys.stderr)
POLICY = {"reserve_percent": "10", "hours_weight": "1", "earnings_weight": "2", "cash_percent": "20",
          "small_allocation_threshold_cents": 1_000}


def staff(role: str) -> User:
    user = User(email=f"{role}@fault.coop", name=f"Fault {role}", password_hash="x")
    user.role_rows = [UserRole(role=role)]
    _db.session.add(user)
    _db.session.commit()
    return user


def expected_allocations(data: dividend_data.Dataset) -> dict[int, tuple[int, int, int]]:
    """The domain engine on the generator's own tallies: independent of the run's SQL."""
    members = [MemberPatronage(str(m), Fraction(data.minutes.get(m, 0), 60), data.earnings.get(m, 0))
               for m in sorted(data.member_ids)]
    policy = AllocationPolicy(Fraction(10), Fraction(1), Fraction(2), Fraction(20), 1_000)
    income = IncomeFigures(data.member_fees, data.nonmember_fees, data.other_income, data.expenses)
    result = compute_allocation(members, policy, income=income)
    return {int(line.member): (line.allocation, line.cash, line.retained) for line in result.lines}


def run_row(run_id: int) -> DividendRun:
    _db.session.expire_all()
    return _db.session.get(DividendRun, run_id)


def mid_run(run_id: int):
    """The run once a quarter to three quarters of its members are written (well inside 10–90 %)."""
    run = run_row(run_id)
    total = run.members_total
    return run if total and total * 25 <= run.members_processed * 100 <= total * 75 else None


@pytest.fixture
def fault_db(tmp_path):
    require(bool(postgres_url()), "TEST_DATABASE_URL is not set: the fault test needs PostgreSQL")
    broker = redis_url()
    require(bool(broker) and redis_available(broker), "TEST_REDIS_URL is not set or Redis is down")
    url = create_postgres_database(postgres_url())
    try:
        migrate_database(url)
        yield url, broker
    finally:
        drop_postgres_database(url)


def test_a_worker_killed_mid_run_is_replaced_and_the_run_completes_exactly_once(fault_db, tmp_path):
    from marketplace import create_app

    url, broker = fault_db
    app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": url})
    app.extensions["celery"].conf.update(broker_url=broker, result_backend=broker)
    # A short visibility timeout makes Redis hand the killed worker's task to the next one within seconds.
    namespace = isolated_broker(app, visibility_timeout=6, unacked_restore_interval=1, unacked_restore_throttle=1)
    env = process_env(url, broker, broker, tmp_path / "instance", FLASK_DIVIDEND_BATCH_SIZE="100",
                      FLASK_DIVIDEND_STALE_SECONDS="4", **namespace)
    with app.app_context():
        step("loading")
        data = dividend_data.load(_db.engine, members=MEMBERS, gigs=GIGS)
        step("loaded")
        treasurer, admin = staff("treasurer"), staff("admin")
        period = period_2025(treasurer, admin, **POLICY)
        dividends.approve_run(period.id, admin.id)
        app.extensions["celery"].control.purge()
        first = start_celery_worker(env, tmp_path / "first.log")
        step("first worker ready")
        second = None
        try:
            run = dividends.start_run(period.id, treasurer.id)
            at_kill = wait_until(lambda: mid_run(run.id), timeout=120, interval=0.01, message="the run to be mid-way")
            killed = kill_tree(first)
            step(f"killed the first worker at {at_kill.members_processed}/{at_kill.members_total}")
            assert not any(alive(pid) for pid in killed)
            processed = run_row(run.id).members_processed
            time.sleep(1.5)
            assert run_row(run.id).members_processed == processed  # nothing survived to keep writing
            assert at_kill.status == "running" and MEMBERS * 10 <= processed * 100 <= MEMBERS * 90
            assert _db.session.execute(dividends.run_allocations(run.id)).first() is None  # not visible mid-run

            second = start_celery_worker(env, tmp_path / "second.log")
            step("second worker ready")
            done = wait_until(lambda: run_row(run.id).status in ("completed", "failed") and run_row(run.id),
                              timeout=150, interval=0.5, message="the second worker to finish the run")
            step("completed")
            assert done.status == "completed", done.error
            assert done.attempts >= 2 and done.members_processed == done.members_total == MEMBERS
            check_exactly_once(done, data)
            with pytest.raises(Conflict):
                dividends.start_run(period.id, treasurer.id)
            with pytest.raises(Conflict):
                dividends.approve_run(period.id, admin.id)
        finally:
            stop_process(first)
            if second is not None:
                stop_process(second)
            _db.session.remove()
            _db.engine.dispose()
    assert "Ledger OK" in run_flask(env, "ledger", "verify")
    step("ledger verified")


def check_exactly_once(run: DividendRun, data: dividend_data.Dataset) -> None:
    rows = _db.session.execute(select(Allocation.member_id, Allocation.allocation_cents, Allocation.cash_cents,
                                      Allocation.retained_cents).where(Allocation.run_id == run.id)).all()
    assert {m: (a, c, r) for m, a, c, r in rows} == expected_allocations(data)
    assert len(rows) == MEMBERS
    duplicates = _db.session.execute(
        select(JournalEntry.idempotency_key).where(JournalEntry.idempotency_key.like("dividend:%"))
        .group_by(JournalEntry.idempotency_key).having(func.count() > 1)).all()
    assert duplicates == []
    # Every amount reached the ledger exactly once: each member's capital account holds their retained part,
    # dividends payable the cash, the reserve the collective share, and 3900 closes out the net margin.
    capital = ledger.balances(prefix="3100:")
    assert {int(code.split(":")[1]): -total for code, total in capital.items()} == {
        m: r for m, _, _, r in rows if r}
    assert ledger.balance("2300") == -sum(c for _, _, c, _ in rows) == -run.cash_cents
    assert ledger.balance("3200") == -run.collective_cents
    assert ledger.balance("3900") == run.net_margin_cents
    with_money = sum(1 for _, a, _, _ in rows if a)
    assert _db.session.scalar(select(func.count()).select_from(AllocationNotice)) == with_money

"""Dividend runs end to end in-process: preview, approve, start, execute exactly once, and the refusals."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from treasury_helpers import approved_and_queued, confirmed_gig, expense, other_income, period_2025

from marketplace.errors import Conflict, Forbidden
from marketplace.extensions import db
from marketplace.models import JournalEntry
from marketplace.models.treasury import Allocation, AllocationNotice, DividendRun
from marketplace.services import dividend_run, dividends, ledger, periods


@pytest.fixture
def people(make_user):
    return {"treasurer": make_user("treasurer"), "admin": make_user("admin"), "client": make_user("client")}


def example_a(make_user, people):
    """DOMAIN.md §6 example A built from real gigs: member surplus 2,345.67 = fees 3,000.00 − expenses 654.33."""
    members = [make_user("worker", "member") for _ in range(4)]
    for row in members[2].role_rows:  # a member all year, with no gigs: eligible, zero patronage, zero allocation
        row.granted_at = datetime(2024, 6, 1, tzinfo=UTC)
    db.session.commit()
    plan = [(members[0], 7200, 300_000, 100_000), (members[1], 4800, 400_000, 150_000),
            (members[3], 2400, 100_000, 50_000)]
    for worker, minutes, earnings, fees in plan:
        gigs = minutes // 1200 if minutes % 1440 else minutes // 1440
        for _ in range(gigs):
            confirmed_gig(worker, people["client"], minutes=minutes // gigs, earnings_cents=earnings // gigs,
                          fee_cents=fees // gigs)
    expense(65_433, date(2025, 3, 31))
    return members


def allocations_by_member(run_id):
    rows = dividends.run_allocations(run_id)
    return {a.member_id: (a.allocation_cents, a.cash_cents, a.retained_cents) for a, *_ in db.session.execute(rows)}


def test_example_a_preview_matches_the_run_and_the_ledger(app, db, make_user, people):
    members = example_a(make_user, people)
    period = period_2025(people["treasurer"], people["admin"], reserve_percent="15")
    preview = dividends.preview(period.id)
    assert preview["problem"] is None
    assert preview["figures"]["member_surplus_cents"] == 234_567
    assert preview["figures"]["reserve_cents"] == 35_185
    assert preview["figures"]["allocable_cents"] == 199_382
    lines = {m["member_id"]: (m["allocation_cents"], m["cash_cents"], m["retained_cents"]) for m in preview["members"]}
    expected = {members[0].id: (87_230, 17_446, 69_784), members[1].id: (83_076, 16_616, 66_460),
                members[2].id: (0, 0, 0), members[3].id: (29_076, 5_816, 23_260)}
    assert lines == expected
    assert preview["totals"]["cash_cents"] == 39_878 and preview["totals"]["retained_cents"] == 159_504

    run = approved_and_queued(period, people["treasurer"], people["admin"])
    assert run.status == "queued"
    assert dividends.execute_run(run.id) == "completed"
    assert allocations_by_member(run.id) == expected
    assert db.session.scalar(select(func.count()).select_from(AllocationNotice)) == 3  # zero allocation: no notice
    assert ledger.balance("2300") == -39_878
    assert ledger.balance(f"3100:{members[0].id}") == -69_784
    assert ledger.balance("3200") == -35_185
    assert ledger.balance("3900") == 234_567  # the whole net margin is closed out
    assert dividends.progress(run.id) == {"percent": 100, "processed": 4, "total": 4, "state": "completed"}

    entries_before = db.session.scalar(select(func.count()).select_from(JournalEntry))
    assert dividends.execute_run(run.id) == "completed"  # a redelivered task changes nothing
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == entries_before


def test_patronage_counts_member_gigs_confirmed_in_the_period_only(app, db, make_user, people):
    client = people["client"]
    member, probationer, leaver = make_user("worker", "member"), make_user("worker"), make_user("worker")
    confirmed_gig(member, client, minutes=60, earnings_cents=10_000, fee_cents=1_000)
    # Confirmed 05:00 UTC on 1 January 2026 is still 31 December 2025 in the co-op's time zone.
    confirmed_gig(member, client, minutes=30, earnings_cents=5_000, fee_cents=500,
                  confirmed_at=datetime(2026, 1, 1, 5, 0, tzinfo=UTC))
    confirmed_gig(member, client, minutes=600, earnings_cents=99_000, fee_cents=9_000,
                  confirmed_at=datetime(2024, 12, 31, 12, 0, tzinfo=UTC))  # before the period
    confirmed_gig(probationer, client, minutes=120, earnings_cents=20_000, fee_cents=2_000, member=False)
    confirmed_gig(leaver, client, minutes=90, earnings_cents=15_000, fee_cents=1_500)  # a member then, not now
    other_income(1_234, date(2025, 5, 1))
    period = period_2025(people["treasurer"], people["admin"])
    preview = dividends.preview(period.id)
    figures = {m["member_id"]: (m["minutes"], m["earnings_cents"]) for m in preview["members"]}
    assert figures == {member.id: (90, 15_000), leaver.id: (90, 15_000)}
    assert preview["figures"]["member_fees_cents"] == 1_000 + 1_500  # 2026-01-01 entry is dated outside
    assert preview["figures"]["nonmember_fees_cents"] == 2_000
    assert preview["figures"]["other_income_cents"] == 1_234
    assert {m["allocation_cents"] for m in preview["members"]} == {preview["figures"]["allocable_cents"] // 2}


def test_one_run_per_period_and_who_may_do_what(app, db, make_user, people):
    treasurer, admin = people["treasurer"], people["admin"]
    worker = make_user("worker", "member")
    confirmed_gig(worker, people["client"], minutes=60, earnings_cents=10_000, fee_cents=1_000)
    open_period = period_2025(treasurer, admin, close=False)
    with pytest.raises(Conflict, match="close it"):
        dividends.approve_run(open_period.id, admin.id)
    periods.close_period(open_period.id, treasurer.id)
    with pytest.raises(Forbidden):
        dividends.approve_run(open_period.id, treasurer.id)
    with pytest.raises(Conflict, match="not been approved"):
        dividends.start_run(open_period.id, treasurer.id)
    dividends.approve_run(open_period.id, admin.id)
    with pytest.raises(Conflict, match="already approved"):
        dividends.approve_run(open_period.id, admin.id)
    with pytest.raises(Conflict, match="can no longer change"):
        periods.create_policy(open_period.id, treasurer.id, reserve_percent="1", hours_weight="1",
                              earnings_weight="1", cash_percent="20")
    with pytest.raises(Forbidden):
        dividends.start_run(open_period.id, admin.id)
    run = dividends.start_run(open_period.id, treasurer.id)
    with pytest.raises(Conflict, match="queued"):
        dividends.start_run(open_period.id, treasurer.id)
    assert dividends.execute_run(run.id) == "completed"
    with pytest.raises(Conflict, match="completed"):
        dividends.start_run(open_period.id, treasurer.id)
    assert db.session.scalar(select(func.count()).select_from(DividendRun)) == 1


def test_no_policy_or_no_period_is_explained(app, db, make_user, people):
    period = periods.create_period("FY 2025", date(2025, 1, 1), date(2025, 12, 31), people["treasurer"].id)
    assert "No allocation policy" in dividends.preview(period.id)["problem"]
    periods.close_period(period.id, people["treasurer"].id)
    with pytest.raises(Conflict, match="no approved allocation policy"):
        dividends.approve_run(period.id, people["admin"].id)


def crash_after_first_batch(app, run_id):
    """What a worker killed mid-run leaves behind: a claimed, snapshotted run with one batch written."""
    token = dividend_run.claim(run_id, "first-task")
    dividend_run.snapshot(run_id, token)
    ctx = dividend_run.context(run_id)
    planned = dividends.dividend_plan.plan(dividend_run.snapshot_rows(run_id), ctx.policy, ctx.income,
                                           ctx.loss_reserve_percent)
    dividend_run.write_batch(ctx, planned.lines[:1], token, 0)
    return token


def test_a_crashed_run_is_invisible_then_resumes_to_the_same_result(app, db, make_user, people):
    members = example_a(make_user, people)
    period = period_2025(people["treasurer"], people["admin"], reserve_percent="15")
    run = approved_and_queued(period, people["treasurer"], people["admin"])
    stale_token = crash_after_first_batch(app, run.id)

    assert db.session.scalar(select(func.count()).select_from(Allocation)) == 1  # written, but not visible:
    assert db.session.execute(dividends.run_allocations(run.id)).all() == []
    assert dividends.member_allocations(members[0].id) == []
    assert dividends.progress(run.id) == {"percent": 25, "processed": 1, "total": 4, "state": "running"}
    assert dividends.execute_run(run.id) == "busy"  # the owner's heartbeat is fresh

    app.config["DIVIDEND_STALE_SECONDS"] = 0
    assert dividends.execute_run(run.id, "second-task") == "completed"
    assert allocations_by_member(run.id)[members[1].id] == (83_076, 16_616, 66_460)
    keys = db.session.scalars(select(JournalEntry.idempotency_key).where(JournalEntry.idempotency_key.like(
        f"dividend:{run.id}:%"))).all()
    # The first batch (member 1) was posted before the crash, the rest after it: each exactly once.
    assert sorted(keys) == [f"dividend:{run.id}:collective", f"dividend:{run.id}:members:1-1",
                            f"dividend:{run.id}:members:2-4"]
    assert ledger.balance(f"3100:{members[0].id}") == -69_784 and ledger.balance("2300") == -39_878
    with pytest.raises(dividend_run.RunLost):  # the old owner, were it alive, can no longer write
        dividend_run.fence(run.id, stale_token)
    assert db.session.get(DividendRun, run.id).attempts == 2


def test_a_surplus_without_patronage_fails_the_run_with_a_reason_and_it_can_start_again(app, db, make_user, people):
    worker = make_user("worker", "member")
    # 03:00 UTC on 1 January 2025 is New Year's Eve 2024 locally: the fee is in the 2025 books, the hours are not.
    confirmed_gig(worker, people["client"], minutes=60, earnings_cents=10_000, fee_cents=1_000,
                  confirmed_at=datetime(2025, 1, 1, 3, 0, tzinfo=UTC))
    period = period_2025(people["treasurer"], people["admin"])
    assert "no member has any patronage" in dividends.preview(period.id)["problem"]
    run = approved_and_queued(period, people["treasurer"], people["admin"])
    assert dividends.execute_run(run.id) == "failed"
    db.session.refresh(run)
    assert run.status == "failed" and "no member has any patronage" in run.error
    assert dividends.start_run(period.id, people["treasurer"].id).status == "queued"


def test_stalled_runs_are_found_for_requeueing(app, db, make_user, people):
    worker = make_user("worker", "member")
    confirmed_gig(worker, people["client"], minutes=60, earnings_cents=10_000, fee_cents=1_000)
    period = period_2025(people["treasurer"], people["admin"])
    run = approved_and_queued(period, people["treasurer"], people["admin"])
    assert dividends.recover_stalled_runs() == []
    app.config["DIVIDEND_STALE_SECONDS"] = 0
    assert dividends.recover_stalled_runs() == [run.id]

"""Patronage dividend runs: preview, approve, start, execute exactly once, progress, and what readers see.

The rules are DOMAIN.md §1–5 (engine: ``domain.patronage``; patronage SQL: ``services.patronage``; the
ledger entries: ``services.dividend_plan``; the crash-safe executor: ``services.dividend_run``).
A period has at most one run (``dividend_runs.period_id`` is unique) and it moves
approved → queued → running → completed (or failed, which may be started again). Allocations of a
run are visible only once it is completed.
"""

from __future__ import annotations

from fractions import Fraction

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql import Select

from marketplace import dispatch
from marketplace.domain.patronage import PatronageInputError
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import User
from marketplace.models.base import utcnow
from marketplace.models.treasury import Allocation, AllocationNotice, DividendPatronage, DividendRun, FiscalPeriod
from marketplace.services import audit, dividend_plan, dividend_run, periods
from marketplace.services.patronage import income_figures, patronage_rows


def _figures_dict(planned: dividend_plan.Plan | None, income) -> dict:
    result = planned.result if planned else None
    return {
        "member_fees_cents": income.member_fees, "nonmember_fees_cents": income.nonmember_fees,
        "other_income_cents": income.other_income, "expenses_cents": income.expenses,
        "net_margin_cents": income.member_fees + income.nonmember_fees + income.other_income - income.expenses,
        "member_surplus_cents": result.member_surplus if result else None,
        "nonmember_surplus_cents": result.nonmember_surplus if result else None,
        "non_patronage_cents": income.other_income,
        "reserve_cents": result.reserve if result else None,
        "allocable_cents": result.allocable if result else None,
        "collective_cents": planned.collective_cents if planned else None,
        "is_loss_year": result.is_loss_year if result else None,
    }


def _member_dicts(rows, planned: dividend_plan.Plan | None, names: dict[int, str]) -> list[dict]:
    lines = planned.lines if planned else [None] * len(rows)
    return [{
        "member_id": row.member_id, "name": names.get(row.member_id, ""), "minutes": row.minutes,
        "hours": Fraction(row.minutes, 60), "earnings_cents": row.earnings_cents,
        "share": line.share if line else Fraction(0), "share_ppm": line.share_ppm if line else 0,
        "allocation_cents": line.allocation_cents if line else 0, "cash_cents": line.cash_cents if line else 0,
        "retained_cents": line.retained_cents if line else 0, "loss_debit_cents": line.loss_debit_cents if line else 0,
        "ica_balance_cents": row.ica_balance_cents,
    } for row, line in zip(rows, lines, strict=True)]


def _totals(members: list[dict]) -> dict:
    totals = {key: sum(m[key] for m in members) for key in (
        "minutes", "earnings_cents", "allocation_cents", "cash_cents", "retained_cents", "loss_debit_cents")}
    return {"members": len(members), **totals}


def preview(period_id: int) -> dict:
    """A read-only dry run of a period from the ledger and the gigs: every member's figures and the totals.

    Uses the period's approved policy (or its latest draft, flagged); a problem that would stop the run (no
    policy, a surplus with no patronage, negative income figures) is reported in ``problem``, not raised.
    """
    period = periods.get_period(period_id)
    policy = periods.current_policy(period_id) or next(iter(periods.policy_history(period_id)), None)
    rows = patronage_rows(period)
    names = dict(db.session.execute(
        select(User.id, User.name).where(User.id.in_([row.member_id for row in rows]))).all()) if rows else {}
    planned, problem = None, None
    try:
        income = income_figures(period)
    except PatronageInputError as exc:
        db.session.rollback()
        raise Conflict(f"The ledger's figures for '{period.name}' cannot be allocated: {exc}") from exc
    if policy is None:
        problem = "No allocation policy for this period yet: create one and have it approved."
    else:
        try:
            planned = dividend_plan.plan(rows, periods.domain_policy(policy), income,
                                         Fraction(policy.loss_reserve_percent))
        except PatronageInputError as exc:
            problem = str(exc)
    members = _member_dicts(rows, planned, names)
    db.session.rollback()
    return {
        "period": {"id": period.id, "name": period.name, "start": period.start_date, "end": period.end_date,
                   "status": period.status},
        "policy": None if policy is None else {"id": policy.id, "version": policy.version,
                                               "approved": policy.approved_at is not None},
        "figures": _figures_dict(planned, income),
        "members": members,
        "totals": _totals(members),
        "problem": problem,
    }


def run_for_period(period_id: int) -> DividendRun | None:
    """The period's dividend run, if it has been approved."""
    return db.session.scalar(select(DividendRun).where(DividendRun.period_id == period_id))


def get_run(run_id: int) -> DividendRun:
    """The run with this id, or NotFound."""
    run = db.session.get(DividendRun, run_id)
    if run is None:
        raise NotFound(f"Dividend run {run_id} does not exist.")
    return run


def approve_run(period_id: int, approver_id: int) -> DividendRun:
    """An admin (the board; later a passed member vote) approves the closed period's run; commits.

    Refused (Conflict) unless the period is closed and has an approved policy, and when a run exists: one
    run per period, enforced by a unique index even when two approvers race.
    """
    periods.require_role(approver_id, periods.APPROVER_ROLES, "approve a dividend run")
    period = periods.get_period(period_id)
    if period.status != "closed":
        raise Conflict(f"Period '{period.name}' is {period.status}; close it before approving its dividend run.")
    policy = periods.current_policy(period_id)
    if policy is None:
        raise Conflict(f"Period '{period.name}' has no approved allocation policy.")
    if run_for_period(period_id) is not None:
        raise Conflict(f"The dividend run of '{period.name}' is already approved; a period has one run.")
    run = DividendRun(period_id=period_id, policy_id=policy.id, status="approved", approved_by_id=approver_id)
    db.session.add(run)
    try:
        db.session.flush()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict(f"The dividend run of '{period.name}' is already approved; a period has one run.") from exc
    audit.record("dividend.approved", actor_id=approver_id, subject=run,
                 detail=f"{period.name}, policy v{policy.version}")
    db.session.commit()
    return run


def start_run(period_id: int, actor_id: int) -> DividendRun:
    """The treasurer presses Run: approved (or failed) → queued, then the task is enqueued after commit.

    A conditional UPDATE makes a second start (or a start of a running or finished run) a Conflict, even
    when two requests race. A failed run that wrote nothing starts again from a fresh snapshot.
    """
    periods.require_role(actor_id, periods.TREASURY_ROLES, "start a dividend run")
    run = run_for_period(period_id)
    if run is None:
        raise Conflict("This period's dividend run has not been approved yet.")
    changed = db.session.execute(
        update(DividendRun)
        .where(DividendRun.id == run.id, DividendRun.status.in_(("approved", "failed")))
        .values(status="queued", started_by_id=actor_id, queued_at=utcnow(), error=None)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        db.session.refresh(run)
        raise Conflict(f"The dividend run is {run.status}; it cannot be started again.")
    if run.members_processed == 0:
        db.session.execute(
            update(DividendRun).where(DividendRun.id == run.id).values(snapshot_at=None, members_total=0)
            .execution_options(synchronize_session=False))
    audit.record("dividend.started", actor_id=actor_id, subject=run)
    dispatch.enqueue(dispatch.RUN_DIVIDENDS, run.id)
    db.session.commit()
    db.session.refresh(run)
    return run


def execute_run(run_id: int, task_id: str | None = None) -> str:
    """Carry out a queued run exactly once (the Celery task calls this; safe to call again at any time).

    Returns ``completed`` (done now or before), ``busy`` (another live worker holds it: try later),
    ``lost`` (another worker took over mid-way), ``failed`` (figures cannot be allocated; reason on the
    run), or the run's status when it is not queued.
    """
    token = dividend_run.claim(run_id, task_id)
    if token is None:
        run = db.session.get(DividendRun, run_id)
        if run is None:
            return "missing"
        return "busy" if run.status == "running" else run.status
    clock = dividend_run.PhaseClock(run_id)
    try:
        with clock("snapshot"):
            dividend_run.snapshot(run_id, token)
        with clock("compute"):
            ctx = dividend_run.context(run_id)
            planned = dividend_plan.plan(dividend_run.snapshot_rows(run_id), ctx.policy, ctx.income,
                                         ctx.loss_reserve_percent)
        with clock("write"):
            dividend_run.write_batches(ctx, planned, token)
        with clock("finish"):
            dividend_run.finish(ctx, planned, token)
        clock.report(len(planned.lines))
    except dividend_run.RunLost:
        return "lost"
    except (PatronageInputError, ValidationFailed) as exc:
        dividend_run.fail(run_id, token, str(exc))
        return "failed"
    return "completed"


def progress(run_id: int) -> dict:
    """``{"percent", "processed", "total", "state"}`` for the run page's live progress bar."""
    row = db.session.execute(
        select(DividendRun.status, DividendRun.members_processed, DividendRun.members_total)
        .where(DividendRun.id == run_id)).first()
    if row is None:
        raise NotFound(f"Dividend run {run_id} does not exist.")
    state, processed, total = row
    percent = 100 if state == "completed" else (processed * 100 // total if total else 0)
    return {"percent": percent, "processed": processed, "total": total, "state": state}


def visible_allocations() -> Select:
    """SELECT (Allocation, User, FiscalPeriod, AllocationNotice|None) of completed runs only (never half-written)."""
    return (
        select(Allocation, User, FiscalPeriod, AllocationNotice)
        .join(DividendRun, DividendRun.id == Allocation.run_id)
        .join(FiscalPeriod, FiscalPeriod.id == DividendRun.period_id)
        .join(User, User.id == Allocation.member_id)
        .outerjoin(AllocationNotice, AllocationNotice.allocation_id == Allocation.id)
        .where(DividendRun.status == "completed")
    )


def run_allocations(run_id: int, search: str | None = None) -> Select:
    """A completed run's allocations in member order, optionally filtered by member name (case-insensitive)."""
    query = visible_allocations().where(Allocation.run_id == run_id).order_by(Allocation.position)
    if search and search.strip():
        query = query.where(func.lower(User.name).contains(search.strip().lower(), autoescape=True))
    return query


def member_allocations(member_id: int) -> list:
    """A member's allocations of completed runs with their notices, latest period first."""
    return db.session.execute(
        visible_allocations().where(Allocation.member_id == member_id).order_by(FiscalPeriod.end_date.desc())
    ).all()


def snapshot_size(run_id: int) -> int:
    """How many members a run's snapshot holds (0 before it is taken)."""
    return db.session.scalar(select(func.count()).select_from(DividendPatronage)
                             .where(DividendPatronage.run_id == run_id)) or 0


def recover_stalled_runs() -> list[int]:
    """Re-enqueue runs whose task went missing: queued, or running with a silent heartbeat, for longer than the
    stale limit (a lost broker message, a worker killed with its queue). Safe: the run is claimed once."""
    cutoff = utcnow() - dividend_run.stale_after()
    ids = list(db.session.scalars(select(DividendRun.id).where(or_(
        and_(DividendRun.status == "queued", DividendRun.queued_at < cutoff),
        and_(DividendRun.status == "running", DividendRun.heartbeat_at < cutoff),
    ))))
    for run_id in ids:
        dispatch.enqueue(dispatch.RUN_DIVIDENDS, run_id)
    db.session.commit()
    return ids

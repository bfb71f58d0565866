"""The machinery of a dividend run: claim, snapshot, batches, finish — each step fenced and restartable.

Exactly once, crash-safe (issue 5 §4):
1. *Claim*: one conditional UPDATE turns ``queued`` (or ``running`` whose heartbeat is stale: its worker
   died) into ``running`` with a fresh ``claim_token``. Only the holder of the token may write.
2. *Snapshot*: one ``INSERT … SELECT … GROUP BY`` copies every eligible member's patronage (and capital
   balance) into ``dividend_patronage``; the income figures go on the run row. A restart reuses the
   snapshot, so it computes exactly what the first attempt computed.
3. *Batches*: the allocations are computed in memory by the domain engine and written in batches. Each
   batch is one transaction that first advances ``members_processed`` from the batch's start to its end
   (only if the token still matches and the counter is still at the start), then inserts the batch's
   allocations, notices and ledger entries. A crash loses at most the uncommitted batch; a restart resumes
   at ``members_processed`` and never writes a member twice.
4. *Finish*: the collective reserve's entry, the totals and ``completed`` in one transaction; readers only
   ever show allocations of completed runs.
"""

from __future__ import annotations

import logging
import resource
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Integer, String, and_, cast, delete, exists, func, insert, literal, or_, select, update

from marketplace import dispatch
from marketplace.domain import ledger as chart
from marketplace.domain.patronage import AllocationPolicy, IncomeFigures, is_qualified_cash_percent
from marketplace.extensions import db
from marketplace.models.base import UTCDateTime, utcnow
from marketplace.models.ledger import LedgerAccount
from marketplace.models.treasury import DividendPatronage, DividendRun, FiscalPeriod
from marketplace.services import audit, bulk_rows, dividend_plan, ledger_bulk
from marketplace.services.ledger import account_name, ensure_accounts
from marketplace.services.patronage import PatronageRow, income_figures, patronage_select, plan_for_aggregates
from marketplace.services.periods import domain_policy

CONSENT_BASIS = ("Consent by bylaw: by joining and remaining a member you agreed to take this allocation into "
                 "account at its stated amount (26 U.S.C. §1388(c)(2)(B)).")
SOURCE_TYPE = "dividend_run"
log = logging.getLogger(__name__)


class PhaseClock:
    """Times the phases of one attempt and logs them in one line (operators see where a run spends its time)."""

    def __init__(self, run_id: int):
        self.run_id, self.phases = run_id, {}

    @contextmanager
    def __call__(self, name: str):
        began = time.perf_counter()
        try:
            yield
        finally:
            self.phases[name] = time.perf_counter() - began

    def report(self, members: int) -> None:
        """Log ``dividend run <id>: <members> members; snapshot 1.23s, compute …`` with the peak memory."""
        phases = ", ".join(f"{name} {seconds:.2f}s" for name, seconds in self.phases.items())
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        log.info("dividend run %s: %s members; %s; peak RSS %.0f MB", self.run_id, members, phases, peak_mb)


class RunLost(Exception):
    """Another worker has taken over this run (the claim token no longer matches): stop writing."""


@dataclass(frozen=True)
class RunContext:
    """What the batches need from the run row, read once after the snapshot."""

    run_id: int
    period: FiscalPeriod
    policy: AllocationPolicy
    loss_reserve_percent: Fraction
    qualified: bool
    income: IncomeFigures
    members_processed: int
    on: date


def stale_after() -> timedelta:
    """How long a running run's heartbeat may be silent before another worker may take it over."""
    return timedelta(seconds=int(current_app.config.get("DIVIDEND_STALE_SECONDS", 120)))


def batch_size() -> int:
    """Members written per transaction (config ``DIVIDEND_BATCH_SIZE``, 1–2000)."""
    return max(1, min(2000, int(current_app.config.get("DIVIDEND_BATCH_SIZE", 1000))))


def claim(run_id: int, task_id: str | None) -> str | None:
    """queued, or running with a stale heartbeat → running under a new token (commits); None if not claimable."""
    token = uuid.uuid4().hex
    now = utcnow()
    claimable = or_(
        DividendRun.status == "queued",
        and_(DividendRun.status == "running",
             or_(DividendRun.heartbeat_at.is_(None), DividendRun.heartbeat_at < now - stale_after())),
    )
    values = {"status": "running", "claim_token": token, "heartbeat_at": now, "attempts": DividendRun.attempts + 1,
              "started_at": func.coalesce(DividendRun.started_at, literal(now, UTCDateTime))}
    if task_id:
        values["task_id"] = task_id[:64]
    changed = db.session.execute(
        update(DividendRun).where(DividendRun.id == run_id, claimable).values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        return None
    db.session.commit()
    return token


def fence(run_id: int, token: str, *conditions, **values) -> None:
    """Start a write under our claim: heartbeat (and ``values``) only if we still hold the run, else RunLost."""
    changed = db.session.execute(
        update(DividendRun)
        .where(DividendRun.id == run_id, DividendRun.claim_token == token, DividendRun.status == "running",
               *conditions)
        .values(heartbeat_at=utcnow(), **values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise RunLost(run_id)


def snapshot(run_id: int, token: str) -> None:
    """Copy the period's patronage and income into the run once (one INSERT … SELECT … GROUP BY); commits."""
    run = db.session.get(DividendRun, run_id)
    if run.snapshot_at is not None:
        db.session.rollback()
        return
    fence(run_id, token)
    plan_for_aggregates()
    db.session.execute(delete(DividendPatronage).where(DividendPatronage.run_id == run_id))
    source = patronage_select(run.period).order_by(None).subquery("patronage")
    db.session.execute(insert(DividendPatronage).from_select(
        ["run_id", "member_id", "minutes", "earnings_cents", "ica_balance_cents"],
        select(literal(run_id, Integer), source.c.member_id, source.c.minutes, source.c.earnings,
               source.c.ica_balance),
    ))
    total = db.session.scalar(select(func.count()).select_from(DividendPatronage)
                              .where(DividendPatronage.run_id == run_id))
    _create_accounts(run_id)
    figures = income_figures(run.period)
    fence(run_id, token, snapshot_at=utcnow(), members_total=total, members_processed=0,
          member_fees_cents=figures.member_fees, nonmember_fees_cents=figures.nonmember_fees,
          other_income_cents=figures.other_income, expenses_cents=figures.expenses)
    db.session.commit()


def _create_accounts(run_id: int) -> None:
    """Every account the run will post to, created up front: members' capital accounts in one INSERT … SELECT."""
    ledger_bulk.name_account(dividend_plan.INCOME_SUMMARY, "Current-year surplus (income summary)")
    ensure_accounts([chart.DIVIDENDS_PAYABLE, chart.COLLECTIVE_RESERVE])
    code = literal(chart.CAPITAL_ACCOUNT + ":") + cast(DividendPatronage.member_id, String)
    missing = ~exists().where(LedgerAccount.code == code)
    db.session.execute(insert(LedgerAccount).from_select(
        ["code", "name", "kind", "created_at"],
        select(code, literal(account_name(chart.CAPITAL_ACCOUNT) + " · ") + cast(DividendPatronage.member_id, String),
               literal("equity"), literal(utcnow(), UTCDateTime))
        .where(DividendPatronage.run_id == run_id, missing),
    ))


def context(run_id: int) -> RunContext:
    """The run's fixed inputs after its snapshot."""
    run = db.session.get(DividendRun, run_id)
    db.session.refresh(run)
    zone = ZoneInfo(current_app.config["COOP_TIMEZONE"])
    return RunContext(
        run_id=run.id, period=run.period, policy=domain_policy(run.policy),
        loss_reserve_percent=Fraction(run.policy.loss_reserve_percent),
        qualified=is_qualified_cash_percent(Fraction(run.policy.cash_percent)),
        income=IncomeFigures(run.member_fees_cents, run.nonmember_fees_cents, run.other_income_cents,
                             run.expenses_cents),
        members_processed=run.members_processed, on=run.snapshot_at.astimezone(zone).date(),
    )


def snapshot_rows(run_id: int) -> list[PatronageRow]:
    """The run's patronage snapshot in member-number order (the tie-break order, DOMAIN.md §3)."""
    rows = db.session.execute(
        select(DividendPatronage.member_id, DividendPatronage.minutes, DividendPatronage.earnings_cents,
               DividendPatronage.ica_balance_cents)
        .where(DividendPatronage.run_id == run_id).order_by(DividendPatronage.member_id)
    ).all()
    db.session.rollback()  # end the read transaction: batches must not hold a stale snapshot open
    return [PatronageRow(*row) for row in rows]


def write_batches(ctx: RunContext, planned: dividend_plan.Plan, token: str) -> None:
    """Write the not-yet-written members, batch by batch, resuming at ``members_processed``."""
    size = batch_size()
    done = ctx.members_processed
    while done < len(planned.lines):
        chunk = planned.lines[done:done + size]
        write_batch(ctx, chunk, token, done)
        done += len(chunk)


ALLOCATION_COLUMNS = ("id", "run_id", "member_id", "position", "minutes", "earnings_cents", "share_exact",
                      "share_ppm", "allocation_cents", "cash_cents", "retained_cents", "loss_debit_cents")
NOTICE_COLUMNS = ("allocation_id", "issued_at", "qualified", "consent_basis", "ica_balance_cents")


def write_batch(ctx: RunContext, chunk, token: str, start: int) -> None:
    """One batch in one transaction: advance the fenced counter, insert allocations, notices, ledger entries."""
    fence(ctx.run_id, token, DividendRun.members_processed == start, members_processed=start + len(chunk))
    ids = bulk_rows.reserve_ids("allocations", len(chunk))
    bulk_rows.write_rows("allocations", ALLOCATION_COLUMNS, [
        (allocation_id, ctx.run_id, line.member_id, line.position, line.minutes, line.earnings_cents,
         line.share_exact, line.share_ppm, line.allocation_cents, line.cash_cents, line.retained_cents,
         line.loss_debit_cents)
        for allocation_id, line in zip(ids, chunk, strict=True)
    ])
    now = utcnow()
    bulk_rows.write_rows("allocation_notices", NOTICE_COLUMNS, [
        (allocation_id, now, ctx.qualified, CONSENT_BASIS, line.ica_after_cents)
        for allocation_id, line in zip(ids, chunk, strict=True) if line.allocation_cents
    ])
    spec = dividend_plan.batch_entry(ctx.run_id, chunk, ctx.on, ctx.period.name)
    ledger_bulk.post_many([spec] if spec else [], source_type=SOURCE_TYPE, source_id=ctx.run_id, ensure=False)
    db.session.commit()


def finish(ctx: RunContext, planned: dividend_plan.Plan, token: str) -> None:
    """Post the collective reserve's share, store the totals and mark the run completed; commits."""
    result = planned.result
    fence(ctx.run_id, token, DividendRun.members_processed == DividendRun.members_total)
    spec = dividend_plan.collective_entry(ctx.run_id, planned.collective_cents, ctx.on, ctx.period.name)
    ledger_bulk.post_many([spec] if spec else [], source_type=SOURCE_TYPE, source_id=ctx.run_id, ensure=False)
    fence(ctx.run_id, token, status="completed", finished_at=utcnow(), claim_token=None,
          net_margin_cents=result.net_margin, member_surplus_cents=result.member_surplus,
          nonmember_surplus_cents=result.nonmember_surplus, reserve_cents=result.reserve,
          allocable_cents=result.allocable, collective_cents=planned.collective_cents,
          allocated_cents=result.totals.allocation, cash_cents=result.totals.cash,
          retained_cents=result.totals.retained, loss_debited_cents=planned.loss_debited_cents, error=None)
    run = db.session.get(DividendRun, ctx.run_id)
    audit.record("dividend.completed", subject=run,
                 detail=f"{len(planned.lines)} members, {result.totals.allocation} cents allocated")
    dispatch.enqueue(dispatch.EMAIL_NOTICES, ctx.run_id)
    db.session.commit()


def fail(run_id: int, token: str, message: str) -> None:
    """Mark a run we hold as failed with the reason (bad figures: it can be started again once fixed)."""
    db.session.rollback()
    failed = db.session.execute(
        update(DividendRun).where(DividendRun.id == run_id, DividendRun.claim_token == token)
        .values(status="failed", error=message[:2000], claim_token=None, finished_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if failed:
        audit.record("dividend.failed", subject=db.session.get(DividendRun, run_id), detail=message[:500])
    db.session.commit()

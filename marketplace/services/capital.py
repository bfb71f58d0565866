"""Members' internal capital accounts (DOMAIN.md §5): statements, revolving, departures.

An ICA is the ledger account ``3100:<member>`` (credit balance = what the co-op holds for the member);
its history is read from postings, never from a copy. Retained allocations are credited by dividend
runs; loss debits are posted by loss-year runs. Capital is paid back two ways, each recorded in
``capital_redemptions`` under the same unique key as its ledger entry (so it happens once):

- revolving (``revolve:<allocation>``): retained allocations of periods that ended before a year are paid
  out, oldest first, never more than the account holds;
- departure (``departure:<member>``): the whole balance becomes payable to the former member.

Both debit the ICA and credit 2300 (dividends payable: owed to the member until paid).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError

from marketplace import dispatch
from marketplace.domain import ledger as chart
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import User
from marketplace.models.base import utcnow
from marketplace.models.ledger import JournalEntry, Posting
from marketplace.models.treasury import Allocation, AllocationPolicy, CapitalRedemption, DividendRun, FiscalPeriod
from marketplace.services import audit, ledger, ledger_bulk, periods
from marketplace.services.patronage import capital_balances

SOURCE_TYPE = "capital_redemption"


def _history(member_id: int) -> list:
    return db.session.execute(
        select(JournalEntry.idempotency_key, JournalEntry.occurred_on, JournalEntry.source_type,
               JournalEntry.source_id, Posting.amount_cents)
        .join(Posting, Posting.entry_id == JournalEntry.id)
        .where(Posting.account_code == chart.capital_account(member_id))
        .order_by(JournalEntry.occurred_on, JournalEntry.id)
    ).all()


def _run_periods(run_ids) -> dict[int, str]:
    if not run_ids:
        return {}
    return dict(db.session.execute(
        select(DividendRun.id, FiscalPeriod.name).join(FiscalPeriod, FiscalPeriod.id == DividendRun.period_id)
        .where(DividendRun.id.in_(run_ids))).all())


def _kind(source_type: str | None, credit: int) -> str:
    if source_type == "dividend_run":
        return "retained" if credit > 0 else "loss"
    if source_type == SOURCE_TYPE:
        return "redemption"
    return "other"


def capital_statement(member_id: int, start: date | None = None, end: date | None = None) -> dict:
    """DOMAIN.md §5 statement of a member's ICA: opening balance, retained credits by period, loss debits,
    redemptions and closing balance (cents, credit-positive), for entries dated in [start, end]."""
    if db.session.get(User, member_id) is None:
        raise NotFound(f"Member {member_id} does not exist.")
    history = _history(member_id)
    names = _run_periods({source_id for key, _, kind, source_id, _ in history if kind == "dividend_run"})
    opening, lines = 0, []
    for key, on, source_type, source_id, amount in history:
        credit = -amount
        if start and on < start:
            opening += credit
            continue
        if end and on > end:
            continue
        period = names.get(source_id, "") if source_type == "dividend_run" else ""
        lines.append({"on": on, "kind": _kind(source_type, credit), "key": key, "period": period,
                      "amount_cents": credit})
    balance = opening
    for line in lines:
        balance += line["amount_cents"]
        line["balance_cents"] = balance
    by_kind = {kind: [line for line in lines if line["kind"] == kind]
               for kind in ("retained", "loss", "redemption", "other")}
    return {
        "member_id": member_id, "account": chart.capital_account(member_id), "start": start, "end": end,
        "opening_cents": opening,
        "retained_by_period": [{"period": line["period"], "on": line["on"], "amount_cents": line["amount_cents"]}
                               for line in by_kind["retained"]],
        "loss_debits": [{"period": line["period"], "on": line["on"], "amount_cents": -line["amount_cents"]}
                        for line in by_kind["loss"]],
        "redemptions": [{"key": line["key"], "on": line["on"], "amount_cents": -line["amount_cents"]}
                        for line in by_kind["redemption"]],
        "other_cents": sum(line["amount_cents"] for line in by_kind["other"]),
        "lines": lines,
        "closing_cents": balance,
    }


def ica_balance(member_id: int) -> int:
    """A member's capital-account balance now (credit positive)."""
    return -ledger.balance(chart.capital_account(member_id))


def check_year(before_year) -> int:
    """A revolving cut-off year: a whole number from 1900 to next year (ValidationFailed otherwise)."""
    limit = utcnow().date().year + 1
    if isinstance(before_year, bool) or not isinstance(before_year, int) or not 1900 <= before_year <= limit:
        raise ValidationFailed({"before_year": f"Enter a year from 1900 to {limit}, got {before_year!r}."})
    return before_year


def default_revolve_year(today: date | None = None) -> int:
    """The cut-off that revolves allocations older than the latest approved policy's revolving period."""
    today = today or utcnow().date()
    years = db.session.scalar(
        select(AllocationPolicy.revolving_years).where(AllocationPolicy.approved_at.is_not(None))
        .order_by(AllocationPolicy.approved_at.desc()).limit(1))
    return today.year - (5 if years is None else years) + 1


def _refuse_during_a_run(action: str) -> None:
    """Capital must not move while a dividend run snapshots and credits capital accounts (it caps loss debits
    at the balances it read)."""
    busy = db.session.scalar(select(DividendRun.id).where(DividendRun.status.in_(("queued", "running"))).limit(1))
    if busy is not None:
        raise Conflict(f"A dividend run is in progress; {action} once it has completed.")


def _revolve_candidates(before_year: int) -> list:
    redeemed = select(CapitalRedemption.allocation_id).where(CapitalRedemption.allocation_id.is_not(None))
    return db.session.execute(
        select(Allocation.id, Allocation.member_id, Allocation.retained_cents)
        .join(DividendRun, DividendRun.id == Allocation.run_id)
        .join(FiscalPeriod, FiscalPeriod.id == DividendRun.period_id)
        .where(DividendRun.status == "completed", Allocation.retained_cents > 0,
               FiscalPeriod.end_date < date(before_year, 1, 1), Allocation.id.not_in(redeemed))
        .order_by(Allocation.member_id, FiscalPeriod.end_date, Allocation.id)
    ).all()


def revolve(before_year: int, actor_id: int | None = None) -> dict:
    """Pay out retained allocations of periods that ended before ``before_year``, oldest first (DOMAIN.md §5).

    Each payment is capped at what is left in the member's ICA (losses may have reduced it); an allocation
    is revolved once (its redemption key is unique). ``actor_id`` None means the operator's CLI. Commits.
    """
    before_year = check_year(before_year)
    if actor_id is not None:
        periods.require_role(actor_id, periods.TREASURY_ROLES, "revolve capital accounts")
    _refuse_during_a_run("revolve capital accounts")
    candidates = _revolve_candidates(before_year)
    balances = {code: int(total) for code, total in db.session.execute(capital_balances())}
    today = utcnow().date()
    left: dict[int, int] = {}
    rows, specs = [], []
    for allocation_id, member_id, retained in candidates:
        code = chart.capital_account(member_id)
        available = left.setdefault(member_id, max(balances.get(code, 0), 0))
        pay = min(retained, available)
        left[member_id] = available - pay
        key = f"revolve:{allocation_id}"
        rows.append({"key": key, "kind": "revolve", "member_id": member_id, "allocation_id": allocation_id,
                     "amount_cents": pay, "effective_on": today, "created_at": utcnow(), "created_by_id": actor_id})
        if pay:
            specs.append(chart.JournalEntrySpec(key, f"Revolved allocation {allocation_id}", today, (
                chart.Posting(code, pay), chart.Posting(chart.DIVIDENDS_PAYABLE, -pay))))
    try:
        if rows:
            db.session.execute(insert(CapitalRedemption.__table__), rows)
        ledger_bulk.post_many(specs, source_type=SOURCE_TYPE, source_id=None)
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("Another revolving run is in progress; try again when it has finished.") from exc
    total = sum(row["amount_cents"] for row in rows)
    audit.record("capital.revolved", actor_id=actor_id,
                 detail=f"before {before_year}: {len(rows)} allocations, {total} cents")
    db.session.commit()
    return {"before_year": before_year, "allocations": len(rows), "members": len(left), "total_cents": total}


def request_revolve(before_year: int, actor_id: int) -> None:
    """The treasurer's Revolve button: checks, then enqueues the ``treasury.revolve`` task after commit."""
    before_year = check_year(before_year)
    periods.require_role(actor_id, periods.TREASURY_ROLES, "revolve capital accounts")
    audit.record("capital.revolve_requested", actor_id=actor_id, detail=f"before {before_year}")
    dispatch.enqueue(dispatch.REVOLVE, before_year, actor_id)
    db.session.commit()


def depart_member(member_id: int, effective_date: date, actor_id: int | None = None) -> CapitalRedemption:
    """A departing member's whole ICA becomes payable to them (DOMAIN.md §5); once per member. Commits."""
    if actor_id is not None:
        periods.require_role(actor_id, periods.TREASURY_ROLES + periods.APPROVER_ROLES, "record a departure")
    if db.session.get(User, member_id) is None:
        raise NotFound(f"Member {member_id} does not exist.")
    if not isinstance(effective_date, date):
        raise ValidationFailed({"effective_date": "Enter the date the membership ends."})
    key = f"departure:{member_id}"
    existing = db.session.scalar(select(CapitalRedemption).where(CapitalRedemption.key == key))
    if existing is not None:
        return existing
    _refuse_during_a_run("record the departure")
    balance = max(ica_balance(member_id), 0)
    redemption = CapitalRedemption(key=key, kind="departure", member_id=member_id, amount_cents=balance,
                                   effective_on=effective_date, created_by_id=actor_id)
    db.session.add(redemption)
    if balance:
        ledger.post(chart.JournalEntrySpec(key, f"Capital account of departing member {member_id}", effective_date,
                                           (chart.Posting(chart.capital_account(member_id), balance),
                                            chart.Posting(chart.DIVIDENDS_PAYABLE, -balance))),
                    source_type=SOURCE_TYPE, source_id=member_id)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        return db.session.scalar(select(CapitalRedemption).where(CapitalRedemption.key == key))
    audit.record("capital.departure", actor_id=actor_id, subject=redemption, detail=f"{balance} cents payable")
    db.session.commit()
    return redemption

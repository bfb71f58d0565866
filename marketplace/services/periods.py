"""Fiscal periods and their versioned allocation policies (DOMAIN.md §1–5: every percentage is a setting).

A period is ``open`` while it accumulates, ``closing`` while the treasurer checks the books, then
``closed``; only a closed period can have a dividend run. A policy change never edits a version: it adds
the next one, and the latest *approved* version is the one a run uses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select, update

from marketplace.domain import patronage as engine
from marketplace.domain.simulation import parse_decimal
from marketplace.errors import Conflict, Forbidden, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import User
from marketplace.models.base import MAX_ID, utcnow
from marketplace.models.treasury import AllocationPolicy, DividendRun, FiscalPeriod
from marketplace.services import audit

TREASURY_ROLES = ("treasurer",)
APPROVER_ROLES = ("admin",)  # the board role arrives with governance
NONQUALIFIED_WARNING = (
    "Less than 20% of each allocation is paid in cash: the notices of allocation will be NONQUALIFIED "
    "(DOMAIN.md §4) and members are not taxed on the retained part until it is redeemed."
)


def require_role(actor_id: int | None, roles: tuple[str, ...], action: str) -> User:
    """The acting user, who must hold one of ``roles``; otherwise Forbidden (services check, not only views)."""
    user = db.session.get(User, actor_id) if actor_id is not None else None
    if user is None or not user.is_active_account or not user.has_role(*roles):
        raise Forbidden(f"Only a {' or '.join(roles)} can {action}.")
    return user


def get_period(period_id: int) -> FiscalPeriod:
    """The period with this id, or NotFound."""
    period = db.session.get(FiscalPeriod, period_id) if 0 < period_id <= MAX_ID else None
    if period is None:
        raise NotFound(f"Fiscal period {period_id} does not exist.")
    return period


def list_periods() -> list[FiscalPeriod]:
    """Every fiscal period, latest first."""
    return list(db.session.scalars(select(FiscalPeriod).order_by(FiscalPeriod.start_date.desc())))


def period_on(day: date) -> FiscalPeriod | None:
    """The period containing ``day`` (there is at most one: periods never overlap)."""
    return db.session.scalar(
        select(FiscalPeriod).where(FiscalPeriod.start_date <= day, FiscalPeriod.end_date >= day).limit(1)
    )


def period_bounds(period: FiscalPeriod) -> tuple[datetime, datetime]:
    """The period as a half-open UTC interval [start, end): its dates are days in the co-op's time zone."""
    zone = ZoneInfo(current_app.config["COOP_TIMEZONE"])
    start = datetime.combine(period.start_date, time.min, zone).astimezone(UTC)
    end = datetime.combine(period.end_date + timedelta(days=1), time.min, zone).astimezone(UTC)
    return start, end


def create_period(name: str, start: date, end: date, actor_id: int) -> FiscalPeriod:
    """Open a new fiscal period (treasurer). Names are unique; periods must not overlap; commits."""
    require_role(actor_id, TREASURY_ROLES, "create fiscal periods")
    name = (name or "").strip()
    problems: dict[str, str] = {}
    if not name or len(name) > 60:
        problems["name"] = "Enter a name of 1–60 characters, for example FY 2026."
    elif db.session.scalar(select(FiscalPeriod.id).where(FiscalPeriod.name == name)):
        problems["name"] = f"A period named '{name}' already exists."
    if not isinstance(start, date) or not isinstance(end, date):
        problems["start"] = "Enter the first and last day of the period."
    elif end < start:
        problems["end"] = "The last day must not be before the first day."
    elif (end - start).days > 731:
        problems["end"] = "A period can be at most two years long."
    else:
        overlap = db.session.scalar(
            select(FiscalPeriod).where(FiscalPeriod.start_date <= end, FiscalPeriod.end_date >= start).limit(1)
        )
        if overlap is not None:
            problems["start"] = f"The dates overlap period '{overlap.name}' ({overlap.start_date}–{overlap.end_date})."
    if problems:
        raise ValidationFailed(problems)
    period = FiscalPeriod(name=name, start_date=start, end_date=end, status="open", created_by_id=actor_id)
    db.session.add(period)
    db.session.flush()
    audit.record("period.created", actor_id=actor_id, subject=period, detail=f"{name}: {start}–{end}")
    db.session.commit()
    return period


def _transition(period_id: int, allowed: tuple[str, ...], target: str, actor_id: int) -> FiscalPeriod:
    period = get_period(period_id)
    values = {"status": target}
    if target == "closed":
        values.update(closed_at=utcnow(), closed_by_id=actor_id)
    changed = db.session.execute(
        update(FiscalPeriod)
        .where(FiscalPeriod.id == period_id, FiscalPeriod.status.in_(allowed))
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise Conflict(f"Period '{period.name}' is {period.status}; it cannot become {target}.")
    audit.record(f"period.{target}", actor_id=actor_id, subject=period)
    db.session.commit()
    db.session.refresh(period)
    return period


def begin_closing(period_id: int, actor_id: int) -> FiscalPeriod:
    """open → closing (treasurer): the period has ended and its books are being checked."""
    require_role(actor_id, TREASURY_ROLES, "close fiscal periods")
    period = get_period(period_id)
    if period.end_date >= utcnow().date():
        raise Conflict(f"Period '{period.name}' ends on {period.end_date}; it can be closed only after that day.")
    return _transition(period_id, ("open",), "closing", actor_id)


def close_period(period_id: int, actor_id: int) -> FiscalPeriod:
    """open or closing → closed (treasurer), once the period has ended. A closed period can have a run."""
    require_role(actor_id, TREASURY_ROLES, "close fiscal periods")
    period = get_period(period_id)
    if period.end_date >= utcnow().date():
        raise Conflict(f"Period '{period.name}' ends on {period.end_date}; it can be closed only after that day.")
    return _transition(period_id, ("open", "closing"), "closed", actor_id)


@dataclass(frozen=True)
class PolicyInput:
    """A policy version's settings as exact values, parsed and checked."""

    reserve_percent: Fraction
    hours_weight: Fraction
    earnings_weight: Fraction
    cash_percent: Fraction
    small_allocation_threshold_cents: int
    revolving_years: int
    loss_reserve_percent: Fraction


def _decimal_field(problems: dict, name: str, value, *, maximum: int | None = None) -> Fraction:
    try:
        number = value if isinstance(value, Fraction) else parse_decimal(str(value))
    except ValueError:
        problems[name] = f"'{value}' is not a non-negative number (use digits, e.g. 15 or 12.5)."
        return Fraction(0)
    if maximum is not None and number > maximum:
        problems[name] = f"{value} is above {maximum} (a percentage is between 0 and 100)."
    return number


def _whole(problems: dict, name: str, value, low: int, high: int, label: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        problems[name] = f"{label} must be a whole number from {low} to {high}."
        return low
    return value


def parse_policy(reserve_percent, hours_weight, earnings_weight, cash_percent, small_allocation_threshold_cents=0,
                 revolving_years=5, loss_reserve_percent="100") -> PolicyInput:
    """Check a policy's settings field by field (percentages 0–100, weights not both zero); ValidationFailed."""
    problems: dict[str, str] = {}
    values = PolicyInput(
        reserve_percent=_decimal_field(problems, "reserve_percent", reserve_percent, maximum=100),
        hours_weight=_decimal_field(problems, "hours_weight", hours_weight),
        earnings_weight=_decimal_field(problems, "earnings_weight", earnings_weight),
        cash_percent=_decimal_field(problems, "cash_percent", cash_percent, maximum=100),
        small_allocation_threshold_cents=_whole(problems, "small_allocation_threshold_cents",
                                                small_allocation_threshold_cents, 0, 10**12, "The threshold"),
        revolving_years=_whole(problems, "revolving_years", revolving_years, 0, 30, "The revolving period"),
        loss_reserve_percent=_decimal_field(problems, "loss_reserve_percent", loss_reserve_percent, maximum=100),
    )
    if not problems and values.hours_weight == 0 and values.earnings_weight == 0:
        problems["earnings_weight"] = "The hours weight and the earnings weight must not both be zero."
    if problems:
        raise ValidationFailed(problems)
    return values


def _text(number: Fraction) -> str:
    """An exact decimal as text; the parser only accepts finite decimals, so this never loses digits."""
    if number.denominator == 1:
        return str(number.numerator)
    places = 0
    while (number * 10**places).denominator != 1:
        places += 1
    scaled = (number * 10**places).numerator
    return f"{scaled // 10**places}.{scaled % 10**places:0{places}d}"


def create_policy(period_id: int, actor_id: int, *, reserve_percent, hours_weight, earnings_weight, cash_percent,
                  small_allocation_threshold_cents=0, revolving_years=5, loss_reserve_percent="100",
                  accept_nonqualified: bool = False, note: str = "") -> tuple[AllocationPolicy, str | None]:
    """Add the next policy version of a period (treasurer); returns (policy, warning or None). Commits.

    Cash below 20% makes notices nonqualified (DOMAIN.md §4): allowed only with ``accept_nonqualified=True``,
    and the warning is returned. A period whose dividend run exists cannot change its policy.
    """
    require_role(actor_id, TREASURY_ROLES, "change the allocation policy")
    period = get_period(period_id)
    if db.session.scalar(select(DividendRun.id).where(DividendRun.period_id == period_id)):
        raise Conflict(f"The dividend run of '{period.name}' is approved; its policy can no longer change.")
    values = parse_policy(reserve_percent, hours_weight, earnings_weight, cash_percent,
                          small_allocation_threshold_cents, revolving_years, loss_reserve_percent)
    warning = None
    if not engine.is_qualified_cash_percent(values.cash_percent):
        if not accept_nonqualified:
            raise ValidationFailed({"cash_percent": "Less than 20% in cash makes the notices nonqualified; "
                                                    "confirm that you accept this to save the policy."})
        warning = NONQUALIFIED_WARNING
    version = (db.session.scalar(select(func.max(AllocationPolicy.version))
                                 .where(AllocationPolicy.period_id == period_id)) or 0) + 1
    policy = AllocationPolicy(
        period_id=period_id, version=version, reserve_percent=_text(values.reserve_percent),
        hours_weight=_text(values.hours_weight), earnings_weight=_text(values.earnings_weight),
        cash_percent=_text(values.cash_percent),
        small_allocation_threshold_cents=values.small_allocation_threshold_cents,
        revolving_years=values.revolving_years, loss_reserve_percent=_text(values.loss_reserve_percent),
        note=(note or "")[:2000], created_by_id=actor_id,
    )
    db.session.add(policy)
    db.session.flush()
    audit.record("policy.created", actor_id=actor_id, subject=policy, detail=f"{period.name} v{version}")
    db.session.commit()
    return policy, warning


def approve_policy(policy_id: int, approver_id: int) -> AllocationPolicy:
    """An admin (the board, later a member vote) approves a policy version; the latest approved one applies."""
    require_role(approver_id, APPROVER_ROLES, "approve an allocation policy")
    policy = db.session.get(AllocationPolicy, policy_id)
    if policy is None:
        raise NotFound(f"Policy {policy_id} does not exist.")
    if db.session.scalar(select(DividendRun.id).where(DividendRun.period_id == policy.period_id)):
        raise Conflict("The period's dividend run is already approved; its policy can no longer change.")
    changed = db.session.execute(
        update(AllocationPolicy)
        .where(AllocationPolicy.id == policy_id, AllocationPolicy.approved_at.is_(None))
        .values(approved_by_id=approver_id, approved_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        db.session.rollback()
        raise Conflict(f"Policy version {policy.version} is already approved.")
    audit.record("policy.approved", actor_id=approver_id, subject=policy)
    db.session.commit()
    db.session.refresh(policy)
    return policy


def policy_history(period_id: int) -> list[AllocationPolicy]:
    """Every version of a period's policy, newest first."""
    return list(db.session.scalars(
        select(AllocationPolicy).where(AllocationPolicy.period_id == period_id)
        .order_by(AllocationPolicy.version.desc())
    ))


def current_policy(period_id: int) -> AllocationPolicy | None:
    """The policy in force for a period: its latest approved version (None until one is approved)."""
    return db.session.scalar(
        select(AllocationPolicy)
        .where(AllocationPolicy.period_id == period_id, AllocationPolicy.approved_at.is_not(None))
        .order_by(AllocationPolicy.version.desc()).limit(1)
    )


def domain_policy(policy: AllocationPolicy) -> engine.AllocationPolicy:
    """A stored policy version as the allocation engine's policy (exact fractions)."""
    return engine.AllocationPolicy(
        reserve_percent=Fraction(policy.reserve_percent),
        hours_weight=Fraction(policy.hours_weight),
        earnings_weight=Fraction(policy.earnings_weight),
        cash_percent=Fraction(policy.cash_percent),
        small_allocation_threshold_cents=policy.small_allocation_threshold_cents,
    )

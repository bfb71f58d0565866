"""The co-op fee: dated rates voted by the members, and the rate each gig is priced with.

Rates are rows with an ``effective_from`` date; a gig keeps the rate in force on the day it was booked
(accepted by its worker), so a later vote never changes the price of a gig already agreed. Until the
members set one, the fee is 5 % deducted from the worker's side (issue 4 §2).
"""

from __future__ import annotations

from datetime import date, datetime
from fractions import Fraction
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from marketplace.domain import pricing
from marketplace.domain.money import MoneyFormatError, parse_fraction
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import FeeRate, Job
from marketplace.models.base import utcnow
from marketplace.services import audit

DEFAULT_RATE = pricing.FeeRate(effective_from=date(1970, 1, 1), percent=Fraction(5), mode="deducted")
MODE_LABELS = {"deducted": "Deducted from the worker's price", "on_top": "Added on top of the client's bill"}


def local_date(moment: datetime | None = None) -> date:
    """The calendar date of ``moment`` (default: now) in the co-op's time zone (config ``COOP_TIMEZONE``)."""
    return (moment or utcnow()).astimezone(ZoneInfo(current_app.config["COOP_TIMEZONE"])).date()


def percent_text(percent_bp: int) -> str:
    """Basis points as a percent without trailing zeros: 500 → ``"5"``, 525 → ``"5.25"``."""
    whole, frac = divmod(percent_bp, 100)
    return f"{whole}.{frac:02d}".rstrip("0") if frac else str(whole)


def _domain(row: FeeRate) -> pricing.FeeRate:
    return pricing.FeeRate(effective_from=row.effective_from, percent=Fraction(row.percent_bp, 100),
                           min_cents=row.min_cents, max_cents=row.max_cents, mode=row.mode)


def all_rates() -> list[pricing.FeeRate]:
    """Every rate ever voted, oldest first, preceded by the 5 % default (in force before the first vote)."""
    rows = db.session.scalars(select(FeeRate).order_by(FeeRate.effective_from)).all()
    rates = [_domain(row) for row in rows]
    if not rates or rates[0].effective_from > DEFAULT_RATE.effective_from:
        rates.insert(0, DEFAULT_RATE)
    return rates


def current_fee_rate(on: date | None = None) -> pricing.FeeRate:
    """The rate in force on ``on`` (default: today in the co-op's time zone)."""
    return pricing.rate_in_force(all_rates(), on or local_date())


def booking_date(job: Job) -> date:
    """The day a gig was booked: when its worker accepted it (its request date if it never was)."""
    return local_date(job.accepted_at or job.created_at)


def fee_rate_for_job(job: Job, rates: list[pricing.FeeRate] | None = None) -> pricing.FeeRate:
    """The rate a gig is priced with: the one in force on its booking date (issue 4 §2)."""
    return pricing.rate_in_force(rates if rates is not None else all_rates(), booking_date(job))


def _parse_percent(text: str) -> int:
    value = parse_fraction(text, minimum=Fraction(0), maximum=Fraction(100))
    basis_points = value * 100
    if basis_points.denominator != 1:
        raise MoneyFormatError(f"'{text}' has more than two decimals")
    return int(basis_points)


def _check_cents(name: str, value, errors: dict[str, str]) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        errors[name] = "Enter an amount of zero or more, or leave it empty."
        return None
    return value


def set_fee_rate(percent_text_value: str, effective_from: date, min_cents: int | None, max_cents: int | None,
                 mode: str, actor_id: int | None, note: str = "") -> FeeRate:
    """Add a fee rate from ``effective_from`` (commits). Earlier rates stay, so the history is kept.

    Rules: a percent from 0 to 100 with at most two decimals; optional minimum and maximum in cents with
    min ≤ max; a known mode; a start date no earlier than today (a gig already booked keeps its rate, so
    a rate cannot start in the past) and not a day that already has a rate.
    """
    errors: dict[str, str] = {}
    try:
        percent_bp = _parse_percent(percent_text_value)
    except MoneyFormatError as exc:
        errors["percent"] = f"Enter a percent from 0 to 100 with at most two decimals ({exc})."
    low = _check_cents("min_cents", min_cents, errors)
    high = _check_cents("max_cents", max_cents, errors)
    if low is not None and high is not None and low > high:
        errors["max_cents"] = "The maximum fee must not be below the minimum."
    if mode not in pricing.FEE_MODES:
        errors["mode"] = f"Choose one of: {', '.join(pricing.FEE_MODES)}."
    if not isinstance(effective_from, date) or effective_from < local_date():
        errors["effective_from"] = "A new rate starts today or later; gigs already booked keep their rate."
    elif db.session.scalar(select(FeeRate.id).where(FeeRate.effective_from == effective_from)):
        errors["effective_from"] = f"A rate already starts on {effective_from.isoformat()}; choose another day."
    if errors:
        raise ValidationFailed(errors)
    row = FeeRate(effective_from=effective_from, percent_bp=percent_bp, min_cents=low, max_cents=high, mode=mode,
                  note=note.strip()[:500], created_by_id=actor_id)
    db.session.add(row)
    audit.record("fee_rate.set", actor_id=actor_id, subject=row,
                 detail=f"{percent_text(percent_bp)}% {mode} from {effective_from.isoformat()}")
    db.session.commit()
    return row


def fee_rate_history() -> list[dict]:
    """Every rate, newest first, for the treasurer's page (the built-in default last)."""
    rows = db.session.scalars(select(FeeRate).order_by(FeeRate.effective_from.desc())).all()
    history = [{"effective_from": r.effective_from, "percent": percent_text(r.percent_bp), "min_cents": r.min_cents,
                "max_cents": r.max_cents, "mode": r.mode, "note": r.note, "is_default": False} for r in rows]
    if not rows or rows[-1].effective_from > DEFAULT_RATE.effective_from:
        history.append({"effective_from": None, "percent": "5", "min_cents": None, "max_cents": None,
                        "mode": DEFAULT_RATE.mode, "note": "Default until the members vote a rate.",
                        "is_default": True})
    return history

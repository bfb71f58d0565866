"""What each kind of proposal carries, checked when it is tabled (issue 6 §2).

``prepare(kind, params, on)`` returns the JSON payload stored on the proposal and the ballot options.
Every problem is reported per field (``ValidationFailed``); nothing is saved here.

- fee_change: ``percent`` (0–100, at most two decimals), ``effective_from`` (a date, today or later; the
  rate starts on that date or on the day the vote passes, whichever is later, so a vote never reprices a
  gig already booked), ``mode`` (deducted / on_top; default: the mode in force), optional ``min_cents`` and
  ``max_cents``.
- policy: ``policy_id`` of a draft (not yet approved) allocation policy version of a period whose dividend
  run is not approved yet. The treasurer drafts versions; the vote approves one.
- dividend_run: ``period_id`` of a period whose run is not approved yet (it must be closed when the vote
  passes, with an approved policy).
- admission: ``member_id`` of an applicant with no other admission vote open.
- election: ``office`` (board / treasurer), ``seats`` (1–9) and ``candidate_ids`` (members in good standing,
  at least as many as seats).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date
from fractions import Fraction

from sqlalchemy import select

from marketplace.domain import pricing, voting
from marketplace.domain.money import MoneyFormatError, format_cents, parse_fraction
from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import Membership, Proposal, User
from marketplace.models.treasury import AllocationPolicy, DividendRun, FiscalPeriod
from marketplace.services import fees, membership

MAX_SEATS = 9


def _int(params: Mapping, name: str, problems: dict, label: str) -> int | None:
    value = params.get(name)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        problems[name] = f"Choose {label}."
        return None
    return value


def _optional_cents(params: Mapping, name: str, problems: dict) -> int | None:
    value = params.get(name)
    if value in (None, ""):
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        problems[name] = "Enter an amount in cents of zero or more, or leave it empty."
        return None
    return value


def _date(value) -> date | None:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value or "").strip())
    except ValueError:
        return None


def _fee(params: Mapping, on: date, problems: dict) -> dict:
    text = str(params.get("percent") or "").strip()
    try:
        percent = parse_fraction(text, minimum=Fraction(0), maximum=Fraction(100))
        if (percent * 100).denominator != 1:
            raise MoneyFormatError("use at most two decimals")
    except MoneyFormatError as exc:
        problems["percent"] = f"Enter a fee from 0 to 100 percent with at most two decimals ({exc})."
    effective = _date(params.get("effective_from"))
    if effective is None or effective < on:
        problems["effective_from"] = "Enter the date the new fee starts: today or later."
    mode = params.get("mode") or fees.current_fee_rate(on).mode
    if mode not in pricing.FEE_MODES:
        problems["mode"] = f"Choose one of: {', '.join(pricing.FEE_MODES)}."
    low, high = _optional_cents(params, "min_cents", problems), _optional_cents(params, "max_cents", problems)
    if low is not None and high is not None and low > high:
        problems["max_cents"] = "The maximum fee must not be below the minimum."
    return {"percent": text, "effective_from": effective.isoformat() if effective else None, "mode": mode,
            "min_cents": low, "max_cents": high}


def _policy(params: Mapping, problems: dict) -> dict:
    policy_id = _int(params, "policy_id", problems, "the draft policy version to approve")
    policy = db.session.get(AllocationPolicy, policy_id) if policy_id else None
    if policy_id and policy is None:
        problems["policy_id"] = "That policy version does not exist."
    elif policy is not None and policy.approved_at is not None:
        problems["policy_id"] = f"Version {policy.version} is already approved."
    elif policy is not None and _run_exists(policy.period_id):
        problems["policy_id"] = "That period's dividend run is approved; its policy can no longer change."
    if problems or policy is None:
        return {}
    return {"policy_id": policy.id, "period_id": policy.period_id, "period": policy.period.name,
            "version": policy.version, "reserve_percent": policy.reserve_percent,
            "hours_weight": policy.hours_weight, "earnings_weight": policy.earnings_weight,
            "cash_percent": policy.cash_percent}


def _run_exists(period_id: int) -> bool:
    return db.session.scalar(select(DividendRun.id).where(DividendRun.period_id == period_id)) is not None


def _dividend_run(params: Mapping, problems: dict) -> dict:
    period_id = _int(params, "period_id", problems, "the fiscal period")
    period = db.session.get(FiscalPeriod, period_id) if period_id else None
    if period_id and period is None:
        problems["period_id"] = "That fiscal period does not exist."
    elif period is not None and _run_exists(period.id):
        problems["period_id"] = f"The dividend run of {period.name} is already approved."
    return {"period_id": period.id, "period": period.name} if period is not None and not problems else {}


def _admission(params: Mapping, problems: dict) -> dict:
    member_id = _int(params, "member_id", problems, "the applicant")
    row = db.session.get(Membership, member_id) if member_id else None
    if member_id and (row is None or row.status != voting.APPLICANT):
        problems["member_id"] = "That person has not applied for membership."
    elif row is not None and _open_admission(member_id):
        problems["member_id"] = "An admission vote for this applicant is already open."
    return {"member_id": member_id, "name": row.user.name} if row is not None and not problems else {}


def _open_admission(member_id: int) -> bool:
    rows = db.session.scalars(select(Proposal.payload).where(Proposal.kind == voting.ADMISSION,
                                                             Proposal.status == "open"))
    return any(json.loads(p).get("member_id") == member_id for p in rows)


def _election(params: Mapping, problems: dict) -> tuple[dict, list[tuple[str, str]]]:
    office = params.get("office")
    if office not in voting.OFFICES:
        problems["office"] = f"Choose the office: {', '.join(voting.OFFICES)}."
    seats = _int(params, "seats", problems, "how many seats are elected")
    if seats and seats > MAX_SEATS:
        problems["seats"] = f"Elect at most {MAX_SEATS} seats at once."
    raw = params.get("candidate_ids") or []
    ids = list(dict.fromkeys(int(c) for c in raw if str(c).strip().isdigit()))
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    if not ids or len(ids) != len([c for c in raw if str(c).strip()]):
        problems["candidate_ids"] = "Choose the candidates."
    elif any(cid not in people or not membership.in_good_standing(cid) for cid in ids):
        problems["candidate_ids"] = "Every candidate must be a member in good standing."
    elif seats and len(ids) < seats:
        problems["candidate_ids"] = f"Put forward at least {seats} candidate(s)."
    if problems:
        return {}, []
    options = [(str(cid), people[cid].name) for cid in ids]
    return {"office": office, "seats": seats, "candidate_ids": ids}, [*options, (voting.ABSTAIN, "Abstain")]


def prepare(kind: str, params: Mapping | None, on: date) -> tuple[dict, list[tuple[str, str]]]:
    """The checked payload and ballot options of a proposal of ``kind`` (ValidationFailed per field)."""
    params = params or {}
    problems: dict[str, str] = {}
    options = list(voting.MOTION_OPTIONS)
    if kind == voting.FEE_CHANGE:
        payload = _fee(params, on, problems)
    elif kind == voting.POLICY:
        payload = _policy(params, problems)
    elif kind == voting.DIVIDEND_RUN:
        payload = _dividend_run(params, problems)
    elif kind == voting.ADMISSION:
        payload = _admission(params, problems)
    elif kind == voting.ELECTION:
        payload, options = _election(params, problems)
    elif kind == voting.GENERAL:
        payload = {}
    else:
        problems["kind"] = f"Choose a kind of proposal: {', '.join(voting.KINDS)}."
    if problems:
        raise ValidationFailed(problems)
    return payload, options


def describe(kind: str, payload: dict) -> str:
    """One sentence saying what passing the proposal does."""
    if kind == voting.FEE_CHANGE:
        limits = "".join(f", {label} {format_cents(payload[key], symbol='$')}"
                         for key, label in (("min_cents", "minimum"), ("max_cents", "maximum"))
                         if payload.get(key) is not None)
        how = "deducted from the worker's price" if payload["mode"] == "deducted" else "added to the client's bill"
        return (f"The co-op fee becomes {payload['percent']}% ({how}{limits}) from {payload['effective_from']} "
                "or the day the vote passes, whichever is later.")
    if kind == voting.POLICY:
        return (f"Approves version {payload['version']} of the {payload['period']} allocation policy: reserve "
                f"{payload['reserve_percent']}%, weights hours {payload['hours_weight']} : earnings "
                f"{payload['earnings_weight']}, cash {payload['cash_percent']}%.")
    if kind == voting.DIVIDEND_RUN:
        return f"Approves the patronage dividend run of {payload['period']}."
    if kind == voting.ADMISSION:
        return f"Admits {payload['name']} as a member."
    if kind == voting.ELECTION:
        label = voting.OFFICES[payload["office"]][0]
        return f"Elects {payload['seats']} {label.lower()}(s); the winners take office when the vote closes."
    return "A resolution of the members; nothing changes automatically."


def choices(kind: str) -> dict[str, list[tuple[str, str]]]:
    """What the tabling form offers for ``kind``: draft policies, periods without a run, applicants, or
    candidates (members in good standing), as (value, label) pairs."""
    if kind == voting.POLICY:
        rows = db.session.execute(
            select(AllocationPolicy, FiscalPeriod.name)
            .join(FiscalPeriod, FiscalPeriod.id == AllocationPolicy.period_id)
            .where(AllocationPolicy.approved_at.is_(None))
            .order_by(FiscalPeriod.start_date.desc(), AllocationPolicy.version.desc()))
        return {"policy_id": [(str(p.id), f"{name} v{p.version}: reserve {p.reserve_percent}%, cash "
                                          f"{p.cash_percent}%, weights {p.hours_weight}:{p.earnings_weight}")
                              for p, name in rows if not _run_exists(p.period_id)]}
    if kind == voting.DIVIDEND_RUN:
        periods = db.session.scalars(select(FiscalPeriod).order_by(FiscalPeriod.start_date.desc()))
        return {"period_id": [(str(p.id), f"{p.name} ({p.status})") for p in periods if not _run_exists(p.id)]}
    if kind == voting.ADMISSION:
        rows = db.session.execute(select(User.id, User.name).join(Membership, Membership.user_id == User.id)
                                  .where(Membership.status == voting.APPLICANT).order_by(User.name))
        return {"member_id": [(str(uid), name) for uid, name in rows]}
    if kind == voting.ELECTION:
        rows = db.session.execute(select(User.id, User.name).join(Membership, Membership.user_id == User.id)
                                  .where(membership.good_standing_condition()).order_by(User.name))
        return {"candidate_ids": [(str(uid), name) for uid, name in rows],
                "office": [(key, label) for key, (label, _) in voting.OFFICES.items()]}
    return {}


def defaults(kind: str) -> dict:
    """Starting values of the tabling form: for a fee change, the mode in force and today's date."""
    if kind == voting.FEE_CHANGE:
        return {"mode": fees.current_fee_rate().mode, "effective_from": fees.local_date()}
    return {}

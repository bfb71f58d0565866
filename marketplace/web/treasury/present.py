"""Turning treasury records into what pages, CSV files and PDFs show.

Read-only: selects built on the services' own queries (``dividends.visible_allocations`` shows only
completed runs, so nothing here can expose a half-written run), pagination, and pure shaping functions
(the surplus donut, the allocation histogram, the notice dict) that are tested on plain figures.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from fractions import Fraction
from zoneinfo import ZoneInfo

from flask import current_app
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.sql import Select

from marketplace.domain import paging
from marketplace.domain.money import format_cents
from marketplace.domain.paging import Page
from marketplace.domain.simulation import format_share
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.models.treasury import Allocation, AllocationNotice, CapitalRedemption
from marketplace.services import dividends
from marketplace.web import charts
from marketplace.web.treasury.exports import hours_text

PER_PAGE = 50
HISTOGRAM_BUCKETS = 8


def page_of_list(items: Sequence, page: int, per_page: int = PER_PAGE) -> Page:
    """Slice an in-memory list (a preview's members) into a page; out-of-range pages clamp to the last."""
    return paging.page_of_list(items, page, per_page)


def page_of_select(query: Select, page: int, per_page: int = PER_PAGE) -> Page:
    """Run a multi-entity select one page at a time (COUNT, then LIMIT/OFFSET)."""
    total = db.session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = paging.clamp(page, total, per_page)
    rows = db.session.execute(query.limit(per_page).offset((page - 1) * per_page)).all()
    return Page(rows, page, per_page, total)


def matches(name: str, search: str | None) -> bool:
    """Case-insensitive substring match of a member's name, as the run's search does in SQL."""
    return not search or search.strip().lower() in (name or "").lower()


def surplus_split(figures: dict) -> list[tuple[str, int]]:
    """How the period's net margin divides (DOMAIN.md §1–2): reserve, non-member profit and other income,
    and the members' allocations. Negative parts (a loss) are left out of the donut."""
    parts = [
        ("Collective reserve", figures.get("reserve_cents") or 0),
        ("Non-member profit", figures.get("nonmember_surplus_cents") or 0),
        ("Other income", figures.get("non_patronage_cents") or 0),
        ("Members' allocations", figures.get("allocable_cents") or 0),
    ]
    return [(label, cents) for label, cents in parts if cents > 0]


def run_figures(run) -> dict:
    """A completed run's stored totals in the shape ``surplus_split`` reads."""
    return {"reserve_cents": run.reserve_cents, "nonmember_surplus_cents": run.nonmember_surplus_cents,
            "non_patronage_cents": run.other_income_cents, "allocable_cents": run.allocated_cents}


def dollars(cents: int) -> str:
    """Chart labels: cents as "$1,234.56"."""
    return format_cents(int(cents), thousands=True, symbol="$")


def surplus_chart(figures: dict, title: str = "How the surplus divides") -> Markup:
    """A donut of ``surplus_split``: reserve, non-member profit, other income and the members' allocations."""
    return charts.donut_chart(surplus_split(figures), title, value_format=dollars)


def distribution_chart(amounts: Sequence[int], title: str = "Members by allocation") -> Markup:
    """A column chart of ``allocation_histogram``: how many members received how much."""
    return charts.column_chart(allocation_histogram(amounts), title)


def _nice_step(peak: int, buckets: int) -> int:
    """A bucket width in cents that reads well: 1, 2 or 5 times a power of ten dollars (at least $1)."""
    raw = max(100, math.ceil(peak / buckets))
    magnitude = 10 ** (len(str(raw)) - 1)
    for factor in (1, 2, 5, 10):
        if factor * magnitude >= raw:
            return factor * magnitude
    return 10 * magnitude


def allocation_histogram(amounts: Sequence[int], buckets: int = HISTOGRAM_BUCKETS) -> list[tuple[str, int]]:
    """Count non-zero allocations in equal dollar buckets ("$50–$100", "$100–$150", …) for a column chart.

    Buckets start at the one holding the smallest allocation, so the chart has no empty leading columns.
    """
    positive = [int(a) for a in amounts if a > 0]
    if not positive:
        return []
    low, high = min(positive), max(positive)
    step = _nice_step(max(high - low, high // 2), buckets)
    first = low // step
    count = high // step - first + 1
    counts = [0] * count
    for amount in positive:
        counts[amount // step - first] += 1

    def label(index: int) -> str:
        return f"${format_cents(index * step, thousands=True)[:-3]}"

    return [(f"{label(first + i)}–{label(first + i + 1)}", counts[i]) for i in range(count)]


def run_amounts(run_id: int) -> list[int]:
    """Every allocation of a completed run, in cents (for the distribution chart)."""
    query = dividends.visible_allocations().where(Allocation.run_id == run_id).with_only_columns(
        Allocation.allocation_cents)
    return [int(cents) for cents in db.session.scalars(query)]


def notice_record(notice_id: int):
    """(notice, allocation, member, period) of a completed run's notice, or NotFound."""
    row = db.session.execute(dividends.visible_allocations().where(AllocationNotice.id == notice_id)).first()
    if row is None or row[3] is None:
        raise NotFound(f"Notice {notice_id} does not exist.")
    allocation, member, period, notice = row
    return notice, allocation, member, period


def notice_number(notice: AllocationNotice, period) -> str:
    return f"{period.end_date.year}-{notice.id:06d}"


def notice_dict(notice: AllocationNotice, allocation: Allocation, member, period, coop_name: str) -> dict:
    """Everything a notice of allocation states (DOMAIN.md §4), as the plain dict ``render_notice_pdf`` takes."""
    return {
        "notice_id": notice.id, "notice_number": notice_number(notice, period), "coop_name": coop_name,
        "issued_on": notice.issued_at.date(), "member_name": member.name, "member_number": member.id,
        "member_id": member.id, "period_name": period.name, "period_start": period.start_date,
        "period_end": period.end_date, "hours": hours_text(allocation.minutes),
        "earnings_cents": allocation.earnings_cents, "share": format_share(Fraction(allocation.share_exact)),
        "allocation_cents": allocation.allocation_cents, "cash_cents": allocation.cash_cents,
        "retained_cents": allocation.retained_cents, "qualified": notice.qualified,
        "consent_basis": notice.consent_basis, "ica_balance_cents": notice.ica_balance_cents,
    }


def allocation_csv_rows(run_id: int) -> list[dict]:
    """A completed run's allocations as plain rows for ``exports.allocations_csv``."""
    rows = db.session.execute(dividends.run_allocations(run_id)).all()
    return [{
        "member_id": member.id, "name": member.name, "hours_minutes": allocation.minutes,
        "earnings_cents": allocation.earnings_cents, "share": Fraction(allocation.share_exact),
        "allocation_cents": allocation.allocation_cents, "cash_cents": allocation.cash_cents,
        "retained_cents": allocation.retained_cents, "qualified": bool(notice and notice.qualified),
    } for allocation, member, _period, notice in rows]


def patr_payments(year: int) -> list[dict]:
    """Payments for Form 1099-PATR in ``year`` (DOMAIN.md §4), by the year paid.

    A notice pays its cash part and, when qualified, states its retained amount in the year it is issued;
    a revolved allocation whose notice was nonqualified is a redemption in the year it is paid out.
    """
    start, end = date(year, 1, 1), date(year, 12, 31)
    zone = ZoneInfo(current_app.config["COOP_TIMEZONE"])
    notices = db.session.execute(
        dividends.visible_allocations()
        .where(AllocationNotice.issued_at >= datetime.combine(start, time.min, zone).astimezone(UTC))
        .where(AllocationNotice.issued_at < datetime.combine(date(year + 1, 1, 1), time.min, zone).astimezone(UTC))
    ).all()
    payments = [{
        "member_id": member.id, "name": member.name, "email": member.email,
        "paid_on": notice.issued_at.astimezone(zone).date(),
        "cash_cents": allocation.cash_cents,
        "qualified_notice_cents": allocation.retained_cents if notice.qualified else 0,
    } for allocation, member, _period, notice in notices]
    redemptions = db.session.execute(
        dividends.visible_allocations()
        .add_columns(CapitalRedemption)
        .join(CapitalRedemption, CapitalRedemption.allocation_id == Allocation.id)
        .where(CapitalRedemption.effective_on.between(start, end), AllocationNotice.qualified.is_(False))
    ).all()
    payments += [{
        "member_id": member.id, "name": member.name, "email": member.email, "paid_on": redemption.effective_on,
        "nonqualified_redemption_cents": redemption.amount_cents,
    } for _allocation, member, _period, _notice, redemption in redemptions]
    return payments

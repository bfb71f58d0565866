"""Builders for the marketplace page tests: categories, worker profiles, jobs and gigs in a given state.

Everything goes through the real services, so the pages are tested on the same rows production makes.
"""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from marketplace.extensions import db
from marketplace.models import ServiceCategory

CATEGORIES = [("house-cleaning", "House cleaning", 2200), ("dog-walking", "Dog walking", 1800)]
ALL_WEEK = [(day, "00:00", "24:00") for day in range(7)]
_GIG_DAYS = itertools.count(5)  # each gig on its own day, so a worker's gigs never overlap
_CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def seed_categories() -> dict[str, ServiceCategory]:
    rows = {}
    for slug, name, floor in CATEGORIES:
        rows[slug] = ServiceCategory(slug=slug, name=name, rate_floor_cents=floor)
        db.session.add(rows[slug])
    db.session.commit()
    return rows


def give_profile(worker, *, neighbourhood: str = "Temescal", services=(("house-cleaning", 2500),),
                 windows=ALL_WEEK, radius_km: int = 10):
    from marketplace.services import profiles

    return profiles.save_profile(worker.id, bio="Careful and quick.", neighbourhood=neighbourhood, lat=None, lng=None,
                                 radius_km=radius_km, services=list(services), windows=list(windows),
                                 blocked_dates=[])


def local_start(app, days_ahead: int = 3, hour: int = 10) -> datetime:
    """A start ``days_ahead`` days from now at ``hour`` on the co-op's clock, as aware UTC."""
    zone = ZoneInfo(app.config["COOP_TIMEZONE"])
    day = datetime.now(zone).date() + timedelta(days=days_ahead)
    return datetime.combine(day, time(hour, 0), tzinfo=zone).astimezone(UTC)


def post_job(app, client, *, title: str = "Clean the flat", neighbourhood: str = "Temescal", days_ahead: int = 3,
             hours: str = "2", invite_worker_id: int | None = None):
    from marketplace.services import jobs

    return jobs.post_job(client.id, category="house-cleaning", title=title, description="Two rooms.",
                         neighbourhood=neighbourhood, address="12 Elm Street", lat=None, lng=None,
                         starts_at=local_start(app, days_ahead), hours=hours, max_rate_cents=None,
                         invite_worker_id=invite_worker_id)


def gig(app, client, worker, state: str, *, title: str = "Clean the flat"):
    """A job of ``client`` taken by ``worker`` and moved on to ``state`` through the lifecycle services."""
    from marketplace.services import gigs, offers

    job = post_job(app, client, title=title, invite_worker_id=worker.id, days_ahead=next(_GIG_DAYS) % 300 + 5)
    steps = ["accepted", "in_progress", "completed", "confirmed"]
    actions = {
        "accepted": lambda: offers.accept_offer(job.id, worker.id),
        "in_progress": lambda: gigs.start_gig(job.id, worker.id),
        "completed": lambda: gigs.complete_gig(job.id, worker.id, 150),
        "confirmed": lambda: gigs.confirm_gig(job.id, client.id),
    }
    for step in steps[: steps.index(state) + 1]:
        actions[step]()
    return job


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def post_page(client, path: str, data: dict, *, form_page: str | None = None):
    """POST ``data`` to ``path`` with the CSRF token of ``form_page`` (``path`` by default)."""
    token = csrf_from(client.get(form_page or path).get_data(as_text=True))
    return client.post(path, data={**data, "csrf_token": token})

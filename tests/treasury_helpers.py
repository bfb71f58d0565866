"""Building a treasury scenario through the real models and ledger service: confirmed gigs with their charge
entries, expenses, other income, a period with an approved policy."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from itertools import count

from sqlalchemy import select

from marketplace.domain import ledger as chart
from marketplace.domain.pricing import GigPrice
from marketplace.extensions import db
from marketplace.models import Job, ServiceCategory
from marketplace.services import dividends, ledger, periods

_ids = count(1)


def category() -> ServiceCategory:
    found = db.session.scalar(select(ServiceCategory).where(ServiceCategory.slug == "treasury-test"))
    if found is None:
        found = ServiceCategory(slug="treasury-test", name="Treasury test", rate_floor_cents=1000)
        db.session.add(found)
        db.session.flush()
    return found


def confirmed_gig(worker, client, *, minutes: int, earnings_cents: int, fee_cents: int, member: bool = True,
                  confirmed_at: datetime = datetime(2025, 6, 15, 18, 0, tzinfo=UTC), post_charge: bool = True) -> Job:
    """A confirmed gig whose charge entry credits the worker ``earnings_cents`` and fee revenue ``fee_cents``."""
    starts = confirmed_at - timedelta(hours=12)
    job = Job(client_id=client.id, category_id=category().id, title="Test gig", lat_e6=37_770_000,
              lng_e6=-122_420_000, starts_at=starts, ends_at=starts + timedelta(minutes=max(minutes, 30)),
              estimated_minutes=min(max(minutes, 30), 720), status="confirmed", worker_id=worker.id,
              agreed_rate_cents=3000, actual_minutes=minutes, accepted_at=starts - timedelta(days=2),
              completed_at=starts + timedelta(minutes=minutes), confirmed_at=confirmed_at, worker_was_member=member)
    db.session.add(job)
    db.session.flush()
    if post_charge:
        total = earnings_cents + fee_cents
        price = GigPrice(subtotal_cents=total, fee_cents=fee_cents, client_total_cents=total,
                         worker_earnings_cents=earnings_cents, mode="deducted", labour_cents=total, materials_cents=0)
        spec = chart.entry_gig_charged(job.id, client.id, worker.id, price, member, confirmed_at.date())
        ledger.post(spec, source_type="job", source_id=job.id)
    db.session.commit()
    return job


def expense(amount_cents: int, on: date, slug: str = "rent") -> None:
    ledger.post(chart.entry_expense(900_000 + next(_ids), slug, amount_cents, on), source_type="expense")
    db.session.commit()


def other_income(amount_cents: int, on: date) -> None:
    ledger.post(chart.entry_other_income(900_000 + next(_ids), amount_cents, on), source_type="income")
    db.session.commit()


def period_2025(treasurer, admin, *, name: str = "FY 2025", start: date = date(2025, 1, 1),
                end: date = date(2025, 12, 31), close: bool = True, **policy):
    """A period with an approved policy (defaults: reserve 0, weights 1:1, cash 20), closed unless asked not."""
    period = periods.create_period(name, start, end, treasurer.id)
    settings = {"reserve_percent": "0", "hours_weight": "1", "earnings_weight": "1", "cash_percent": "20"}
    settings.update(policy)
    created, _ = periods.create_policy(period.id, treasurer.id, **settings)
    periods.approve_policy(created.id, admin.id)
    if close:
        periods.close_period(period.id, treasurer.id)
    return period


def approved_and_queued(period, treasurer, admin):
    dividends.approve_run(period.id, admin.id)
    return dividends.start_run(period.id, treasurer.id)


def isolated_broker(app, **options) -> dict[str, str]:
    """Give this test its own broker namespace (a Redis key prefix) so workers of tests running at the same time
    on the same Redis database neither take its tasks nor restore its unacknowledged messages; returns the env
    entries a worker process needs to use the same namespace and options. Other brokers (the SQLite one of the
    default test run) belong to one test session already and get nothing."""
    celery = app.extensions["celery"]
    if not str(celery.conf.broker_url).startswith("redis"):
        return {}
    options = {"global_keyprefix": f"t{uuid.uuid4().hex[:8]}:", **options}
    celery.conf.broker_transport_options = {**(celery.conf.broker_transport_options or {}), **options}
    return {f"FLASK_CELERY__broker_transport_options__{key}": str(value) for key, value in options.items()}

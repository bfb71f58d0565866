"""A synthetic metro area of workers for bench/matching.py, written with bulk Core inserts.

Homes and jobs fall uniformly in a 40 km disc around Oakland (about 5,000 km², the inner Bay Area);
each worker offers 1–3 of 20 categories at 5–80% above the floor, travels 3–25 km, and declares
one of four weekly patterns. Some have blocked dates, booked gigs, ratings and hours this month.
"""

from __future__ import annotations

import math
import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import insert

from marketplace.models import (
    AvailabilityWindow,
    BlockedDate,
    Job,
    ServiceCategory,
    User,
    UserRole,
    WorkerPeriodStats,
    WorkerProfile,
    WorkerService,
)
from marketplace.services.demo import CATEGORIES as DEMO_CATEGORIES
from marketplace.services.profile_input import E6, service_box_e6

CENTRE = (37.8044, -122.2712)
METRO_RADIUS_KM = 40.0
EXTRA_CATEGORIES = [
    ("plumbing", "Plumbing", 3500), ("electrical", "Electrical work", 3800), ("painting", "Painting", 2800),
    ("pet-sitting", "Pet sitting", 1800), ("meal-prep", "Meal prep", 2200), ("errands", "Errands", 1800),
    ("computer-help", "Computer help", 3000), ("photography", "Photography", 4000),
    ("bike-repair", "Bike repair", 2500), ("window-cleaning", "Window cleaning", 2300),
    ("laundry", "Laundry and ironing", 1900), ("music-lessons", "Music lessons", 3200),
]
CHUNK = 5000
N_CLIENTS = 500


def random_point(rng: random.Random) -> tuple[int, int]:
    """A point uniformly distributed in the metro disc, in micro-degrees."""
    distance = METRO_RADIUS_KM * math.sqrt(rng.random())
    bearing = rng.random() * 2 * math.pi
    lat = CENTRE[0] + distance * math.cos(bearing) / 111.195
    lng = CENTRE[1] + distance * math.sin(bearing) / (111.195 * math.cos(math.radians(CENTRE[0])))
    return round(lat * E6), round(lng * E6)


RADIUS_SHAPES = ("skewed", "uniform")
RADIUS_SHAPE = "skewed"


def service_radius(rng: random.Random) -> int:
    """A service radius from 3 to 25 km: by default skewed towards short trips (median 8 km, 95% within
    16 km, a few at 25 km), as most people work near home; ``RADIUS_SHAPE = "uniform"`` spreads it evenly."""
    if RADIUS_SHAPE == "uniform":
        return rng.randint(3, 25)
    return min(25, 3 + round(rng.lognormvariate(math.log(5), 0.6)))


def insert_categories(conn) -> list[tuple[int, int]]:
    """The 8 demo categories plus 12 more; returns ``(id, floor)`` per category."""
    rows = [{"slug": s, "name": n, "rate_floor_cents": f, "description": "", "is_active": True}
            for s, n, f, *_ in DEMO_CATEGORIES] + \
           [{"slug": s, "name": n, "rate_floor_cents": f, "description": "", "is_active": True}
            for s, n, f in EXTRA_CATEGORIES]
    conn.execute(insert(ServiceCategory), rows)
    return [(i + 1, row["rate_floor_cents"]) for i, row in enumerate(rows)]


def weekly_pattern(rng: random.Random) -> list[tuple[int, int, int]]:
    """One of four common weekly patterns, as ``(weekday, start_minute, end_minute)``."""
    kind = rng.choices(["weekdays", "evenings", "part-time", "split"], [35, 20, 30, 15])[0]
    if kind == "weekdays":
        start = rng.choice([420, 480, 540])
        return [(d, start, start + rng.choice([480, 540])) for d in range(5)]
    if kind == "evenings":
        evening = rng.choice([960, 1020, 1080])
        return [(d, evening, evening + 240) for d in range(5)] + [(d, 540, 1020) for d in (5, 6)]
    if kind == "part-time":
        days = sorted(rng.sample(range(7), rng.randint(2, 4)))
        return [(d, s, s + rng.choice([180, 240, 300, 360])) for d in days for s in [rng.randrange(480, 900, 30)]]
    return [(d, s, e) for d in range(6) for s, e in ((480, 720), (780, 1080))]


def insert_population(conn, n_workers: int, rng: random.Random, today: date, zone: ZoneInfo) -> dict:
    """Workers with profiles, services, windows, blocked dates, stats and booked gigs; plus clients."""
    categories = insert_categories(conn)
    weights = [rng.uniform(1, 3) for _ in categories]
    _insert_clients(conn, n_workers, rng)
    counts = {"workers": 0, "services": 0, "windows": 0, "blocked": 0, "booked": 0}
    for first in range(1, n_workers + 1, CHUNK):
        ids = range(first, min(first + CHUNK, n_workers + 1))
        tables = _worker_rows(ids, rng, categories, weights, today, zone, n_workers)
        for model, rows in tables.items():
            if rows:
                conn.execute(insert(model), rows)
        counts["workers"] += len(ids)
        counts["services"] += len(tables[WorkerService])
        counts["windows"] += len(tables[AvailabilityWindow])
        counts["blocked"] += len(tables[BlockedDate])
        counts["booked"] += len(tables[Job])
    return {"categories": categories, "weights": weights, "clients": range(n_workers + 1, n_workers + N_CLIENTS + 1),
            **counts}


def _insert_clients(conn, n_workers: int, rng: random.Random) -> None:
    now = datetime.now(UTC)
    ids = range(n_workers + 1, n_workers + N_CLIENTS + 1)
    conn.execute(insert(User), [_user(i, f"client{i}", now) for i in ids])
    conn.execute(insert(UserRole), [{"user_id": i, "role": "client", "granted_at": now} for i in ids])


def _user(user_id: int, handle: str, now: datetime, active: bool = True) -> dict:
    return {"id": user_id, "email": f"{handle}@bench.coop", "name": f"Bench {handle}", "password_hash": "x",
            "is_active_account": active, "created_at": now, "password_changed_at": now}


def _worker_rows(ids, rng, categories, weights, today, zone, n_workers) -> dict:
    now = datetime.now(UTC)
    tables: dict = {m: [] for m in (User, UserRole, WorkerProfile, WorkerService, AvailabilityWindow, BlockedDate,
                                    WorkerPeriodStats, Job)}
    for worker_id in ids:
        tables[User].append(_user(worker_id, f"w{worker_id}", now, active=rng.random() > 0.01))
        tables[UserRole].append({"user_id": worker_id, "role": "worker", "granted_at": now})
        if rng.random() < 0.7:
            tables[UserRole].append({"user_id": worker_id, "role": "member", "granted_at": now})
        lat_e6, lng_e6 = random_point(rng)
        radius = service_radius(rng)
        windows = weekly_pattern(rng)
        rated = rng.randint(1, 80) if rng.random() < 0.6 else 0
        tables[WorkerProfile].append({
            "user_id": worker_id, "bio": "", "neighbourhood": "", "lat_e6": lat_e6, "lng_e6": lng_e6,
            "radius_km": radius, "weekly_minutes": sum(e - s for _, s, e in windows), "rating_count": rated,
            "rating_sum": round(rated * rng.uniform(3.5, 5.0)), "is_listed": rng.random() > 0.01, "updated_at": now})
        box = service_box_e6(lat_e6, lng_e6, radius)
        for index in set(rng.choices(range(len(categories)), weights, k=rng.randint(1, 3))):
            category_id, floor = categories[index]
            tables[WorkerService].append({
                "worker_id": worker_id, "category_id": category_id,
                "rate_cents": round(floor * rng.uniform(1.05, 1.8) / 50) * 50,
                "min_lat_e6": box[0], "max_lat_e6": box[1], "min_lng_e6": box[2], "max_lng_e6": box[3]})
        tables[AvailabilityWindow] += [{"worker_id": worker_id, "weekday": d, "start_minute": s, "end_minute": e}
                                       for d, s, e in windows]
        if rng.random() < 0.3:
            days = {today + timedelta(days=rng.randint(0, 20)) for _ in range(rng.randint(1, 3))}
            tables[BlockedDate] += [{"worker_id": worker_id, "day": day} for day in days]
        if rng.random() < 0.7:
            tables[WorkerPeriodStats].append({"worker_id": worker_id, "period_start": today.replace(day=1),
                                              "minutes_offered": rng.randint(0, 4000),
                                              "minutes_worked": rng.randint(0, 3000)})
        if rng.random() < 0.15:
            tables[Job] += _booked_gigs(worker_id, rng, categories, today, zone, n_workers)
    return tables


def _booked_gigs(worker_id, rng, categories, today, zone, n_workers) -> list[dict]:
    gigs = []
    for _ in range(rng.randint(1, 2)):
        category_id, floor = rng.choice(categories)
        starts, minutes = random_slot(rng, today, zone)
        lat_e6, lng_e6 = random_point(rng)
        gigs.append({
            "client_id": n_workers + rng.randint(1, N_CLIENTS), "category_id": category_id, "title": "Booked gig",
            "description": "", "neighbourhood": "", "address": "", "lat_e6": lat_e6, "lng_e6": lng_e6,
            "starts_at": starts, "ends_at": starts + timedelta(minutes=minutes), "estimated_minutes": minutes,
            "max_rate_cents": None, "status": rng.choice(["accepted", "in_progress"]), "worker_id": worker_id,
            "agreed_rate_cents": floor * 2, "offer_round": 1, "created_at": datetime.now(UTC)})
    return gigs


def random_slot(rng: random.Random, today: date, zone: ZoneInfo) -> tuple[datetime, int]:
    """A job start (UTC) in the next two weeks between 08:00 and 19:00 local, and its length in minutes."""
    day = today + timedelta(days=rng.randint(1, 14))
    minute = rng.randrange(480, 1140, 15)
    local = datetime(day.year, day.month, day.day, minute // 60, minute % 60, tzinfo=zone)
    return local.astimezone(UTC), rng.randrange(60, 270, 30)


def random_jobs(rng: random.Random, count: int, population: dict, today: date, zone: ZoneInfo) -> list[Job]:
    """Unsaved job requests spread like the homes, in popular categories, half of them with a rate cap."""
    jobs = []
    for _ in range(count):
        category_id, floor = rng.choices(population["categories"], population["weights"])[0]
        starts, minutes = random_slot(rng, today, zone)
        lat_e6, lng_e6 = random_point(rng)
        cap = round(floor * rng.uniform(1.2, 1.8)) if rng.random() < 0.5 else None
        jobs.append(Job(client_id=rng.choice(population["clients"]), category_id=category_id, lat_e6=lat_e6,
                        lng_e6=lng_e6, starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
                        estimated_minutes=minutes, max_rate_cents=cap, status="requested"))
    return jobs

"""Matching through the real database: the indexed candidate query plus the domain ranking.

A seeded random population (workers saved through the profile service, with blocked dates, booked and
finished gigs, inactive and unlisted accounts) is matched against random jobs, and every answer is
compared with an independent brute-force oracle written from the rules, not from the query.
"""

import math
import random
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import insert, text, update

from marketplace.domain.city import NEIGHBOURHOODS
from marketplace.domain.geo import haversine_km
from marketplace.extensions import db as _db
from marketplace.models import (
    AvailabilityWindow,
    Job,
    ServiceCategory,
    User,
    UserRole,
    WorkerProfile,
    WorkerService,
)
from marketplace.services import matching, profiles, settings
from marketplace.services.profile_input import service_box_e6
from marketplace.services.query_plan import explain

SLUGS = ("house-cleaning", "dog-walking", "tutoring")
FLOOR = 2000


@pytest.fixture
def categories(db):
    rows = {slug: ServiceCategory(slug=slug, name=slug.title(), rate_floor_cents=FLOOR) for slug in SLUGS}
    db.session.add_all(rows.values())
    db.session.commit()
    return rows


def zone(app) -> ZoneInfo:
    return ZoneInfo(app.config["COOP_TIMEZONE"])


def at(app, day: date, minute: int) -> datetime:
    """The UTC moment of ``minute`` past local midnight on ``day``."""
    return datetime.combine(day, time(minute // 60, minute % 60), tzinfo=zone(app)).astimezone(UTC)


def make_job(app, categories, client_id, *, slug="house-cleaning", lat, lng, day, minute, minutes, cap=None):
    starts = at(app, day, minute)
    return Job(client_id=client_id, category_id=categories[slug].id, lat_e6=round(lat * 1e6),
               lng_e6=round(lng * 1e6), starts_at=starts, ends_at=starts + timedelta(minutes=minutes),
               estimated_minutes=minutes, max_rate_cents=cap, status="requested")


# ---- the random population and its oracle ------------------------------------------------------------

class Person:
    """What the oracle knows about a worker: exactly what was saved, read back from the inputs."""

    def __init__(self, user_id, lat_e6, lng_e6, radius, services, windows, blocked):
        self.id, self.lat_e6, self.lng_e6, self.radius = user_id, lat_e6, lng_e6, radius
        self.services, self.blocked = dict(services), set(blocked)
        self.spans = {}
        for weekday, start, end in windows:
            self.spans.setdefault(weekday, []).append((_minutes(start), _minutes(end)))
        self.booked: list[tuple[datetime, datetime]] = []
        self.active = self.listed = True


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


def _clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def random_windows(rng: random.Random) -> list[tuple[int, str, str]]:
    windows = []
    for weekday in rng.sample(range(7), rng.randint(1, 5)):
        start = rng.randrange(6 * 60, 20 * 60, 30)
        end = rng.choice([start + rng.randrange(60, 9 * 60, 30), 1440])
        end = min(end, 1440)
        if rng.random() < 0.3 and end < 1440:  # a touching window: saved merged, must still match across
            windows.append((weekday, _clock(end), "24:00" if rng.random() < 0.5 else _clock(min(end + 120, 1440))))
        windows.append((weekday, _clock(start), "24:00" if end == 1440 else _clock(end)))
    return windows


def oracle_eligible(person: Person, job: Job, job_zone: ZoneInfo, client_id: int) -> bool:
    """The rules, written independently of the query: category and rate, radius, whole job inside the merged
    windows of its local weekday, local date not blocked, no overlapping booked gig, active, listed, not the client."""
    slug_rate = person.services.get(job.category_id)
    if slug_rate is None or (job.max_rate_cents is not None and slug_rate > job.max_rate_cents):
        return False
    if not person.active or not person.listed or person.id == client_id:
        return False
    distance = haversine_km(person.lat_e6 / 1e6, person.lng_e6 / 1e6, job.lat_e6 / 1e6, job.lng_e6 / 1e6)
    if distance > person.radius:
        return False
    local = job.starts_at.astimezone(job_zone)
    if local.date() in person.blocked:
        return False
    start = local.hour * 60 + local.minute
    end = start + job.estimated_minutes
    merged = []
    for lo, hi in sorted(person.spans.get(local.weekday(), [])):
        if merged and lo <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], hi))
        else:
            merged.append((lo, hi))
    if not any(lo <= start and end <= hi for lo, hi in merged):
        return False
    return not any(b_start < job.ends_at and job.starts_at < b_end for b_start, b_end in person.booked)


@pytest.fixture
def population(app, db, make_user, categories):
    """About 200 workers around the demo city, saved through the profile service, plus calendars."""
    rng = random.Random(20261126)
    client = make_user("client")
    today = profiles.local_today()
    days = [today + timedelta(days=k) for k in range(2, 9)]
    people = []
    names = sorted(NEIGHBOURHOODS)
    for _ in range(200):
        worker = make_user("worker")
        lat, lng = NEIGHBOURHOODS[rng.choice(names)]
        lat, lng = lat + rng.uniform(-0.04, 0.04), lng + rng.uniform(-0.04, 0.04)
        services = [(slug, rng.randrange(FLOOR, 4000, 100)) for slug in rng.sample(SLUGS, rng.randint(1, 2))]
        windows = random_windows(rng)
        blocked = rng.sample(days, rng.randint(0, 2))
        profile = profiles.save_profile(worker.id, bio="", neighbourhood="", lat=lat, lng=lng,
                                        radius_km=rng.randint(1, 15), services=services, windows=windows,
                                        blocked_dates=blocked)
        people.append(Person(worker.id, profile.lat_e6, profile.lng_e6, profile.radius_km,
                             {categories[s].id: r for s, r in services}, windows, blocked))
    _calendars(app, rng, people, client, categories, days)
    return {"people": people, "client": client, "days": days, "rng": rng}


def _calendars(app, rng, people, client, categories, days):
    """Booked gigs (accepted, in progress) that block, finished and cancelled ones that do not, and some
    inactive or unlisted accounts."""
    for person in rng.sample(people, 80):
        day, minute = rng.choice(days), rng.randrange(8 * 60, 18 * 60, 60)
        status = rng.choice(["accepted", "in_progress", "completed", "cancelled", "confirmed"])
        starts = at(app, day, minute)
        ends = starts + timedelta(minutes=rng.choice([60, 120, 180]))
        _db.session.add(Job(client_id=client.id, category_id=categories["house-cleaning"].id, title="Booked",
                            lat_e6=person.lat_e6, lng_e6=person.lng_e6, starts_at=starts, ends_at=ends,
                            estimated_minutes=int((ends - starts).total_seconds() // 60), status=status,
                            worker_id=None if status == "cancelled" else person.id, agreed_rate_cents=2500))
        if status in ("accepted", "in_progress"):
            person.booked.append((starts, ends))
    for person in rng.sample(people, 10):
        person.active = False
        _db.session.execute(update(User).where(User.id == person.id).values(is_active_account=False))
    for person in rng.sample(people, 10):
        person.listed = False
        _db.session.execute(update(WorkerProfile).where(WorkerProfile.user_id == person.id).values(is_listed=False))
    _db.session.commit()


def random_job(app, categories, population, rng) -> Job:
    people, client = population["people"], population["client"]
    if rng.random() < 0.3:
        # On the edge of someone's circle, towards the corner of their box, where box and circle differ most.
        person = rng.choice(people)
        lat, lng = _towards(person.lat_e6 / 1e6, person.lng_e6 / 1e6, person.radius + rng.uniform(-0.05, 0.05))
    else:
        lat, lng = NEIGHBOURHOODS[rng.choice(sorted(NEIGHBOURHOODS))]
        lat, lng = lat + rng.uniform(-0.05, 0.05), lng + rng.uniform(-0.05, 0.05)
    minute = rng.randrange(6 * 60, 23 * 60 + 30, 30)
    return make_job(app, categories, client.id, slug=rng.choice(SLUGS), lat=lat, lng=lng,
                    day=rng.choice(population["days"]), minute=minute, minutes=rng.choice([30, 60, 90, 120, 180, 240]),
                    cap=rng.choice([None, None, 2500, 3000, 3500]))


def _towards(lat: float, lng: float, km: float) -> tuple[float, float]:
    step = km / math.sqrt(2) / 111.195
    return lat + step, lng + step / math.cos(math.radians(lat))


def test_matches_are_exactly_the_eligible_workers_in_rank_order(app, categories, population):
    rng = population["rng"]
    job_zone = zone(app)
    nonempty = 0
    for _ in range(80):
        job = random_job(app, categories, population, rng)
        matches = matching.find_matches(job)
        expected = {p.id for p in population["people"] if oracle_eligible(p, job, job_zone, job.client_id)}
        assert {m.worker_id for m in matches} == expected, f"job at {job.starts_at} cap {job.max_rate_cents}"
        assert len(matches) == len(expected)
        keys = [(-m.score, m.worker_id) for m in matches]
        assert keys == sorted(keys)
        nonempty += bool(matches)
    assert nonempty >= 20  # the jobs really exercised matching, not just empty answers


def test_limit_and_exclusions_take_the_top_of_the_same_ranking(app, categories, population):
    rng = population["rng"]
    for _ in range(30):
        job = random_job(app, categories, population, rng)
        ranked = matching.find_matches(job)
        assert matching.find_matches(job, limit=3) == ranked[:3]
        excluded = {m.worker_id for m in ranked[:2]}
        assert matching.find_matches(job, exclude_worker_ids=excluded) == ranked[2:]


def test_the_client_is_never_matched_to_their_own_job(app, make_user, categories):
    worker = make_user("worker", "client")
    profiles.save_profile(worker.id, bio="", neighbourhood="Downtown", lat=None, lng=None, radius_km=5,
                          services=[("house-cleaning", 2500)], windows=[(d, "00:00", "24:00") for d in range(7)],
                          blocked_dates=[])
    lat, lng = NEIGHBOURHOODS["Downtown"]
    day = profiles.local_today() + timedelta(days=3)
    other = make_user("client")
    job = make_job(app, categories, worker.id, lat=lat, lng=lng, day=day, minute=600, minutes=60)
    assert matching.find_matches(job) == []
    job.client_id = other.id
    assert [m.worker_id for m in matching.find_matches(job)] == [worker.id]


# ---- time edges ---------------------------------------------------------------------------------------

@pytest.fixture
def evening_worker(make_user, categories):
    worker = make_user("worker")
    profiles.save_profile(worker.id, bio="", neighbourhood="Downtown", lat=None, lng=None, radius_km=5,
                          services=[("house-cleaning", 2500)],
                          windows=[(d, "09:00", "13:00") for d in range(7)] + [(d, "18:00", "24:00") for d in range(7)],
                          blocked_dates=[])
    return worker


@pytest.mark.parametrize("minute, minutes, matched", [
    (9 * 60, 240, True),             # exactly fills the window
    (9 * 60, 270, False),            # runs 30 minutes past it
    (8 * 60 + 30, 60, False),        # starts before it
    (22 * 60, 120, True),            # ends at midnight, the window's 24:00 end
    (23 * 60, 120, False),           # runs past midnight: never available
    (12 * 60, 7 * 60, False),        # spans the gap between two windows
])
def test_the_whole_job_must_fit_one_window_in_local_time(app, categories, evening_worker, make_user, minute,
                                                          minutes, matched):
    lat, lng = NEIGHBOURHOODS["Downtown"]
    job = make_job(app, categories, make_user("client").id, lat=lat, lng=lng,
                   day=profiles.local_today() + timedelta(days=4), minute=minute, minutes=minutes)
    assert bool(matching.find_matches(job)) is matched


# ---- fairness and weights --------------------------------------------------------------------------

def _equal_workers(make_user, count, windows=None):
    workers = [make_user("worker") for _ in range(count)]
    for worker in workers:
        profiles.save_profile(worker.id, bio="", neighbourhood="Lake Merritt", lat=None, lng=None, radius_km=10,
                              services=[("house-cleaning", 2500)],
                              windows=windows or [(d, "08:00", "18:00") for d in range(5)], blocked_dates=[])
    return workers


def _weekday_job(app, categories, client_id, neighbourhood="Lake Merritt"):
    day = profiles.local_today() + timedelta(days=7)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    lat, lng = NEIGHBOURHOODS[neighbourhood]
    return make_job(app, categories, client_id, lat=lat, lng=lng, day=day, minute=10 * 60, minutes=120)


def test_with_otherwise_equal_workers_the_one_with_fewer_hours_this_period_ranks_first(app, db, make_user,
                                                                                     categories):
    busy, idle, middling = _equal_workers(make_user, 3)
    today = profiles.local_today()
    profiles.record_offered(busy.id, 600, today)
    profiles.record_worked(busy.id, 900, today)
    profiles.record_worked(middling.id, 300, today)
    profiles.record_worked(idle.id, 600, today - timedelta(days=40))  # last period: does not count
    db.session.commit()
    matches = matching.find_matches(_weekday_job(app, categories, make_user("client").id))
    assert [m.worker_id for m in matches] == [idle.id, middling.id, busy.id]
    assert [m.hours_this_period for m in matches] == [0.0, 5.0, 25.0]
    assert matches[2].reasons[2] == "25.0 h this period"


def test_fairness_is_relative_to_the_availability_declared(app, db, make_user, categories):
    (part_time,) = _equal_workers(make_user, 1, windows=[(d, "09:00", "13:00") for d in range(5)])
    (full_time,) = _equal_workers(make_user, 1)
    today = profiles.local_today()
    for worker in (part_time, full_time):
        profiles.record_worked(worker.id, 600, today)
    db.session.commit()
    matches = matching.find_matches(_weekday_job(app, categories, make_user("client").id))
    assert [m.worker_id for m in matches] == [full_time.id, part_time.id]


def test_weights_come_from_the_co_op_settings(app, db, make_user, categories):
    near, far = _equal_workers(make_user, 2)
    profiles.save_profile(far.id, bio="", neighbourhood="Grand Lake", lat=None, lng=None, radius_km=10,
                          services=[("house-cleaning", 2500)], windows=[(d, "08:00", "18:00") for d in range(5)],
                          blocked_dates=[])
    today = profiles.local_today()
    profiles.record_worked(near.id, 1200, today)
    db.session.commit()
    client_id = make_user("client").id
    assert [m.worker_id for m in matching.find_matches(_weekday_job(app, categories, client_id))] == [far.id, near.id]
    for key, value in (("match_weight_fairness", "0"), ("match_weight_distance", "1"), ("match_weight_rating", "0")):
        settings.set_value(key, value, today)
    db.session.commit()
    assert [m.worker_id for m in matching.find_matches(_weekday_job(app, categories, client_id))] == [near.id, far.id]


# ---- the plan: the index, never a scan of all workers ------------------------------------------------------

def _bulk_workers(app, categories, count: int, rng: random.Random) -> None:
    """Many workers at once with Core inserts, so the planner sees a realistically sized table."""
    first = 1_000_000
    now = datetime.now(UTC)
    ids = range(first, first + count)
    conn = _db.session.connection()
    conn.execute(insert(User), [{"id": i, "email": f"w{i}@plan.test", "name": "W", "password_hash": "x",
                                 "is_active_account": True, "created_at": now, "password_changed_at": now}
                                for i in ids])
    conn.execute(insert(UserRole), [{"user_id": i, "role": "worker", "granted_at": now} for i in ids])
    profiles_rows, services_rows, windows_rows = [], [], []
    for i in ids:
        lat, lng = 37.8 + rng.uniform(-0.2, 0.2), -122.25 + rng.uniform(-0.2, 0.2)
        lat_e6, lng_e6, radius = round(lat * 1e6), round(lng * 1e6), rng.randint(3, 25)
        profiles_rows.append({"user_id": i, "bio": "", "neighbourhood": "", "lat_e6": lat_e6, "lng_e6": lng_e6,
                              "radius_km": radius, "weekly_minutes": 2400, "rating_sum": 0, "rating_count": 0,
                              "is_listed": True, "updated_at": now})
        box = service_box_e6(lat_e6, lng_e6, radius)
        services_rows.append({"worker_id": i, "category_id": categories[rng.choice(SLUGS)].id, "rate_cents": 2500,
                              "min_lat_e6": box[0], "max_lat_e6": box[1], "min_lng_e6": box[2], "max_lng_e6": box[3]})
        windows_rows += [{"worker_id": i, "weekday": d, "start_minute": 540, "end_minute": 1020} for d in range(5)]
    conn.execute(insert(WorkerProfile), profiles_rows)
    conn.execute(insert(WorkerService), services_rows)
    conn.execute(insert(AvailabilityWindow), windows_rows)
    _db.session.commit()


def _assert_indexed(plan: list[str], dialect: str) -> None:
    text_plan = "\n".join(plan)
    assert "ix_worker_services_area" in text_plan, text_plan
    if dialect == "sqlite":
        scans = [line for line in plan if line.strip().startswith("SCAN")]
        assert not [line for line in scans if "worker_services" in line or "worker_profiles" in line], text_plan
    else:
        assert "Seq Scan on worker_services" not in text_plan and "Seq Scan on worker_profiles" not in text_plan, \
            text_plan


def test_the_candidate_query_uses_the_service_area_index(app, db, make_user, categories):
    _bulk_workers(app, categories, 4000, random.Random(5))
    dialect = db.engine.dialect.name
    client = make_user("client")
    job = _weekday_job(app, categories, client.id, neighbourhood="Uptown")
    jobs = [job, make_job(app, categories, client.id, lat=job.lat_e6 / 1e6, lng=job.lng_e6 / 1e6,
                          day=job.starts_at.astimezone(zone(app)).date(), minute=600, minutes=120, cap=3000)]
    for job in jobs:
        _assert_indexed(explain(matching.candidate_query(job)), dialect)
    # With fresh planner statistics too (ANALYZE is what PostgreSQL's autovacuum runs).
    db.session.commit()
    with db.engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    for job in jobs:
        _assert_indexed(explain(matching.candidate_query(job, exclude_worker_ids={1_000_001})), dialect)
    assert matching.find_matches(jobs[0])  # and the bulk-made workers really are matchable

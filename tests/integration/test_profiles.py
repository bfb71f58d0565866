"""Worker profiles through the real database: saving and validating, the public profile, browsing workers,
and the hours-this-period counters matching uses for fairness."""

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from marketplace.domain.city import NEIGHBOURHOODS
from marketplace.domain.geo import haversine_km
from marketplace.errors import Forbidden, NotFound, ValidationFailed
from marketplace.models import (
    AvailabilityWindow,
    BlockedDate,
    Job,
    Review,
    ServiceCategory,
    WorkerPeriodStats,
    WorkerProfile,
    WorkerService,
)
from marketplace.models.base import utcnow
from marketplace.services import profiles

WEEKDAYS_9_TO_5 = [(day, "09:00", "17:00") for day in range(5)]


@pytest.fixture
def categories(db):
    rows = [ServiceCategory(slug="house-cleaning", name="House cleaning", rate_floor_cents=2200),
            ServiceCategory(slug="dog-walking", name="Dog walking", rate_floor_cents=1800),
            ServiceCategory(slug="tutoring", name="Tutoring", rate_floor_cents=2800)]
    db.session.add_all(rows)
    db.session.commit()
    return {row.slug: row for row in rows}


def save(worker_id, **changes):
    fields = {"bio": "Careful and quick.", "neighbourhood": "Temescal", "lat": None, "lng": None, "radius_km": 8,
              "services": [("house-cleaning", 2600)], "windows": WEEKDAYS_9_TO_5, "blocked_dates": []}
    fields.update(changes)
    return profiles.save_profile(worker_id, **fields)


def problems(worker_id, **changes) -> dict:
    with pytest.raises(ValidationFailed) as caught:
        save(worker_id, **changes)
    return caught.value.fields


# ---- saving ---------------------------------------------------------------------------------------

def test_save_profile_fills_location_boxes_and_weekly_minutes(make_user, categories, db):
    worker = make_user("worker")
    profile = save(worker.id, services=[("house-cleaning", 2600), ("dog-walking", 1800)],
                   windows=[(0, "09:00", "12:00"), (0, "12:00", "17:00"), (5, "10:00", "24:00")])
    db.session.expire_all()
    profile = profiles.get_profile(worker.id)
    lat, lng = NEIGHBOURHOODS["Temescal"]
    assert (profile.lat_e6, profile.lng_e6) == (round(lat * 1e6), round(lng * 1e6))
    assert profile.weekly_minutes == 8 * 60 + 14 * 60
    # Touching windows merge, so one row covers a job from 11:00 to 13:00.
    assert [(w.weekday, w.start_minute, w.end_minute) for w in profile.windows] == [(0, 540, 1020), (5, 600, 1440)]
    assert {s.category.slug: s.rate_cents for s in profile.services} == {"house-cleaning": 2600, "dog-walking": 1800}
    for service in profile.services:
        # The box bounds the whole service circle: its edge midpoints are at least the radius away.
        centre = (profile.lat_e6 / 1e6, profile.lng_e6 / 1e6)
        assert haversine_km(*centre, service.max_lat_e6 / 1e6, centre[1]) >= 8
        assert haversine_km(*centre, service.min_lat_e6 / 1e6, centre[1]) >= 8
        assert haversine_km(*centre, centre[0], service.max_lng_e6 / 1e6) >= 8
        assert haversine_km(*centre, centre[0], service.min_lng_e6 / 1e6) >= 8
        assert haversine_km(*centre, service.max_lat_e6 / 1e6, centre[1]) < 8.01


def test_coordinates_override_the_neighbourhood_and_name_the_nearest_one(make_user, categories):
    worker = make_user("worker")
    lat, lng = NEIGHBOURHOODS["Fruitvale"]
    profile = save(worker.id, neighbourhood="", lat=lat + 0.001, lng=lng - 0.001)
    assert profile.neighbourhood == "Fruitvale"
    assert profile.lat_e6 == round((lat + 0.001) * 1e6)
    far = save(worker.id, neighbourhood="", lat=40.7128, lng=-74.0060)
    assert far.neighbourhood == ""


def test_saving_again_replaces_services_windows_and_blocked_dates(make_user, categories, db):
    worker = make_user("worker")
    day = date.today() + timedelta(days=10)
    save(worker.id, services=[("house-cleaning", 2600), ("dog-walking", 1900)], blocked_dates=[day])
    save(worker.id, services=[("house-cleaning", 3000), ("tutoring", 3500)], radius_km=20,
         windows=[(6, "08:00", "10:00")], blocked_dates=[day, day + timedelta(days=1), day])
    db.session.expire_all()
    rows = db.session.execute(select(ServiceCategory.slug, WorkerService.rate_cents, WorkerService.max_lat_e6)
                              .join(WorkerService).where(WorkerService.worker_id == worker.id)).all()
    assert {slug: rate for slug, rate, _ in rows} == {"house-cleaning": 3000, "tutoring": 3500}
    assert len({box for *_, box in rows}) == 1  # every service box follows the new radius
    assert db.session.scalar(select(func.count()).select_from(AvailabilityWindow)) == 1
    assert sorted(db.session.scalars(select(BlockedDate.day))) == [day, day + timedelta(days=1)]
    assert profiles.get_profile(worker.id).weekly_minutes == 120


def test_rate_below_the_floor_is_a_services_error(make_user, categories):
    fields = problems(make_user("worker").id, services=[("house-cleaning", 2199)])
    assert set(fields) == {"services"}
    assert "House cleaning" in fields["services"] and "22.00" in fields["services"]


@pytest.mark.parametrize("services, words", [
    ([("window-washing", 3000)], "not a service"),
    ([("house-cleaning", 2600), ("house-cleaning", 2700)], "twice"),
    ([("house-cleaning", "26.00")], "whole cents"),
    ([("house-cleaning", 10_000_000)], "limit"),
    ([], "at least one"),
])
def test_bad_services_are_services_errors(make_user, categories, services, words):
    assert words in problems(make_user("worker").id, services=services)["services"]


@pytest.mark.parametrize("windows, words", [
    ([(0, "9am", "17:00")], "not a time"),
    ([(0, "17:00", "09:00")], "end after it starts"),
    ([(0, "09:00", "09:00")], "end after it starts"),
    ([(7, "09:00", "17:00")], "Weekday"),
    ([(0, "24:00", "24:00")], "not a time of day"),
    ([(0, "09:00", "25:00")], "not a time of day"),
    ([(2, "09:00", "13:00"), (2, "12:00", "18:00")], "overlaps"),
    ([(2, "09:00")], "not in a valid form"),
])
def test_bad_windows_are_availability_errors(make_user, categories, windows, words):
    assert words in problems(make_user("worker").id, windows=windows)["availability"]


@pytest.mark.parametrize("radius", [0, 101, "10", 7.5, True])
def test_radius_must_be_whole_kilometres_from_1_to_100(make_user, categories, radius):
    assert "radius" in problems(make_user("worker").id, radius_km=radius)["radius_km"]


def test_unknown_neighbourhood_and_half_coordinates_are_refused(make_user, categories):
    worker = make_user("worker")
    assert "Atlantis" in problems(worker.id, neighbourhood="Atlantis")["neighbourhood"]
    assert "both" in problems(worker.id, lat=37.8)["lng"]
    assert "between" in problems(worker.id, lat=91.0, lng=0.0)["lat"]
    assert problems(worker.id, neighbourhood="", lat=None, lng=None)["neighbourhood"]


def test_every_problem_is_reported_at_once_and_nothing_is_saved(make_user, categories, db):
    worker = make_user("worker")
    fields = problems(worker.id, neighbourhood="Atlantis", radius_km=0, services=[("house-cleaning", 100)],
                      windows=[(0, "10:00", "09:00")], bio="x" * 5000)
    assert set(fields) == {"neighbourhood", "radius_km", "services", "availability", "bio"}
    assert db.session.get(WorkerProfile, worker.id) is None


def test_only_workers_have_profiles(make_user, categories):
    with pytest.raises(Forbidden):
        save(make_user("client").id)
    with pytest.raises(NotFound):
        save(987654)


# ---- public profile and browsing -----------------------------------------------------------------

def _reviewed_job(db, client, worker, category, stars, published_days_ago):
    now = utcnow()
    job = Job(client_id=client.id, category_id=category.id, title="Clean", lat_e6=0, lng_e6=0,
              starts_at=now - timedelta(days=30), ends_at=now - timedelta(days=30, hours=-2), estimated_minutes=120,
              status="reviewed", worker_id=worker.id, agreed_rate_cents=2600)
    db.session.add(job)
    db.session.flush()
    published = None if published_days_ago is None else now - timedelta(days=published_days_ago)
    db.session.add(Review(job_id=job.id, author_id=client.id, subject_id=worker.id, author_role="client",
                          stars=stars, body=f"{stars} stars", published_at=published))
    db.session.commit()


def test_public_profile_shows_services_rating_published_reviews_and_member_badge(make_user, categories, db):
    member = make_user("worker", "member", name="Rosa Diaz")
    client = make_user("client", name="Ana Client")
    save(member.id, services=[("tutoring", 3500), ("dog-walking", 2000)])
    profile = db.session.get(WorkerProfile, member.id)
    profile.rating_sum, profile.rating_count = 14, 3
    for days_ago, stars in enumerate([5, 4, 3]):
        _reviewed_job(db, client, member, categories["tutoring"], stars, days_ago)
    _reviewed_job(db, client, member, categories["tutoring"], 1, None)  # still blind: not shown
    shown = profiles.public_profile(member.id)
    assert shown["name"] == "Rosa Diaz" and shown["is_member"] is True and shown["radius_km"] == 8
    assert shown["services"] == [("Dog walking", "dog-walking", 2000), ("Tutoring", "tutoring", 3500)]
    assert (shown["rating"], shown["rating_count"]) == (4.67, 3)
    assert [r["stars"] for r in shown["reviews"]] == [5, 4, 3]
    assert shown["reviews"][0]["author"] == "Ana"
    probationary = make_user("worker")
    save(probationary.id)
    assert profiles.public_profile(probationary.id)["is_member"] is False


def test_public_profile_of_someone_without_a_listed_profile_is_not_found(make_user, categories, db):
    with pytest.raises(NotFound):
        profiles.public_profile(make_user("worker").id)
    hidden = make_user("worker")
    save(hidden.id)
    db.session.get(WorkerProfile, hidden.id).is_listed = False
    db.session.commit()
    with pytest.raises(NotFound):
        profiles.public_profile(hidden.id)


def test_browse_filters_by_category_area_rating_and_free_date(make_user, categories, db):
    near = make_user("worker", name="Near Cleaner")
    save(near.id, neighbourhood="Temescal", radius_km=3)
    far = make_user("worker", name="Far Walker")
    save(far.id, neighbourhood="Elmhurst", radius_km=3, services=[("dog-walking", 2000)],
         windows=[(5, "09:00", "17:00")])
    db.session.get(WorkerProfile, far.id).rating_sum, db.session.get(WorkerProfile, far.id).rating_count = 9, 2
    db.session.commit()

    def ids(**filters):
        return [item["worker_id"] for item in profiles.browse_workers(page=1, **filters).items]

    assert ids() == [far.id, near.id]  # rated first
    assert ids(category="house-cleaning") == [near.id]
    assert ids(neighbourhood="Rockridge") == [near.id]  # 1.3 km from Temescal, 13 km from Elmhurst
    assert ids(neighbourhood="Elmhurst") == [far.id]
    assert ids(min_rating=4) == [far.id]
    saturday = date.today() + timedelta(days=(5 - date.today().weekday()) % 7 or 7)
    assert ids(available_on=saturday) == [far.id]
    assert ids(available_on=saturday + timedelta(days=2)) == [near.id]
    save(near.id, blocked_dates=[saturday + timedelta(days=2)])
    assert ids(available_on=saturday + timedelta(days=2)) == []


def test_browse_paginates_like_flask_sqlalchemy(make_user, categories):
    workers = [make_user("worker", name=f"Worker {i:02d}") for i in range(5)]
    for worker in workers:
        save(worker.id)
    first = profiles.browse_workers(page=1, per_page=2)
    assert (first.total, first.pages, first.has_prev, first.has_next, first.next_num) == (5, 3, False, True, 2)
    last = profiles.browse_workers(page=3, per_page=2)
    assert [i["name"] for i in last.items] == ["Worker 04"] and last.prev_num == 2 and not last.has_next
    assert profiles.browse_workers(page=9, per_page=2).items == []
    assert first.items[0]["services"] == [("House cleaning", "house-cleaning", 2600)]


def test_browse_refuses_unknown_filters_with_field_errors(categories):
    with pytest.raises(ValidationFailed) as caught:
        profiles.browse_workers(category="juggling", neighbourhood="Atlantis", min_rating=7, page=1)
    assert set(caught.value.fields) == {"category", "neighbourhood", "min_rating"}


# ---- hours this period -----------------------------------------------------------------------------

def test_offered_and_worked_minutes_add_up_per_calendar_month(make_user, categories, db):
    worker = make_user("worker")
    save(worker.id)
    june = date(2026, 6, 15)
    profiles.record_offered(worker.id, 120, june)
    profiles.record_offered(worker.id, 90, date(2026, 6, 30))
    profiles.record_worked(worker.id, 150, date(2026, 6, 1))
    profiles.record_worked(worker.id, 60, date(2026, 7, 1))
    db.session.commit()
    assert profiles.hours_this_period(worker.id, june) == {"minutes_offered": 210, "minutes_worked": 150}
    assert profiles.hours_this_period(worker.id, date(2026, 7, 31)) == {"minutes_offered": 0, "minutes_worked": 60}
    assert profiles.hours_this_period(worker.id, date(2026, 5, 31)) == {"minutes_offered": 0, "minutes_worked": 0}
    assert db.session.scalar(select(func.count()).select_from(WorkerPeriodStats)) == 2
    with pytest.raises(ValueError):
        profiles.record_worked(worker.id, -5, june)

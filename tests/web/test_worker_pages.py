"""The worker area through the browser forms: profile, offers, upcoming gigs, week view, earnings, requests."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from market_fixtures import gig, give_profile, local_start, post_job, post_page, seed_categories
from sqlalchemy import event, select

from marketplace.models import Job, Offer
from marketplace.services import profiles, worker_stats


@pytest.fixture
def categories(app):
    return seed_categories()


@pytest.fixture
def worker(make_user, categories):
    return make_user("worker", "member", name="Rosa Diaz")


def profile_form(**overrides) -> dict:
    """A complete profile form: dog walking off, house cleaning at $25, Monday 09:00–12:00 and 13:00–17:00."""
    data = {
        "services-0-slug": "dog-walking", "services-0-rate": "",
        "services-1-slug": "house-cleaning", "services-1-offered": "y", "services-1-rate": "25.00",
        "neighbourhood": "Temescal", "radius_km": "8", "bio": "Ten years of cleaning homes.",
        "blocked_dates": "2031-07-04, 2031-12-25\n2031-12-26",
    }
    for day in range(7):
        data.update({f"availability-{day}-start1": "", f"availability-{day}-end1": "",
                     f"availability-{day}-start2": "", f"availability-{day}-end2": ""})
    data.update({"availability-0-start1": "09:00", "availability-0-end1": "12:00",
                 "availability-0-start2": "13:00", "availability-0-end2": "17:00"})
    data.update(overrides)
    return data


def test_the_worker_area_is_for_workers(client, login, make_user, categories):
    assert client.get("/work/").status_code == 302  # anonymous: to the login page
    login(make_user("client"))
    resp = client.get("/work/")
    assert resp.status_code == 403
    assert "for workers" in resp.get_data(as_text=True)


def test_new_worker_is_asked_for_a_profile_with_category_floors(client, login, worker):
    login(worker)
    home = client.get("/work/").get_data(as_text=True)
    assert "no worker profile yet" in home
    page = client.get("/work/profile").get_data(as_text=True)
    assert "House cleaning" in page and "At least $22.00 an hour" in page and "At least $18.00 an hour" in page
    assert page.count('name="availability-') == 28  # 7 days x 2 ranges x start/end


def test_saving_the_profile_stores_services_area_windows_and_blocked_dates(client, login, worker):
    login(worker)
    resp = post_page(client, "/work/profile", profile_form())
    assert resp.status_code == 302
    profile = profiles.get_profile(worker.id)
    assert [(s.category.slug, s.rate_cents) for s in profile.services] == [("house-cleaning", 2500)]
    assert (profile.neighbourhood, profile.radius_km) == ("Temescal", 8)
    assert [(w.weekday, w.start_minute, w.end_minute) for w in profile.windows] == [(0, 540, 720), (0, 780, 1020)]
    assert [b.day for b in profile.blocked_dates] == [date(2031, 7, 4), date(2031, 12, 25), date(2031, 12, 26)]
    page = client.get("/work/profile").get_data(as_text=True)  # pre-filled with what was saved
    assert 'value="25.00"' in page and 'value="13:00"' in page and "2031-12-25" in page


@pytest.mark.parametrize(("overrides", "message", "field_id"), [
    ({"services-1-rate": "15.00"}, "below the co-op&#39;s floor of $22.00/h", "services-error"),
    ({"services-1-rate": "twenty"}, "is not an amount", "services-1-rate-error"),
    ({"services-1-rate": ""}, "Enter your hourly rate", "services-1-rate-error"),
    ({"services-1-offered": ""}, "Offer at least one service", "services-error"),
    ({"availability-0-start1": "9am"}, "Use HH:MM", "availability-0-start1-error"),
    ({"availability-0-end2": ""}, "Give both the start and the end", "availability-0-end2-error"),
    ({"availability-0-start2": "11:00"}, "overlaps", "availability-error"),
    ({"radius_km": "0"}, "Choose 1 to 100 km", "radius_km-error"),
    ({"blocked_dates": "2031-13-01"}, "Not a date in the form YYYY-MM-DD: 2031-13-01", "blocked_dates-error"),
])
def test_bad_profile_input_is_shown_beside_the_field_and_nothing_is_saved(client, login, worker, overrides,
                                                                           message, field_id):
    login(worker)
    resp = post_page(client, "/work/profile", profile_form(**overrides))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert f'id="{field_id}"' in html
    error_list = html[html.index(f'id="{field_id}"'):][:400]
    assert message in error_list
    assert profiles.get_profile(worker.id) is None


def test_profile_form_refuses_a_missing_csrf_token(client, login, worker):
    login(worker)
    assert client.post("/work/profile", data=profile_form()).status_code == 400
    assert profiles.get_profile(worker.id) is None


@pytest.fixture
def offered(app, make_user, worker):
    """A job offered to ``worker`` (the only eligible worker) by a client."""
    give_profile(worker)
    client_user = make_user("client", name="Ada Client")
    job = post_job(app, client_user, title="Spring clean")
    assert job.status == "offered"
    return job


def test_offers_show_time_left_and_can_be_accepted(client, login, worker, offered, db):
    login(worker)
    html = client.get("/work/").get_data(as_text=True)
    assert "Spring clean" in html and "data-countdown=" in html
    offer = db.session.scalar(select(Offer).where(Offer.job_id == offered.id))
    assert offer.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") in html
    resp = post_page(client, f"/work/offers/{offered.id}/accept", {}, form_page="/work/")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/gigs/{offered.id}")
    db.session.expire_all()
    job = db.session.get(Job, offered.id)
    assert (job.status, job.worker_id, job.agreed_rate_cents) == ("accepted", worker.id, 2500)


def test_declining_an_offer(client, login, worker, offered, db):
    login(worker)
    resp = post_page(client, f"/work/offers/{offered.id}/decline", {}, form_page="/work/")
    assert resp.status_code == 302
    follow = client.get("/work/").get_data(as_text=True)
    assert "never counts against you" in follow and "Spring clean" not in follow
    db.session.expire_all()
    assert db.session.scalar(select(Offer.status).where(Offer.job_id == offered.id)) == "declined"


def test_a_worker_cannot_accept_an_offer_made_to_someone_else(client, login, make_user, offered, db):
    other = make_user("worker", name="Other Worker")
    login(other)
    resp = post_page(client, f"/work/offers/{offered.id}/accept", {}, form_page="/work/")
    assert resp.status_code in (403, 404)
    db.session.expire_all()
    assert db.session.get(Job, offered.id).status == "offered"


def test_upcoming_gigs_week_view_and_earnings(app, client, login, make_user, worker, db):
    give_profile(worker)
    booked = gig(app, make_user("client"), worker, "accepted")
    done = gig(app, make_user("client"), worker, "confirmed")  # 150 minutes at $25.00/h = $62.50
    login(worker)
    today = worker_stats.local_today()
    local_day = worker_stats.coop_zone()
    week = (booked.starts_at.astimezone(local_day).date() - worker_stats.week_start_for(today)).days // 7
    html = client.get(f"/work/?week={week}").get_data(as_text=True)
    assert html.count('class="week-day') == 7
    assert f'href="/gigs/{booked.id}">' in html
    week_items = html[html.index('class="week"'):]
    assert f'class="week-item" href="/gigs/{booked.id}"' in week_items
    upcoming = html[html.index('id="upcoming-heading"'):html.index('id="week-heading"')]
    assert booked.title in upcoming and f"/gigs/{done.id}" not in upcoming
    earnings = worker_stats.earnings_this_period(worker.id, on=done.starts_at.astimezone(local_day).date())
    assert (earnings.gigs, earnings.minutes, earnings.cents) == (1, 150, 6250)
    same_month = done.starts_at.astimezone(local_day).date().replace(day=1) == today.replace(day=1)
    assert ("$62.50" in html) is same_month


def test_earnings_count_only_confirmed_gigs_of_the_period(app, make_user, worker):
    give_profile(worker)
    confirmed = gig(app, make_user("client"), worker, "confirmed")
    gig(app, make_user("client"), worker, "completed")
    day = confirmed.starts_at.astimezone(worker_stats.coop_zone()).date()
    assert worker_stats.earnings_this_period(worker.id, on=day).cents == 6250
    next_month = (day.replace(day=1) + timedelta(days=40)).replace(day=1)
    assert worker_stats.earnings_this_period(worker.id, on=next_month).cents == 0


def test_open_requests_in_my_categories_and_area(app, client, login, make_user, worker):
    give_profile(worker, neighbourhood="Temescal", radius_km=5)
    other_worker = make_user("worker")
    give_profile(other_worker, neighbourhood="Elmhurst", radius_km=3)
    client_user = make_user("client")
    post_job(app, client_user, title="Near job", neighbourhood="Rockridge")
    post_job(app, client_user, title="Far job", neighbourhood="Elmhurst")
    login(worker)
    html = client.get("/work/requests").get_data(as_text=True)
    assert "Near job" in html and "Far job" not in html
    assert client.get("/work/requests?page=abc").status_code == 200


def test_open_requests_are_paginated(app, client, login, make_user, worker):
    give_profile(worker)
    client_user = make_user("client")
    for n in range(21):
        post_job(app, client_user, title=f"Request {n:02d}", days_ahead=2 + n)
    login(worker)
    first = client.get("/work/requests").get_data(as_text=True)
    assert first.count("<strong>Request ") == 20 and "21 open requests" in first and 'rel="next"' in first
    second = client.get("/work/requests?page=2").get_data(as_text=True)
    assert second.count("<strong>Request ") == 1 and "Request 20" in second


def test_open_requests_past_the_last_page_and_absurd_page_numbers(app, client, login, make_user, worker):
    give_profile(worker)
    client_user = make_user("client")
    for n in range(3):
        post_job(app, client_user, title=f"Request {n}", days_ahead=2 + n)
    login(worker)
    for page in ("2", "10001", str(10**30), "-5"):
        response = client.get(f"/work/requests?page={page}")
        assert response.status_code == 200, page
    first = client.get("/work/requests?page=-5").get_data(as_text=True)
    assert first.count("<strong>Request ") == 3 and "3 open requests" in first
    assert "<strong>Request " not in client.get("/work/requests?page=2").get_data(as_text=True)


def test_open_requests_take_as_many_statements_for_a_full_page_as_for_one_row(app, client, login, make_user, worker):
    """No statement per row or per category shown: the page's statements do not grow with its rows."""
    from marketplace.extensions import db
    from marketplace.services import jobs

    give_profile(worker, services=(("house-cleaning", 2500), ("dog-walking", 2000)))
    client_user = make_user("client")
    login(worker)

    def statements() -> tuple[int, str]:
        seen = []
        with app.app_context():
            engine = db.engine
        listener = lambda *args: seen.append(args[2])  # noqa: E731
        event.listen(engine, "before_cursor_execute", listener)
        try:
            html = client.get("/work/requests").get_data(as_text=True)
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(seen), html

    post_job(app, client_user, title="Clean 1")
    one_row, html = statements()
    assert "1 open request" in html
    for n in range(2, 12):
        post_job(app, client_user, title=f"Clean {n}", days_ahead=2 + n)
        jobs.post_job(client_user.id, category="dog-walking", title=f"Walk {n}", neighbourhood="Temescal",
                      starts_at=local_start(app, 3 + n), hours="1")
    full_page, html = statements()
    assert "21 open requests" in html and "Dog walking" in html and "House cleaning" in html
    assert full_page == one_row

"""The client area through the browser forms: post, edit and cancel a job, matches with reasons, invitations."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from market_fixtures import gig, give_profile, post_job, post_page, seed_categories
from sqlalchemy import select

from marketplace.models import Job, Offer


@pytest.fixture
def categories(app):
    return seed_categories()


@pytest.fixture
def customer(make_user, categories):
    return make_user("client", name="Ada Client")


@pytest.fixture
def worker(make_user, categories):
    user = make_user("worker", "member", name="Rosa Diaz")
    give_profile(user)
    return user


def local_day(app, days_ahead: int = 4):
    return datetime.now(ZoneInfo(app.config["COOP_TIMEZONE"])).date() + timedelta(days=days_ahead)


def job_form(app, **overrides) -> dict:
    data = {"category": "house-cleaning", "title": "Deep clean before guests", "description": "Kitchen and bath.",
            "neighbourhood": "Temescal", "address": "4000 Telegraph Ave", "date": local_day(app).isoformat(),
            "start_time": "10:00", "hours": "2.5", "max_rate": "", "invite": ""}
    data.update(overrides)
    return data


def test_the_client_area_is_for_clients(client, login, make_user, categories):
    assert client.get("/jobs/new").status_code == 302
    login(make_user("worker"))
    assert client.get("/jobs/").status_code == 403
    assert client.get("/jobs/new").status_code == 403


def test_posting_a_job_redirects_to_its_page_with_ranked_matches(app, client, login, customer, worker, db):
    login(customer)
    resp = post_page(client, "/jobs/new", job_form(app))
    assert resp.status_code == 302
    job = db.session.scalar(select(Job).where(Job.client_id == customer.id))
    assert resp.headers["Location"].endswith(f"/jobs/{job.id}")
    zone = ZoneInfo(app.config["COOP_TIMEZONE"])
    local = job.starts_at.astimezone(zone)
    assert (local.date(), local.hour, local.minute) == (local_day(app), 10, 0)
    assert (job.estimated_minutes, job.address, job.status) == (150, "4000 Telegraph Ave", "offered")
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert 'class="badge badge-offered"' in html
    assert "Rosa Diaz" in html and "km away" in html and "h this period" in html and "$25.00/h" in html
    assert "Offers sent" in html and "data-countdown=" in html


@pytest.mark.parametrize(("overrides", "field", "message"), [
    ({"title": ""}, "title", "Give the job a short title."),
    ({"category": ""}, "category", "Choose a service."),
    ({"hours": "13"}, "hours", "Enter between 0.5 and 12 hours"),
    ({"hours": "1.1"}, "hours", "in steps of 15 minutes"),
    ({"hours": "lots"}, "hours", "Enter between 0.5 and 12 hours"),
    ({"max_rate": "10"}, "max_rate", "cannot be below the co-op&#39;s floor of $22.00/h"),
    ({"max_rate": "ten dollars"}, "max_rate", "is not an amount"),
    ({"date": "2001-01-01"}, "date", "The start must be in the future."),
    ({"date": "not-a-date"}, "date", "Not a valid date value."),
    ({"start_time": "25:00"}, "start_time", "Not a valid time value."),
])
def test_bad_job_input_is_shown_beside_the_field(app, client, login, customer, db, overrides, field, message):
    login(customer)
    resp = post_page(client, "/jobs/new", job_form(app, **overrides))
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    errors = html[html.index(f'id="{field}-error"'):][:300]
    assert message in errors
    assert db.session.scalar(select(Job)) is None


def test_my_jobs_are_grouped_by_state(app, client, login, customer, worker):
    open_job = post_job(app, customer, title="Still open")
    booked = gig(app, customer, worker, "accepted")
    waiting = gig(app, customer, worker, "completed")
    login(customer)
    html = client.get("/jobs/").get_data(as_text=True)
    sections = {key: html[html.index(f'id="group-{key}"'):] for key in ("open", "booked", "to_confirm")}
    assert open_job.title in sections["open"].split("</section>")[0]
    assert f"/jobs/{booked.id}" in sections["booked"].split("</section>")[0]
    assert f"/jobs/{waiting.id}" in sections["to_confirm"].split("</section>")[0]
    assert 'id="group-past"' not in html


def test_a_client_cannot_open_another_clients_job(app, client, login, customer, make_user, worker):
    job = post_job(app, customer)
    login(make_user("client"))
    assert client.get(f"/jobs/{job.id}").status_code == 404
    assert client.get(f"/jobs/{job.id}/edit").status_code == 404
    assert client.get(f"/gigs/{job.id}").status_code == 404
    assert client.get("/jobs/999999").status_code == 404


def test_editing_a_job_before_acceptance(app, client, login, customer, worker, db):
    job = post_job(app, customer, title="Old title")
    login(customer)
    page = client.get(f"/jobs/{job.id}/edit").get_data(as_text=True)
    assert 'value="Old title"' in page and 'value="2"' in page and 'value="10:00"' in page
    data = job_form(app, title="New title", date=local_day(app, 3).isoformat(), hours="2")
    resp = post_page(client, f"/jobs/{job.id}/edit", data)
    assert resp.status_code == 302
    db.session.expire_all()
    assert db.session.get(Job, job.id).title == "New title"
    bad = post_page(client, f"/jobs/{job.id}/edit", {**data, "hours": "0.25"})
    assert bad.status_code == 200 and 'id="hours-error"' in bad.get_data(as_text=True)


def test_editing_after_acceptance_is_refused(app, client, login, customer, worker, db):
    job = gig(app, customer, worker, "accepted")
    login(customer)
    resp = client.get(f"/jobs/{job.id}/edit")
    assert resp.status_code == 302
    assert "until a worker accepts" in client.get(f"/jobs/{job.id}").get_data(as_text=True)


def test_cancelling_from_the_job_page(app, client, login, customer, worker, db):
    job = post_job(app, customer)
    login(customer)
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Cancel the job" in html
    resp = post_page(client, f"/gigs/{job.id}/actions/cancel?next=/jobs/{job.id}", {"cancel-reason": "Plans changed"},
                     form_page=f"/jobs/{job.id}")
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"/jobs/{job.id}")
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == "cancelled"
    assert db.session.scalar(select(Offer.status).where(Offer.job_id == job.id)) == "withdrawn"


def test_inviting_a_matched_worker(app, client, login, customer, make_user, db):
    job = post_job(app, customer)  # nobody matches yet: it stays requested
    assert job.status == "requested"
    latecomer = make_user("worker", name="Kofi Mensah")
    give_profile(latecomer)
    login(customer)
    html = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert "Kofi Mensah" in html and f"/jobs/{job.id}/invite/{latecomer.id}" in html
    resp = post_page(client, f"/jobs/{job.id}/invite/{latecomer.id}", {}, form_page=f"/jobs/{job.id}")
    assert resp.status_code == 302
    db.session.expire_all()
    offer = db.session.scalar(select(Offer).where(Offer.job_id == job.id))
    assert (offer.worker_id, offer.invited, db.session.get(Job, job.id).status) == (latecomer.id, True, "offered")


def test_inviting_someone_who_does_not_match_is_refused_with_a_message(app, client, login, customer, make_user, db):
    job = post_job(app, customer)
    far = make_user("worker")
    give_profile(far, neighbourhood="Elmhurst", radius_km=2)
    login(customer)
    resp = post_page(client, f"/jobs/{job.id}/invite/{far.id}", {}, form_page=f"/jobs/{job.id}")
    assert resp.status_code == 302
    assert "cannot take this job" in client.get(f"/jobs/{job.id}").get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Job, job.id).status == "requested"


def test_booking_a_worker_from_their_profile_invites_them(app, client, login, customer, worker, db):
    login(customer)
    profile = client.get(f"/workers/{worker.id}").get_data(as_text=True)
    assert f"/jobs/new?invite={worker.id}" in profile
    page = client.get(f"/jobs/new?invite={worker.id}&category=house-cleaning").get_data(as_text=True)
    assert "offered only to <strong>Rosa Diaz</strong>" in page
    resp = post_page(client, "/jobs/new", job_form(app, invite=str(worker.id)))
    assert resp.status_code == 302
    offer = db.session.scalar(select(Offer))
    assert (offer.worker_id, offer.invited) == (worker.id, True)


def test_confirming_and_disputing_after_completion(app, client, login, customer, worker, db):
    first = gig(app, customer, worker, "completed")
    second = gig(app, customer, worker, "completed")
    login(customer)
    html = client.get(f"/jobs/{first.id}").get_data(as_text=True)
    assert "Confirm the hours" in html and "Dispute" in html and "2 h 30 min" in html
    post_page(client, f"/gigs/{first.id}/actions/confirm?next=/jobs/{first.id}", {}, form_page=f"/jobs/{first.id}")
    empty = post_page(client, f"/gigs/{second.id}/actions/dispute", {"dispute-reason": ""},
                      form_page=f"/jobs/{second.id}")
    assert empty.status_code == 200 and "Say what is wrong" in empty.get_data(as_text=True)
    post_page(client, f"/gigs/{second.id}/actions/dispute", {"dispute-reason": "Only half was done"},
              form_page=f"/jobs/{second.id}")
    db.session.expire_all()
    assert db.session.get(Job, first.id).status == "confirmed"
    assert db.session.get(Job, second.id).status == "disputed"

"""The shared gig page (actions, timeline, messages, reviews), the worker directory and notifications."""

from __future__ import annotations

import pytest
from market_fixtures import gig, give_profile, post_job, post_page, seed_categories
from sqlalchemy import select

from marketplace.models import Job, Message, Notification, Review


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


@pytest.fixture
def signed_in(app, login):
    """``signed_in(user)``: a fresh test client logged in as ``user`` (one browser per person)."""
    return lambda user: login(user, test_client=app.test_client())


def status(db, job_id: int) -> str:
    db.session.expire_all()
    return db.session.get(Job, job_id).status


def test_who_may_open_a_gig(app, signed_in, make_user, customer, worker):
    job = gig(app, customer, worker, "accepted")
    for user, expected in ((customer, 200), (worker, 200), (make_user("admin"), 200),
                           (make_user("client"), 404), (make_user("worker"), 404)):
        assert signed_in(user).get(f"/gigs/{job.id}").status_code == expected, user


def test_address_is_shown_to_the_assigned_worker_but_not_to_an_offered_one(app, client, login, customer, worker):
    job = post_job(app, customer, title="Offered job")
    login(worker)
    offered_view = client.get(f"/gigs/{job.id}").get_data(as_text=True)
    assert "12 Elm Street" not in offered_view
    assert "Accept this gig" in offered_view and "Decline the offer" in offered_view
    post_page(client, f"/gigs/{job.id}/actions/accept", {}, form_page=f"/gigs/{job.id}")
    assert "12 Elm Street" in client.get(f"/gigs/{job.id}").get_data(as_text=True)


def test_worker_starts_and_completes_with_hours(app, client, login, customer, worker, db):
    job = gig(app, customer, worker, "accepted")
    login(worker)
    html = client.get(f"/gigs/{job.id}").get_data(as_text=True)
    assert "Start the gig" in html and "Withdraw from the gig" in html and "Confirm the hours" not in html
    post_page(client, f"/gigs/{job.id}/actions/start", {}, form_page=f"/gigs/{job.id}")
    assert status(db, job.id) == "in_progress"
    bad = post_page(client, f"/gigs/{job.id}/actions/complete", {"complete-hours": "lots"},
                    form_page=f"/gigs/{job.id}")
    assert bad.status_code == 200
    html = bad.get_data(as_text=True)
    assert 'id="complete-hours-error"' in html and "Enter hours as a number" in html
    assert status(db, job.id) == "in_progress"
    resp = post_page(client, f"/gigs/{job.id}/actions/complete", {"complete-hours": "2:45"},
                     form_page=f"/gigs/{job.id}")
    assert resp.status_code == 302
    assert status(db, job.id) == "completed"
    assert db.session.get(Job, job.id).actual_minutes == 165


def test_the_wrong_side_cannot_act(app, client, login, customer, worker, db):
    job = gig(app, customer, worker, "completed")
    login(worker)
    assert post_page(client, f"/gigs/{job.id}/actions/confirm", {}, form_page=f"/gigs/{job.id}").status_code == 403
    assert post_page(client, f"/gigs/{job.id}/actions/fly", {}, form_page=f"/gigs/{job.id}").status_code == 404
    assert status(db, job.id) == "completed"


def test_an_illegal_transition_is_refused_with_the_reason(app, client, login, customer, worker, db):
    job = gig(app, customer, worker, "confirmed")
    login(worker)
    resp = post_page(client, f"/gigs/{job.id}/actions/start", {}, form_page=f"/gigs/{job.id}")
    assert resp.status_code == 302
    assert "cannot be started" in client.get(f"/gigs/{job.id}").get_data(as_text=True)
    assert status(db, job.id) == "confirmed"


def test_timeline_lists_every_change(app, client, login, customer, worker):
    job = gig(app, customer, worker, "completed")
    login(customer)
    html = client.get(f"/gigs/{job.id}").get_data(as_text=True)
    timeline = html[html.index('id="timeline-heading"'):html.index('id="messages-heading"')]
    for action in ("Invite", "Accept", "Start", "Complete"):
        assert f"{action}:" in timeline
    assert "2.50 h worked" in timeline and "Rosa Diaz (worker)" in timeline


def test_messages_between_client_and_worker(app, signed_in, customer, worker, make_user, db):
    job = gig(app, customer, worker, "accepted")
    client = signed_in(customer)
    empty = post_page(client, f"/gigs/{job.id}/messages", {"message-body": "  "}, form_page=f"/gigs/{job.id}")
    assert empty.status_code == 200 and "Write a message first." in empty.get_data(as_text=True)
    sent = post_page(client, f"/gigs/{job.id}/messages", {"message-body": "The key is under the mat."},
                     form_page=f"/gigs/{job.id}")
    assert sent.status_code == 302
    html = signed_in(worker).get(f"/gigs/{job.id}").get_data(as_text=True)
    assert "The key is under the mat." in html and 'class="msg"' in html
    stranger = signed_in(make_user("client"))
    path = f"/gigs/{job.id}/messages"
    assert post_page(stranger, path, {"message-body": "hi"}, form_page="/dashboard").status_code == 404
    assert stranger.post(path, data={"message-body": "hi", "csrf_token": "bad"}).status_code == 400
    assert db.session.scalar(select(Message.body)) == "The key is under the mat."


def test_reviews_are_double_blind(app, signed_in, customer, worker, db):
    job = gig(app, customer, worker, "confirmed")
    client = signed_in(customer)
    html = client.get(f"/gigs/{job.id}").get_data(as_text=True)
    assert "double-blind" in html and "Review Rosa Diaz" in html
    page, review = f"/gigs/{job.id}", f"/gigs/{job.id}/review"
    missing = post_page(client, review, {"review-stars": "", "review-body": ""}, form_page=page)
    assert 'id="review-stars-error"' in missing.get_data(as_text=True)
    post_page(client, review, {"review-stars": "5", "review-body": "Spotless work."}, form_page=page)
    assert "hidden until the other side" in client.get(f"/gigs/{job.id}").get_data(as_text=True)
    client = signed_in(worker)
    before = client.get(f"/gigs/{job.id}").get_data(as_text=True)
    assert "Spotless work." not in before and "Review Ada Client" in before
    post_page(client, f"/gigs/{job.id}/review", {"review-stars": "4", "review-body": "Friendly client."},
              form_page=f"/gigs/{job.id}")
    after = client.get(f"/gigs/{job.id}").get_data(as_text=True)
    assert "Spotless work." in after and "Friendly client." in after and "Review Ada Client" not in after
    assert status(db, job.id) == "reviewed"
    assert len(db.session.scalars(select(Review)).all()) == 2
    profile = client.get(f"/workers/{worker.id}").get_data(as_text=True)
    assert "Spotless work." in profile and "5.0 from 1 review" in profile


def test_admin_resolves_a_dispute(app, client, login, customer, worker, make_user, db):
    job = gig(app, customer, worker, "completed")
    from marketplace.services import gigs

    gigs.dispute_gig(job.id, customer.id, "Half done")
    login(make_user("admin"))
    html = client.get(f"/gigs/{job.id}").get_data(as_text=True)
    assert "Resolve the dispute" in html and "Half done" in html
    post_page(client, f"/gigs/{job.id}/actions/resolve", {"resolve-reason": "Paid for 2 hours"},
              form_page=f"/gigs/{job.id}")
    assert status(db, job.id) == "confirmed"


def test_worker_directory_filters_and_public_profile(app, client, make_user, categories):
    near = make_user("worker", "member", name="Near Member")
    give_profile(near, neighbourhood="Temescal", services=[("dog-walking", 2000)])
    far = make_user("worker", name="Far Worker")
    give_profile(far, neighbourhood="Elmhurst", radius_km=2)
    everyone = client.get("/workers/").get_data(as_text=True)
    assert "Near Member" in everyone and "Far Worker" in everyone
    walkers = client.get("/workers/?category=dog-walking").get_data(as_text=True)
    assert "Near Member" in walkers and "Far Worker" not in walkers
    rockridge = client.get("/workers/?neighbourhood=Rockridge").get_data(as_text=True)
    assert "Near Member" in rockridge and "Far Worker" not in rockridge
    assert "No worker matches" in client.get("/workers/?min_rating=4").get_data(as_text=True)
    bad = client.get("/workers/?category=juggling&date=soon")
    assert bad.status_code == 200 and "Not a valid choice" in bad.get_data(as_text=True)
    profile = client.get(f"/workers/{near.id}").get_data(as_text=True)
    assert "Dog walking" in profile and "$20.00" in profile and "badge-member" in profile
    assert client.get("/workers/999999").status_code == 404


def test_worker_directory_paginates_and_keeps_filters(app, client, make_user, categories):
    for n in range(14):
        give_profile(make_user("worker", name=f"Walker {n:02d}"), services=[("dog-walking", 2000)])
    first = client.get("/workers/?category=dog-walking").get_data(as_text=True)
    assert first.count('class="card-title"') == 12
    assert "/workers/?page=2&amp;category=dog-walking" in first or "category=dog-walking&amp;page=2" in first
    second = client.get("/workers/?category=dog-walking&page=2").get_data(as_text=True)
    assert second.count('class="card-title"') == 2


def test_notifications_count_list_and_mark_read(app, client, login, customer, worker, db):
    post_job(app, customer, title="Offered to Rosa")
    login(worker)
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert 'Notifications <span class="badge">1<span class="sr-only"> unread</span>' in dashboard
    page = client.get("/notifications/").get_data(as_text=True)
    assert "New offer: “Offered to Rosa”" in page and "Mark all as read" in page
    resp = post_page(client, "/notifications/read", {}, form_page="/notifications/")
    assert resp.status_code == 302
    assert db.session.scalar(select(Notification.read_at).where(Notification.user_id == worker.id)) is not None
    assert 'class="badge">1' not in client.get("/dashboard").get_data(as_text=True)


def test_dashboard_panels_per_role(app, signed_in, customer, worker):
    gig(app, customer, worker, "accepted", title="Window washing")
    html = signed_in(worker).get("/dashboard").get_data(as_text=True)
    assert 'id="panel-worker"' in html and 'id="panel-member"' in html and "Window washing" in html
    html = signed_in(customer).get("/dashboard").get_data(as_text=True)
    assert 'id="panel-client"' in html and 'id="panel-worker"' not in html and "Window washing" in html

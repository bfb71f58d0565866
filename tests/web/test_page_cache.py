"""The rendered-page cache (marketplace/page_cache.py) on the open-requests page: a second view is served from
memory, and anything the page shows — the jobs, the worker's profile, the session, the roles, the unread count —
changing in the database makes the next view render afresh."""

from __future__ import annotations

import pytest
from market_fixtures import give_profile, post_job, seed_categories
from sqlalchemy import select, text, update

import support
from marketplace.extensions import db
from marketplace.models import Job, WorkerProfile

PAGE = "/work/requests"


@pytest.fixture
def app(request, database_template, broker_urls, tmp_path):
    """The app with the page cache on in memory; a test adds settings with ``@with_settings(...)``."""
    config = {"PAGE_CACHE_URL": "memory://", **getattr(request, "param", {})}
    with support.app_under_test(database_template, broker_urls, tmp_path, **config) as app:
        yield app


def with_settings(**config):
    return pytest.mark.parametrize("app", [config], indirect=True, ids=[",".join(config)])


@pytest.fixture
def cache(app):
    return app.extensions["page_cache"]


@pytest.fixture
def worker(app, make_user):
    seed_categories()
    user = make_user("worker", "member", name="Rosa Diaz")
    give_profile(user, neighbourhood="Temescal", radius_km=5)
    return user


@pytest.fixture
def poster(make_user):
    return make_user("client", name="Carla Client")


@pytest.fixture
def login(login):
    """Sign in, then read the welcome message once, so the pages under test carry no flash message."""

    def sign_in(user, test_client=None):
        signed_in = login(user, test_client=test_client)
        signed_in.get("/dashboard")
        return signed_in

    return sign_in


def view(client, cache, path: str = PAGE) -> tuple[str, bool]:
    """The page's HTML and whether it came from the cache."""
    hits = cache.hits
    response = client.get(path)
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True), cache.hits == hits + 1


def test_a_second_view_is_served_from_the_cache_unchanged(app, client, login, cache, worker, poster):
    post_job(app, poster, title="Near job", neighbourhood="Rockridge")
    login(worker)
    first, first_cached = view(client, cache)
    second, second_cached = view(client, cache)
    assert "Near job" in first and "Rosa Diaz" in first
    assert (first_cached, second_cached) == (False, True)
    assert second == first
    response = client.get(PAGE)
    assert response.headers["Content-Security-Policy"].startswith("default-src 'self'")
    assert response.headers["X-Request-ID"]


def test_a_new_job_an_edit_and_a_cancellation_show_at_once(app, client, login, cache, worker, poster):
    from marketplace.services import jobs

    login(worker)
    view(client, cache)
    assert view(client, cache)[1]
    job = post_job(app, poster, title="Fresh job", neighbourhood="Rockridge")
    html, cached = view(client, cache)
    assert "Fresh job" in html and not cached
    db.session.execute(update(Job).where(Job.id == job.id).values(title="Renamed job"))
    db.session.commit()
    html, cached = view(client, cache)
    assert "Renamed job" in html and not cached
    jobs.cancel_job(job.id, poster.id, reason="Plans changed")
    html, cached = view(client, cache)
    assert "Renamed job" not in html and not cached


def test_a_write_that_is_rolled_back_keeps_the_copy(app, client, login, cache, worker, poster):
    post_job(app, poster, title="Near job", neighbourhood="Rockridge")
    login(worker)
    view(client, cache)
    db.session.execute(update(Job).values(title="Never saved"))
    db.session.rollback()
    html, cached = view(client, cache)
    assert cached and "Near job" in html and "Never saved" not in html


def test_a_change_to_the_workers_profile_shows_at_once(app, client, login, cache, worker, poster):
    post_job(app, poster, title="Far job", neighbourhood="Elmhurst")
    login(worker)
    assert "Far job" not in view(client, cache)[0]
    give_profile(worker, neighbourhood="Elmhurst", radius_km=5)
    html, cached = view(client, cache)
    assert "Far job" in html and not cached


def test_a_revoked_session_is_not_served_the_copy(app, client, login, cache, worker):
    from marketplace.services import accounts

    login(worker)
    view(client, cache)
    accounts.revoke_all_sessions(worker.id)
    db.session.commit()
    response = client.get(PAGE)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_losing_the_worker_role_is_not_served_the_copy(app, client, login, cache, worker):
    login(worker)
    view(client, cache)
    db.session.execute(text("DELETE FROM user_roles WHERE user_id = :id AND role = 'worker'"), {"id": worker.id})
    db.session.commit()
    assert client.get(PAGE).status_code == 403


def test_the_unread_notifications_badge_follows_new_notifications(app, client, login, cache, worker):
    from marketplace.services import notifications

    login(worker)
    html, _ = view(client, cache)
    assert "unread</span>" not in html
    notifications.notify(worker.id, "offer", "A new offer", "/work")
    db.session.commit()
    html, cached = view(client, cache)
    assert "1<span class=\"sr-only\"> unread</span>" in html and not cached


def test_each_login_session_has_its_own_copy(app, client, login, cache, worker, make_user):
    other = make_user("worker", name="Omar Other")
    give_profile(other)
    login(worker)
    view(client, cache)
    other_client = app.test_client()
    login(other, test_client=other_client)
    html, cached = view(other_client, cache)
    assert "Omar Other" in html and "Rosa Diaz" not in html and not cached
    assert "Rosa Diaz" in view(client, cache)[0]


def test_a_page_with_a_flash_message_is_neither_stored_nor_served(app, client, login, cache, worker):
    login(worker)
    view(client, cache)
    with client.session_transaction() as session:
        session["_flashes"] = [("info", "Offer declined. Declining never counts against you.")]
    html, cached = view(client, cache)
    assert "Offer declined" in html and not cached
    html, cached = view(client, cache)
    assert "Offer declined" not in html


def test_other_pages_and_other_methods_are_never_cached(app, client, login, cache, worker):
    login(worker)
    for _ in range(2):
        assert client.get("/work/").status_code == 200
    assert cache.hits == 0
    assert client.post(PAGE).status_code == 405


@with_settings(PAGE_CACHE_TTL=0)
def test_copies_expire_after_the_ttl(app, client, login, cache, worker):
    login(worker)
    for _ in range(3):
        assert client.get(PAGE).status_code == 200
    assert cache.hits == 0 and cache.misses == 3


@with_settings(PAGE_CACHE_URL="redis://127.0.0.1:9/0")
def test_an_unreachable_version_store_renders_every_page(app, client, login, cache, worker):
    """Redis down: the page still answers 200, without the cache, and writes still commit."""
    login(worker)
    for _ in range(2):
        assert client.get(PAGE).status_code == 200
    assert cache.hits == 0 and len(cache) == 0
    give_profile(worker, neighbourhood="Elmhurst")
    assert db.session.scalar(select(WorkerProfile.neighbourhood).where(WorkerProfile.user_id == worker.id)) \
        == "Elmhurst"


def test_a_delete_raises_the_versions_of_the_tables_its_foreign_keys_cascade_to(app, cache, worker):
    before = cache.versions()
    db.session.execute(text("DELETE FROM worker_profiles WHERE user_id = :id"), {"id": worker.id})
    db.session.commit()
    after = cache.versions()
    for table in ("worker_profiles", "worker_services", "availability_windows"):
        assert after.get(table, 0) == before.get(table, 0) + 1, table
    assert after.get("users", 0) == before.get("users", 0)


def test_a_session_seen_from_another_browser_goes_through_session_protection(app, client, login, cache, worker):
    """Flask-Login marks such a session non-fresh on its first request; a copy must not skip that step."""
    login(worker)
    view(client, cache)
    assert view(client, cache)[1]
    other_browser = {"User-Agent": "Another browser/1.0"}
    response = client.get(PAGE, headers=other_browser)
    assert response.status_code == 200 and response.headers.get("X-Page-Cache") != "hit"
    with client.session_transaction() as session:
        assert session["_fresh"] is False
    client.get(PAGE, headers=other_browser)
    assert client.get(PAGE, headers=other_browser).headers["X-Page-Cache"] == "hit"

"""Numbers in URLs beyond what the database stores: ids answer 404, page numbers show the last page they may,
nothing reaches the database to fail there (a 500). Found by probing the pages the sqlmap scan covers."""

from __future__ import annotations

import pytest
from market_fixtures import give_profile, post_job, seed_categories
from sqlalchemy import text

from marketplace.errors import NotFound, ValidationFailed
from marketplace.models.base import MAX_ID

HUGE = (MAX_ID + 1, 2**63, 10**30)


@pytest.fixture
def categories(app):
    return seed_categories()


@pytest.mark.parametrize("number", HUGE)
def test_ids_in_paths_beyond_the_id_range_are_not_found(app, client, login, make_user, api_token, number):
    admin = make_user("admin")
    headers = api_token(admin)
    login(admin)
    for path in (f"/gigs/{number}", f"/jobs/{number}", f"/workers/{number}", f"/board/members/{number}",
                 f"/treasury/dividends/runs/{number}", f"/notices/{number}"):
        assert client.get(path).status_code == 404, path
    response = client.get(f"/api/v1/jobs/{number}", headers=headers)
    assert response.status_code == 404 and response.get_json()["error"]["code"] == "not_found"
    assert client.get(f"/gigs/{MAX_ID}").status_code == 404  # the largest id is still looked up


@pytest.mark.parametrize("number", HUGE)
def test_page_numbers_beyond_any_list_show_a_page(app, client, login, make_user, categories, number):
    worker = make_user("worker")
    give_profile(worker)
    post_job(app, make_user("client"), title="Only request")
    login(worker)
    assert client.get(f"/work/requests?page={number}").status_code == 200
    assert client.get(f"/workers/?page={number}").status_code == 200
    treasury = app.test_client()
    login(make_user("treasurer"), test_client=treasury)
    assert treasury.get(f"/treasury/books/expenses?page={number}").status_code == 200
    assert treasury.get(f"/treasury/books/income?page={number}").status_code == 200


def test_services_refuse_ids_beyond_the_range_as_unknown(app, make_user, categories):
    from marketplace.services import offers, periods

    with pytest.raises(NotFound):
        periods.get_period(MAX_ID + 1)
    client_user = make_user("client")
    job = post_job(app, client_user)
    with pytest.raises(ValidationFailed) as caught:
        offers.invite_worker(job.id, client_user.id, 10**30)
    assert "worker_id" in caught.value.fields


def test_invite_in_the_new_job_link_is_ignored_unless_it_can_be_a_worker(app, client, login, make_user, categories):
    login(make_user("client"))
    for value in (MAX_ID + 1, 10**30, "²", "-3", "abc"):
        assert client.get(f"/jobs/new?invite={value}").status_code == 200, value


def test_the_error_page_renders_after_a_failed_statement(app, client, login, make_user):
    """On PostgreSQL a failed statement aborts the transaction; the 500 page, which reads the signed-in user,
    must still render rather than fail a second time."""
    from marketplace.extensions import db

    def broken():
        db.session.execute(text("SELECT * FROM no_such_table"))
        return "unreachable"

    app.add_url_rule("/test-broken-statement", "broken_statement", broken)
    login(make_user("client"))
    response = client.get("/test-broken-statement")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)

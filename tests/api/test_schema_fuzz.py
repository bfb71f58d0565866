"""The JSON API fuzzed from its own OpenAPI document (/api/v1/openapi.json) with Schemathesis.

Every documented operation gets generated requests that fit the document (positive mode) and requests that
break it (negative mode: wrong types, missing fields, bad formats), sent as each kind of person in a small
seeded co-op (a worker-owner, a client, the treasurer, an admin, nobody), with path parameters that often name
real jobs and proposals. Every answer must be one the document promises: never a 5xx, a documented status code,
a JSON body matching that status's schema; and a request that breaks the document must be refused with a 4xx.

Before the generated requests, each operation is called once the right way (the right person, a record in the
right state), so its success answer is checked against the document too and the fuzzing starts from a world in
which the operation can really succeed.

The run is reproducible (derandomized Hypothesis, a fixed order of operations) and counts what it sends: the
test fails if fewer than MIN_GENERATED generated requests went out.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
import schemathesis
from governance_support import add_member
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis import checks as st_checks
from web.market_fixtures import gig, give_profile, post_job, seed_categories

from marketplace.domain.books import EXPENSE_CATEGORIES, INCOME_KINDS
from marketplace.models.base import utcnow
from marketplace.services import api_tokens, books, governance
from marketplace_helpers import local_start
from support import TEST_PASSWORD

pytestmark = pytest.mark.slow

SPEC_PATH = "/api/v1/openapi.json"
MIN_GENERATED = 1000
# Generated requests per operation and mode (Hypothesis stops earlier when an operation has fewer distinct inputs);
# API_FUZZ_EXAMPLES=500 digs deeper on a developer's machine.
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", "40"))
PEOPLE = ("member", "client", "treasurer", "admin", "anonymous")
# No 5xx; a documented status, content type and body; a request that breaks the document refused; and an
# operation that needs a token refuses the same request without one or with a wrong one (ignored_auth).
CHECKS = [st_checks.not_a_server_error, st_checks.status_code_conformance, st_checks.content_type_conformance,
          st_checks.response_schema_conformance, st_checks.negative_data_rejection, st_checks.ignored_auth]
FUZZ_SETTINGS = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                         suppress_health_check=list(HealthCheck),
                         phases=[Phase.explicit, Phase.generate, Phase.shrink])


@dataclass
class World:
    """The seeded co-op: people, their bearer tokens, and the ids of real records to aim path parameters at."""

    app: object
    users: dict
    tokens: dict = field(default_factory=dict)
    ids: dict = field(default_factory=lambda: {"job_id": [], "proposal_id": []})

    def headers(self, who: str) -> dict:
        return {"Authorization": f"Bearer {self.tokens[who]}"} if who in self.tokens else {}

    def issue(self, who: str) -> str:
        token, _ = api_tokens.issue_token(self.users[who].email, TEST_PASSWORD)
        self.tokens[who] = token
        return token

    def job(self, **kwargs):
        job = post_job(self.app, self.users["client"], **kwargs)
        self.ids["job_id"].append(job.id)
        return job

    def gig(self, state: str):
        job = gig(self.app, self.users["client"], self.users["member"], state)
        self.ids["job_id"].append(job.id)
        return job

    def proposal(self):
        proposal = governance.table_proposal(self.users["member"].id, "general", "Paint the office",
                                             "Blue or green?")
        self.ids["proposal_id"].append(proposal.id)
        return proposal


@dataclass
class Call:
    """One request made the right way, and the status it must get."""

    who: str
    status: int
    path: dict | None = None
    body: object = None
    query: dict | None = None


def seed_world(app, make_user) -> World:
    seed_categories()
    member = add_member(make_user, name="Morgan Member")
    give_profile(member)
    other_worker = make_user("worker", name="Wren Worker")
    give_profile(other_worker, neighbourhood="Fruitvale")
    world = World(app, {"member": member, "worker": other_worker, "client": make_user("client", name="Casey Client"),
                        "treasurer": make_user("treasurer", name="Toni Treasurer"),
                        "admin": make_user("admin", name="Ari Admin")})
    world.job()
    for state in ("accepted", "in_progress", "completed", "confirmed"):
        world.gig(state)
    world.proposal()
    today = books.local_today()
    books.record_expense(occurred_on=today, category=next(iter(EXPENSE_CATEGORIES)), amount_cents=4200,
                         memo="Printer paper", actor_id=world.users["treasurer"].id)
    books.record_other_income(occurred_on=today, kind=next(iter(INCOME_KINDS)), amount_cents=9900,
                              memo="Workshop fees", actor_id=world.users["treasurer"].id)
    for who in ("member", "client", "treasurer", "admin"):
        world.issue(who)
    return world


def job_body() -> dict:
    return {"category": "house-cleaning", "title": "Clean the kitchen", "description": "Oven too",
            "neighbourhood": "Temescal", "address": "4 Elm Street", "starts_at": local_start(days=4).isoformat(),
            "hours": "2:30", "max_rate_cents": 3000}


def profile_body() -> dict:
    return {"categories": [{"slug": "house-cleaning", "rate_cents": 2600}], "radius_km": 8, "bio": "Careful.",
            "neighbourhood": "Temescal",
            "availability": [{"weekday": 0, "start": "09:00", "end": "17:00"}],
            "blocked_dates": [(utcnow().date() + timedelta(days=30)).isoformat()]}


def _job(job) -> dict:
    return {"job_id": job.id}


def _proposal(proposal) -> dict:
    return {"proposal_id": proposal.id}


# For each operation: the record it needs, made fresh (the generated requests may have moved the shared ones on),
# and the request that must succeed on it. Offers to the member start 3-4 days ahead: gig() books the member's gigs
# from day 5 on, so an offer never clashes with a gig the member already has.
SUCCESS_CALLS = {
    "POST /api/v1/auth/tokens": lambda w: [Call("anonymous", 201, body={"email": w.users["member"].email,
                                                                         "password": TEST_PASSWORD})],
    "DELETE /api/v1/auth/tokens/current": lambda w: [Call("spare", 204)],
    "GET /api/v1/me": lambda w: [Call("member", 200)],
    "GET /api/v1/me/membership": lambda w: [Call("member", 200)],
    "GET /api/v1/me/earnings": lambda w: [Call("member", 200)],
    "GET /api/v1/me/offers": lambda w: [Call("member", 200)],
    "PUT /api/v1/me/profile": lambda w: [Call("member", 200, body=profile_body())],
    "GET /api/v1/categories": lambda w: [Call("anonymous", 200)],
    "POST /api/v1/jobs": lambda w: [Call("client", 201, body=job_body())],
    "GET /api/v1/jobs/{job_id}": lambda w: [Call("client", 200, _job(w.job()))],
    "GET /api/v1/jobs/{job_id}/matches": lambda w: [Call("client", 200, _job(w.job()))],
    "POST /api/v1/jobs/{job_id}/invite": lambda w: [
        Call("client", 200, _job(w.job(invite_worker_id=w.users["member"].id, days_ahead=4)),
             {"worker_id": w.users["worker"].id})],
    "POST /api/v1/jobs/{job_id}/accept": lambda w: [
        Call("member", 200, _job(w.job(invite_worker_id=w.users["member"].id, days_ahead=3)))],
    "POST /api/v1/jobs/{job_id}/decline": lambda w: [
        Call("member", 200, _job(w.job(invite_worker_id=w.users["member"].id, days_ahead=4)))],
    "POST /api/v1/jobs/{job_id}/cancel": lambda w: [Call("client", 200, _job(w.job()), {"reason": "Plans changed"})],
    "POST /api/v1/jobs/{job_id}/start": lambda w: [Call("member", 200, _job(w.gig("accepted")))],
    "POST /api/v1/jobs/{job_id}/complete": lambda w: [Call("member", 200, _job(w.gig("in_progress")), {"hours": 2})],
    "POST /api/v1/jobs/{job_id}/confirm": lambda w: [Call("client", 200, _job(w.gig("completed")))],
    "POST /api/v1/jobs/{job_id}/dispute": lambda w: [Call("client", 200, _job(w.gig("completed")),
                                                          {"reason": "Only half the rooms were done"})],
    "POST /api/v1/jobs/{job_id}/withdraw": lambda w: [Call("member", 200, _job(w.gig("accepted")), {})],
    "POST /api/v1/jobs/{job_id}/reviews": lambda w: [Call("client", 201, _job(w.gig("confirmed")),
                                                          {"stars": 5, "body": "Spotless"})],
    "POST /api/v1/jobs/{job_id}/messages": lambda w: [Call("client", 201, _job(w.gig("accepted")),
                                                           {"body": "The key is under the mat"})],
    "GET /api/v1/jobs/{job_id}/messages": lambda w: [Call("member", 200, _job(w.gig("accepted")))],
    "GET /api/v1/jobs/{job_id}/receipt": lambda w: [Call("client", 200, _job(w.gig("confirmed")))],
    "POST /api/v1/expenses": lambda w: [Call("treasurer", 201, body={
        "occurred_on": books.local_today().isoformat(), "category": next(iter(EXPENSE_CATEGORIES)),
        "amount_cents": 1250, "memo": "Stamps"})],
    "GET /api/v1/expenses": lambda w: [Call("treasurer", 200, query={"page": 1})],
    "POST /api/v1/income": lambda w: [Call("treasurer", 201, body={
        "occurred_on": books.local_today().isoformat(), "kind": next(iter(INCOME_KINDS)), "amount_cents": 5000,
        "memo": "Bake sale"})],
    "GET /api/v1/income": lambda w: [Call("admin", 200)],
    "GET /api/v1/reports/income-statement": lambda w: [Call("treasurer", 200)],
    "GET /api/v1/reports/balance-sheet": lambda w: [Call("admin", 200)],
    "GET /api/v1/reports/trial-balance": lambda w: [Call("treasurer", 200)],
    "GET /api/v1/proposals": lambda w: [Call("member", 200, query={"status": "open"})],
    "POST /api/v1/proposals": lambda w: [Call("member", 201, body={"kind": "general", "title": "Buy a van",
                                                                    "body": "For the movers"})],
    "GET /api/v1/proposals/{proposal_id}": lambda w: [Call("member", 200, _proposal(w.proposal()))],
    "GET /api/v1/proposals/{proposal_id}/results": lambda w: [Call("member", 200, _proposal(w.proposal()))],
    "POST /api/v1/proposals/{proposal_id}/ballots": lambda w: [Call("member", 201, _proposal(w.proposal()),
                                                                    {"choice": "for"})],
    "POST /api/v1/proposals/{proposal_id}/comments": lambda w: [Call("member", 201, _proposal(w.proposal()),
                                                                     {"body": "Green, please"})],
}


class OwnContextPerRequest:
    """The app as a WSGI server runs it: every request in an app context of its own.

    The test holds an app context open, and Flask would run each request inside it: ``g`` (where the API caches
    the token's user) would carry over from one request to the next, e.g. into the token-less probe that
    ``ignored_auth`` sends after a success.
    """

    def __init__(self, app):
        self.app = app

    def __call__(self, environ, start_response):
        with self.app.app_context():
            return self.app(environ, start_response)


class Fuzzer:
    """Sends cases through the app and keeps the tallies."""

    def __init__(self, app, world: World):
        self.app = app
        self.world = world
        self.generated: Counter = Counter()
        self.answered: Counter = Counter()
        self.failures: list[str] = []
        self.intended: dict[str, str] = {}

    def send(self, case, who: str):
        # The token goes in the case (so negative mode never "breaks" it) and is named as the caller's own
        # (so ignored_auth knows it is a real credential, and probes without it and with a wrong one).
        auth = {"Authorization": case.headers["Authorization"]} if who in self.world.tokens else None
        response = case.call_and_validate(headers=auth, checks=CHECKS)
        self.answered[(case.operation.label, response.status_code)] += 1
        if response.status_code == 204 and who in self.world.tokens:
            self.world.issue(who)  # that person's token was just revoked
        return response

    def succeed(self, operation) -> None:
        """The operation's request made the right way gets its success status, in the documented shape."""
        calls = SUCCESS_CALLS[operation.label](self.world)
        self.intended[operation.label] = calls[0].who
        for call in calls:
            if call.who == "spare":  # a token of its own, to be revoked
                token, _ = api_tokens.issue_token(self.world.users["admin"].email, TEST_PASSWORD)
                headers = {"Authorization": f"Bearer {token}"}
            else:
                headers = self.world.headers(call.who)
            case = operation.Case(path_parameters=call.path, headers=headers, query=call.query,
                                  **({"body": call.body, "media_type": "application/json"}
                                     if call.body is not None else {}))
            try:
                response = self.send(case, call.who)
            except (AssertionError, BaseExceptionGroup) as exc:
                self.failures.append(f"{operation.label} made the right way:\n{exc}")
                continue
            if response.status_code != call.status:
                self.failures.append(f"{operation.label} made the right way answered {response.status_code}, "
                                     f"not {call.status}: {response.text[:500]}")

    def fuzz(self, operation, mode: GenerationMode) -> None:
        path_names = [p.name for p in operation.path_parameters]
        real_ids = st.none()
        if path_names and mode.is_positive:
            real_ids = st.none() | st.sampled_from(self.world.ids[path_names[0]])

        def cases(choice):
            who, real = choice
            return operation.as_strategy(mode, headers=self.world.headers(who) or None,
                                         path_parameters={path_names[0]: real} if real is not None else None
                                         ).map(lambda case: (case, who))

        # Half the time the person the operation is for (so more requests get past the role checks), else anyone.
        people = st.sampled_from(PEOPLE)
        if self.intended.get(operation.label) in PEOPLE:
            people = st.one_of(st.just(self.intended[operation.label]), people)

        @given(drawn=st.tuples(people, real_ids).flatmap(cases))
        @FUZZ_SETTINGS
        def run(drawn):
            case, who = drawn
            self.generated[operation.label] += 1
            self.send(case, who)

        try:
            run()
        except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - every operation is fuzzed, then all reported
            self.failures.append(f"{operation.label} [{mode.value}]:\n{exc}")


def negatable(operation) -> bool:
    """Whether negative mode can break anything the request carries (a body, a query or a path parameter)."""
    return bool(operation.body or list(operation.query) or list(operation.path_parameters))


def test_generated_requests_get_documented_answers(app, make_user):
    """Every operation, made the right way and then fuzzed: only documented answers, at least MIN_GENERATED
    generated requests in all, and every operation seen succeeding."""
    world = seed_world(app, make_user)
    schema = schemathesis.openapi.from_wsgi(SPEC_PATH, OwnContextPerRequest(app))
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=lambda op: op.label)
    assert {op.label for op in operations} == set(SUCCESS_CALLS), "every operation needs its success call"

    fuzzer = Fuzzer(app, world)
    for operation in operations:
        fuzzer.succeed(operation)
        fuzzer.fuzz(operation, GenerationMode.POSITIVE)
        if negatable(operation):
            fuzzer.fuzz(operation, GenerationMode.NEGATIVE)

    assert not fuzzer.failures, "\n\n".join(fuzzer.failures)
    total = sum(fuzzer.generated.values())
    assert total >= MIN_GENERATED, f"only {total} generated requests: {dict(fuzzer.generated)}"
    assert all(fuzzer.generated[op.label] >= 5 for op in operations), dict(fuzzer.generated)
    succeeded = {label for (label, status), _ in fuzzer.answered.items() if 200 <= status < 300}
    assert succeeded == {op.label for op in operations}
    by_status: Counter = Counter()
    for (_, status), count in fuzzer.answered.items():
        by_status[status] += count
    print(f"\n{total} generated requests over {len(operations)} operations; answers: {dict(sorted(by_status.items()))}")


# Regressions for what the fuzzing found, each pinned by a direct request.

def test_an_id_beyond_the_database_integer_is_not_found(app, make_user, client, api_token):
    """PostgreSQL ids are 32-bit and SQLite's 64-bit: a larger id in a path was a 500 (integer out of range),
    then, once the router refused it, a 405 where the same path has a rule for another method."""
    headers = api_token(make_user("client"))
    for job_id in (2**31, 99_999_999_999, 2**63, 10**30):
        for method, path in (("GET", f"/api/v1/jobs/{job_id}"), ("GET", f"/api/v1/jobs/{job_id}/messages"),
                             ("POST", f"/api/v1/jobs/{job_id}/messages")):
            # GET …/messages was a 405: the path also has a POST rule, which the router tried next
            resp = client.open(path, method=method, headers=headers, json={"body": "Hi"})
            assert resp.status_code == 404, (method, path, resp.get_json())
            assert resp.get_json()["error"]["code"] == "not_found"


def test_ids_and_rates_in_bodies_are_bounded(app, make_user, client, api_token):
    """An id or a rate cap beyond what a column holds is a 422 naming the field, not a failed write."""
    seed_categories()
    headers = api_token(make_user("client"))
    body = {**job_body(), "max_rate_cents": 2**40, "invite_worker_id": 2**40}
    resp = client.post("/api/v1/jobs", json=body, headers=headers)
    assert resp.status_code == 422
    assert set(resp.get_json()["error"]["fields"]) == {"max_rate_cents", "invite_worker_id"}


def test_a_rate_cap_above_the_rate_limit_is_refused_by_the_service(app, make_user):
    """The web form reaches the same rule: a cap over $1,000/h is a typo, refused before it is stored."""
    from marketplace.errors import ValidationFailed
    from marketplace.services import jobs

    seed_categories()
    customer = make_user("client")
    with pytest.raises(ValidationFailed) as caught:
        jobs.post_job(customer.id, category="house-cleaning", title="Windows", neighbourhood="Temescal",
                      starts_at=local_start(days=3), hours="2", max_rate_cents=2**40)
    assert set(caught.value.fields) == {"max_rate_cents"}


def test_list_pages_and_empty_dates(app, make_user, client, api_token):
    """``page`` must be a number from 1 (it was silently 1 for junk, and a huge one overflowed the offset);
    an empty date (``?end=``, as a form sends it) means no date, as the document now says."""
    headers = api_token(make_user("treasurer"))
    for page in ("abc", "0", "-1", str(10**30)):
        resp = client.get(f"/api/v1/expenses?page={page}", headers=headers)
        assert resp.status_code == 422 and set(resp.get_json()["error"]["fields"]) == {"page"}, page
    assert client.get("/api/v1/expenses?page=2&start=&end=", headers=headers).get_json()["page"] == 2
    statement = client.get("/api/v1/reports/income-statement?start=&end=", headers=headers)
    assert statement.status_code == 200 and statement.get_json()["start"].endswith("-01-01")


def test_the_document_is_valid_openapi(app):
    """The document validates against the OpenAPI 3.0 schema (it used JSON Schema type lists, which 3.0 lacks)."""
    schema = schemathesis.openapi.from_wsgi(SPEC_PATH, app)
    assert schema.raw_schema["openapi"] == "3.0.3"
    schema.validate()


def test_the_document_describes_errors_as_they_are(client):
    """Wrong credentials are a documented 401; state conflicts a documented 409; every error has the error shape."""
    doc = client.get(SPEC_PATH).get_json()
    token = doc["paths"]["/api/v1/auth/tokens"]["post"]["responses"]
    assert token["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}
    for path in ("cancel", "start", "complete", "confirm", "dispute", "withdraw", "invite", "accept", "decline",
                 "reviews", "messages"):
        assert "409" in doc["paths"][f"/api/v1/jobs/{{job_id}}/{path}"]["post"]["responses"], path
    for path, operations in doc["paths"].items():
        for method, entry in operations.items():
            for status, response in entry["responses"].items():
                if int(status) >= 400:
                    assert response["content"]["application/json"]["schema"] == {
                        "$ref": "#/components/schemas/Error"}, (method, path, status)

"""The marketplace API end to end through the test client: every endpoint, its success shape and its errors
(401 without a token, 403 for the wrong role or party, 404 for records the caller may not see, 409 for a
state that does not allow the action, 422 for bad input), always as {"error": {"code", "message", "fields"}}."""

from __future__ import annotations

from datetime import timedelta

import pytest

from marketplace.models.base import utcnow
from marketplace.services import gigs
from marketplace_helpers import local_start, make_category, make_worker, offers_of

BASE = "/api/v1"


def error(resp, status: int, code: str | None = None) -> dict:
    assert resp.status_code == status, resp.get_json()
    body = resp.get_json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "fields"}
    assert body["error"]["message"]
    if code:
        assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
def market(app, make_user, api_token):
    category = make_category("window-cleaning", floor=2000)
    workers = [make_worker(make_user, category, rate=2400 + i) for i in range(3)]
    people = {"client": make_user("client"), "other_client": make_user("client"), "admin": make_user("admin"),
              "stranger": make_worker(make_user, make_category())}
    tokens = {name: api_token(user) for name, user in people.items()}
    tokens.update({f"w{i}": api_token(w) for i, w in enumerate(workers)})
    return {"category": category, "workers": workers, **people, "tokens": tokens}


def job_body(**overrides) -> dict:
    body = {"category": "window-cleaning", "title": "Wash the windows", "description": "Ground floor",
            "lat": 37.8044, "lng": -122.2712, "address": "9 Secret Way", "starts_at": local_start().isoformat(),
            "hours": 2.5, "max_rate_cents": 3000}
    body.update(overrides)
    return body


def post_job(client, market, **overrides) -> dict:
    resp = client.post(f"{BASE}/jobs", json=job_body(**overrides), headers=market["tokens"]["client"])
    assert resp.status_code == 201, resp.get_json()
    return resp.get_json()


def holder(market, job_id: int, index: int = 0):
    """(token headers, user) of the worker holding the ``index``-th pending offer."""
    worker_id = offers_of(job_id, "pending")[index].worker_id
    i = [w.id for w in market["workers"]].index(worker_id)
    return market["tokens"][f"w{i}"], market["workers"][i]


def test_categories_need_no_token(client, market):
    resp = client.get(f"{BASE}/categories")
    assert resp.status_code == 200
    assert {"slug": "window-cleaning", "name": "Window Cleaning", "rate_floor_cents": 2000} in resp.get_json()


def test_put_profile(client, market, make_user, api_token):
    worker = make_user("worker")
    headers = api_token(worker)
    body = {"categories": [{"slug": "window-cleaning", "rate_cents": 2600}], "lat": 37.8110, "lng": -122.2670,
            "radius_km": 8, "bio": "Ladders and patience",
            "availability": [{"weekday": 0, "start": "09:00", "end": "17:00"},
                             {"weekday": 5, "start": "10:00", "end": "24:00"}],
            "blocked_dates": [(utcnow().date() + timedelta(days=9)).isoformat()]}
    resp = client.put(f"{BASE}/me/profile", json=body, headers=headers)
    assert resp.status_code == 200, resp.get_json()
    data = resp.get_json()
    assert data["categories"] == [{"slug": "window-cleaning", "name": "Window Cleaning", "rate_cents": 2600}]
    assert data["availability"][1] == {"weekday": 5, "start": "10:00", "end": "24:00"}
    assert (data["radius_km"], data["neighbourhood"], data["weekly_minutes"]) == (8, "Uptown", 8 * 60 + 14 * 60)
    low = dict(body, categories=[{"slug": "window-cleaning", "rate_cents": 1999}])
    assert "floor" in error(client.put(f"{BASE}/me/profile", json=low, headers=headers), 422)["fields"]["categories"]
    overlap = dict(body, availability=[{"weekday": 1, "start": "09:00", "end": "12:00"},
                                       {"weekday": 1, "start": "11:00", "end": "13:00"}])
    assert "availability" in error(client.put(f"{BASE}/me/profile", json=overlap, headers=headers), 422)["fields"]
    bad = dict(body, availability=[{"weekday": 7, "start": "09:00", "end": "12:00"}], radius_km="far")
    fields = error(client.put(f"{BASE}/me/profile", json=bad, headers=headers), 422, "validation_failed")["fields"]
    assert {"availability.0.weekday", "radius_km"} <= set(fields)
    error(client.put(f"{BASE}/me/profile", json=body), 401, "unauthorized")
    error(client.put(f"{BASE}/me/profile", json=body, headers=market["tokens"]["client"]), 403, "forbidden")


def test_post_and_get_a_job(client, market):
    job = post_job(client, market)
    assert (job["status"], job["worker_id"], job["hours"], job["address"]) == ("offered", None, 2.5, "9 Secret Way")
    assert job["lat"] == 37.8044 and "cancel" in job["allowed_actions"]
    mine = client.get(f"{BASE}/jobs/{job['id']}", headers=market["tokens"]["client"]).get_json()
    assert mine["id"] == job["id"] and mine["address"] == "9 Secret Way"
    headers, _ = holder(market, job["id"])
    seen = client.get(f"{BASE}/jobs/{job['id']}", headers=headers).get_json()
    assert "address" not in seen and seen["lat"] == 37.8 and seen["allowed_actions"] == []
    error(client.get(f"{BASE}/jobs/{job['id']}", headers=market["tokens"]["other_client"]), 404, "not_found")
    error(client.get(f"{BASE}/jobs/{job['id']}", headers=market["tokens"]["stranger"]), 404)
    error(client.get(f"{BASE}/jobs/999999", headers=market["tokens"]["admin"]), 404)
    error(client.get(f"{BASE}/jobs/{job['id']}"), 401)
    assert client.get(f"{BASE}/jobs/{job['id']}", headers=market["tokens"]["admin"]).get_json()["address"]


def test_post_job_errors(client, market):
    headers = market["tokens"]["client"]
    naive = error(client.post(f"{BASE}/jobs", json=job_body(starts_at="2030-01-01T10:00:00"), headers=headers), 422)
    assert "offset" in naive["fields"]["starts_at"]
    garbage = error(client.post(f"{BASE}/jobs", json=job_body(starts_at="next tuesday"), headers=headers), 422)
    assert "starts_at" in garbage["fields"]
    past = (utcnow() - timedelta(hours=1)).isoformat()
    fields = error(client.post(f"{BASE}/jobs", json=job_body(starts_at=past, hours=0.2, max_rate_cents=100),
                               headers=headers), 422)["fields"]
    assert {"starts_at", "hours", "max_rate_cents"} <= set(fields)
    missing = error(client.post(f"{BASE}/jobs", json={"title": "x"}, headers=headers), 422)["fields"]
    assert missing["category"] == "This field is required."
    error(client.post(f"{BASE}/jobs", data="nope", content_type="text/plain", headers=headers), 422)
    error(client.post(f"{BASE}/jobs", json=job_body(lat=95), headers=headers), 422)
    error(client.post(f"{BASE}/jobs", json=job_body(), headers=market["tokens"]["w0"]), 403)
    error(client.post(f"{BASE}/jobs", json=job_body()), 401)


def test_matches(client, market):
    job = post_job(client, market)
    resp = client.get(f"{BASE}/jobs/{job['id']}/matches", headers=market["tokens"]["client"])
    matches = resp.get_json()["matches"]
    assert {m["worker_id"] for m in matches} == {w.id for w in market["workers"]}
    assert set(matches[0]) >= {"worker_id", "score", "distance_km", "rating", "hours_this_period", "reasons"}
    assert matches[0]["distance_km"] == 0 and matches[0]["hours_this_period"] == 2.5
    assert [m["score"] for m in matches] == sorted((m["score"] for m in matches), reverse=True)
    headers, _ = holder(market, job["id"])
    error(client.get(f"{BASE}/jobs/{job['id']}/matches", headers=headers), 403)
    error(client.get(f"{BASE}/jobs/{job['id']}/matches", headers=market["tokens"]["other_client"]), 404)


def test_offers_accept_and_decline(client, market):
    job = post_job(client, market)
    url = f"{BASE}/jobs/{job['id']}"
    winner_headers, winner = holder(market, job["id"], 0)
    loser_headers, _ = holder(market, job["id"], 1)
    decliner_headers, _ = holder(market, job["id"], 2)
    listed = client.get(f"{BASE}/me/offers", headers=winner_headers).get_json()["offers"]
    assert [(o["job_id"], o["status"]) for o in listed] == [(job["id"], "pending")]
    assert "address" not in listed[0]["job"] and listed[0]["reasons"]
    error(client.get(f"{BASE}/me/offers", headers=market["tokens"]["client"]), 403)
    assert client.post(f"{url}/decline", headers=decliner_headers).get_json()["status"] == "declined"
    accepted = client.post(f"{url}/accept", headers=winner_headers)
    assert accepted.status_code == 200
    assert (accepted.get_json()["status"], accepted.get_json()["worker_id"]) == ("accepted", winner.id)
    assert accepted.get_json()["address"] == "9 Secret Way"
    again = client.post(f"{url}/accept", headers=winner_headers)
    assert again.status_code == 200 and again.get_json()["worker_id"] == winner.id
    assert "Another worker" in error(client.post(f"{url}/accept", headers=loser_headers), 409, "conflict")["message"]
    error(client.post(f"{url}/decline", headers=loser_headers), 409)
    error(client.post(f"{url}/accept", headers=market["tokens"]["stranger"]), 404)
    error(client.post(f"{url}/accept", headers=market["tokens"]["client"]), 403)
    error(client.post(f"{BASE}/jobs/424242/accept", headers=winner_headers), 404)
    error(client.post(f"{url}/accept"), 401)
    assert client.get(f"{BASE}/me/offers", headers=winner_headers).get_json() == {"offers": []}


def test_the_gig_lifecycle(client, market):
    job = post_job(client, market)
    url = f"{BASE}/jobs/{job['id']}"
    owner = market["tokens"]["client"]
    worker_headers, worker = holder(market, job["id"])
    error(client.post(f"{url}/start", headers=worker_headers), 403)  # not theirs yet
    client.post(f"{url}/accept", headers=worker_headers)
    error(client.post(f"{url}/confirm", headers=owner), 409)
    error(client.post(f"{url}/start", headers=owner), 403)
    started = client.post(f"{url}/start", headers=worker_headers)
    assert started.status_code == 200 and started.get_json()["status"] == "in_progress"
    assert "hours" in error(client.post(f"{url}/complete", json={"hours": "lots"}, headers=worker_headers),
                            422)["fields"]
    error(client.post(f"{url}/complete", json={}, headers=worker_headers), 422)
    done = client.post(f"{url}/complete", json={"hours": "2:15"}, headers=worker_headers).get_json()
    assert (done["status"], done["actual_minutes"]) == ("completed", 135)
    error(client.post(f"{url}/dispute", json={"reason": ""}, headers=owner), 422)
    error(client.post(f"{url}/dispute", json={}, headers=owner), 422)
    error(client.post(f"{url}/dispute", json={"reason": "x"}, headers=worker_headers), 403)
    error(client.post(f"{url}/confirm", headers=market["tokens"]["other_client"]), 404)
    confirmed = client.post(f"{url}/confirm", headers=owner).get_json()
    assert confirmed["status"] == "confirmed" and "review" not in confirmed["allowed_actions"]
    error(client.post(f"{url}/cancel", json={}, headers=owner), 409)
    review = client.post(f"{url}/reviews", json={"stars": 5, "body": "Sparkling"}, headers=owner)
    assert review.status_code == 201 and review.get_json()["published_at"] is None
    error(client.post(f"{url}/reviews", json={"stars": 5, "body": "Again"}, headers=owner), 409)
    error(client.post(f"{url}/reviews", json={"stars": 6, "body": "x"}, headers=worker_headers), 422)
    error(client.post(f"{url}/reviews", json={"stars": 5, "body": "x"}, headers=market["tokens"]["stranger"]), 404)
    theirs = client.post(f"{url}/reviews", json={"stars": 4, "body": "Friendly"}, headers=worker_headers).get_json()
    assert theirs["published_at"] is not None
    final = client.get(url, headers=owner).get_json()
    assert (final["status"], final["worker_id"]) == ("reviewed", worker.id)


def test_dispute_cancel_withdraw_and_invite(client, market):
    owner = market["tokens"]["client"]
    job = post_job(client, market)
    url = f"{BASE}/jobs/{job['id']}"
    worker_headers, worker = holder(market, job["id"])
    client.post(f"{url}/accept", headers=worker_headers)
    withdrawn = client.post(f"{url}/withdraw", json={"reason": "sick"}, headers=worker_headers)
    assert withdrawn.status_code == 200 and withdrawn.get_json()["status"] == "offered"
    error(client.post(f"{url}/withdraw", json={}, headers=worker_headers), 403)  # no longer theirs
    cancelled = client.post(f"{url}/cancel", json={"reason": "found a friend"}, headers=owner)
    assert cancelled.get_json()["status"] == "cancelled"
    error(client.post(f"{url}/cancel", json={}, headers=owner), 409)
    error(client.post(f"{url}/cancel", json={}, headers=market["tokens"]["other_client"]), 404)

    chosen = market["workers"][2]
    invited = post_job(client, market, invite_worker_id=chosen.id, starts_at=local_start(days=4).isoformat())
    assert [(o.worker_id, o.invited) for o in offers_of(invited["id"], "pending")] == [(chosen.id, True)]
    bad = error(client.post(f"{BASE}/jobs", json=job_body(invite_worker_id=market["stranger"].id), headers=owner),
                422)
    assert "invite_worker_id" in bad["fields"]
    second = post_job(client, market, starts_at=local_start(days=5).isoformat())
    url2 = f"{BASE}/jobs/{second['id']}"
    headers2, decliner = holder(market, second["id"])
    client.post(f"{url2}/decline", headers=headers2)
    reinvite = client.post(f"{url2}/invite", json={"worker_id": decliner.id}, headers=owner)
    assert reinvite.status_code == 200 and reinvite.get_json()["status"] == "offered"
    assert [o.worker_id for o in offers_of(second["id"], "pending")] == [decliner.id]
    error(client.post(f"{url2}/invite", json={"worker_id": "x"}, headers=owner), 422)
    error(client.post(f"{url2}/invite", json={"worker_id": decliner.id}, headers=headers2), 403)
    error(client.post(f"{url2}/invite", json={"worker_id": decliner.id}, headers=market["tokens"]["stranger"]), 404)

    third = post_job(client, market, starts_at=local_start(days=6).isoformat())
    url3 = f"{BASE}/jobs/{third['id']}"
    headers3, worker3 = holder(market, third["id"])
    client.post(f"{url3}/accept", headers=headers3)
    client.post(f"{url3}/start", headers=headers3)
    client.post(f"{url3}/complete", json={"hours": 3}, headers=headers3)
    disputed = client.post(f"{url3}/dispute", json={"reason": "Two windows left dirty"}, headers=owner)
    assert disputed.status_code == 200 and disputed.get_json()["status"] == "disputed"
    gigs.resolve_dispute(third["id"], market["admin"].id, "Refund agreed")
    assert client.get(url3, headers=owner).get_json()["status"] == "confirmed"


def test_messages(client, market):
    owner = market["tokens"]["client"]
    job = post_job(client, market)
    url = f"{BASE}/jobs/{job['id']}/messages"
    worker_headers, _ = holder(market, job["id"], 0)
    other_headers, _ = holder(market, job["id"], 1)
    error(client.post(url, json={"body": "Hi"}, headers=owner), 409)  # nobody has accepted yet
    client.post(f"{BASE}/jobs/{job['id']}/accept", headers=worker_headers)
    sent = client.post(url, json={"body": "Gate code is 1234"}, headers=owner)
    assert sent.status_code == 201 and sent.get_json()["body"] == "Gate code is 1234"
    assert client.post(url, json={"body": "Thanks!"}, headers=worker_headers).status_code == 201
    thread = client.get(url, headers=worker_headers).get_json()["messages"]
    assert [m["body"] for m in thread] == ["Gate code is 1234", "Thanks!"]
    error(client.post(url, json={"body": "   "}, headers=owner), 422)
    error(client.post(url, json={"text": "wrong key"}, headers=owner), 422)
    error(client.post(url, json={"body": "Me too?"}, headers=other_headers), 403)
    error(client.get(url, headers=other_headers), 403)
    error(client.get(url, headers=market["tokens"]["other_client"]), 404)
    error(client.get(url), 401)
    assert len(client.get(url, headers=market["tokens"]["admin"]).get_json()["messages"]) == 2


def test_openapi_documents_the_marketplace(client):
    doc = client.get(f"{BASE}/openapi.json").get_json()
    paths = doc["paths"]
    for path, method in [("/api/v1/categories", "get"), ("/api/v1/me/profile", "put"), ("/api/v1/jobs", "post"),
                         ("/api/v1/jobs/{job_id}", "get"), ("/api/v1/jobs/{job_id}/matches", "get"),
                         ("/api/v1/me/offers", "get"), ("/api/v1/jobs/{job_id}/accept", "post"),
                         ("/api/v1/jobs/{job_id}/decline", "post"), ("/api/v1/jobs/{job_id}/start", "post"),
                         ("/api/v1/jobs/{job_id}/complete", "post"), ("/api/v1/jobs/{job_id}/confirm", "post"),
                         ("/api/v1/jobs/{job_id}/dispute", "post"), ("/api/v1/jobs/{job_id}/cancel", "post"),
                         ("/api/v1/jobs/{job_id}/reviews", "post"), ("/api/v1/jobs/{job_id}/messages", "post"),
                         ("/api/v1/jobs/{job_id}/messages", "get")]:
        assert method in paths[path], (path, method)
    assert paths["/api/v1/jobs"]["post"]["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/JobRequest"}
    assert "409" in paths["/api/v1/jobs/{job_id}/accept"]["post"]["responses"]
    assert "security" not in paths["/api/v1/categories"]["get"]
    schemas = doc["components"]["schemas"]
    assert {"Job", "JobRequest", "ProfileRequest", "MatchList", "Offer", "Review", "Message"} <= set(schemas)

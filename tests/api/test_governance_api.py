"""The governance API: proposals, ballots (open and secret), results, comments, my membership, OpenAPI."""

from __future__ import annotations

from governance_support import add_member, after

from marketplace.services import fees, governance


def test_openapi_lists_the_governance_operations(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    paths = spec["paths"]
    assert {"get", "post"} <= set(paths["/api/v1/proposals"])
    for path in ("/api/v1/proposals/{proposal_id}", "/api/v1/proposals/{proposal_id}/results",
                 "/api/v1/me/membership"):
        assert "get" in paths[path]
    assert "post" in paths["/api/v1/proposals/{proposal_id}/ballots"]
    assert "BallotReceipt" in spec["components"]["schemas"]


def test_table_vote_and_read_results(client, api_token, make_user, db):
    alice, bob = add_member(make_user, name="Alice"), add_member(make_user, name="Bob")
    headers = api_token(alice)
    resp = client.post("/api/v1/proposals", headers=headers, json={
        "kind": "fee_change", "title": "Fee down to 4.5%",
        "params": {"percent": "4.5", "effective_from": fees.local_date().isoformat()}})
    assert resp.status_code == 201, resp.get_json()
    proposal = resp.get_json()
    assert proposal["status"] == "open" and proposal["me"] == {"eligible": True, "voted": False, "choice": None}
    pid = proposal["id"]
    vote = client.post(f"/api/v1/proposals/{pid}/ballots", headers=api_token(bob), json={"choice": "for"})
    assert vote.status_code == 201 and vote.get_json() == {"choice": "for", "changed": False, "ballot_token": None}
    results = client.get(f"/api/v1/proposals/{pid}/results", headers=headers).get_json()
    assert results["voted"] == 1 and [o["votes"] for o in results["options"]] == [1, 0, 0]
    listed = client.get("/api/v1/proposals?status=open", headers=headers).get_json()["proposals"]
    assert [p["id"] for p in listed] == [pid]
    assert client.get("/api/v1/proposals?status=closed", headers=headers).get_json()["proposals"] == []


def test_secret_ballot_over_the_api(client, api_token, make_user, db):
    voters = [add_member(make_user, name=n) for n in ("Ada", "Ben", "Cy")]
    proposal = governance.table_proposal(voters[0].id, "election", "Treasurer", "", {
        "office": "treasurer", "seats": 1, "candidate_ids": [voters[1].id, voters[2].id]})
    headers = api_token(voters[0])
    path = f"/api/v1/proposals/{proposal.id}/ballots"
    first = client.post(path, headers=headers, json={"choice": str(voters[1].id)}).get_json()
    assert first["ballot_token"]
    again = client.post(path, headers=headers, json={"choice": str(voters[2].id)})
    assert again.status_code == 409 and "ballot_token" in again.get_json()["error"]["fields"]
    changed = client.post(path, headers=headers, json={"choice": str(voters[2].id),
                                                       "ballot_token": first["ballot_token"]})
    assert changed.status_code == 201 and changed.get_json()["changed"] is True
    detail = client.get(f"/api/v1/proposals/{proposal.id}", headers=headers).get_json()
    assert detail["counts_visible"] is False and {o["votes"] for o in detail["options"]} == {None}
    assert detail["roll"] == [] and detail["me"]["voted"] is True and detail["me"]["choice"] is None
    governance.close_proposal(proposal.id, after(proposal))
    results = client.get(f"/api/v1/proposals/{proposal.id}/results", headers=headers).get_json()
    assert results["status"] == "passed" and [o["votes"] for o in results["options"]] == [0, 1, 0]


def test_refusals_are_clear_4xx(client, api_token, make_user, db):
    alice = add_member(make_user)
    outsider = make_user("worker")
    proposal = governance.table_proposal(alice.id, "general", "Plant a tree", "")
    path = f"/api/v1/proposals/{proposal.id}/ballots"
    assert client.post(path, json={"choice": "for"}).status_code == 401
    assert client.post(path, headers=api_token(outsider), json={"choice": "for"}).status_code == 403
    assert client.get(f"/api/v1/proposals/{proposal.id}", headers=api_token(outsider)).status_code == 403
    headers = api_token(alice)
    bad = client.post(path, headers=headers, json={"choice": "maybe"})
    assert bad.status_code == 422 and "choice" in bad.get_json()["error"]["fields"]
    assert client.post(path, headers=headers, json={}).status_code == 422
    assert client.get("/api/v1/proposals/999", headers=headers).status_code == 404
    assert client.get("/api/v1/proposals?status=weird", headers=headers).status_code == 422
    missing = client.post("/api/v1/proposals", headers=headers, json={"kind": "fee_change", "title": "Fee change",
                                                                      "params": {}})
    assert missing.status_code == 422 and {"percent", "effective_from"} <= set(missing.get_json()["error"]["fields"])
    closed = governance.get_proposal(proposal.id)
    governance.close_proposal(closed.id, after(closed))
    assert client.post(path, headers=headers, json={"choice": "for"}).status_code == 409


def test_comments_and_my_membership(client, api_token, make_user, db):
    alice = add_member(make_user, name="Alice")
    proposal = governance.table_proposal(alice.id, "general", "Plant a tree", "")
    headers = api_token(alice)
    resp = client.post(f"/api/v1/proposals/{proposal.id}/comments", headers=headers, json={"body": "An oak"})
    assert resp.status_code == 201 and resp.get_json()["author"] == "Alice"
    comments = client.get(f"/api/v1/proposals/{proposal.id}", headers=headers).get_json()["comments"]
    assert [c["body"] for c in comments] == ["An oak"]
    mine = client.get("/api/v1/me/membership", headers=headers).get_json()
    assert mine["status"] == "member" and mine["member_number"] == 1 and mine["good_standing"] is True
    worker = client.get("/api/v1/me/membership", headers=api_token(make_user("worker"))).get_json()
    assert worker["status"] == "probationary" and worker["can_apply"] is True

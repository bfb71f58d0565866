"""The governance area through the browser forms: my membership, tabling, voting (open and secret),
discussion, the member register and its CSV."""

from __future__ import annotations

import csv
import io
from datetime import date

from governance_support import add_applicant, add_member
from sqlalchemy import select

from marketplace.models import Ballot, FeeRate, Membership, Proposal, SharePayment
from marketplace.services import fees, governance


def post(client, get_csrf, path: str, data: dict, form_page: str | None = None):
    return client.post(path, data={**data, "csrf_token": get_csrf(client, form_page or path)})


def test_governance_is_for_the_coops_people(client, login, make_user):
    assert client.get("/governance/").status_code == 302
    login(make_user("client"))
    assert client.get("/governance/").status_code == 403


def test_a_probationary_worker_sees_eligibility_but_no_proposals(client, login, make_user, db):
    worker = make_user("worker")
    login(worker)
    page = client.get("/governance/").get_data(as_text=True)
    assert "Hours of confirmed gigs" in page and "0 of 100" in page and "Apply for membership" not in page
    assert client.get("/governance/proposals").status_code == 403
    assert 'href="/governance/"' in client.get("/dashboard").get_data(as_text=True)


def test_a_member_tables_a_fee_change_and_it_opens(client, login, make_user, get_csrf, db):
    member = add_member(make_user, name="Mia Member")
    add_member(make_user)
    login(member)
    home = client.get("/governance/").get_data(as_text=True)
    assert "Member number" in home and "Table a proposal" in home
    form = "/governance/proposals/new/fee_change"
    bad = post(client, get_csrf, form, {"title": "Lower the fee", "percent": "101", "mode": "deducted",
                                        "effective_from": "2020-01-01"})
    assert bad.status_code == 200
    text = bad.get_data(as_text=True)
    assert "Enter a fee from 0 to 100" in text and "today or later" in text
    resp = post(client, get_csrf, form, {"title": "Lower the fee to 4%", "body": "We can afford it.", "percent": "4",
                                         "mode": "deducted", "effective_from": fees.local_date().isoformat(),
                                         "min_fee": "", "max_fee": "2.50"})
    assert resp.status_code == 302
    proposal = db.session.scalar(select(Proposal))
    assert proposal.kind == "fee_change" and proposal.eligible_count == 2
    page = client.get(resp.location).get_data(as_text=True)
    assert "Lower the fee to 4%" in page and "maximum $2.50" in page and "Cast my vote" in page


def test_open_vote_shows_each_members_choice_and_can_change(client, login, make_user, get_csrf, db):
    alice, bob = add_member(make_user, name="Alice"), add_member(make_user, name="Bob")
    proposal = governance.table_proposal(alice.id, "general", "Plant a tree", "")
    login(bob)
    path = f"/governance/proposals/{proposal.id}"
    assert post(client, get_csrf, path + "/vote", {"choice": "against"}, path).status_code == 302
    assert post(client, get_csrf, path + "/vote", {"choice": "for"}, path).status_code == 302
    page = client.get(path).get_data(as_text=True)
    assert "You have voted" in page and "How members voted" in page
    assert "<td>Bob</td><td>For</td>" in page and "<td>Alice</td><td>—</td>" in page
    outsider = make_user("worker", "member")
    client.post("/logout", data={"csrf_token": get_csrf(client, path)})
    login(outsider)
    assert "Only members in good standing when this vote opened" in client.get(path).get_data(as_text=True)
    refused = post(client, get_csrf, path + "/vote", {"choice": "for"}, path)
    assert refused.status_code == 403 and "Only members in good standing" in refused.get_data(as_text=True)


def test_secret_vote_receipt_stays_in_the_browser(client, login, make_user, get_csrf, db, app):
    voters = [add_member(make_user, name=n) for n in ("Ada", "Ben", "Cy")]
    proposal = governance.table_proposal(voters[0].id, "election", "Elect the treasurer", "", {
        "office": "treasurer", "seats": 1, "candidate_ids": [voters[1].id, voters[2].id]})
    login(voters[0])
    path = f"/governance/proposals/{proposal.id}"
    first = post(client, get_csrf, path + "/vote", {"choice": str(voters[1].id)}, path)
    page = client.get(first.location).get_data(as_text=True)
    assert "Your receipt code is" in page and "count of a secret ballot is published when the vote closes" in page
    changed = post(client, get_csrf, path + "/vote", {"choice": str(voters[2].id)}, path)
    assert "Your vote is changed." in client.get(changed.location).get_data(as_text=True)
    assert [b.option_id for b in db.session.scalars(select(Ballot))] == [proposal.options[1].id]
    other = app.test_client()  # another browser: no receipt in its session
    login(voters[0], test_client=other)
    assert 'name="ballot_token"' in other.get(path).get_data(as_text=True)
    refused = post(other, get_csrf, path + "/vote", {"choice": str(voters[1].id)}, path)
    assert "receipt code" in other.get(refused.location).get_data(as_text=True)


def test_discussion(client, login, make_user, get_csrf, db):
    alice = add_member(make_user, name="Alice")
    proposal = governance.table_proposal(alice.id, "general", "Plant a tree", "")
    login(alice)
    path = f"/governance/proposals/{proposal.id}"
    post(client, get_csrf, path + "/comments", {"body": "An oak, <please>."}, path)
    page = client.get(path).get_data(as_text=True)
    assert "An oak, &lt;please&gt;." in page


def test_election_form_lists_candidates(client, login, make_user, get_csrf, db):
    alice = add_member(make_user, name="Alice Able")
    add_applicant(make_user, name="Carl Applicant")
    login(alice)
    page = client.get("/governance/proposals/new/election").get_data(as_text=True)
    assert "Alice Able" in page and "Carl Applicant" not in page
    assert "Carl Applicant" in client.get("/governance/proposals/new/admission").get_data(as_text=True)
    assert client.get("/governance/proposals/new/king").status_code == 404


def test_worker_applies_from_the_governance_page(client, login, make_user, get_csrf, db):
    from marketplace.services import settings

    settings.set_value("membership_min_hours", "0", date(2020, 1, 1))
    settings.set_value("membership_min_months", "0", date(2020, 1, 1))
    db.session.commit()
    worker = make_user("worker")
    login(worker)
    resp = post(client, get_csrf, "/governance/membership/apply", {"note": "I love this co-op"}, "/governance/")
    assert "Your application is in" in client.get(resp.location).get_data(as_text=True)
    assert db.session.get(Membership, worker.id).status == "applicant"


def test_register_admit_pay_and_export(client, login, make_user, get_csrf, db):
    admin = make_user("admin")
    add_member(make_user, name="Zoe Member")
    applicant = add_applicant(make_user, name="Cy Applicant")
    login(admin)
    page = client.get("/board/members/").get_data(as_text=True)
    assert "Zoe Member" in page and "Cy Applicant" in page
    assert "Zoe Member" not in client.get("/board/members/?status=applicant").get_data(as_text=True)
    path = f"/board/members/{applicant.id}"
    resp = post(client, get_csrf, path + "/admit", {"share_plan": "lump", "effective_on": ""}, path)
    assert resp.status_code == 302
    bad = post(client, get_csrf, path + "/payments", {"amount": "500.00", "paid_on": fees.local_date().isoformat(),
                                                      "reference": "BANK-77"}, path)
    assert bad.status_code == 422 and "still due" in bad.get_data(as_text=True)
    ok = post(client, get_csrf, path + "/payments", {"amount": "100.00", "paid_on": fees.local_date().isoformat(),
                                                     "reference": "BANK-77"}, path)
    assert ok.status_code == 302 and db.session.scalar(select(SharePayment.amount_cents)) == 10000
    export = client.get("/board/members/register.csv")
    assert export.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(export.get_data(as_text=True))))
    assert [(r["member_number"], r["name"], r["share_paid"]) for r in rows] == [
        ("1", "Zoe Member", "100.00"), ("2", "Cy Applicant", "100.00")]


def test_register_is_for_board_and_treasurer(client, login, make_user):
    login(add_member(make_user))
    assert client.get("/board/members/").status_code == 403
    assert client.get("/board/members/register.csv").status_code == 403


def test_fee_effect_is_visible_on_the_proposal_page(client, login, make_user, get_csrf, db):
    from datetime import timedelta

    from governance_support import after, during

    from marketplace.models.base import utcnow
    from marketplace.services import governance_ballots

    voters = [add_member(make_user) for _ in range(2)]
    proposal = governance.table_proposal(voters[0].id, "fee_change", "Fee 4%", "", {
        "percent": "4", "effective_from": fees.local_date().isoformat()}, now=utcnow() - timedelta(days=20))
    for voter in voters:
        governance_ballots.cast_vote(proposal.id, voter.id, "for", now=during(proposal))
    governance.close_due_proposals(after(proposal))
    assert db.session.scalar(select(FeeRate.percent_bp)) == 400
    login(voters[1])
    page = client.get(f"/governance/proposals/{proposal.id}").get_data(as_text=True)
    assert "Passed" in page and "Applied" in page and "Fee 4% (deducted) from" in page
    assert "Past decisions" in client.get("/governance/").get_data(as_text=True)

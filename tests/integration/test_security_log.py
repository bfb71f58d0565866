"""The security log (audit_events): sign-ins and their failures, logouts, API tokens, role changes, money
actions and votes each leave a row with who, what and from where; a vote's row records that a member voted,
never how."""

from __future__ import annotations

from flask import url_for
from governance_support import OPENED, during, members
from sqlalchemy import select
from treasury_helpers import approved_and_queued, confirmed_gig, period_2025

from marketplace.models import AuditEvent, ProposalOption
from marketplace.services import billing, dividend_run, governance, governance_ballots, payments
from money_support import make_job, set_status
from support import TEST_PASSWORD


def events(action: str) -> list[AuditEvent]:
    from marketplace.extensions import db

    db.session.expire_all()
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)))


def sign_in(client, get_csrf, email: str, password: str):
    token = get_csrf(client, url_for("auth.login"))
    return client.post(url_for("auth.login"), data={"email": email, "password": password, "csrf_token": token},
                       environ_base={"REMOTE_ADDR": "127.0.0.9"})


def test_sign_ins_failures_and_logouts_are_logged_with_the_address(client, get_csrf, make_user):
    user = make_user("worker")
    assert sign_in(client, get_csrf, user.email, "wrong-password").status_code == 200
    assert sign_in(client, get_csrf, "nobody@example.org", "Hunter2-secret").status_code == 200
    assert sign_in(client, get_csrf, user.email, TEST_PASSWORD).status_code == 302

    wrong, unknown = events("login.failed")
    assert (wrong.actor_id, wrong.subject_id, wrong.ip_address) == (user.id, user.id, "127.0.0.9")
    assert unknown.actor_id is None and unknown.ip_address == "127.0.0.9"
    assert "nobody@example.org" not in (unknown.detail or "") and "Hunter2" not in (unknown.detail or "")
    [success] = events("login.succeeded")
    assert (success.actor_id, success.ip_address) == (user.id, "127.0.0.9")

    token = get_csrf(client, "/dashboard")
    assert client.post(url_for("auth.logout"), data={"csrf_token": token}).status_code == 302
    [logout] = events("logout")
    assert (logout.actor_id, logout.subject_type, logout.subject_id) == (user.id, "User", user.id)


def test_api_tokens_issued_and_revoked_are_logged(client, make_user):
    user = make_user("client")
    resp = client.post("/api/v1/auth/tokens", json={"email": user.email, "password": TEST_PASSWORD})
    headers = {"Authorization": f"Bearer {resp.get_json()['token']}"}
    assert client.delete("/api/v1/auth/tokens/current", headers=headers).status_code == 204
    assert [e.actor_id for e in events("api_token.issued")] == [user.id]
    assert [e.actor_id for e in events("api_token.revoked")] == [user.id]
    assert client.post("/api/v1/auth/tokens", json={"email": user.email, "password": "nope"}).status_code == 401
    assert [e.actor_id for e in events("login.failed")] == [user.id]


def test_accounts_created_and_roles_granted_from_the_command_line_are_logged(runner):
    result = runner.invoke(args=["users", "create", "treasurer@example.org", "--password", "plum-tree-harbour",
                                 "--role", "treasurer", "--role", "member"])
    assert result.exit_code == 0, result.output
    [created] = events("account.created")
    assert created.detail == "roles: member, treasurer"
    result = runner.invoke(args=["users", "grant", "treasurer@example.org", "admin"])
    assert result.exit_code == 0, result.output
    [granted] = events("role.granted")
    assert (granted.subject_id, granted.detail) == (created.subject_id, "admin")


def test_a_card_capture_is_logged(app, make_user):
    client, worker = make_user("client"), make_user("worker", "member")
    payments.save_test_card(client.id, "4242424242424242")
    job = make_job(client, worker, status="accepted", rate_cents=3_000, estimated_minutes=120)
    billing.on_gig_accepted(job.id)
    set_status(job.id, "confirmed", actual_minutes=120)
    billing.on_gig_confirmed(job.id)
    billing.on_gig_confirmed(job.id)  # a repeat charges nothing and logs nothing
    [captured] = events("payment.captured")
    assert captured.subject_type == "Payment" and captured.detail == f"gig {job.id}: 6000 cents by card"


def test_a_failed_dividend_run_is_logged(app, make_user):
    treasurer, admin = make_user("treasurer", "member"), make_user("admin")
    worker, client = make_user("worker", "member"), make_user("client")
    confirmed_gig(worker, client, minutes=120, earnings_cents=6_000, fee_cents=300)
    period = period_2025(treasurer, admin)
    run = approved_and_queued(period, treasurer, admin)
    assert [e.actor_id for e in events("dividend.started")] == [treasurer.id]
    token = dividend_run.claim(run.id, None)
    dividend_run.fail(run.id, token, "figures do not add up")
    dividend_run.fail(run.id, token, "figures do not add up")  # no longer held: nothing more to log
    [failed] = events("dividend.failed")
    assert (failed.subject_type, failed.subject_id, failed.detail) == ("DividendRun", run.id, "figures do not add up")


def _option_values(proposal) -> set[str]:
    from marketplace.extensions import db

    return set(db.session.scalars(select(ProposalOption.value).where(ProposalOption.proposal_id == proposal.id)))


def test_votes_are_logged_without_the_choice(app, make_user):
    voters = members(make_user, 3)
    open_vote = governance.table_proposal(voters[0].id, "general", "Buy a van", "", now=OPENED)
    election = governance.table_proposal(voters[0].id, "election", "Elect the treasurer", "", {
        "office": "treasurer", "seats": 1, "candidate_ids": [voters[1].id, voters[2].id]}, now=OPENED)
    governance_ballots.cast_vote(open_vote.id, voters[0].id, "for", now=during(open_vote, 1))
    governance_ballots.cast_vote(open_vote.id, voters[0].id, "against", now=during(open_vote, 2))
    governance_ballots.cast_vote(election.id, voters[1].id, str(voters[2].id), now=during(election, 1))

    cast, changed = events("vote.cast"), events("vote.changed")
    assert [(e.actor_id, e.subject_id) for e in cast] == [(voters[0].id, open_vote.id), (voters[1].id, election.id)]
    assert [(e.actor_id, e.subject_id) for e in changed] == [(voters[0].id, open_vote.id)]
    choices = _option_values(open_vote) | _option_values(election) | {"for", "against", str(voters[2].id)}
    for event in cast + changed:
        assert event.detail not in choices
        assert not any(choice in (event.detail or "").split() for choice in choices)
    assert {e.detail for e in cast + changed} == {"open ballot", "secret ballot"}


def test_money_and_membership_actions_keep_their_existing_log_rows(app, make_user):
    """Money actions logged before this file existed keep doing so (a guard against losing them)."""
    from marketplace.services import invoices

    client, worker = make_user("client"), make_user("worker", "member")
    job = make_job(client, worker, status="accepted", rate_cents=2_000, estimated_minutes=60)
    billing.on_gig_accepted(job.id)  # no card on file: the gig is invoiced
    set_status(job.id, "confirmed", actual_minutes=60)
    billing.on_gig_confirmed(job.id)
    invoice = invoices.open_invoices()[0]
    admin = make_user("admin")
    invoices.mark_invoice_paid(invoice.id, admin.id)
    assert [e.actor_id for e in events("invoice.paid")] == [admin.id]
    assert events("payment.captured") == []  # an invoice is not a card capture

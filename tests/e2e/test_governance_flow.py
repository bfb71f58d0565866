"""A member tables a fee change in the browser, members vote, it passes, and a gig booked afterwards is
charged the new fee on its receipt — against the live server and a real Celery worker."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from playwright.sync_api import expect
from sqlalchemy import func, select

from e2e_helpers import log_in, screenshot

WORKER = "worker02@demo.coop"
CLIENT = "client@demo.coop"
ALL_WEEK = [(day, "00:00", "24:00") for day in range(7)]


def _prepare(live_server) -> int:
    """The demo register and a bookable worker (idempotent); returns the worker's id."""
    from marketplace.extensions import db
    from marketplace.models import Membership, User
    from marketplace.services import demo_governance, profiles

    with live_server.app.app_context():
        if not db.session.scalar(select(func.count()).select_from(Membership)):
            demo_governance.seed_governance()
        worker = db.session.scalar(select(User).where(User.email == WORKER))
        profiles.save_profile(worker.id, bio="Careful and quick.", neighbourhood="Downtown", lat=None, lng=None,
                              radius_km=15, services=[("house-cleaning", 3000)], windows=ALL_WEEK, blocked_dates=[])
        return worker.id


def _other_members_vote_for(live_server, proposal_id: int, skip: set[str]) -> None:
    from marketplace.extensions import db
    from marketplace.models import Participation, User
    from marketplace.services import governance_ballots

    with live_server.app.app_context():
        rows = db.session.execute(select(User.id, User.email).join(Participation, Participation.member_id == User.id)
                                  .where(Participation.proposal_id == proposal_id).order_by(User.id)).all()
        for user_id, email in [r for r in rows if r.email not in skip][:12]:
            governance_ballots.cast_vote(proposal_id, user_id, "for")


def _close_at_end_of_window(live_server, proposal_id: int) -> str:
    """The closing service, run as the beat task runs it once the window has ended."""
    from marketplace.services import governance

    with live_server.app.app_context():
        proposal = governance.get_proposal(proposal_id)
        return governance.close_proposal(proposal_id, proposal.closes_at + timedelta(seconds=1))


def _book_gig(live_server, worker_id: int) -> int:
    """The client posts a job and invites the worker (the worker accepts it in the browser)."""
    from marketplace.extensions import db
    from marketplace.models import User
    from marketplace.services import fees, jobs

    with live_server.app.app_context():
        client = db.session.scalar(select(User).where(User.email == CLIENT))
        starts = datetime.combine(fees.local_date() + timedelta(days=2), time(10))  # naive: the co-op's clock
        job = jobs.post_job(client.id, category="house-cleaning", title="Spring clean after the vote",
                            neighbourhood="Downtown", starts_at=starts, hours="2", invite_worker_id=worker_id)
        return job.id


def _do_the_work(live_server, job_id: int, worker_id: int) -> None:
    from marketplace.extensions import db
    from marketplace.models import Job
    from marketplace.services import gigs

    with live_server.app.app_context():
        job = db.session.get(Job, job_id)
        gigs.start_gig(job_id, worker_id)
        gigs.complete_gig(job_id, worker_id, 120)
        gigs.confirm_gig(job_id, job.client_id)


def _page_as(browser, live_server, email: str):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15000)
    log_in(page, email)
    return page


def test_members_vote_a_lower_fee_and_the_next_booking_is_charged_it(page, browser, live_server):
    worker_id = _prepare(live_server)
    from marketplace.services import fees

    with live_server.app.app_context():
        today = fees.local_date().isoformat()

    # A member tables the fee change.
    log_in(page, "member@demo.coop")
    page.locator(".nav-menu > summary", has_text="Co-op").click()
    page.get_by_role("link", name="Votes and decisions").click()
    expect(page.get_by_role("heading", name="My membership")).to_be_visible()
    screenshot(page, "governance-home")
    page.get_by_role("link", name="Table a proposal").click()
    page.get_by_role("link", name="Propose: change of the co-op fee").click()
    page.get_by_label("Title").fill("Lower the co-op fee to 3.5%")
    page.get_by_label("Why").fill("Our costs fell; let the workers keep more of every gig.")
    page.get_by_label("New fee (%)").fill("3.5")
    page.get_by_label("Starts on").fill(today)
    screenshot(page, "governance-table-fee")
    page.get_by_role("button", name="Open the vote").click()
    page.wait_for_url(re.compile(r".*/governance/proposals/\d+$"))
    proposal_id = int(page.url.rsplit("/", 1)[1])
    assert "The co-op fee becomes 3.5%" in page.content()

    # The member votes, then a second member votes from their own browser.
    page.get_by_label("For", exact=True).check()
    page.get_by_role("button", name="Cast my vote").click()
    page.get_by_text("Your vote is cast.").wait_for()
    second = _page_as(browser, live_server, WORKER)
    second.goto(f"/governance/proposals/{proposal_id}")
    second.get_by_label("For", exact=True).check()
    second.get_by_role("button", name="Cast my vote").click()
    second.get_by_text("Your vote is cast.").wait_for()
    assert "How members voted" in second.content()

    # Enough other members vote; the vote closes when its window ends and the effect applies.
    _other_members_vote_for(live_server, proposal_id, {"member@demo.coop", WORKER})
    assert _close_at_end_of_window(live_server, proposal_id) == "passed"
    page.reload()
    expect(page.get_by_text("Passed", exact=True).first).to_be_visible()
    assert f"Fee 3.5% (deducted) from {today}" in page.content()
    screenshot(page, "governance-fee-passed")

    # A new booking: the worker accepts the client's invitation in the browser.
    job_id = _book_gig(live_server, worker_id)
    second.goto("/work/")
    second.locator("article.card", has_text="Spring clean after the vote").get_by_role("button", name="Accept").click()
    second.wait_for_load_state()
    _do_the_work(live_server, job_id, worker_id)

    # The client's receipt charges the fee the members voted.
    client = _page_as(browser, live_server, CLIENT)
    client.goto(f"/gigs/{job_id}/receipt")
    receipt = client.content()
    assert "Co-op fee (3.5%" in receipt and "$2.10" in receipt  # 3.5 % of 2 h at $30
    screenshot(client, "governance-receipt-new-fee")
    assert page.console_errors == []
    second.context.close()
    client.context.close()

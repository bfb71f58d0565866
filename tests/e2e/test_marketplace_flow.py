"""The whole marketplace in a real browser: a client posts a job, an offered worker accepts, starts and completes
it, the client confirms, and both review. Screenshots of every step land in instance/screenshots/."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from e2e_helpers import log_in, screenshot
from marketplace.models import AvailabilityWindow, Job, Offer, User, WorkerProfile, WorkerService
from support import require

LENGTH_MINUTES = 120


def pick_slot(app) -> dict:
    """A demo worker's service, neighbourhood and a weekday daytime inside their weekly availability,
    9–20 days ahead (clear of the demo's own upcoming gigs) and not on one of their blocked dates."""
    from marketplace.extensions import db

    zone = ZoneInfo(app.config["COOP_TIMEZONE"])
    today = datetime.now(zone).date()
    with app.app_context():
        rows = db.session.execute(
            select(WorkerProfile, WorkerService, AvailabilityWindow)
            .join(WorkerService, WorkerService.worker_id == WorkerProfile.user_id)
            .join(AvailabilityWindow, AvailabilityWindow.worker_id == WorkerProfile.user_id)
            .where(AvailabilityWindow.weekday < 5, AvailabilityWindow.start_minute >= 8 * 60,
                   AvailabilityWindow.end_minute - AvailabilityWindow.start_minute >= LENGTH_MINUTES + 30)
            .order_by(WorkerProfile.user_id, AvailabilityWindow.weekday).limit(50)
        ).all()
        require(bool(rows), "the demo seed has no worker profiles with weekday availability")
        for profile, service, window in rows:
            blocked = {b.day for b in profile.blocked_dates}
            for ahead in range(9, 21):
                day = today + timedelta(days=ahead)
                if day.weekday() == window.weekday and day not in blocked:
                    start = -(-window.start_minute // 15) * 15
                    return {"category": service.category.name, "neighbourhood": profile.neighbourhood,
                            "date": day.isoformat(), "time": f"{start // 60:02d}:{start % 60:02d}"}
    pytest.fail("no weekday slot found in the demo workers' availability")


def offered_worker_email(app, job_id: int) -> str:
    from marketplace.extensions import db

    with app.app_context():
        worker_id = db.session.scalar(select(Offer.worker_id).where(Offer.job_id == job_id, Offer.status == "pending")
                                      .order_by(Offer.id))
        assert worker_id is not None, "the job was offered to nobody"
        return db.session.get(User, worker_id).email


def open_request_count(page) -> int:
    caption = page.locator("table caption").inner_text()
    return int(re.match(r"(\d+) open request", caption).group(1))


def job_status(app, job_id: int) -> str:
    from marketplace.extensions import db

    with app.app_context():
        return db.session.scalar(select(Job.status).where(Job.id == job_id))


def test_post_offer_accept_work_confirm_and_review(page, browser, live_server):
    slot = pick_slot(live_server.app)
    title = f"Spring clean {uuid.uuid4().hex[:6]}"

    # The client posts a job and lands on its page with the ranked matches and the offers sent.
    log_in(page, "client@demo.coop")
    page.get_by_role("link", name="Post a job", exact=True).first.click()
    page.get_by_label("What do you need?").select_option(label=slot["category"])
    page.get_by_label("Title").fill(title)
    page.get_by_label("Details").fill("Kitchen, bathroom and two bedrooms. Supplies are in the hall cupboard.")
    page.get_by_label("Neighbourhood").select_option(slot["neighbourhood"])
    page.get_by_label("Street address").fill("4021 Telegraph Avenue, Apt 3")
    page.get_by_label("Date").fill(slot["date"])
    page.get_by_label("Start time").fill(slot["time"])
    page.get_by_label("Estimated hours").fill(str(LENGTH_MINUTES / 60))
    screenshot(page, "flow-01-post-job-form")
    page.get_by_role("button", name="Post the job").click()
    page.wait_for_url("**/jobs/*")
    job_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    assert page.get_by_role("heading", level=1).inner_text().startswith(title)
    expect(page.get_by_role("heading", name="Offers sent")).to_be_visible()
    expect(page.get_by_role("heading", name="Matched workers")).to_be_visible()
    screenshot(page, "flow-02-job-page-with-matches")
    assert job_status(live_server.app, job_id) == "offered"

    # A worker who received the offer sees it with its time left, and accepts.
    email = offered_worker_email(live_server.app, job_id)
    worker_context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    worker = worker_context.new_page()
    worker.set_default_timeout(15000)
    worker_errors: list[str] = []
    worker.on("console", lambda msg: worker_errors.append(msg.text) if msg.type == "error" else None)
    try:
        log_in(worker, email)
        # Open requests near the worker include this one; the second view may come from the page cache.
        worker.goto("/work/requests")
        open_before = open_request_count(worker)
        worker.reload()
        assert open_request_count(worker) == open_before
        worker.get_by_role("link", name="My work", exact=True).first.click()
        card = worker.locator("article.card", has_text=title)
        # The server writes the deadline ("by Thu 26 Nov, 09:43"); app.js turns it into the time left once it runs.
        expect(card.locator("[data-countdown]")).to_have_text(re.compile(r"left$"))
        screenshot(worker, "flow-03-worker-offers")
        card.get_by_role("button", name="Accept").click()
        worker.wait_for_url(f"**/gigs/{job_id}")
        expect(worker.get_by_text("4021 Telegraph Avenue, Apt 3")).to_be_visible()
        screenshot(worker, "flow-04-worker-gig-accepted")
        # Taken, it leaves the open requests at once, whichever server process stored the earlier page.
        worker.goto("/work/requests")
        assert open_request_count(worker) == open_before - 1
        worker.goto(f"/gigs/{job_id}")

        # The worker starts the gig, then completes it with the hours worked.
        worker.get_by_role("button", name="Start the gig").click()
        worker.wait_for_load_state()
        assert "in progress" in worker.get_by_role("heading", level=1).inner_text().lower()
        worker.get_by_label("Hours worked").fill("2.25")
        screenshot(worker, "flow-05-worker-completing")
        worker.get_by_role("button", name="Mark as completed").click()
        worker.get_by_role("status").filter(has_text="Gig completed.").wait_for()
        assert job_status(live_server.app, job_id) == "completed"

        # The client confirms the hours from the job page.
        page.goto(f"/jobs/{job_id}")
        expect(page.get_by_text("2 h 15 min").first).to_be_visible()
        screenshot(page, "flow-06-client-confirms")
        page.get_by_role("button", name="Confirm the hours").click()
        page.get_by_role("status").filter(has_text="the gig is confirmed").wait_for()
        assert job_status(live_server.app, job_id) == "confirmed"

        # Both review: the client first (hidden until the worker writes), then the worker; both publish.
        page.goto(f"/gigs/{job_id}#reviews")
        page.get_by_label("★★★★★ Excellent").check()
        page.get_by_label("Your review").fill("Spotless work, on time and friendly.")
        screenshot(page, "flow-07-client-review-form")
        page.get_by_role("button", name="Submit my review").click()
        page.get_by_text("hidden until the other side").wait_for()
        worker.goto(f"/gigs/{job_id}")
        expect(worker.get_by_text("Spotless work")).to_have_count(0)
        worker.get_by_label("★★★★ Good").check()
        worker.get_by_label("Your review").fill("Clear instructions and a warm welcome.")
        worker.get_by_role("button", name="Submit my review").click()
        worker.get_by_text("Spotless work, on time and friendly.").wait_for()
        screenshot(worker, "flow-08-reviews-published")
        assert job_status(live_server.app, job_id) == "reviewed"

        page.goto("/dashboard")
        screenshot(page, "flow-09-client-dashboard")
        worker.goto("/work/")
        screenshot(worker, "flow-10-worker-my-work")
        assert worker_errors == []
    finally:
        worker_context.close()
    assert page.console_errors == []

"""The year-end dividend in a real browser: the treasurer previews a closed period, an admin approves the run,
the treasurer runs it and watches the progress bar until a real Celery worker has finished, downloads the
allocations CSV and a PDF notice; a member then reads their notice and capital account.

The server here starts without a worker, so the run page is seen queued at 0% before the worker is started
and app.js's polling carries the page to the finished run. Screenshots land in instance/screenshots/.
"""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from playwright.sync_api import expect
from sqlalchemy import select
from treasury_helpers import confirmed_gig

import support
from e2e_helpers import log_in, screenshot

MEMBERS = ("member@demo.coop", "worker02@demo.coop", "worker03@demo.coop", "worker04@demo.coop",
           "worker05@demo.coop", "worker06@demo.coop")


class TreasuryServer(support.LiveServer):
    """The live server plus a Celery worker started on demand."""

    def __init__(self, url, db_url, app, log, env, tmp):
        super().__init__(url=url, db_url=db_url, app=app, log=log)
        self.env, self.tmp, self.worker = env, tmp, None

    def start_worker(self):
        if self.worker is None:
            self.worker = support.start_celery_worker(self.env, self.tmp / "worker.log")


@pytest.fixture(scope="module")
def live_server(database_template, broker_urls, tmp_path_factory):
    """gunicorn on a seeded demo database; the worker writes one member per batch (visible progress)."""
    from marketplace import create_app

    tmp = tmp_path_factory.mktemp("treasury-live")
    kind, location = database_template
    if kind == "sqlite":
        db_url = support.copy_sqlite(location, tmp / "live.sqlite")
    else:
        db_url = support.create_postgres_database(support.postgres_url())
        support.migrate_database(db_url)
    broker, results = broker_urls
    env = support.process_env(db_url, broker, results, tmp / "instance", FLASK_DIVIDEND_BATCH_SIZE="1")
    support.run_flask(env, "seed-demo")
    checker = create_app("testing", {"SQLALCHEMY_DATABASE_URI": db_url})
    checker.extensions["celery"].conf.update(broker_url=broker, result_backend=results)
    checker.extensions["celery"].control.purge()
    server = support.start_gunicorn(env, tmp / "gunicorn.log")
    live = TreasuryServer(server.url, db_url, checker, tmp / "gunicorn.log", env, tmp)
    try:
        yield live
    finally:
        if live.worker is not None:
            support.stop_process(live.worker)
        support.stop_process(server.proc)
        with checker.app_context():
            from marketplace.extensions import db

            db.engine.dispose()
        if kind == "postgresql":
            support.drop_postgres_database(db_url)


def closed_period_with_patronage(app) -> str:
    """A period two years back, with confirmed member gigs and an approved policy, closed: ready to preview."""
    from marketplace.extensions import db
    from marketplace.models import User
    from marketplace.services import periods

    year = date.today().year - 2
    with app.app_context():
        by_email = {u.email: u for u in db.session.scalars(select(User))}
        treasurer, admin, client = (by_email[e] for e in ("treasurer@demo.coop", "admin@demo.coop",
                                                         "client@demo.coop"))
        period = periods.create_period(f"FY {year}", date(year, 1, 1), date(year, 12, 31), treasurer.id)
        policy, _ = periods.create_policy(period.id, treasurer.id, reserve_percent="10", hours_weight="1",
                                          earnings_weight="1", cash_percent="25")
        periods.approve_policy(policy.id, admin.id)
        for month, email in enumerate(MEMBERS, start=2):
            for day in (5, 19):
                confirmed_gig(by_email[email], client, minutes=60 * (month + 1), earnings_cents=9_500 * month,
                              fee_cents=500 * month, confirmed_at=datetime(year, month, day, 18, 0, tzinfo=UTC))
        periods.close_period(period.id, treasurer.id)
        return period.name


def new_page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900},
                                  accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(15000)
    page.on("dialog", lambda dialog: dialog.accept())  # the data-confirm prompts
    errors: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.console_errors = errors
    return page


def test_treasurer_previews_admin_approves_treasurer_runs_member_reads_notice(browser, live_server):
    period_name = closed_period_with_patronage(live_server.app)
    treasurer = new_page(browser, live_server)
    log_in(treasurer, "treasurer@demo.coop")
    treasurer.locator(".nav-menu > summary", has_text="Treasury").click()
    treasurer.get_by_role("link", name="Dividends").click()
    treasurer.get_by_role("link", name=period_name).click()
    screenshot(treasurer, "treasury-period")
    treasurer.get_by_role("link", name="Preview the dividend").click()
    expect(treasurer.get_by_role("heading", name=f"Dividend preview · {period_name}")).to_be_visible()
    assert treasurer.locator("table").get_by_text("#").count() >= len(MEMBERS)
    expect(treasurer.locator("svg.chart-donut")).to_be_visible()
    preview_url = treasurer.url
    screenshot(treasurer, "treasury-preview")

    admin = new_page(browser, live_server)
    log_in(admin, "admin@demo.coop")
    admin.goto(preview_url)
    admin.get_by_role("button", name="Approve the run").click()
    expect(admin.get_by_text("The dividend run is approved")).to_be_visible()

    treasurer.goto(preview_url)
    treasurer.get_by_role("button", name="Run the dividend").click()
    treasurer.wait_for_url("**/treasury/dividends/runs/*")
    progress = treasurer.locator("[data-poll-url] progress")
    expect(progress).to_be_visible()
    assert "queued" in treasurer.locator("[data-progress-text]").inner_text()
    screenshot(treasurer, "treasury-run-queued")

    live_server.start_worker()  # the worker picks the run up; app.js reloads the page when it is done
    treasurer.get_by_role("link", name="Download allocations (CSV)").wait_for(timeout=60000)
    expect(treasurer.locator("h1 .badge-completed")).to_be_visible()
    screenshot(treasurer, "treasury-run-completed")

    with treasurer.expect_download() as download:
        treasurer.get_by_role("link", name="Download allocations (CSV)").click()
    rows = list(csv.DictReader(io.StringIO(open(download.value.path(), encoding="utf-8").read())))
    assert len(rows) == len(MEMBERS)
    assert sum(int(r["allocation"].replace(".", "")) for r in rows) > 0

    pdf_href = treasurer.get_by_role("link", name="PDF").first.get_attribute("href")
    pdf = treasurer.request.get(pdf_href)
    assert pdf.ok and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF-")

    member = new_page(browser, live_server)
    log_in(member, "member@demo.coop")
    member.locator(".nav-menu > summary", has_text="Co-op").click()
    member.get_by_role("link", name="My membership and dividends").click()
    row = member.locator("tr", has_text=period_name)
    expect(row).to_be_visible()
    screenshot(member, "member-home")
    row.get_by_role("link", name="View").click()
    expect(member.get_by_role("heading", name="Qualified written notice of allocation")).to_be_visible()
    expect(member.get_by_text(period_name).first).to_be_visible()
    screenshot(member, "member-notice")
    member.get_by_role("link", name="Capital account").click()
    expect(member.get_by_role("heading", name="My capital account")).to_be_visible()
    expect(member.get_by_text("Retained allocation credited").first).to_be_visible()
    screenshot(member, "member-capital")

    for page in (treasurer, admin, member):
        assert page.console_errors == []
        page.context.close()

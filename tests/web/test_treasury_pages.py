"""The treasurer's dividend pages: periods, policies, preview, approval, the run with its progress endpoint,
the allocations and 1099-PATR exports, revolving — and who may do what. The CSV renderers and chart
shaping are pure functions, tested on plain rows first."""

import csv
import io
import re
from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from flask import url_for
from sqlalchemy import select
from treasury_helpers import confirmed_gig, expense, period_2025

from marketplace.extensions import db
from marketplace.models import AuditEvent
from marketplace.models.treasury import AllocationPolicy, DividendRun, FiscalPeriod
from marketplace.services import dividends, periods
from marketplace.web.treasury import exports, present

# ---- pure renderers ----------------------------------------------------------------------------------------


def test_allocations_csv_writes_exact_figures_and_defuses_formulas():
    text = exports.allocations_csv([
        {"member_id": 7, "name": "=HYPERLINK(\"x\")", "hours_minutes": 7230, "earnings_cents": 300_000,
         "share": Fraction(7, 16), "allocation_cents": 87_230, "cash_cents": 17_446, "retained_cents": 69_784,
         "qualified": True},
        {"member_id": 9, "name": "Ana", "hours_minutes": 1, "earnings_cents": 5, "share": Fraction(1, 3),
         "allocation_cents": 0, "cash_cents": 0, "retained_cents": 0, "qualified": False},
    ])
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == exports.ALLOCATION_HEADER
    assert rows[1] == ["7", "'=HYPERLINK(\"x\")", "120.50", "3000.00", "0.437500", "872.30", "174.46", "697.84", "yes"]
    assert rows[2] == ["9", "Ana", "0.02", "0.05", "0.333333", "0.00", "0.00", "0.00", "no"]


def test_decimal_text_rounds_half_up_exactly():
    assert exports.decimal_text(Fraction(1, 8), 2) == "0.13"
    assert exports.decimal_text(Fraction(-1, 8), 2) == "-0.13"
    assert exports.decimal_text(Fraction(2, 3), 6) == "0.666667"
    assert exports.decimal_text(5, 0) == "5"
    assert exports.hours_text(90) == "1.50"


def payment(member_id, paid_on, cash=0, qualified=0, redeemed=0, name=None):
    return {"member_id": member_id, "name": name or f"Member {member_id}", "email": f"m{member_id}@x.coop",
            "paid_on": paid_on, "cash_cents": cash, "qualified_notice_cents": qualified,
            "nonqualified_redemption_cents": redeemed}


def test_1099_patr_counts_by_year_paid_and_keeps_everyone_paid_ten_dollars_or_more():
    payments = [
        payment(1, date(2026, 1, 20), cash=200, qualified=800),      # exactly $10 in box 1: reported
        payment(2, date(2026, 1, 20), cash=199, qualified=800),      # $9.99: not reported
        payment(3, date(2025, 12, 31), cash=50_000, qualified=1),    # paid in another year
        payment(3, "2026-03-01", redeemed=1_500),                    # a nonqualified redemption (box 5) only
        payment(4, date(2026, 1, 20), cash=600), payment(4, date(2026, 9, 1), cash=600),  # two payments sum
    ]
    records = exports.patr_records(payments, 2026)
    assert [(r.recipient_id, r.box1_cents, r.nonqualified_redemption_cents) for r in records] == [
        (1, 1000, 0), (3, 0, 1500), (4, 1200, 0)]
    rows = list(csv.reader(io.StringIO(exports.patr_csv(records))))
    assert rows[0] == exports.PATR_HEADER
    assert rows[1] == ["2026", "1", "Member 1", "m1@x.coop", "10.00", "0.00", "2.00", "8.00", "10.00"]
    assert exports.patr_records(payments, 2024) == []


def test_the_surplus_donut_and_the_allocation_histogram_are_shaped_from_plain_figures():
    figures = {"reserve_cents": 35_185, "nonmember_surplus_cents": -500, "non_patronage_cents": 0,
               "allocable_cents": 199_382}
    assert present.surplus_split(figures) == [("Collective reserve", 35_185), ("Members' allocations", 199_382)]
    buckets = present.allocation_histogram([0, 1, 4_999, 5_000, 87_230, 83_076, 29_076])
    assert sum(count for _, count in buckets) == 6  # zero allocations are not counted
    assert buckets == [("$0–$200", 3), ("$200–$400", 1), ("$400–$600", 0), ("$600–$800", 0),
                       ("$800–$1,000", 2)]
    assert present.allocation_histogram([]) == []
    page = present.page_of_list(list(range(120)), 9, per_page=50)
    assert (page.page, page.pages, page.items[0], page.has_next, page.has_prev) == (3, 3, 100, False, True)


# ---- pages ---------------------------------------------------------------------------------------------------

@pytest.fixture
def staff(make_user):
    return {"treasurer": make_user("treasurer", name="Tess Treasurer"), "admin": make_user("admin", name="Ada Admin"),
            "client": make_user("client"), "member": make_user("worker", "member")}


def example_a(make_user, client):
    """DOMAIN.md §6 example A from real gigs and ledger entries: member surplus 2,345.67."""
    names = ("Mina One", "Omar Two", "Nell Three")
    members = [make_user("worker", "member", name=name) for name in names]
    for worker, minutes, earnings, fees in ((members[0], 7200, 300_000, 100_000),
                                            (members[1], 4800, 400_000, 150_000),
                                            (members[2], 2400, 100_000, 50_000)):
        for _ in range(8):
            confirmed_gig(worker, client, minutes=minutes // 8, earnings_cents=earnings // 8, fee_cents=fees // 8)
    expense(65_433, date(2025, 3, 31))
    return members


@pytest.fixture
def post_form(get_csrf):
    """``post_form(client, path, data, csrf_from=None)``: submit a form with the CSRF token of the page it is on."""

    def submit(client, path, data, csrf_from=None):
        return client.post(path, data={"csrf_token": get_csrf(client, csrf_from or path), **data})

    return submit


def test_only_the_treasurer_and_the_board_enter_the_dividend_pages(client, login, staff):
    path = url_for("treasury.periods_list")
    assert client.get(path).status_code == 302  # anonymous → log in
    login(staff["member"])
    assert client.get(path).status_code == 403
    assert client.get(url_for("treasury.preview", period_id=1)).status_code == 403
    for who in ("treasurer", "admin"):
        other = client.application.test_client()
        login(staff[who], test_client=other)
        page = other.get(path)
        assert page.status_code == 200
        assert "Patronage dividends" in page.get_data(as_text=True)


def test_a_period_is_created_with_field_errors_for_bad_dates(client, login, staff, post_form):
    login(staff["treasurer"])
    path = url_for("treasury.period_new")
    bad = post_form(client, path, {"name": "FY 2025", "start": "2025-12-31", "end": "2025-01-01"})
    assert bad.status_code == 200
    assert "The last day must not be before the first day." in bad.get_data(as_text=True)
    assert db.session.scalar(select(FiscalPeriod)) is None
    good = post_form(client, path, {"name": "FY 2025", "start": "2025-01-01", "end": "2025-12-31"})
    assert good.status_code == 302
    period = db.session.scalar(select(FiscalPeriod))
    assert (period.name, period.status) == ("FY 2025", "open")
    closed = post_form(client, url_for("treasury.period_close", period_id=period.id), {},
                       csrf_from=url_for("treasury.period", period_id=period.id))
    assert closed.status_code == 302
    db.session.refresh(period)
    assert period.status == "closed"


def test_policy_versions_warn_below_twenty_percent_cash_and_need_an_admin(client, login, staff, post_form):
    period = periods.create_period("FY 2025", date(2025, 1, 1), date(2025, 12, 31), staff["treasurer"].id)
    login(staff["treasurer"])
    path = url_for("treasury.policy_new", period_id=period.id)
    fields = {"reserve_percent": "15", "hours_weight": "1", "earnings_weight": "1", "cash_percent": "10",
              "small_allocation_threshold": "5.00", "revolving_years": "5", "loss_reserve_percent": "100"}
    refused = post_form(client, path, fields)
    assert refused.status_code == 200
    assert "confirm that you accept" in refused.get_data(as_text=True)
    assert db.session.scalar(select(AllocationPolicy)) is None
    bad_number = post_form(client, path, {**fields, "reserve_percent": "lots"})
    assert "Enter a number such as 15" in bad_number.get_data(as_text=True)
    saved = post_form(client, path, {**fields, "accept_nonqualified": "y"})
    assert saved.status_code == 302
    page = client.get(saved.headers["Location"]).get_data(as_text=True)
    assert "NONQUALIFIED" in page and "nonqualified</span>" in page
    policy = db.session.scalar(select(AllocationPolicy))
    assert (policy.version, policy.cash_percent, policy.small_allocation_threshold_cents) == (1, "10", 500)
    assert "Approve v1" not in page  # the treasurer cannot approve
    approve = url_for("treasury.policy_approve", policy_id=policy.id)
    refused = post_form(client, approve, {"period_id": period.id}, csrf_from=url_for("treasury.period",
                                                                                       period_id=period.id))
    assert refused.status_code == 403 and "approves policies" in refused.get_data(as_text=True)
    admin = client.application.test_client()
    login(staff["admin"], test_client=admin)
    assert "Approve v1" in admin.get(url_for("treasury.period", period_id=period.id)).get_data(as_text=True)
    post_form(admin, approve, {"period_id": period.id}, csrf_from=url_for("treasury.period", period_id=period.id))
    db.session.refresh(policy)
    assert policy.approved_by_id == staff["admin"].id
    again = client.get(path).get_data(as_text=True)  # the next version starts from the latest one
    assert 'value="15"' in again and 'value="5.00"' in again


def test_preview_approve_run_progress_and_exports(client, login, staff, make_user, post_form):
    members = example_a(make_user, staff["client"])
    period = period_2025(staff["treasurer"], staff["admin"], reserve_percent="15")
    login(staff["treasurer"])
    preview_path = url_for("treasury.preview", period_id=period.id)
    html = client.get(preview_path).get_data(as_text=True)
    for text in ("Mina One", "$872.30", "$830.76", "$290.76", "$351.85", "$1,993.82", "0.437500", "120.00",
                 'class="chart chart-donut"', 'class="chart chart-columns"'):
        assert text in html, text
    assert "Approve the run" not in html  # a treasurer cannot approve
    found = client.get(preview_path, query_string={"q": "omar"}).get_data(as_text=True)
    assert "Omar Two" in found and "Mina One" not in found

    admin = client.application.test_client()
    login(staff["admin"], test_client=admin)
    assert "Approve the run" in admin.get(preview_path).get_data(as_text=True)
    post_form(admin, url_for("treasury.run_approve", period_id=period.id), {}, csrf_from=preview_path)
    run = dividends.run_for_period(period.id)
    assert run.status == "approved"
    assert "Run the dividend" not in admin.get(preview_path).get_data(as_text=True)  # only the treasurer runs

    started = post_form(client, url_for("treasury.run_start", period_id=period.id), {}, csrf_from=preview_path)
    run_path = url_for("treasury.run", run_id=run.id, _external=False)
    assert started.headers["Location"].endswith(run_path)
    page = client.get(run_path).get_data(as_text=True)
    poll = url_for("treasury.run_progress", run_id=run.id, _external=False)
    assert f'data-poll-url="{poll}"' in page and "<progress" in page
    assert client.get(poll).get_json() == {"percent": 0, "processed": 0, "total": 0, "state": "queued",
                                           "status": "queued"}
    assert client.get(url_for("treasury.run_csv", run_id=run.id)).status_code == 409  # not finished yet
    again = post_form(client, url_for("treasury.run_start", period_id=period.id), {}, csrf_from=preview_path)
    assert "cannot be started again" in client.get(again.headers["Location"]).get_data(as_text=True)

    assert dividends.execute_run(run.id) == "completed"  # what the Celery task does
    assert client.get(poll).get_json()["state"] == "done"  # app.js reloads the page on "done"
    page = client.get(run_path).get_data(as_text=True)
    assert "Download allocations (CSV)" in page and "$1,993.82" in page and "Nell Three" in page
    csv_response = client.get(url_for("treasury.run_csv", run_id=run.id))
    assert csv_response.mimetype == "text/csv"
    assert csv_response.headers["Content-Disposition"] == 'attachment; filename="allocations-FY-2025.csv"'
    rows = list(csv.DictReader(io.StringIO(csv_response.get_data(as_text=True))))
    assert [(r["name"], r["allocation"], r["cash"], r["retained"]) for r in rows] == [
        ("Mina One", "872.30", "174.46", "697.84"), ("Omar Two", "830.76", "166.16", "664.60"),
        ("Nell Three", "290.76", "58.16", "232.60")]
    assert sum(Fraction(r["allocation"]) for r in rows) == Fraction("1993.82")

    year = datetime.now(UTC).year  # notices are paid (issued) now
    patr = client.get(url_for("treasury.patr", year=year, format="csv"))
    patr_rows = list(csv.DictReader(io.StringIO(patr.get_data(as_text=True))))
    assert {(r["recipient_name"], r["box1_patronage_dividends"]) for r in patr_rows} == {
        ("Mina One", "872.30"), ("Omar Two", "830.76"), ("Nell Three", "290.76")}
    assert client.get(url_for("treasury.patr", year=year - 1, format="csv")).get_data(as_text=True).count("\n") == 1
    assert members[0].id in {int(r["recipient_id"]) for r in patr_rows}


def test_a_bad_1099_year_is_a_field_error_not_a_crash(client, login, staff):
    login(staff["treasurer"])
    page = client.get(url_for("treasury.patr", year="soon"))
    assert page.status_code == 200
    assert re.search(r'class="field-error"', page.get_data(as_text=True))


def test_revolve_is_queued_by_the_treasurer_with_year_checks(client, login, staff, post_form):
    login(staff["treasurer"])
    path = url_for("treasury.revolve")
    assert "Revolve capital accounts" in client.get(path).get_data(as_text=True)
    bad = post_form(client, path, {"before_year": "1200"})
    assert bad.status_code == 200 and "field-error" in bad.get_data(as_text=True)
    done = post_form(client, path, {"before_year": "2024"})
    assert done.status_code == 302
    actions = db.session.scalars(select(AuditEvent.action)).all()
    assert "capital.revolve_requested" in actions


def test_a_run_that_does_not_exist_is_404_and_nothing_leaks_before_completion(client, login, staff, make_user):
    worker = make_user("worker", "member", name="Mina One")
    confirmed_gig(worker, staff["client"], minutes=60, earnings_cents=9_500, fee_cents=500)
    period = period_2025(staff["treasurer"], staff["admin"])
    dividends.approve_run(period.id, staff["admin"].id)
    run = db.session.scalar(select(DividendRun))
    login(staff["treasurer"])
    assert client.get(url_for("treasury.run", run_id=run.id + 99)).status_code == 404
    assert client.get(url_for("treasury.run_progress", run_id=run.id + 99)).status_code == 404
    page = client.get(url_for("treasury.run", run_id=run.id)).get_data(as_text=True)
    assert "Mina One" not in page and "Run the dividend" in page


def test_1099_patr_reports_nonqualified_notices_as_cash_and_their_redemptions_in_box_5(client, login, staff,
                                                                                        make_user):
    from marketplace.services import capital

    worker = make_user("worker", "member", name="Nia Nonqualified")
    confirmed_gig(worker, staff["client"], minutes=600, earnings_cents=200_000, fee_cents=20_000)
    period = period_2025(staff["treasurer"], staff["admin"], cash_percent="10", accept_nonqualified=True)
    dividends.approve_run(period.id, staff["admin"].id)
    run = dividends.start_run(period.id, staff["treasurer"].id)
    assert dividends.execute_run(run.id) == "completed"
    year = datetime.now(UTC).year
    assert capital.revolve(year + 1, staff["treasurer"].id)["total_cents"] == 18_000  # 90% of 200.00 retained
    login(staff["treasurer"])
    rows = list(csv.DictReader(io.StringIO(
        client.get(url_for("treasury.patr", year=year, format="csv")).get_data(as_text=True))))
    assert [(r["recipient_name"], r["cash_paid"], r["qualified_notices_stated_amount"],
             r["box1_patronage_dividends"], r["box5_redemption_nonqualified"]) for r in rows] == [
        ("Nia Nonqualified", "20.00", "0.00", "20.00", "180.00")]
    page = client.get(url_for("treasury.patr", year=year)).get_data(as_text=True)
    assert "1 recipient for" in page and "$180.00" in page

"""The member area, notices of allocation (page and PDF), capital accounts and the open books — and the rule
that a member reads other members' amounts only where the co-op's open-books setting allows. The dividend
estimate is a pure function, tested on DOMAIN.md's figures first."""

from datetime import UTC, date, datetime
from fractions import Fraction

import pytest
from flask import url_for
from sqlalchemy import func, select
from treasury_helpers import confirmed_gig, expense, period_2025

from marketplace.domain.money import format_cents
from marketplace.domain.patronage import AllocationPolicy, IncomeFigures, MemberPatronage
from marketplace.extensions import db
from marketplace.models.treasury import AllocationNotice
from marketplace.services import dividends, settings
from marketplace.web.member.estimate import estimate_dividend

# ---- the estimate ------------------------------------------------------------------------------------------

EXAMPLE_A = [MemberPatronage("1", Fraction(120), 300_000), MemberPatronage("2", Fraction(80), 400_000),
             MemberPatronage("3", Fraction(0), 0), MemberPatronage("4", Fraction(40), 100_000)]
POLICY = AllocationPolicy(reserve_percent=Fraction(15), hours_weight=Fraction(1), earnings_weight=Fraction(1),
                          cash_percent=Fraction(20))
INCOME_A = IncomeFigures(member_fees=300_000, nonmember_fees=0, other_income=0, expenses=65_433)  # surplus 2,345.67


def test_the_estimate_is_the_year_end_engine_on_todays_figures():
    mine = estimate_dividend("1", EXAMPLE_A, POLICY, INCOME_A)
    assert (mine.allocation_cents, mine.cash_cents, mine.retained_cents) == (87_230, 17_446, 69_784)
    assert mine.share == Fraction(7, 16)
    assert (mine.member_surplus_cents, mine.reserve_cents, mine.allocable_cents) == (234_567, 35_185, 199_382)
    assert mine.members_with_patronage == 3 and not mine.is_loss_year
    second = estimate_dividend("2", EXAMPLE_A, POLICY, INCOME_A)
    assert second.allocation_cents == 83_076  # the leftover cent of DOMAIN.md §6 A goes where the run puts it


def test_no_patronage_a_stranger_a_loss_and_an_empty_period_all_estimate_zero_with_a_reason():
    idle = estimate_dividend("3", EXAMPLE_A, POLICY, INCOME_A)
    assert idle.allocation_cents == 0 and "no patronage" in idle.note
    stranger = estimate_dividend("99", EXAMPLE_A, POLICY, INCOME_A)
    assert stranger.allocation_cents == 0 and stranger.hours == 0
    loss = estimate_dividend("1", EXAMPLE_A, POLICY, IncomeFigures(100, 0, 0, 5_000))
    assert loss.is_loss_year and loss.allocation_cents == 0 and loss.hours == 120
    quiet = estimate_dividend("1", EXAMPLE_A, POLICY, IncomeFigures(0, 0, 0, 0))
    assert quiet.is_loss_year and "No member fees" in quiet.note
    assert "do not cover" in loss.note
    empty = estimate_dividend("1", [MemberPatronage("1", Fraction(0), 0)], POLICY, IncomeFigures(5_000, 0, 0, 0))
    assert empty.allocation_cents == 0 and "No member has recorded patronage" in empty.note


# ---- pages ----------------------------------------------------------------------------------------------------

@pytest.fixture
def coop(make_user):
    """FY 2025 run and completed for two members; FY 2026 open with a gig of Ana's so far."""
    people = {"treasurer": make_user("treasurer"), "admin": make_user("admin"), "client": make_user("client"),
              "ana": make_user("worker", "member", name="Ana Alvarez"),
              "ben": make_user("worker", "member", name="Ben Brook"),
              "probationer": make_user("worker", name="Pat Probation")}
    confirmed_gig(people["ana"], people["client"], minutes=600, earnings_cents=30_000, fee_cents=3_000)
    confirmed_gig(people["ben"], people["client"], minutes=300, earnings_cents=10_000, fee_cents=1_000)
    expense(1_000, date(2025, 2, 1))
    fy2025 = period_2025(people["treasurer"], people["admin"], reserve_percent="10")
    dividends.approve_run(fy2025.id, people["admin"].id)
    run = dividends.start_run(fy2025.id, people["treasurer"].id)
    assert dividends.execute_run(run.id) == "completed"
    period_2025(people["treasurer"], people["admin"], name="FY 2026", start=date(2026, 1, 1), end=date(2026, 12, 31),
                close=False, reserve_percent="10")
    confirmed_gig(people["ana"], people["client"], minutes=120, earnings_cents=6_000, fee_cents=600,
                  confirmed_at=datetime(2026, 2, 3, 18, 0, tzinfo=UTC))
    notices = {db.session.get(type(people["ana"]), n.allocation.member_id).name: n
               for n in db.session.scalars(select(AllocationNotice))}
    return {**people, "run": run, "notice_ana": notices["Ana Alvarez"].id, "notice_ben": notices["Ben Brook"].id}


def as_user(app, login, user):
    other = app.test_client()
    login(user, test_client=other)
    return other


def as_user_with(app, login, user, password):
    other = app.test_client()
    login(user, password=password, test_client=other)
    return other


def open_books_allowed():
    settings.set_value("open_books_individual", "1", date(2026, 1, 1))
    db.session.commit()


def test_member_home_shows_patronage_so_far_the_estimate_and_my_notices(app, login, coop):
    html = as_user(app, login, coop["ana"]).get(url_for("member.home")).get_data(as_text=True)
    assert "FY 2026 so far" in html
    assert "2.00" in html  # hours as a member this period
    assert "$60.00" in html  # earnings as a member this period
    # Ana alone has patronage in 2026: fees 6.00 − 0 expenses, 10% reserve → the whole 5.40 is hers.
    assert "$5.40" in html and "1.000000" in html
    assert "FY 2025" in html and url_for("member.notice", notice_id=coop["notice_ana"], _external=False) in html
    assert as_user(app, login, coop["probationer"]).get(url_for("member.home")).status_code == 403


def test_my_notice_as_a_page_and_a_pdf(app, login, coop):
    ana = as_user(app, login, coop["ana"])
    page = ana.get(url_for("member.notice", notice_id=coop["notice_ana"]))
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    for text in ("Qualified written notice of allocation", "Ana Alvarez", "FY 2025", "10.00", "$300.00",
                 "Consent by bylaw", "Capital account balance after this credit"):
        assert text in html, text
    pdf = ana.get(url_for("member.notice_pdf", notice_id=coop["notice_ana"]))
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF-")
    assert ana.get(url_for("member.notice", notice_id=9999)).status_code == 404


def test_a_member_cannot_read_another_members_notice_or_capital_unless_the_books_are_open(app, login, coop):
    ana = as_user(app, login, coop["ana"])
    for path in (url_for("member.notice", notice_id=coop["notice_ben"]),
                 url_for("member.notice_pdf", notice_id=coop["notice_ben"]),
                 url_for("member.member_capital", member_id=coop["ben"].id)):
        assert ana.get(path).status_code == 403, path
    books = ana.get(url_for("member.open_books")).get_data(as_text=True)
    assert "Ben Brook" not in books and "stay between each member and the treasurer" in books
    treasurer = as_user(app, login, coop["treasurer"])
    assert treasurer.get(url_for("member.notice", notice_id=coop["notice_ben"])).status_code == 200
    assert treasurer.get(url_for("member.member_capital", member_id=coop["ben"].id)).status_code == 200

    open_books_allowed()
    assert ana.get(url_for("member.notice", notice_id=coop["notice_ben"])).status_code == 200
    assert ana.get(url_for("member.member_capital", member_id=coop["ben"].id)).status_code == 200
    assert "Ben Brook" in ana.get(url_for("member.open_books")).get_data(as_text=True)
    client = as_user(app, login, coop["client"])  # open books are for members, not for everyone
    assert client.get(url_for("member.notice", notice_id=coop["notice_ben"])).status_code == 403
    assert client.get(url_for("member.open_books")).status_code == 403
    assert app.test_client().get(url_for("member.notice", notice_id=coop["notice_ben"])).status_code == 302


def test_my_capital_account_statement(app, login, coop):
    html = as_user(app, login, coop["ana"]).get(url_for("member.my_capital")).get_data(as_text=True)
    assert "My capital account" in html and "Retained allocation credited" in html and "FY 2025" in html
    retained = db.session.scalar(select(AllocationNotice).where(AllocationNotice.id == coop["notice_ana"]))
    assert format_cents(retained.allocation.retained_cents, thousands=True, symbol="$") in html


def test_open_books_show_the_income_statement_and_the_aggregate_allocation(app, login, coop):
    ben = as_user(app, login, coop["ben"])
    html = ben.get(url_for("member.open_books")).get_data(as_text=True)
    assert "Open books · FY 2025" in html
    assert "$40.00" in html  # member fees 30.00 + 10.00
    assert 'class="chart chart-donut"' in html and "Allocated to members" in html
    run = dividends.get_run(coop["run"].id)
    assert format_cents(run.allocated_cents, thousands=True, symbol="$") in html
    fy2026 = ben.get(url_for("member.open_books"), query_string={"period": 2}).get_data(as_text=True)
    assert "has not been run yet" in fy2026
    assert as_user(app, login, coop["probationer"]).get(url_for("member.open_books")).status_code == 403


@pytest.mark.slow
def test_the_demo_coop_shows_last_years_notices_at_once_and_seeding_twice_adds_nothing(app, login):
    from marketplace.models import JournalEntry, User
    from marketplace.models.treasury import DividendRun, FiscalPeriod
    from marketplace.services import demo, demo_treasury, ledger
    from marketplace.services.worker_stats import local_today

    summary = demo.seed()  # the demo seed closes last year and runs its dividend
    year = local_today().year
    assert summary["past-year gigs"] > 200
    run = db.session.scalar(select(DividendRun).join(FiscalPeriod).where(FiscalPeriod.name == f"FY {year - 1}"))
    assert run is not None and run.status == "completed"
    entries = db.session.scalar(select(func.count()).select_from(JournalEntry))
    again = demo_treasury.seed_treasury()
    assert again["history gigs"] == 0 and again["dividend run"] == "completed"
    assert db.session.scalar(select(func.count()).select_from(JournalEntry)) == entries
    assert ledger.verify() == []
    member = db.session.scalar(select(User).where(User.email == "member@demo.coop"))
    page = as_user_with(app, login, member, demo.DEMO_PASSWORD).get(url_for("member.home")).get_data(as_text=True)
    assert f"FY {year - 1}" in page and f"FY {year} so far" in page and ">View</a>" in page

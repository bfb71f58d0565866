"""Capital accounts: statements from the ledger, revolving oldest first, loss debits capped at zero, departures."""

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from treasury_helpers import approved_and_queued, confirmed_gig, expense, period_2025

from marketplace.errors import Conflict, Forbidden, ValidationFailed
from marketplace.models.treasury import CapitalRedemption
from marketplace.services import capital, dividends, ledger


@pytest.fixture
def coop(make_user):
    people = {"treasurer": make_user("treasurer"), "admin": make_user("admin"), "client": make_user("client")}
    people["a"], people["b"] = make_user("worker", "member"), make_user("worker", "member")
    return people


def run_year(coop, year: int, *, fees_a: int, fees_b: int, expenses: int = 0, **policy):
    """One year: A and B each do a gig (equal hours, earnings 10× their fee), then the year is run."""
    when = datetime(year, 6, 1, 18, 0, tzinfo=UTC)
    for member, fee in ((coop["a"], fees_a), (coop["b"], fees_b)):
        confirmed_gig(member, coop["client"], minutes=60, earnings_cents=fee * 10, fee_cents=fee, confirmed_at=when)
    if expenses:
        expense(expenses, date(year, 7, 1))
    period = period_2025(coop["treasurer"], coop["admin"], name=f"FY {year}", start=date(year, 1, 1),
                         end=date(year, 12, 31), **policy)
    run = approved_and_queued(period, coop["treasurer"], coop["admin"])
    assert dividends.execute_run(run.id) == "completed"
    return run


def ica(member) -> int:
    return capital.ica_balance(member.id)


def test_statement_lists_retained_credits_by_period(app, db, coop):
    run_year(coop, 2019, fees_a=10_000, fees_b=10_000, cash_percent="40")  # 100.00 each: cash 40, retained 60
    run_year(coop, 2020, fees_a=20_000, fees_b=20_000, cash_percent="40")
    statement = capital.capital_statement(coop["a"].id)
    assert [(c["period"], c["amount_cents"]) for c in statement["retained_by_period"]] == [
        ("FY 2019", 6_000), ("FY 2020", 12_000)]
    assert statement["opening_cents"] == 0 and statement["closing_cents"] == 18_000 == ica(coop["a"])
    later = capital.capital_statement(coop["a"].id, start=date(2020, 1, 1))
    # Allocations are posted on the day the run executes (today), so a statement from 2020 on shows both.
    assert later["closing_cents"] == 18_000


def test_revolve_pays_out_old_allocations_oldest_first_once(app, db, coop, runner):
    run_year(coop, 2019, fees_a=10_000, fees_b=10_000, cash_percent="40")
    run_year(coop, 2020, fees_a=20_000, fees_b=20_000, cash_percent="40")
    payable_before = ledger.balance("2300")
    summary = capital.revolve(2020)
    assert summary == {"before_year": 2020, "allocations": 2, "members": 2, "total_cents": 12_000}
    assert ica(coop["a"]) == 12_000 and ledger.balance("2300") == payable_before - 12_000
    assert capital.revolve(2020)["allocations"] == 0  # already revolved: nothing twice
    result = runner.invoke(args=["dividends", "revolve", "--before-year", "2021"])
    assert result.exit_code == 0, result.output
    assert "Revolved 2 allocations of 2 members before 2021: 240.00 now payable" in result.output
    statement = capital.capital_statement(coop["a"].id)
    assert [r["amount_cents"] for r in statement["redemptions"]] == [6_000, 12_000]
    assert statement["closing_cents"] == 0
    assert db.session.scalar(select(func.count()).select_from(CapitalRedemption)) == 4


@pytest.mark.parametrize("year", ["abc", "1800", "99999", "-1", ""])
def test_revolve_cli_refuses_bad_years_with_exit_code_2(app, runner, year):
    result = runner.invoke(args=["dividends", "revolve", "--before-year", year])
    assert result.exit_code == 2
    assert "--before-year" in result.output


def test_revolve_needs_a_treasurer_and_a_sane_year(app, coop):
    with pytest.raises(Forbidden):
        capital.request_revolve(2020, coop["a"].id)
    with pytest.raises(ValidationFailed):
        capital.request_revolve(1492, coop["treasurer"].id)


def test_a_loss_is_debited_by_share_but_never_below_zero(app, db, coop):
    run_year(coop, 2019, fees_a=10_000, fees_b=1_000, cash_percent="40")  # ICAs: A 60.00·…, B small
    a_before, b_before = ica(coop["a"]), ica(coop["b"])
    reserve_before = ledger.balance("3200")
    # 2020: fees 20.00 + 20.00, expenses 1,040.00 → member loss 1,000.00, all of it for members (reserve 0%).
    run = run_year(coop, 2020, fees_a=2_000, fees_b=2_000, expenses=104_000, loss_reserve_percent="0")
    db.session.refresh(run)
    assert run.member_surplus_cents == -100_000 and run.allocated_cents == 0
    # Equal shares: each is assigned 500.00 but can lose only what their ICA holds.
    assert ica(coop["a"]) == 0 and ica(coop["b"]) == 0
    assert run.loss_debited_cents == a_before + b_before
    assert ledger.balance("3200") == reserve_before + 100_000 - (a_before + b_before)  # the rest falls on the reserve
    statement = capital.capital_statement(coop["b"].id)
    assert statement["loss_debits"][0]["amount_cents"] == b_before and statement["closing_cents"] == 0


def test_a_departing_member_is_owed_the_whole_account_once(app, db, coop):
    run_year(coop, 2019, fees_a=10_000, fees_b=10_000, cash_percent="40")
    payable_before = ledger.balance("2300")
    redemption = capital.depart_member(coop["b"].id, date(2026, 3, 1), coop["treasurer"].id)
    assert redemption.amount_cents == 6_000 and ica(coop["b"]) == 0
    assert ledger.balance("2300") == payable_before - 6_000
    again = capital.depart_member(coop["b"].id, date(2026, 3, 1), coop["treasurer"].id)
    assert again.id == redemption.id and ledger.balance("2300") == payable_before - 6_000
    assert capital.revolve(2021)["total_cents"] == 6_000  # only A's allocation is left to revolve


def test_capital_does_not_move_while_a_run_is_in_progress(app, db, coop):
    run_year(coop, 2019, fees_a=10_000, fees_b=10_000, cash_percent="40")
    confirmed_gig(coop["a"], coop["client"], minutes=60, earnings_cents=10_000, fee_cents=1_000,
                  confirmed_at=datetime(2020, 6, 1, 18, 0, tzinfo=UTC))
    period = period_2025(coop["treasurer"], coop["admin"], name="FY 2020", start=date(2020, 1, 1),
                         end=date(2020, 12, 31))
    approved_and_queued(period, coop["treasurer"], coop["admin"])
    with pytest.raises(Conflict, match="in progress"):
        capital.revolve(2020)
    with pytest.raises(Conflict, match="in progress"):
        capital.depart_member(coop["b"].id, date(2026, 3, 1))

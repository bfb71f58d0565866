"""The reports tie out: computed from the ledger's postings, they equal the gigs, expenses and income behind them."""

import csv
import io
from datetime import date

import pytest
from sqlalchemy import event

import books_support as bs
from marketplace.domain.money import format_cents
from marketplace.errors import NotFound, ValidationFailed

START, END = date(2026, 1, 1), date(2026, 6, 30)


@pytest.fixture
def books(db, make_user):
    """Member and non-member gigs in and out of the range, captured payments, a payout, expenses and income."""
    from marketplace.services import books as books_service

    cat = bs.category(db)
    client_a, client_b = make_user("client"), make_user("client")
    member, probationer = make_user("worker", "member"), make_user("worker")
    gigs = [
        (client_a, member, date(2026, 1, 10), 2_500, 95, True),
        (client_b, member, date(2026, 2, 14), 3_333, 47, True),
        (client_a, probationer, date(2026, 3, 3), 2_050, 181, False),
        (client_b, probationer, date(2026, 6, 30), 1_999, 60, False),
        (client_a, member, date(2025, 12, 31), 2_400, 120, True),   # before the range
        (client_b, probationer, date(2026, 7, 1), 2_600, 90, False),  # after the range
    ]
    charged = []
    for client, worker, on, rate, minutes, is_member in gigs:
        job = bs.confirmed_gig(db, client=client, worker=worker, cat=cat, on=on, rate_cents=rate, minutes=minutes,
                               member=is_member)
        price = bs.charge(db, job)
        bs.capture(db, job, price)
        charged.append((job, price))
    bs.payout(db, 1, member.id, charged[0][1].worker_earnings_cents, date(2026, 1, 20))
    expenses = [(date(2026, 1, 31), "hosting", 4_900), (date(2026, 2, 28), "hosting", 4_900),
                (date(2026, 3, 15), "insurance", 120_050), (date(2026, 6, 30), "payment-processing", 301),
                (date(2025, 12, 31), "hosting", 9_999), (date(2026, 7, 1), "office", 1_234)]
    for on, slug, cents in expenses:
        books_service.record_expense(occurred_on=on, category=slug, amount_cents=cents, memo=f"{slug} {on}",
                                     actor_id=None)
    for on, cents in ((date(2026, 3, 31), 127), (date(2026, 6, 30), 131), (date(2026, 7, 1), 999)):
        books_service.record_other_income(occurred_on=on, kind="interest", amount_cents=cents, memo="Interest",
                                          actor_id=None)
    return {"gigs": charged, "member": member, "probationer": probationer, "expenses": expenses}


def in_range(on: date) -> bool:
    return START <= on <= END


def test_income_statement_ties_out_to_the_gigs_expenses_and_income(db, books):
    from marketplace.services import reports

    statement = reports.income_statement(START, END)
    fees_member = sum(p.fee_cents for job, p in books["gigs"] if job.worker_was_member
                      and in_range(job.confirmed_at.date()))
    fees_nonmember = sum(p.fee_cents for job, p in books["gigs"] if not job.worker_was_member
                         and in_range(job.confirmed_at.date()))
    expenses = sum(cents for on, _, cents in books["expenses"] if in_range(on))
    assert fees_member > 0 and fees_nonmember > 0
    assert statement.member_fees_cents == fees_member
    assert statement.nonmember_fees_cents == fees_nonmember
    assert statement.other_income_cents == 127 + 131
    assert statement.total_expenses_cents == expenses == 4_900 * 2 + 120_050 + 301
    assert [(line.code, line.cents) for line in statement.expenses] == [
        ("5000:insurance", 120_050), ("5000:hosting", 9_800), ("5000:payment-processing", 301)]
    assert statement.net_margin_cents == fees_member + fees_nonmember + 258 - expenses
    last = list(csv.reader(io.StringIO(reports_csv(statement))))[-1]
    assert last == ["total", "", "Net margin", format_cents(statement.net_margin_cents)]


def reports_csv(statement) -> str:
    from marketplace.domain.reports import income_statement_csv

    return income_statement_csv(statement)


def test_the_ledger_of_these_books_verifies(db, books):
    from marketplace.services import ledger

    assert ledger.verify() == []


def test_monthly_margins_sum_to_the_statement(db, books):
    from marketplace.services import reports

    months = reports.monthly_margin(START, END)
    assert [month for month, _ in months] == ["2026-01", "2026-02", "2026-03", "2026-06"]
    assert sum(cents for _, cents in months) == reports.income_statement(START, END).net_margin_cents


def test_the_statement_is_one_grouped_query(db, books):
    """Set-based: the income statement reads the postings with a single aggregate statement."""
    from marketplace.services import reports

    statements: list[str] = []
    engine = db.engine

    def remember(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", remember)
    try:
        reports.income_statement(START, END)
    finally:
        event.remove(engine, "before_cursor_execute", remember)
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 1
    assert "GROUP BY" in selects[0] and "sum(" in selects[0].lower()


def test_balance_sheet_balances_and_shows_payables(db, books):
    from marketplace.services import ledger, reports

    sheet = reports.balance_sheet(END)
    assert sheet.balanced
    by_code = {line.code: line.cents for line in sheet.liabilities}
    payables = sum(-cents for code, cents in ledger.balances("2100:", as_of=END).items())
    assert by_code["2100"] == payables > 0
    assert sheet.surplus_cents == -sum(c for code, c in ledger.balances(as_of=END).items() if code[0] in "45")


def test_trial_balance_debits_equal_credits_and_match_account_balances(db, books):
    from marketplace.services import ledger, reports

    trial = reports.trial_balance(END)
    assert trial.total_debit_cents == trial.total_credit_cents > 0
    expected = {code: cents for code, cents in ledger.balances(as_of=END).items() if cents}
    assert {line.code: line.debit_cents - line.credit_cents for line in trial.lines} == expected
    names = {line.code: line.name for line in trial.lines}
    assert names[f"2100:{books['member'].id}"].endswith(f" · {books['member'].name}")
    assert names["5000:insurance"].endswith(" · Insurance")


def test_worker_earnings_statement_runs_from_opening_to_closing(db, books):
    from marketplace.services import ledger, reports

    member = books["member"]
    gigs = [(job, p) for job, p in books["gigs"] if job.worker_id == member.id]
    statement = reports.worker_earnings_statement(member.id, START, END)
    opening = sum(p.worker_earnings_cents for job, p in gigs if job.confirmed_at.date() < START)
    earned = sum(p.worker_earnings_cents for job, p in gigs if in_range(job.confirmed_at.date()))
    assert statement.opening_cents == opening
    assert statement.earned_cents == earned
    assert statement.deducted_cents == gigs[0][1].worker_earnings_cents
    assert statement.closing_cents == -ledger.balance(f"2100:{member.id}", as_of=END)
    assert [line.memo for line in statement.lines] == [
        f"Gig {gigs[0][0].id} charged", f"Payout batch 1 to worker {member.id}", f"Gig {gigs[1][0].id} charged"]
    assert statement.lines[-1].balance_cents == statement.closing_cents
    assert [line.balance_cents for line in statement.lines] == [
        opening + gigs[0][1].worker_earnings_cents, opening,
        opening + gigs[1][1].worker_earnings_cents]


def test_bad_ranges_and_unknown_workers_are_refused(db):
    from marketplace.services import reports

    with pytest.raises(ValidationFailed) as caught:
        reports.income_statement(END, START)
    assert "end" in caught.value.fields
    with pytest.raises(ValidationFailed):
        reports.income_statement(date(1900, 1, 1), END)
    with pytest.raises(NotFound):
        reports.worker_earnings_statement(999_999, START, END)


def test_an_empty_ledger_gives_zero_statements(db):
    from marketplace.services import reports

    statement = reports.income_statement(START, END)
    assert (statement.net_margin_cents, statement.expenses) == (0, ())
    assert reports.balance_sheet(END).balanced
    assert reports.trial_balance(END).lines == ()

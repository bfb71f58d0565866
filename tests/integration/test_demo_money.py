"""The demo books: a year of expenses and interest, posted once, seeding twice adds nothing."""

from datetime import date

from sqlalchemy import func, select


def test_seed_books_records_a_year_once_and_ties_out(db):
    from marketplace.models import Expense, JournalEntry, OtherIncome
    from marketplace.services import demo_money, ledger, reports

    year = date.today().year - 1
    made = demo_money.seed_books(year)
    assert made == {"expenses": 50, "income": 12}
    again = demo_money.seed_books(year)
    assert again == made
    counts = [db.session.scalar(select(func.count()).select_from(m)) for m in (Expense, OtherIncome, JournalEntry)]
    assert counts == [50, 12, 62]
    statement = reports.income_statement(date(year, 1, 1), date(year, 12, 31))
    expenses = db.session.scalar(select(func.sum(Expense.amount_cents)))
    interest = db.session.scalar(select(func.sum(OtherIncome.amount_cents)))
    assert statement.total_expenses_cents == int(expenses) and statement.other_income_cents == int(interest)
    assert 300_000 < statement.total_expenses_cents < 600_000 and 0 < statement.other_income_cents < 10_000
    assert {line.code for line in statement.expenses} == {
        "5000:hosting", "5000:bank-fees", "5000:outreach", "5000:insurance", "5000:accounting", "5000:training",
        "5000:office"}
    assert ledger.verify() == []


def test_seed_books_skips_days_after_today(db):
    from marketplace.services import books, demo_money

    today = books.local_today()
    made = demo_money.seed_books(today.year + 1)
    assert made == {"expenses": 0, "income": 0}

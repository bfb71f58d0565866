"""``flask ledger verify`` and ``flask ledger import-expenses``: output and exit codes."""

from datetime import date

from sqlalchemy import func, select, text

GOOD_FILE = (
    "date,amount,description,category\n"
    "2026-01-31,49.00,Hosting for January,hosting\n"
    "2026-02-28,1.27,Savings interest,income:interest\n"
)


def test_verify_passes_on_sound_books(db, runner):
    from marketplace.services import books

    books.record_expense(occurred_on=date(2026, 1, 31), category="hosting", amount_cents=4_900, memo="Hosting",
                         actor_id=None)
    books.record_other_income(occurred_on=date(2026, 1, 31), kind="interest", amount_cents=12, memo="Interest",
                              actor_id=None)
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Ledger OK: 2 entries, 4 postings"


def test_verify_fails_on_an_unbalanced_entry_inserted_behind_the_services_back(db, runner):
    db.session.execute(text("INSERT INTO ledger_accounts (code, name, kind, created_at) "
                            "VALUES ('1000', 'Bank', 'asset', '2026-01-01 00:00:00')"))
    db.session.execute(text("INSERT INTO journal_entries (idempotency_key, memo, occurred_on, posted_at) "
                            "VALUES ('forged:1', 'Forged', '2026-01-05', '2026-01-05 00:00:00')"))
    entry_id = db.session.scalar(text("SELECT id FROM journal_entries WHERE idempotency_key = 'forged:1'"))
    db.session.execute(text("INSERT INTO postings (entry_id, account_code, amount_cents) VALUES (:e, '1000', 500)"),
                       {"e": entry_id})
    db.session.commit()
    result = runner.invoke(args=["ledger", "verify"])
    assert result.exit_code == 1
    problems = [line for line in result.output.splitlines() if line.startswith("PROBLEM: ")]
    assert problems, result.output
    assert any("forged:1" in line or f"{entry_id}" in line for line in problems)
    assert "Ledger OK" not in result.output


def test_import_expenses_imports_a_good_file(db, runner, tmp_path, make_user):
    from marketplace.models import Expense, ImportBatch

    treasurer = make_user("treasurer", email="t@test.coop")
    path = tmp_path / "bank.csv"
    path.write_text(GOOD_FILE, encoding="utf-8")
    result = runner.invoke(args=["ledger", "import-expenses", str(path), "--as", "t@test.coop"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "Imported 2 rows from bank.csv (import 1): expenses $49.00, other income $1.27."
    assert db.session.scalar(select(ImportBatch.created_by_id)) == treasurer.id
    assert db.session.scalar(select(func.count()).select_from(Expense)) == 1
    again = runner.invoke(args=["ledger", "import-expenses", str(path)])
    assert again.exit_code == 2
    assert "already imported" in again.output


def test_import_expenses_reports_each_bad_line_and_exits_2(db, runner, tmp_path):
    from marketplace.models import Expense, JournalEntry

    path = tmp_path / "bad.csv"
    path.write_text(GOOD_FILE + "2026-02-30,5,Oops,hosting\n2026-03-01,7,,travel\n", encoding="utf-8")
    result = runner.invoke(args=["ledger", "import-expenses", str(path)])
    assert result.exit_code == 2
    assert "bad.csv: line 4, column date: '2026-02-30' is not a real date" in result.output
    assert "bad.csv: line 5, column description: missing value" in result.output
    assert "bad.csv: line 5, column category: 'travel' is not an expense category" in result.output
    assert "The file has 3 problems; nothing was imported." in result.output
    for model in (Expense, JournalEntry):
        assert db.session.scalar(select(func.count()).select_from(model)) == 0


def test_import_expenses_refuses_unreadable_input_with_exit_2(db, runner, tmp_path):
    missing = runner.invoke(args=["ledger", "import-expenses", str(tmp_path / "nope.csv")])
    assert missing.exit_code == 2
    latin = tmp_path / "latin.csv"
    latin.write_bytes("date,amount,description,category\n2026-01-01,1,Café,office\n".encode("latin-1"))
    result = runner.invoke(args=["ledger", "import-expenses", str(latin)])
    assert result.exit_code == 2
    assert "not UTF-8" in result.output
    unknown = runner.invoke(args=["ledger", "import-expenses", str(latin), "--as", "nobody@test.coop"])
    assert unknown.exit_code == 2 and "no account with email" in unknown.output

"""Expenses and other income: each recorded once, posted once, and a bank file imported whole or not at all."""

from datetime import date, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from marketplace.errors import Conflict, ValidationFailed

PNG = b"\x89PNG\r\n\x1a\n" + b"\0" * 64
GOOD_FILE = (
    "date,amount,description,category\n"
    "2026-01-31,49.00,Hosting for January,hosting\n"
    "2026-02-01,1250.50,Insurance premium,insurance\n"
    "2026-02-28,1.27,Savings interest,income:interest\n"
)


@pytest.fixture
def treasurer(make_user):
    return make_user("treasurer")


def count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def postings_of(entry) -> set[tuple[str, int]]:
    return {(p.account_code, p.amount_cents) for p in entry.postings}


def test_an_expense_is_recorded_and_posted_once(db, treasurer):
    from marketplace.models import AuditEvent, JournalEntry
    from marketplace.services import books

    expense = books.record_expense(occurred_on=date(2026, 1, 31), category="hosting", amount_cents=4_900,
                                   memo="  Hosting for January ", actor_id=treasurer.id)
    entry = db.session.get(JournalEntry, expense.journal_entry_id)
    assert entry.idempotency_key == f"expense:{expense.id}"
    assert postings_of(entry) == {("5000:hosting", 4_900), ("1000", -4_900)}
    assert entry.memo == "Hosting for January (hosting)"
    assert (entry.source_type, entry.source_id, entry.occurred_on) == ("expense", expense.id, date(2026, 1, 31))
    assert expense.memo == "Hosting for January"
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.subject_id == expense.id)) == (
        "books.expense_recorded")


def test_other_income_is_posted_to_bank_and_4500(db, treasurer):
    from marketplace.models import JournalEntry
    from marketplace.services import books

    income = books.record_other_income(occurred_on=date(2026, 3, 31), kind="interest", amount_cents=127,
                                       memo="Savings interest", actor_id=treasurer.id)
    entry = db.session.get(JournalEntry, income.journal_entry_id)
    assert entry.idempotency_key == f"income:{income.id}"
    assert postings_of(entry) == {("1000", 127), ("4500", -127)}


@pytest.mark.parametrize(("changes", "field"), [
    ({"category": "yachts"}, "category"),
    ({"amount_cents": 0}, "amount_cents"),
    ({"amount_cents": 12.5}, "amount_cents"),
    ({"occurred_on": date.today() + timedelta(days=3)}, "occurred_on"),
    ({"occurred_on": "2026-01-01"}, "occurred_on"),
    ({"memo": "   "}, "memo"),
    ({"memo": "x" * 201}, "memo"),
])
def test_bad_expenses_are_refused_field_by_field_and_nothing_is_written(db, treasurer, changes, field):
    from marketplace.models import Expense, JournalEntry
    from marketplace.services import books

    values = {"occurred_on": date(2026, 1, 31), "category": "hosting", "amount_cents": 4_900, "memo": "Hosting",
              **changes}
    with pytest.raises(ValidationFailed) as caught:
        books.record_expense(**values, actor_id=treasurer.id)
    assert list(caught.value.fields) == [field]
    assert count(db, Expense) == count(db, JournalEntry) == 0


def test_a_bad_income_kind_is_refused(db, treasurer):
    from marketplace.services import books

    with pytest.raises(ValidationFailed) as caught:
        books.record_other_income(occurred_on=date(2026, 1, 1), kind="lottery", amount_cents=5, memo="x",
                                  actor_id=treasurer.id)
    assert caught.value.fields["kind"].startswith("'lottery' is not a kind of income")


def test_the_same_request_key_records_one_expense_and_refuses_a_different_one(db, treasurer):
    from marketplace.models import Expense, JournalEntry
    from marketplace.services import books

    values = {"occurred_on": date(2026, 1, 31), "category": "hosting", "amount_cents": 4_900, "memo": "Hosting"}
    first = books.record_expense(**values, actor_id=treasurer.id, request_key="form-abc")
    again = books.record_expense(**values, actor_id=treasurer.id, request_key="form-abc")
    assert again.id == first.id
    assert count(db, Expense) == count(db, JournalEntry) == 1
    with pytest.raises(Conflict):
        books.record_expense(**{**values, "amount_cents": 5_000}, actor_id=treasurer.id, request_key="form-abc")
    income = {"occurred_on": date(2026, 1, 31), "kind": "interest", "amount_cents": 10, "memo": "Interest"}
    assert (books.record_other_income(**income, actor_id=None, request_key="k").id
            == books.record_other_income(**income, actor_id=None, request_key="k").id)
    assert count(db, JournalEntry) == 2


def test_a_receipt_is_stored_under_the_instance_folder_with_a_random_name(app, db, treasurer):
    from marketplace.services import books, expense_receipts

    expense = books.record_expense(occurred_on=date(2026, 1, 31), category="office", amount_cents=1_999,
                                   memo="Printer paper", actor_id=treasurer.id, receipt_data=PNG,
                                   receipt_filename="../../etc/passwd.png")
    path, content_type = expense_receipts.open_receipt(expense.receipt_path)
    assert path.parent == Path(app.instance_path) / "receipts"
    assert path.read_bytes() == PNG and content_type == "image/png"
    assert expense.receipt_path.endswith(".png") and len(expense.receipt_path) == 36
    assert expense.receipt_name == "etc_passwd.png"


def test_a_bad_receipt_saves_nothing(app, db, treasurer):
    from marketplace.models import Expense
    from marketplace.services import books

    folder = Path(app.instance_path) / "receipts"
    before = set(folder.iterdir()) if folder.exists() else set()
    for data in (b"<html>not a receipt</html>", b"%PDF-" + b"0" * (5 * 1024 * 1024)):
        with pytest.raises(ValidationFailed) as caught:
            books.record_expense(occurred_on=date(2026, 1, 31), category="office", amount_cents=100, memo="x",
                                 actor_id=treasurer.id, receipt_data=data, receipt_filename="r.pdf")
        assert "receipt" in caught.value.fields
    assert count(db, Expense) == 0
    assert (set(folder.iterdir()) if folder.exists() else set()) == before


def test_a_receipt_can_be_attached_later_and_replaces_the_old_file(db, treasurer):
    from marketplace.services import books, expense_receipts

    expense = books.record_expense(occurred_on=date(2026, 1, 31), category="office", amount_cents=100, memo="x",
                                   actor_id=treasurer.id, receipt_data=PNG, receipt_filename="a.png")
    old_path, _ = expense_receipts.open_receipt(expense.receipt_path)
    books.attach_receipt(expense.id, b"%PDF-1.4 receipt", "invoice.pdf", treasurer.id)
    assert not old_path.exists()
    new_path, content_type = expense_receipts.open_receipt(expense.receipt_path)
    assert content_type == "application/pdf" and new_path.read_bytes() == b"%PDF-1.4 receipt"


def test_a_good_bank_file_is_imported_and_posted(db, treasurer):
    from marketplace.models import Expense, JournalEntry, OtherIncome
    from marketplace.services import books, ledger

    batch = books.import_bank_csv(GOOD_FILE, treasurer.id, filename="january.csv")
    assert (batch.row_count, batch.expense_cents, batch.income_cents) == (3, 129_950, 127)
    assert count(db, Expense) == 2 and count(db, OtherIncome) == 1 and count(db, JournalEntry) == 3
    assert db.session.scalars(select(Expense.import_batch_id)).all() == [batch.id, batch.id]
    assert ledger.balance("1000") == -129_950 + 127
    assert ledger.balance("5000:insurance") == 125_050


def test_a_file_with_any_bad_row_imports_nothing_and_lists_every_problem(db, treasurer):
    from marketplace.models import Expense, ImportBatch, JournalEntry, LedgerAccount, OtherIncome
    from marketplace.services import books

    bad = GOOD_FILE + "2026-03-01,abc,Broken,hosting\n2026-13-01,5.00,Bad month,income:rent\n"
    with pytest.raises(books.ImportRejected) as caught:
        books.import_bank_csv(bad, treasurer.id)
    assert caught.value.problems == [
        "line 5, column amount: 'abc' is not an amount (use digits with up to two decimals, e.g. 1234.50)",
        "line 6, column date: '2026-13-01' is not a real date",
    ]
    assert caught.value.message == "The file has 2 problems; nothing was imported."
    for model in (Expense, OtherIncome, ImportBatch, JournalEntry, LedgerAccount):
        assert count(db, model) == 0


def test_the_same_file_is_not_imported_twice(db, treasurer):
    from marketplace.models import Expense
    from marketplace.services import books

    books.import_bank_csv(GOOD_FILE, treasurer.id)
    with pytest.raises(Conflict, match="already imported"):
        books.import_bank_csv("\ufeff" + GOOD_FILE.replace("\n", "\r\n"), treasurer.id)
    assert count(db, Expense) == 2


def test_preview_checks_without_saving(db, treasurer):
    from marketplace.models import ImportBatch
    from marketplace.services import books

    preview = books.preview_bank_csv(GOOD_FILE)
    assert (len(preview.rows), preview.expense_cents, preview.income_cents) == (3, 129_950, 127)
    assert count(db, ImportBatch) == 0

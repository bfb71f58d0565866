"""Recording the co-op's operating expenses and other income, one at a time or from a bank CSV.

Every expense is posted to the ledger as ``domain.ledger.entry_expense`` (debit ``5000:<category>``,
credit bank) and every other income as ``entry_other_income`` (debit bank, credit ``4500``), through
``services.ledger.post``, in the same transaction as the row. The ledger keys are ``expense:<id>`` and
``income:<id>``; a caller-supplied ``request_key`` (the form's one-time token, the API's
``Idempotency-Key``) makes a retried request return the row already recorded instead of a second one.

Bank CSV import: the format is documented in ``domain.bank_import``. All rows are valid or nothing is
saved; the same file (by content hash) is never imported twice.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from marketplace.domain import ledger as journal
from marketplace.domain.bank_import import BankImportError, BankRow, content_hash, parse_bank_csv
from marketplace.domain.books import amount_problem, category_problem, income_kind_problem, memo_problem
from marketplace.errors import Conflict, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.models import Expense, ImportBatch, OtherIncome
from marketplace.services import audit, expense_receipts, ledger

REQUEST_KEY_MAX = 100


class ImportRejected(ValidationFailed):
    """A bank file with problems; ``problems`` lists each as ``line N, column X: message``."""

    def __init__(self, problems: list[str]):
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__({"file": "; ".join(problems)}, message=f"The file has {count}; nothing was imported.")
        self.problems = problems


@dataclass(frozen=True)
class ImportPreview:
    """A bank file that passed every check, not yet saved."""

    rows: tuple[BankRow, ...]
    content_hash: str
    expense_cents: int
    income_cents: int


def local_today() -> date:
    """Today in the co-op's time zone (config ``COOP_TIMEZONE``): nothing can be recorded after it."""
    return datetime.now(ZoneInfo(current_app.config["COOP_TIMEZONE"])).date()


def _check(occurred_on: object, amount_cents: object, memo: str, request_key: str | None) -> dict[str, str]:
    problems: dict[str, str] = {}
    if not isinstance(occurred_on, date) or isinstance(occurred_on, datetime):
        problems["occurred_on"] = "Give the date as YYYY-MM-DD."
    elif occurred_on > local_today():
        problems["occurred_on"] = "The date is in the future."
    if problem := amount_problem(amount_cents):
        problems["amount_cents"] = f"The amount {problem}."
    if problem := memo_problem(memo or ""):
        problems["memo"] = f"The description {problem}."
    if request_key is not None and not 1 <= len(request_key) <= REQUEST_KEY_MAX:
        problems["request_key"] = f"The request key must be 1–{REQUEST_KEY_MAX} characters."
    return problems


def _replayed(model, request_key: str | None, values: dict):
    """The row already recorded under ``request_key``; Conflict if it was recorded with other values."""
    if request_key is None:
        return None
    row = db.session.scalar(select(model).where(model.request_key == request_key))
    if row is not None and any(getattr(row, name) != value for name, value in values.items()):
        raise Conflict("This request key was already used to record something different.")
    return row


def _insert(row, request_key: str | None, values: dict):
    """Insert ``row`` in a savepoint; if a concurrent request with the same key won, return its row instead."""
    try:
        with db.session.begin_nested():
            db.session.add(row)
            db.session.flush()
    except IntegrityError:
        winner = _replayed(type(row), request_key, values)
        if winner is None:
            raise
        return winner
    return row


def add_expense(values: dict, *, actor_id: int | None, request_key: str | None = None,
                batch_id: int | None = None, receipt: tuple[str, str] | None = None) -> Expense:
    """Insert an already-checked expense and post it, in the caller's transaction (the caller commits).

    ``values``: occurred_on, category, amount_cents, memo. A ``request_key`` already used returns that row.
    """
    if (existing := _replayed(Expense, request_key, values)) is not None:
        return existing
    row = Expense(**values, request_key=request_key, created_by_id=actor_id, import_batch_id=batch_id,
                  receipt_path=receipt[0] if receipt else None, receipt_name=receipt[1] if receipt else None)
    saved = _insert(row, request_key, values)
    if saved is not row:
        return saved
    spec = journal.entry_expense(row.id, row.category, row.amount_cents, row.occurred_on)
    entry = ledger.post(dataclasses.replace(spec, memo=f"{row.memo} ({row.category})"),
                        source_type="expense", source_id=row.id)
    row.journal_entry_id = entry.id
    return row


def add_income(values: dict, *, actor_id: int | None, request_key: str | None = None,
               batch_id: int | None = None) -> OtherIncome:
    """Insert already-checked other income and post it, in the caller's transaction (the caller commits).

    ``values``: occurred_on, kind, amount_cents, memo. A ``request_key`` already used returns that row.
    """
    if (existing := _replayed(OtherIncome, request_key, values)) is not None:
        return existing
    row = OtherIncome(**values, request_key=request_key, created_by_id=actor_id, import_batch_id=batch_id)
    saved = _insert(row, request_key, values)
    if saved is not row:
        return saved
    spec = journal.entry_other_income(row.id, row.amount_cents, row.occurred_on, memo=f"{row.memo} ({row.kind})")
    row.journal_entry_id = ledger.post(spec, source_type="other_income", source_id=row.id).id
    return row


def record_expense(*, occurred_on: date, category: str, amount_cents: int, memo: str, actor_id: int | None,
                   receipt_data: bytes | None = None, receipt_filename: str | None = None,
                   request_key: str | None = None) -> Expense:
    """Record an operating expense paid from the bank and post it (debit 5000:<category>, credit 1000).

    Rules: a known category, 0 < amount ≤ $10M, a date not in the future, a 1–200 character memo; an
    optional receipt (PDF/PNG/JPEG ≤ 5 MB). The same ``request_key`` twice records one expense.
    """
    problems = _check(occurred_on, amount_cents, memo, request_key)
    if problem := category_problem(category):
        problems["category"] = problem[0].upper() + problem[1:] + "."
    if problems:
        raise ValidationFailed(problems)
    values = {"occurred_on": occurred_on, "category": category, "amount_cents": amount_cents, "memo": memo.strip()}
    if (existing := _replayed(Expense, request_key, values)) is not None:
        return existing
    receipt = expense_receipts.store(receipt_data, receipt_filename) if receipt_data is not None else None
    try:
        expense = add_expense(values, actor_id=actor_id, request_key=request_key, receipt=receipt)
        if receipt and expense.receipt_path != receipt[0]:
            expense_receipts.discard(receipt[0])
        audit.record("books.expense_recorded", actor_id=actor_id, subject=expense,
                     detail=f"{category} {amount_cents} cents on {occurred_on.isoformat()}")
        db.session.commit()
    except BaseException:
        db.session.rollback()
        expense_receipts.discard(receipt[0] if receipt else None)
        raise
    return expense


def record_other_income(*, occurred_on: date, kind: str, amount_cents: int, memo: str, actor_id: int | None,
                        request_key: str | None = None) -> OtherIncome:
    """Record non-patronage income received in the bank and post it (debit 1000, credit 4500).

    Rules as for expenses, with a known kind of income (interest, rent…) instead of a category.
    """
    problems = _check(occurred_on, amount_cents, memo, request_key)
    if problem := income_kind_problem(kind):
        problems["kind"] = problem[0].upper() + problem[1:] + "."
    if problems:
        raise ValidationFailed(problems)
    values = {"occurred_on": occurred_on, "kind": kind, "amount_cents": amount_cents, "memo": memo.strip()}
    if (existing := _replayed(OtherIncome, request_key, values)) is not None:
        return existing  # a retried request: recorded (and audited) once
    try:
        income = add_income(values, actor_id=actor_id, request_key=request_key)
        audit.record("books.income_recorded", actor_id=actor_id, subject=income,
                     detail=f"{kind} {amount_cents} cents on {occurred_on.isoformat()}")
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return income


def attach_receipt(expense_id: int, data: bytes, filename: str | None, actor_id: int | None) -> Expense:
    """Attach (or replace) the receipt of a recorded expense; the ledger entry is untouched."""
    expense = db.session.get(Expense, expense_id)
    if expense is None:
        raise NotFound("No such expense.")
    old = expense.receipt_path
    expense.receipt_path, expense.receipt_name = expense_receipts.store(data, filename)
    audit.record("books.receipt_attached", actor_id=actor_id, subject=expense, detail=expense.receipt_name)
    try:
        db.session.commit()
    except BaseException:
        db.session.rollback()
        expense_receipts.discard(expense.receipt_path)
        raise
    expense_receipts.discard(old)
    return expense


def preview_bank_csv(text: str) -> ImportPreview:
    """Check a bank file without saving: every row valid (ImportRejected otherwise) and not imported before."""
    try:
        rows = parse_bank_csv(text, today=local_today())
    except BankImportError as exc:
        raise ImportRejected(exc.problems) from exc
    digest = content_hash(text)
    earlier = db.session.scalar(select(ImportBatch).where(ImportBatch.content_hash == digest))
    if earlier is not None:
        raise Conflict(f"This file was already imported on {earlier.created_at:%Y-%m-%d} "
                       f"(import {earlier.id}, {earlier.row_count} rows); nothing was imported again.")
    return ImportPreview(
        rows=tuple(rows), content_hash=digest,
        expense_cents=sum(r.amount_cents for r in rows if r.kind == "expense"),
        income_cents=sum(r.amount_cents for r in rows if r.kind == "income"),
    )


def import_bank_csv(text: str, actor_id: int | None, filename: str = "bank.csv") -> ImportBatch:
    """Import a bank CSV (format: ``domain.bank_import``): all rows are recorded and posted, or none.

    A file with any problem raises ImportRejected listing them all; a file already imported raises Conflict.
    """
    preview = preview_bank_csv(text)
    batch = ImportBatch(filename=(filename or "bank.csv")[:255], content_hash=preview.content_hash,
                        row_count=len(preview.rows), expense_cents=preview.expense_cents,
                        income_cents=preview.income_cents, created_by_id=actor_id)
    try:
        try:
            with db.session.begin_nested():
                db.session.add(batch)
                db.session.flush()
        except IntegrityError as exc:
            raise Conflict("This file was already imported; nothing was imported again.") from exc
        for row in preview.rows:
            values = {"occurred_on": row.occurred_on, "amount_cents": row.amount_cents, "memo": row.description}
            if row.kind == "expense":
                add_expense({**values, "category": row.category}, actor_id=actor_id, batch_id=batch.id)
            else:
                add_income({**values, "kind": row.category}, actor_id=actor_id, batch_id=batch.id)
        audit.record("books.bank_file_imported", actor_id=actor_id, subject=batch,
                     detail=f"{batch.filename}: {batch.row_count} rows")
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise
    return batch

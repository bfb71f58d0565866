"""Recording pages: expenses (with receipts), other income, and the bank CSV import with its preview."""

from __future__ import annotations

import base64
import binascii

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user

from marketplace.domain.bank_import import MAX_FILE_BYTES, BankImportError, decode_upload, split_problem
from marketplace.domain.books import EXPENSE_CATEGORIES, INCOME_KINDS, RECEIPT_MAX_BYTES, category_label, income_label
from marketplace.errors import Conflict, ValidationFailed
from marketplace.services import book_lists, books, expense_receipts, reports
from marketplace.web.books import bp, treasurer_only
from marketplace.web.books.forms import ExpenseForm, ImportConfirmForm, ImportForm, IncomeForm, RangeForm, ReceiptForm
from marketplace.web.forms import apply_errors

ALIASES = {"amount_cents": "amount"}
LABELS = {"category_label": category_label, "income_label": income_label}


@bp.get("/books")
def index():
    today = books.local_today()
    statement = reports.income_statement(today.replace(month=1, day=1), today)
    return render_template("books/index.html", statement=statement, today=today,
                           expenses=book_lists.expenses_page(per_page=5).items,
                           income=book_lists.income_page(per_page=5).items,
                           imports=book_lists.recent_imports(5), **LABELS)


def _range_form() -> RangeForm:
    form = RangeForm(request.args)
    form.validate()
    return form


@bp.get("/books/expenses")
def expenses():
    form = _range_form()
    page = book_lists.expenses_page(form.start.data, form.end.data, request.args.get("page", 1, type=int))
    return render_template("books/expenses.html", form=form, page=page, **LABELS)


@bp.get("/books/income")
def income():
    form = _range_form()
    page = book_lists.income_page(form.start.data, form.end.data, request.args.get("page", 1, type=int))
    return render_template("books/income.html", form=form, page=page, **LABELS)


def _receipt_upload(field) -> tuple[bytes | None, str | None]:
    upload = field.data
    if not upload or not getattr(upload, "filename", ""):
        return None, None
    return upload.read(RECEIPT_MAX_BYTES + 1), upload.filename


@bp.route("/books/expenses/new", methods=["GET", "POST"])
@treasurer_only
def new_expense():
    form = ExpenseForm()
    form.ensure_request_key()
    if form.validate_on_submit():
        data, filename = _receipt_upload(form.receipt)
        try:
            expense = books.record_expense(
                occurred_on=form.occurred_on.data, category=form.category.data, amount_cents=form.amount.cents,
                memo=form.memo.data, actor_id=current_user.id, receipt_data=data, receipt_filename=filename,
                request_key=form.request_key.data)
        except (ValidationFailed, Conflict) as exc:
            _show(form, exc)
        else:
            flash(f"Recorded {category_label(expense.category)} expense #{expense.id}.", "success")
            return redirect(url_for("books.expense", expense_id=expense.id))
    return render_template("books/expense_form.html", form=form, categories=EXPENSE_CATEGORIES), _status(form)


@bp.route("/books/income/new", methods=["GET", "POST"])
@treasurer_only
def new_income():
    form = IncomeForm()
    form.ensure_request_key()
    if form.validate_on_submit():
        try:
            row = books.record_other_income(
                occurred_on=form.occurred_on.data, kind=form.kind.data, amount_cents=form.amount.cents,
                memo=form.memo.data, actor_id=current_user.id, request_key=form.request_key.data)
        except (ValidationFailed, Conflict) as exc:
            _show(form, exc)
        else:
            flash(f"Recorded {income_label(row.kind).lower()} income #{row.id}.", "success")
            return redirect(url_for("books.income"))
    return render_template("books/income_form.html", form=form, kinds=INCOME_KINDS), _status(form)


def _show(form, exc) -> None:
    if isinstance(exc, ValidationFailed):
        apply_errors(form, exc, ALIASES)
    else:
        flash(exc.message, "error")


def _status(form) -> int:
    """A form shown again after a POST was refused: 422, so clients and tests see the refusal."""
    return 422 if request.method == "POST" else 200


@bp.get("/books/expenses/<int:expense_id>")
def expense(expense_id: int):
    row = book_lists.get_expense(expense_id)
    return render_template("books/expense.html", expense=row, form=ReceiptForm(), **LABELS)


@bp.post("/books/expenses/<int:expense_id>/receipt")
@treasurer_only
def attach_receipt(expense_id: int):
    form = ReceiptForm()
    if form.validate_on_submit():
        data, filename = _receipt_upload(form.receipt)
        try:
            books.attach_receipt(expense_id, data or b"", filename, current_user.id)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash("Receipt saved.", "success")
            return redirect(url_for("books.expense", expense_id=expense_id))
    row = book_lists.get_expense(expense_id)
    return render_template("books/expense.html", expense=row, form=form, **LABELS), 422


@bp.get("/books/expenses/<int:expense_id>/receipt")
def receipt(expense_id: int):
    row = book_lists.get_expense(expense_id)
    path, content_type = expense_receipts.open_receipt(row.receipt_path)
    response = send_file(path, mimetype=content_type, as_attachment=True,
                         download_name=row.receipt_name or path.name, max_age=0)
    response.headers["Cache-Control"] = "private, no-store"
    return response


def _import_page(status: int = 200, **context):
    page = render_template("books/import.html", categories=EXPENSE_CATEGORIES, kinds=INCOME_KINDS,
                           split_problem=split_problem, **LABELS, **context)
    return page, status


@bp.route("/books/import", methods=["GET", "POST"])
@treasurer_only
def import_file():
    form = ImportForm()
    if not form.validate_on_submit():
        return _import_page(_status(form), form=form)
    upload = form.file.data
    try:
        text = decode_upload(upload.read(MAX_FILE_BYTES + 1))
        preview = books.preview_bank_csv(text)
    except BankImportError as exc:
        return _import_page(422, form=form, problems=exc.problems)
    except books.ImportRejected as exc:
        return _import_page(422, form=form, problems=exc.problems, message=exc.message)
    except Conflict as exc:
        flash(exc.message, "error")
        return _import_page(409, form=form)
    filename = (upload.filename or "bank.csv")[:255]
    confirm = ImportConfirmForm(formdata=None, content=base64.b64encode(text.encode()).decode(), filename=filename)
    return _import_page(form=form, preview=preview, confirm=confirm, filename=filename)


@bp.post("/books/import/confirm")
@treasurer_only
def confirm_import():
    confirm = ImportConfirmForm()
    if not confirm.validate_on_submit():
        flash("The form expired; choose the file again.", "error")
        return redirect(url_for("books.import_file"))
    try:
        text = base64.b64decode(confirm.content.data, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        flash("The file did not come back intact; choose it again.", "error")
        return redirect(url_for("books.import_file"))
    try:
        batch = books.import_bank_csv(text, current_user.id, filename=confirm.filename.data or "bank.csv")
    except books.ImportRejected as exc:
        return _import_page(422, form=ImportForm(formdata=None), problems=exc.problems, message=exc.message)
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for("books.import_file"))
    flash(f"Imported {batch.row_count} rows from {batch.filename}.", "success")
    return redirect(url_for("books.import_batch", batch_id=batch.id))


@bp.get("/books/imports/<int:batch_id>")
def import_batch(batch_id: int):
    batch, expense_rows, income_rows = book_lists.import_batch(batch_id)
    return render_template("books/import_batch.html", batch=batch, expenses=expense_rows, income=income_rows,
                           **LABELS)

"""Treasurer endpoints: expenses, other income and the financial reports.

Treasurers record; treasurers and admins read. Money is integer cents (``*_cents``); dates are
``YYYY-MM-DD``. A POST may carry an ``Idempotency-Key`` header: sending it again returns the row
already recorded (same status, same body) instead of recording a second one.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, g, jsonify, request

from marketplace.api.spec import CONFLICT, operation, schema
from marketplace.domain.books import EXPENSE_CATEGORIES, INCOME_KINDS, MAX_AMOUNT_CENTS, MEMO_MAX, category_label
from marketplace.errors import ValidationFailed
from marketplace.models.base import MAX_PAGE
from marketplace.services import book_lists, books, reports

READERS = ("treasurer", "admin")
WRITERS = ("treasurer",)
CENTS = {"type": "integer"}
DATE = {"type": "string", "format": "date"}


def _date_param(name: str, description: str) -> dict:
    # Sent empty (``?end=``, as an HTML form does) it counts as not sent: the default applies.
    return {"name": name, "in": "query", "required": False, "description": description, "schema": DATE,
            "allowEmptyValue": True}


RANGE_QUERY = [_date_param("start", "First day (default: 1 January this year)"),
               _date_param("end", "Last day, included (default: today)")]
PAGE_QUERY = [*RANGE_QUERY, {"name": "page", "in": "query", "required": False, "allowEmptyValue": True,
                             "description": "Page number, from 1 (default 1)",
                             "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE}}]
AS_OF_QUERY = [_date_param("as_of", "Balances at the end of this day (default: today)")]
IDEMPOTENCY = {"name": "Idempotency-Key", "in": "header", "required": False, "schema": {"type": "string"}}

_RECORD_FIELDS = {
    "occurred_on": DATE,
    "amount_cents": {"type": "integer", "minimum": 1, "maximum": MAX_AMOUNT_CENTS},
    "memo": {"type": "string", "minLength": 1, "maxLength": MEMO_MAX},
}
EXPENSE_IN = schema("ExpenseInput", {
    "type": "object", "additionalProperties": False, "required": ["occurred_on", "category", "amount_cents", "memo"],
    "properties": {**_RECORD_FIELDS, "category": {"type": "string", "enum": list(EXPENSE_CATEGORIES)}},
})
INCOME_IN = schema("IncomeInput", {
    "type": "object", "additionalProperties": False, "required": ["occurred_on", "kind", "amount_cents", "memo"],
    "properties": {**_RECORD_FIELDS, "kind": {"type": "string", "enum": list(INCOME_KINDS)}},
})
_ROW = {"id": {"type": "integer"}, "occurred_on": DATE, "amount_cents": CENTS, "memo": {"type": "string"},
        "import_batch_id": {"type": ["integer", "null"]}, "journal_entry_id": {"type": "integer"}}


def _exactly(properties: dict) -> dict:
    """An object with exactly these properties, all present (as every answer below is built)."""
    return {"type": "object", "required": list(properties), "properties": properties, "additionalProperties": False}


EXPENSE = schema("Expense", _exactly({
    **_ROW, "category": {"type": "string"}, "category_label": {"type": "string"}, "has_receipt": {"type": "boolean"}}))
INCOME = schema("OtherIncome", _exactly({**_ROW, "kind": {"type": "string"}}))


def _page_schema(name: str, item: dict) -> dict:
    return schema(name, _exactly({
        "items": {"type": "array", "items": item}, "page": {"type": "integer"}, "pages": {"type": "integer"},
        "total": {"type": "integer"}}))


EXPENSE_PAGE = _page_schema("ExpensePage", EXPENSE)
INCOME_PAGE = _page_schema("IncomePage", INCOME)
LINE = _exactly({"code": {"type": "string"}, "label": {"type": "string"}, "cents": CENTS})
INCOME_STATEMENT = schema("IncomeStatement", _exactly({
    "start": DATE, "end": DATE, "member_fees_cents": CENTS, "nonmember_fees_cents": CENTS,
    "other_income_cents": CENTS, "expenses": {"type": "array", "items": LINE}, "total_expenses_cents": CENTS,
    "net_margin_cents": CENTS}))
BALANCE_SHEET = schema("BalanceSheet", _exactly({
    "as_of": DATE, "assets": {"type": "array", "items": LINE}, "liabilities": {"type": "array", "items": LINE},
    "equity": {"type": "array", "items": LINE}, "surplus_cents": CENTS, "total_assets_cents": CENTS,
    "total_liabilities_cents": CENTS, "total_equity_cents": CENTS, "balanced": {"type": "boolean"}}))
TRIAL_BALANCE = schema("TrialBalance", _exactly({
    "as_of": DATE, "lines": {"type": "array", "items": _exactly({
        "code": {"type": "string"}, "name": {"type": "string"}, "debit_cents": CENTS, "credit_cents": CENTS})},
    "total_debit_cents": CENTS, "total_credit_cents": CENTS}))


def _date_arg(name: str, default: date | None) -> date | None:
    text = request.args.get(name, "").strip()
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise ValidationFailed({name: f"'{text}' is not a date; use YYYY-MM-DD."}) from exc


def _page_arg() -> int:
    text = request.args.get("page", "").strip()
    if not text:
        return 1
    if not text.isdecimal() or not 1 <= int(text) <= MAX_PAGE:
        raise ValidationFailed({"page": f"Give a page number from 1 to {MAX_PAGE:,}."})
    return int(text)


def _range(defaults: bool) -> tuple[date | None, date | None]:
    today = books.local_today()
    return (_date_arg("start", today.replace(month=1, day=1) if defaults else None),
            _date_arg("end", today if defaults else None))


def _body_date() -> date:
    try:
        return date.fromisoformat(g.json["occurred_on"])
    except ValueError as exc:
        raise ValidationFailed({"occurred_on": "Give the date as YYYY-MM-DD."}) from exc


def _key() -> str | None:
    return request.headers.get("Idempotency-Key", "").strip() or None


def expense_json(row) -> dict:
    return {"id": row.id, "occurred_on": row.occurred_on.isoformat(), "category": row.category,
            "category_label": category_label(row.category), "amount_cents": row.amount_cents, "memo": row.memo,
            "has_receipt": bool(row.receipt_path), "import_batch_id": row.import_batch_id,
            "journal_entry_id": row.journal_entry_id}


def income_json(row) -> dict:
    return {"id": row.id, "occurred_on": row.occurred_on.isoformat(), "kind": row.kind,
            "amount_cents": row.amount_cents, "memo": row.memo, "import_batch_id": row.import_batch_id,
            "journal_entry_id": row.journal_entry_id}


def _page_json(page, render) -> dict:
    return {"items": [render(row) for row in page.items], "page": page.page, "pages": page.pages,
            "total": page.total}


def _lines(lines) -> list[dict]:
    return [{"code": line.code, "label": line.label, "cents": line.cents} for line in lines]


def register(bp: Blueprint) -> None:
    _register_entries(bp)
    _register_reports(bp)


def _register_entries(bp: Blueprint) -> None:
    @operation(bp, "/expenses", "POST", summary="Record an operating expense (posted to the ledger)",
               tags=["books"], request_schema=EXPENSE_IN, roles=WRITERS, query=[IDEMPOTENCY],
               responses={201: ("The expense", EXPENSE), 409: CONFLICT})
    def create_expense():
        row = books.record_expense(occurred_on=_body_date(), category=g.json["category"],
                                   amount_cents=g.json["amount_cents"], memo=g.json["memo"],
                                   actor_id=g.api_user.id, request_key=_key())
        return jsonify(expense_json(row)), 201

    @operation(bp, "/expenses", "GET", summary="Expenses in a date range, newest first", tags=["books"],
               roles=READERS, query=PAGE_QUERY, responses={200: ("A page of expenses", EXPENSE_PAGE)})
    def list_expenses():
        start, end = _range(defaults=False)
        page = book_lists.expenses_page(start, end, _page_arg())
        return jsonify(_page_json(page, expense_json))

    @operation(bp, "/income", "POST", summary="Record other (non-patronage) income", tags=["books"],
               request_schema=INCOME_IN, roles=WRITERS, query=[IDEMPOTENCY],
               responses={201: ("The income", INCOME), 409: CONFLICT})
    def create_income():
        row = books.record_other_income(occurred_on=_body_date(), kind=g.json["kind"],
                                        amount_cents=g.json["amount_cents"], memo=g.json["memo"],
                                        actor_id=g.api_user.id, request_key=_key())
        return jsonify(income_json(row)), 201

    @operation(bp, "/income", "GET", summary="Other income in a date range, newest first", tags=["books"],
               roles=READERS, query=PAGE_QUERY, responses={200: ("A page of income", INCOME_PAGE)})
    def list_income():
        start, end = _range(defaults=False)
        page = book_lists.income_page(start, end, _page_arg())
        return jsonify(_page_json(page, income_json))


def _register_reports(bp: Blueprint) -> None:
    @operation(bp, "/reports/income-statement", "GET", summary="Income statement for a date range",
               tags=["reports"], roles=READERS, query=RANGE_QUERY,
               responses={200: ("Income statement", INCOME_STATEMENT)})
    def income_statement_report():
        start, end = _range(defaults=True)
        s = reports.income_statement(start, end)
        return jsonify({"start": s.start.isoformat(), "end": s.end.isoformat(),
                        "member_fees_cents": s.member_fees_cents, "nonmember_fees_cents": s.nonmember_fees_cents,
                        "other_income_cents": s.other_income_cents, "expenses": _lines(s.expenses),
                        "total_expenses_cents": s.total_expenses_cents, "net_margin_cents": s.net_margin_cents})

    @operation(bp, "/reports/balance-sheet", "GET", summary="Balance sheet at the end of a day", tags=["reports"],
               roles=READERS, query=AS_OF_QUERY, responses={200: ("Balance sheet", BALANCE_SHEET)})
    def balance_sheet_report():
        s = reports.balance_sheet(_date_arg("as_of", books.local_today()))
        return jsonify({"as_of": s.as_of.isoformat(), "assets": _lines(s.assets),
                        "liabilities": _lines(s.liabilities), "equity": _lines(s.equity),
                        "surplus_cents": s.surplus_cents, "total_assets_cents": s.total_assets_cents,
                        "total_liabilities_cents": s.total_liabilities_cents,
                        "total_equity_cents": s.total_equity_cents, "balanced": s.balanced})

    @operation(bp, "/reports/trial-balance", "GET", summary="Trial balance at the end of a day", tags=["reports"],
               roles=READERS, query=AS_OF_QUERY, responses={200: ("Trial balance", TRIAL_BALANCE)})
    def trial_balance_report():
        t = reports.trial_balance(_date_arg("as_of", books.local_today()))
        lines = [{"code": line.code, "name": line.name, "debit_cents": line.debit_cents,
                  "credit_cents": line.credit_cents} for line in t.lines]
        return jsonify({"as_of": t.as_of.isoformat(), "lines": lines, "total_debit_cents": t.total_debit_cents,
                        "total_credit_cents": t.total_credit_cents})

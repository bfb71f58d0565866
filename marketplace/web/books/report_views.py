"""Report pages and their CSV downloads: income statement, balance sheet, trial balance, worker earnings."""

from __future__ import annotations

from datetime import date

from flask import render_template, request

from marketplace.domain import reports as layouts
from marketplace.domain.money import format_cents
from marketplace.errors import ValidationFailed
from marketplace.services import book_lists, books, reports
from marketplace.web.books import bp, csv_download, period_name
from marketplace.web.books.forms import AsOfForm, EarningsForm, RangeForm
from marketplace.web.charts import bar_chart, donut_chart
from marketplace.web.forms import apply_errors


def dollars(cents: int) -> str:
    return format_cents(cents, thousands=True, symbol="$").replace("-", "\u2212")


def _range(form: RangeForm) -> tuple[date, date]:
    """The form's dates, defaulting to this year so far; a malformed date is a field error (422)."""
    if not form.validate():
        raise ValidationFailed({name: errors[0] for name, errors in form.errors.items()})
    today = books.local_today()
    start = form.start.data or today.replace(month=1, day=1)
    end = form.end.data or today
    form.start.data, form.end.data = start, end
    return start, end


def _as_of(form: AsOfForm) -> date:
    if not form.validate():
        raise ValidationFailed({name: errors[0] for name, errors in form.errors.items()})
    form.as_of.data = form.as_of.data or books.local_today()
    return form.as_of.data


def _statement_charts(statement, months) -> dict:
    flows = [("Member fees", statement.member_fees_cents), ("Non-member fees", statement.nonmember_fees_cents),
             ("Other income", statement.other_income_cents), ("Expenses", -statement.total_expenses_cents),
             ("Net margin", statement.net_margin_cents)]
    spending = [(line.label, max(line.cents, 0)) for line in statement.expenses]
    return {
        "flows_chart": bar_chart(flows, "Income, expenses and net margin", value_format=dollars),
        "expense_chart": donut_chart(spending, "Expenses by category", value_format=dollars),
        "monthly_chart": bar_chart(months, "Net margin by month", value_format=dollars),
    }


@bp.get("/reports/income-statement")
def income_statement():
    form = RangeForm(request.args)
    try:
        start, end = _range(form)
        statement = reports.income_statement(start, end)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return render_template("books/income_statement.html", form=form, statement=None), 422
    charts = _statement_charts(statement, reports.monthly_margin(start, end))
    return render_template("books/income_statement.html", form=form, statement=statement, **charts)


@bp.get("/reports/income-statement.csv")
def income_statement_csv():
    start, end = _range(RangeForm(request.args))
    text = layouts.income_statement_csv(reports.income_statement(start, end))
    return csv_download(text, f"income-statement_{period_name(start, end)}.csv")


@bp.get("/reports/balance-sheet")
def balance_sheet():
    form = AsOfForm(request.args)
    try:
        sheet = reports.balance_sheet(_as_of(form))
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return render_template("books/balance_sheet.html", form=form, sheet=None), 422
    return render_template("books/balance_sheet.html", form=form, sheet=sheet)


@bp.get("/reports/balance-sheet.csv")
def balance_sheet_csv():
    as_of = _as_of(AsOfForm(request.args))
    return csv_download(layouts.balance_sheet_csv(reports.balance_sheet(as_of)), f"balance-sheet_{as_of}.csv")


@bp.get("/reports/trial-balance")
def trial_balance():
    form = AsOfForm(request.args)
    try:
        trial = reports.trial_balance(_as_of(form))
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return render_template("books/trial_balance.html", form=form, trial=None), 422
    return render_template("books/trial_balance.html", form=form, trial=trial)


@bp.get("/reports/trial-balance.csv")
def trial_balance_csv():
    as_of = _as_of(AsOfForm(request.args))
    return csv_download(layouts.trial_balance_csv(reports.trial_balance(as_of)), f"trial-balance_{as_of}.csv")


def _earnings_form() -> EarningsForm:
    form = EarningsForm(request.args)
    form.worker.choices = [(0, "Choose a worker")] + book_lists.workers()
    return form


@bp.get("/reports/earnings")
def earnings():
    form = _earnings_form()
    statement = None
    try:
        start, end = _range(form)
        if form.worker.data:
            statement = reports.worker_earnings_statement(form.worker.data, start, end)
    except ValidationFailed as exc:
        apply_errors(form, exc)
        return render_template("books/earnings.html", form=form, statement=None), 422
    return render_template("books/earnings.html", form=form, statement=statement)


@bp.get("/reports/earnings.csv")
def earnings_csv():
    form = _earnings_form()
    start, end = _range(form)
    if not form.worker.data:
        raise ValidationFailed({"worker": "Choose a worker."})
    statement = reports.worker_earnings_statement(form.worker.data, start, end)
    return csv_download(layouts.earnings_statement_csv(statement),
                        f"earnings_{statement.worker_id}_{period_name(start, end)}.csv")

"""The treasurer's books under /treasury: expenses, other income, bank-file imports, receipts and the reports
(income statement, balance sheet, trial balance, worker earnings statements), each as a page and a CSV.

Treasurers record; admins (the board) read everything but cannot record (403 on every write).
"""

from __future__ import annotations

from datetime import date
from functools import wraps

from flask import Blueprint, Response, abort
from flask_login import current_user

from marketplace.extensions import login_manager

bp = Blueprint("books", __name__, url_prefix="/treasury")


@bp.before_request
def require_books_reader():
    if not current_user.is_authenticated:
        return login_manager.unauthorized()
    if not current_user.has_role("treasurer", "admin"):
        abort(403, "The books are kept by the treasurer; the board can read them.")
    return None


def treasurer_only(view):
    """Recording is for treasurers; admins read the books but do not write them."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        if not current_user.has_role("treasurer"):
            abort(403, "Only the treasurer records expenses, income and imports.")
        return view(*args, **kwargs)

    return wrapped


def csv_download(text: str, name: str) -> Response:
    """A CSV file download (never cached: the books change)."""
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "private, no-store"})


def period_name(start: date, end: date) -> str:
    return f"{start.isoformat()}_{end.isoformat()}"


from marketplace.web.books import entries, report_views  # noqa: E402,F401  (attach the views to bp)

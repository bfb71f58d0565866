"""Reading the treasurer's books: recorded expenses and income, import batches, the workers to report on."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from marketplace.domain.paging import bounded
from marketplace.errors import NotFound
from marketplace.extensions import db
from marketplace.models import Expense, ImportBatch, OtherIncome, User, UserRole
from marketplace.models.base import MAX_PAGE

PER_PAGE = 25
MAX_PER_PAGE = 200


def _page(model, start: date | None, end: date | None, page: int, per_page: int):
    stmt = select(model)
    if start is not None:
        stmt = stmt.where(model.occurred_on >= start)
    if end is not None:
        stmt = stmt.where(model.occurred_on <= end)
    stmt = stmt.order_by(model.occurred_on.desc(), model.id.desc())
    return db.paginate(stmt, page=bounded(page, MAX_PAGE), per_page=bounded(per_page, MAX_PER_PAGE),
                       error_out=False)


def expenses_page(start: date | None = None, end: date | None = None, page: int = 1, per_page: int = PER_PAGE):
    """Expenses dated in [start, end] (either bound optional), newest first, one page (``.items``, ``.pages``…)."""
    return _page(Expense, start, end, page, per_page)


def income_page(start: date | None = None, end: date | None = None, page: int = 1, per_page: int = PER_PAGE):
    """Other income dated in [start, end], newest first, one page."""
    return _page(OtherIncome, start, end, page, per_page)


def get_expense(expense_id: int) -> Expense:
    """One expense, or NotFound."""
    expense = db.session.get(Expense, expense_id)
    if expense is None:
        raise NotFound("No such expense.")
    return expense


def recent_imports(limit: int = 10) -> list[ImportBatch]:
    """The latest bank-file imports, newest first."""
    return list(db.session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc()).limit(limit)))


def import_batch(batch_id: int) -> tuple[ImportBatch, list[Expense], list[OtherIncome]]:
    """A batch with the expenses and income it created, in file order."""
    batch = db.session.get(ImportBatch, batch_id)
    if batch is None:
        raise NotFound("No such import.")
    expenses = db.session.scalars(select(Expense).where(Expense.import_batch_id == batch_id).order_by(Expense.id))
    income = db.session.scalars(
        select(OtherIncome).where(OtherIncome.import_batch_id == batch_id).order_by(OtherIncome.id))
    return batch, list(expenses), list(income)


def workers() -> list[tuple[int, str]]:
    """(id, name) of everyone with the worker role, by name: whose earnings statements can be shown."""
    stmt = (select(User.id, User.name).join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == "worker").order_by(func.lower(User.name), User.id))
    return [(user_id, name) for user_id, name in db.session.execute(stmt)]

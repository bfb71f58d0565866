"""Demo books: a year of the co-op's operating expenses and a little interest income.

Deterministic (seeded by the year) and idempotent (each row has a ``demo:`` request key), so seeding twice
adds nothing. Days after today are skipped, so the current year fills up month by month. The amounts
are modest (a few thousand dollars a year) so the demo co-op's fees leave a surplus to share.
"""

from __future__ import annotations

import random
from datetime import date

from marketplace.extensions import db
from marketplace.services import books

# (category, months it is paid in, low and high amount in cents, memo)
EXPENSE_PLAN: tuple[tuple[str, tuple[int, ...], int, int, str], ...] = (
    ("hosting", tuple(range(1, 13)), 11_800, 16_400, "Servers, database and e-mail"),
    ("bank-fees", tuple(range(1, 13)), 1_200, 1_200, "Account fee"),
    ("outreach", tuple(range(1, 13)), 3_500, 9_500, "Flyers and community events"),
    ("insurance", (1, 4, 7, 10), 24_000, 24_000, "Liability insurance, quarterly premium"),
    ("accounting", (3,), 60_000, 60_000, "Annual accounts and tax filing"),
    ("accounting", (6, 9, 12), 9_000, 12_000, "Bookkeeping review"),
    ("training", (5, 11), 12_000, 18_000, "Member workshop"),
    ("office", (2, 5, 8, 11), 2_500, 6_500, "Stationery and printing"),
)
INTEREST_LOW, INTEREST_HIGH = 180, 620
PAY_DAY = 28  # every month has one


def _plan(year: int) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    rng = random.Random(f"books-{year}")
    expenses = []
    for category, months, low, high, memo in EXPENSE_PLAN:
        for month in months:
            on = date(year, month, PAY_DAY)
            values = {"occurred_on": on, "category": category, "amount_cents": rng.randint(low, high),
                      "memo": f"{memo} ({on:%B %Y})"}
            expenses.append((f"demo:{year}-{month:02d}:{category}", values))
    income = []
    for month in range(1, 13):
        on = date(year, month, PAY_DAY)
        values = {"occurred_on": on, "kind": "interest", "amount_cents": rng.randint(INTEREST_LOW, INTEREST_HIGH),
                  "memo": f"Savings account interest ({on:%B %Y})"}
        income.append((f"demo:{year}-{month:02d}:interest", values))
    return expenses, income


def seed_books(year: int) -> dict[str, int]:
    """Record the demo year's expenses and interest income (not after today) and commit; returns the counts.

    Every row goes through the books service, so each is posted to the ledger exactly once.
    """
    today = books.local_today()
    expenses, income = _plan(year)
    made = {"expenses": 0, "income": 0}
    for key, values in expenses:
        if values["occurred_on"] <= today:
            books.add_expense(values, actor_id=None, request_key=key)
            made["expenses"] += 1
    for key, values in income:
        if values["occurred_on"] <= today:
            books.add_income(values, actor_id=None, request_key=key)
            made["income"] += 1
    db.session.commit()
    return made

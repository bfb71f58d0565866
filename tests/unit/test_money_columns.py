"""Money is integer cents everywhere: every money column is a BigInteger and no column anywhere is a float
or a fixed-point number (issue 4: "a test fails if any money column is a float or numeric type")."""

from sqlalchemy import BigInteger, Column, Float, Integer, MetaData, Numeric, String, Table
from sqlalchemy.types import TypeDecorator

import marketplace.models  # noqa: F401  (registers every table on the metadata)
from marketplace.extensions import db

# Columns that hold money without the ``_cents`` suffix would still have to be integers.
MONEY_NAMES = {"amount", "price", "fee", "total", "subtotal", "balance", "earnings", "cost", "refund", "payout",
               "cash", "retained", "allocation", "charge", "income", "expense"}


def _base_type(column):
    kind = column.type
    while isinstance(kind, TypeDecorator):
        kind = kind.impl_instance if hasattr(kind, "impl_instance") else kind.impl
    return kind


def is_money(column) -> bool:
    return column.name.endswith("_cents") or column.name in MONEY_NAMES


def money_column_problems(metadata: MetaData) -> list[str]:
    problems = []
    for table in metadata.sorted_tables:
        for column in table.columns:
            kind = _base_type(column)
            where = f"{table.name}.{column.name} ({kind!r})"
            if isinstance(kind, (Float, Numeric)):
                problems.append(f"{where} is a float/numeric type; store integer cents or an exact string")
            elif is_money(column) and not isinstance(kind, BigInteger):
                problems.append(f"{where} holds money and must be BigInteger cents")
    return problems


def test_every_money_column_is_bigint_cents_and_no_float_or_numeric_exists():
    assert money_column_problems(db.metadata) == []


def test_the_ledger_and_payment_tables_are_covered():
    names = {(t.name, c.name) for t in db.metadata.sorted_tables for c in t.columns if is_money(c)}
    for expected in [("postings", "amount_cents"), ("payments", "amount_cents"), ("payout_lines", "amount_cents"),
                     ("invoices", "amount_cents"), ("fee_rates", "min_cents"), ("jobs", "agreed_rate_cents")]:
        assert expected in names


def test_the_check_catches_floats_numerics_and_small_money_columns():
    metadata = MetaData()
    Table("bad", metadata, Column("id", Integer, primary_key=True), Column("price_cents", Integer),
          Column("rate", Float), Column("amount", Numeric(12, 2)), Column("total", String(10)),
          Column("ok_cents", BigInteger))
    problems = money_column_problems(metadata)
    assert len(problems) == 4
    assert any("bad.price_cents" in p for p in problems)
    assert any("bad.rate" in p and "float" in p for p in problems)
    assert any("bad.amount" in p for p in problems)
    assert any("bad.total" in p for p in problems)

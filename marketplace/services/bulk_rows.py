"""Writing thousands of rows in the caller's transaction, fast on both databases.

PostgreSQL gets one ``COPY … FROM STDIN`` per call (text format, values escaped here); SQLite gets one
``executemany`` of a plain INSERT. Ids can be reserved up front (``reserve_ids``) so rows that point at each
other (entries and their postings, allocations and their notices) go in without RETURNING round trips.
Values are Python ints, strings, bools, dates, aware datetimes or None.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import text

from marketplace import page_cache
from marketplace.extensions import db

_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _check_identifiers(table: str, columns: Sequence[str]) -> None:
    """Only names of the app's own tables and columns are ever spliced into SQL here."""
    known = db.metadata.tables.get(table)
    if known is None or any(name not in known.columns for name in columns):
        raise ValueError(f"unknown table or column for a bulk write: {table}({', '.join(columns)})")


def reserve_ids(table: str, count: int) -> list[int]:
    """``count`` fresh primary-key values for ``table``, in increasing order.

    PostgreSQL draws them from the table's sequence; SQLite continues after the largest id (the caller must
    already hold the write lock, i.e. have written in this transaction, so nobody else takes them).
    """
    if count <= 0:
        return []
    if _dialect() == "postgresql":
        rows = db.session.execute(
            text("SELECT nextval(pg_get_serial_sequence(:table, 'id')) FROM generate_series(1, :n)"),
            {"table": table, "n": count}).scalars().all()
        return sorted(int(value) for value in rows)
    _check_identifiers(table, ("id",))
    # The table name was checked against the schema above; it is never user input.
    first = db.session.execute(text(f"SELECT COALESCE(MAX(id), 0) + 1 FROM {table}")).scalar_one()  # noqa: S608  # nosec B608
    return list(range(int(first), int(first) + count))


def _copy_text(value) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat()
    if isinstance(value, (int, date)):
        return str(value) if isinstance(value, int) else value.isoformat()
    return str(value).translate(_ESCAPES)


def _sqlite_value(value):
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")  # as the UTCDateTime column stores it
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return int(value)
    return value


def write_rows(table: str, columns: Sequence[str], rows: Iterable[Sequence]) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``; returns how many."""
    rows = list(rows)
    if not rows:
        return 0
    _check_identifiers(table, columns)
    names = ", ".join(columns)
    connection = db.session.connection()
    if _dialect() == "postgresql":
        payload = "".join("\t".join(_copy_text(v) for v in row) + "\n" for row in rows)
        cursor = connection.connection.driver_connection.cursor()
        with cursor.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
            copy.write(payload.encode("utf-8"))
        page_cache.note_write(connection, table)  # the driver's own cursor bypasses the statement watcher
    else:
        marks = ", ".join("?" for _ in columns)
        # Table and column names were checked against the schema; values travel as parameters.
        connection.exec_driver_sql(f"INSERT INTO {table} ({names}) VALUES ({marks})",  # noqa: S608  # nosec B608
                                   [tuple(_sqlite_value(v) for v in row) for row in rows])
    return len(rows)

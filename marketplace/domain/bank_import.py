"""Reading a bank CSV of expenses and other income, all rows or none.

The file format
---------------
UTF-8 text (a byte-order mark is allowed), comma separated, with a header row naming four columns in
any order (case and surrounding spaces do not matter; other columns are ignored)::

    date,amount,description,category
    2026-01-31,49.00,Hosting for January,hosting
    2026-01-31,1.27,Interest on the savings account,income:interest

- ``date``: the day the money moved, ``YYYY-MM-DD``; not in the future.
- ``amount``: a positive amount with at most two decimals (``1234.50``; ``$`` and thousands commas are
  accepted when the cell is quoted); at most 10,000,000.00 per line.
- ``description``: what it was, 1–200 characters (it becomes the memo).
- ``category``: an expense category slug (``hosting``, ``insurance``… see ``domain.books``) for money
  paid out, or ``income:<kind>`` (``income:interest``, ``income:rent``…) for other income received.

Blank lines are skipped; at most 5,000 rows. Every problem is reported as
``line N, column X: message`` (line 1 is the header), all of them at once, and if there is any
problem nothing is imported. The same file imported twice is refused: files are identified by a
SHA-256 hash of their text (byte-order mark removed, line endings normalised).
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from datetime import date

from marketplace.domain.books import (
    INCOME_PREFIX,
    amount_problem,
    category_problem,
    income_kind_problem,
    memo_problem,
)
from marketplace.domain.money import MoneyFormatError, parse_cents

COLUMNS = ("date", "amount", "description", "category")
HEADER = ",".join(COLUMNS)
MAX_ROWS = 5000
MAX_FILE_BYTES = 1024 * 1024
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class BankRow:
    """One valid line: an expense (``kind == "expense"``, ``category`` a slug) or other income
    (``kind == "income"``, ``category`` the kind of income, e.g. ``interest``)."""

    line: int
    occurred_on: date
    amount_cents: int
    description: str
    kind: str
    category: str


class BankImportError(ValueError):
    """The file cannot be imported; ``problems`` lists every ``line N, column X: message``."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems))
        self.problems = problems


_PROBLEM_RE = re.compile(r"^line (?P<line>\d+)(?:, column (?P<column>[a-z]+))?: (?P<message>.*)$", re.DOTALL)


def split_problem(problem: str) -> tuple[str, str, str]:
    """``"line 3, column amount: msg"`` → ``("3", "amount", "msg")`` for a table; other text → ``("", "", text)``."""
    match = _PROBLEM_RE.match(problem)
    if not match:
        return "", "", problem
    return match["line"], match["column"] or "", match["message"]


def normalise(text: str) -> str:
    """The text as it is hashed and parsed: no byte-order mark, ``\\n`` line endings."""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n")


def content_hash(text: str) -> str:
    """SHA-256 (hex) of the normalised text: the same file saved on Windows or Unix has one hash."""
    return hashlib.sha256(normalise(text).encode("utf-8")).hexdigest()


def decode_upload(data: bytes) -> str:
    """Uploaded bytes as text; the file must be UTF-8 and at most 1 MB."""
    if len(data) > MAX_FILE_BYTES:
        raise BankImportError([f"line 1: the file is {len(data) // 1024} KB; the limit is 1 MB"])
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise BankImportError([f"line 1: the file is not UTF-8 text (byte {exc.start + 1} is not valid)"]) from exc


def _positions(header: list[str]) -> tuple[dict[str, int], list[str]]:
    positions: dict[str, int] = {}
    problems = []
    for index, name in enumerate(header):
        key = name.strip().lower()
        if key in COLUMNS and key in positions:
            problems.append(f"line 1, column {key}: the column appears more than once")
        positions.setdefault(key, index)
    for name in COLUMNS:
        if name not in positions:
            problems.append(f"line 1, column {name}: missing column (the header must be {HEADER})")
    return positions, problems


def _parse_date(text: str, today: date | None) -> date:
    if not _DATE_RE.match(text):
        raise ValueError(f"'{text}' is not a date; use YYYY-MM-DD")
    try:
        value = date.fromisoformat(text)
    except ValueError as exc:
        raise ValueError(f"'{text}' is not a real date") from exc
    if today is not None and value > today:
        raise ValueError(f"{text} is in the future")
    return value


def _parse_amount(text: str) -> int:
    try:
        cents = parse_cents(text)
    except MoneyFormatError as exc:
        raise ValueError(str(exc)) from exc
    problem = amount_problem(cents)
    if problem:
        raise ValueError(f"'{text}' {problem}")
    return cents


def _parse_category(text: str) -> tuple[str, str]:
    if text.lower().startswith(INCOME_PREFIX):
        kind = text[len(INCOME_PREFIX):].strip().lower()
        problem = income_kind_problem(kind)
        if problem:
            raise ValueError(problem)
        return "income", kind
    slug = text.lower()
    problem = category_problem(slug)
    if problem:
        raise ValueError(f"{problem}, or income:<kind> for other income")
    return "expense", slug


def _read_row(row: list[str], positions: dict[str, int], line: int,
              today: date | None) -> tuple[BankRow | None, list[str]]:
    cells = {name: (row[i].strip() if i < len(row) else "") for name, i in positions.items() if name in COLUMNS}
    problems: list[str] = []
    values: dict[str, object] = {}
    parsers = {"date": lambda t: _parse_date(t, today), "amount": _parse_amount, "category": _parse_category}
    for name in COLUMNS:
        text = cells[name]
        if not text:
            problems.append(f"line {line}, column {name}: missing value")
            continue
        try:
            values[name] = parsers[name](text) if name in parsers else text
        except ValueError as exc:
            problems.append(f"line {line}, column {name}: {exc}")
    description_problem = memo_problem(cells["description"]) if cells["description"] else None
    if description_problem:
        problems.append(f"line {line}, column description: {description_problem}")
    if problems:
        return None, problems
    kind, category = values["category"]
    return BankRow(line, values["date"], values["amount"], cells["description"], kind, category), []


def parse_bank_csv(text: str, today: date | None = None) -> list[BankRow]:
    """Every row of a bank CSV (format above), or ``BankImportError`` listing every problem in the file.

    ``today`` (when given) rejects dates after it.
    """
    reader = csv.reader(io.StringIO(normalise(text)), strict=True)
    problems: list[str] = []
    rows: list[BankRow] = []
    try:
        header = next(reader, None)
        if header is None or not any(cell.strip() for cell in header):
            raise BankImportError([f"line 1: the file is empty (the header must be {HEADER})"])
        positions, problems = _positions(header)
        if problems:
            raise BankImportError(problems)
        count = 0
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            count += 1
            if count > MAX_ROWS:
                raise BankImportError([f"line {reader.line_num}: the file has more than {MAX_ROWS} rows; split it"])
            parsed, row_problems = _read_row(row, positions, reader.line_num, today)
            problems.extend(row_problems)
            if parsed is not None:
                rows.append(parsed)
    except csv.Error as exc:
        raise BankImportError([*problems, f"line {reader.line_num}: not valid CSV ({exc})"]) from exc
    if problems:
        raise BankImportError(problems)
    if not rows:
        raise BankImportError(["line 2: the file has a header but no rows"])
    return rows

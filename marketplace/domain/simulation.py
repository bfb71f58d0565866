"""What-if dividend simulation: reading a patronage CSV and rendering the result as CSV or JSON.

Pure text in, text out, so the CLI only parses options and prints.
"""

from __future__ import annotations

import csv
import io
import json
import re
from fractions import Fraction

from marketplace.domain.money import MoneyFormatError, format_cents, parse_cents, round_half_up
from marketplace.domain.patronage import AllocationResult, MemberPatronage

REQUIRED_COLUMNS = ("member", "hours", "earnings")
OUTPUT_COLUMNS = ("member", "share", "allocation", "cash", "retained")
SHARE_DECIMALS = 6

_DECIMAL_RE = re.compile(r"^-?(\d+(\.\d*)?|\.\d+)$")


class SimulationInputError(ValueError):
    """A patronage file or option value the simulation cannot read; the message says where."""


def parse_decimal(text: str) -> Fraction:
    """Read a plain non-negative decimal number (``"12.5"``) exactly; no fractions, exponents or floats."""
    cleaned = text.strip()
    if not _DECIMAL_RE.match(cleaned):
        raise ValueError(f"'{text}' is not a number")
    value = Fraction(cleaned)
    if value < 0:
        raise ValueError(f"'{text}' is negative")
    return value


def _header_positions(header: list[str]) -> dict[str, int]:
    positions: dict[str, int] = {}
    for index, name in enumerate(header):
        key = name.strip().lower()
        if key in REQUIRED_COLUMNS and key in positions:
            raise SimulationInputError(f"line 1: column '{key}' appears more than once")
        positions.setdefault(key, index)
    missing = [name for name in REQUIRED_COLUMNS if name not in positions]
    if missing:
        names = ", ".join(f"'{name}'" for name in missing)
        raise SimulationInputError(f"line 1: missing column {names} (the header needs member,hours,earnings)")
    return positions


def _cell(row: list[str], positions: dict[str, int], column: str, line: int) -> str:
    index = positions[column]
    value = row[index].strip() if index < len(row) else ""
    if not value:
        raise SimulationInputError(f"line {line}, column '{column}': missing value")
    return value


def _read_row(row: list[str], positions: dict[str, int], line: int) -> MemberPatronage:
    member = _cell(row, positions, "member", line)
    hours_text = _cell(row, positions, "hours", line)
    earnings_text = _cell(row, positions, "earnings", line)
    try:
        hours = parse_decimal(hours_text)
    except ValueError as exc:
        raise SimulationInputError(f"line {line}, column 'hours': {exc}") from exc
    try:
        earnings = parse_cents(earnings_text)
    except MoneyFormatError as exc:
        raise SimulationInputError(f"line {line}, column 'earnings': {exc}") from exc
    return MemberPatronage(member=member, hours=hours, earnings_cents=earnings)


def read_patronage_csv(text: str) -> list[MemberPatronage]:
    """Read PATRONAGE.csv: a header with at least member,hours,earnings (any case, trimmed, others ignored).

    Hours are non-negative decimals, earnings non-negative amounts with up to two decimals; blank
    lines are skipped and row order is kept (it breaks ties, DOMAIN.md §3). A member may appear
    once. Errors raise SimulationInputError naming the line and column.
    """
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    try:
        header = next(reader, None)
        if header is None:
            raise SimulationInputError("line 1: the file is empty (the header needs member,hours,earnings)")
        positions = _header_positions(header)
        members: list[MemberPatronage] = []
        first_line: dict[str, int] = {}
        for row in reader:
            if not any(cell.strip() for cell in row):
                continue
            patronage = _read_row(row, positions, reader.line_num)
            if patronage.member in first_line:
                raise SimulationInputError(
                    f"line {reader.line_num}, column 'member': '{patronage.member}' "
                    f"already appears on line {first_line[patronage.member]}"
                )
            first_line[patronage.member] = reader.line_num
            members.append(patronage)
    except csv.Error as exc:
        raise SimulationInputError(f"line {reader.line_num}: not valid CSV ({exc})") from exc
    return members


def format_share(share: Fraction) -> str:
    """A share as a decimal with six places, rounded half up from the exact fraction."""
    scaled = round_half_up(Fraction(share) * 10**SHARE_DECIMALS)
    whole, frac = divmod(scaled, 10**SHARE_DECIMALS)
    return f"{whole}.{frac:0{SHARE_DECIMALS}d}"


def render_csv(result: AllocationResult) -> str:
    """The CSV report: member,share,allocation,cash,retained; one row per input row, money with two decimals."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(OUTPUT_COLUMNS)
    for line in result.lines:
        writer.writerow(
            [
                line.member,
                format_share(line.share),
                format_cents(line.allocation),
                format_cents(line.cash),
                format_cents(line.retained),
            ]
        )
    return out.getvalue()


def _money_or_none(cents: int | None) -> str | None:
    return None if cents is None else format_cents(cents)


def result_as_dict(result: AllocationResult) -> dict[str, object]:
    """The JSON report as a dict: money as two-decimal strings, shares with six, income fields null if unknown."""
    return {
        "loss_year": result.is_loss_year,
        "net_margin": _money_or_none(result.net_margin),
        "member_surplus": format_cents(result.member_surplus),
        "nonmember_surplus": _money_or_none(result.nonmember_surplus),
        "non_patronage": _money_or_none(result.non_patronage),
        "reserve": format_cents(result.reserve),
        "allocable": format_cents(result.allocable),
        "collective": format_cents(result.collective),
        "members": [
            {
                "member": line.member,
                "share": format_share(line.share),
                "allocation": format_cents(line.allocation),
                "cash": format_cents(line.cash),
                "retained": format_cents(line.retained),
            }
            for line in result.lines
        ],
        "totals": {
            "allocation": format_cents(result.totals.allocation),
            "cash": format_cents(result.totals.cash),
            "retained": format_cents(result.totals.retained),
        },
    }


def render_json(result: AllocationResult) -> str:
    """The JSON report as text (see result_as_dict)."""
    return json.dumps(result_as_dict(result), indent=2) + "\n"

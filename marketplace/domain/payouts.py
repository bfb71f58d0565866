"""Worker payouts: which balances a batch pays, and the bank file that carries it.

Workers are paid in batches, each their whole available earnings balance once it reaches the co-op's
minimum (small balances wait for the next batch rather than cost a bank transfer each). The bank file
is plain CSV the treasurer uploads to the bank; the batch total is shown beside it, not inside it,
because banks reject files with a summary row.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from marketplace.domain.money import format_cents

BANK_CSV_HEADER = ("reference", "payee", "account", "amount")
# Characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
_FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


class PayoutError(ValueError):
    """Inputs a payout batch cannot be built from: non-integer or negative amounts, blank payee details."""


@dataclass(frozen=True)
class PayoutLine:
    """One transfer of a batch, with the bank details exactly as the worker gave them."""

    reference: str
    payee: str
    account: str
    amount_cents: int


def _require_int(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PayoutError(f"{name} must be a whole number of cents, got {value!r}")
    return value


def plan_payout_batch(balances: Mapping[int, int], minimum_cents: int) -> list[tuple[int, int]]:
    """Who a batch pays and how much: each worker whose available balance is at least ``minimum_cents``
    gets the whole balance; zero and negative balances are never paid. Ordered by worker id."""
    minimum = _require_int("minimum payout", minimum_cents)
    if minimum < 0:
        raise PayoutError(f"minimum payout must not be negative, got {minimum}")
    plan = []
    for worker_id in sorted(balances):
        balance = _require_int(f"balance of worker {worker_id}", balances[worker_id])
        if balance > 0 and balance >= minimum:
            plan.append((worker_id, balance))
    return plan


def payout_reference(batch_id: int, worker_id: int) -> str:
    """The transfer reference the worker sees on their statement; unique per batch and worker."""
    return f"COOP-PAYOUT-{batch_id}-{worker_id}"


def _cell(text: str) -> str:
    # A payee name such as "=HYPERLINK(...)" would run when the treasurer opens the file in a spreadsheet.
    return "'" + text if text.startswith(_FORMULA_TRIGGERS) else text


def _check_line(line: PayoutLine) -> None:
    for name in ("reference", "payee", "account"):
        value = getattr(line, name)
        if not isinstance(value, str) or not value.strip():
            raise PayoutError(f"payout line {line.reference!r}: {name} must not be blank")
    if _require_int("payout amount", line.amount_cents) <= 0:
        raise PayoutError(f"payout line {line.reference!r}: amount must be positive, got {line.amount_cents}")


def bank_csv(lines: Iterable[PayoutLine]) -> str:
    """Render a batch as CSV with header ``reference,payee,account,amount``, one row per transfer,
    amounts with two decimals and no thousands separator; no total row."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(BANK_CSV_HEADER)
    for line in lines:
        _check_line(line)
        cells = (_cell(line.reference), _cell(line.payee), _cell(line.account), format_cents(line.amount_cents))
        writer.writerow(cells)
    return out.getvalue()


def batch_total(lines: Iterable[PayoutLine]) -> int:
    """The sum of a batch's transfers in cents, shown to the treasurer next to the bank file."""
    return sum(_require_int("payout amount", line.amount_cents) for line in lines)

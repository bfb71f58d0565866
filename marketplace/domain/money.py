"""Money in integer cents: parsing, formatting, exact percentages and exact splits.

Every amount in the co-op is an ``int`` number of cents. Percentages and ratios are
``fractions.Fraction`` built from strings, never floats (DOMAIN.md §3: "work in integer
cents and exact fractions").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from fractions import Fraction

_AMOUNT_RE = re.compile(r"^(?P<sign>-)?(?P<whole>\d+)(?:\.(?P<frac>\d{1,2}))?$")


class MoneyFormatError(ValueError):
    """An amount or percentage string that cannot be read exactly."""


def parse_cents(text: str, *, allow_negative: bool = False) -> int:
    """Read ``"1234.5"`` / ``"1,234.50"`` / ``"12"`` as cents; at most two decimals, never a float."""
    cleaned = str(text).strip().replace(",", "").lstrip("$")
    match = _AMOUNT_RE.match(cleaned)
    if not match:
        raise MoneyFormatError(f"'{text}' is not an amount (use digits with up to two decimals, e.g. 1234.50)")
    cents = int(match["whole"]) * 100 + int((match["frac"] or "0").ljust(2, "0"))
    if match["sign"]:
        if not allow_negative:
            raise MoneyFormatError(f"'{text}' is negative; a positive amount is required")
        cents = -cents
    return cents


def format_cents(cents: int, *, thousands: bool = False, symbol: str = "") -> str:
    """Cents to ``"1234.50"`` (or ``"$1,234.50"`` with ``thousands=True, symbol="$"``)."""
    sign = "-" if cents < 0 else ""
    whole, frac = divmod(abs(int(cents)), 100)
    whole_text = f"{whole:,}" if thousands else str(whole)
    return f"{sign}{symbol}{whole_text}.{frac:02d}"


def parse_fraction(text: str, *, minimum: Fraction | None = None, maximum: Fraction | None = None) -> Fraction:
    """Read a decimal number such as ``"15"`` or ``"12.5"`` exactly (no floats)."""
    try:
        value = Fraction(str(text).strip())
    except (ValueError, ZeroDivisionError) as exc:
        raise MoneyFormatError(f"'{text}' is not a number") from exc
    if minimum is not None and value < minimum:
        raise MoneyFormatError(f"'{text}' is below {minimum}")
    if maximum is not None and value > maximum:
        raise MoneyFormatError(f"'{text}' is above {maximum}")
    return value


def percent(text: str) -> Fraction:
    """A percentage string between 0 and 100 as an exact fraction of one (``"15"`` → 3/20)."""
    return parse_fraction(text, minimum=Fraction(0), maximum=Fraction(100)) / 100


def round_half_up(value: Fraction) -> int:
    """Round an exact amount of cents to the nearest cent, halves away from zero (DOMAIN.md §2 reserve)."""
    sign = -1 if value < 0 else 1
    magnitude = abs(value)
    floor = magnitude.numerator // magnitude.denominator
    if magnitude - floor >= Fraction(1, 2):
        floor += 1
    return sign * floor


def round_up(value: Fraction) -> int:
    """Ceiling of an exact amount of cents (DOMAIN.md §4: cash is rounded up)."""
    return -((-value.numerator) // value.denominator)


def apply_rate(cents: int, rate: Fraction) -> Fraction:
    """The exact (unrounded) product of an amount and a rate."""
    return Fraction(cents) * rate


def allocate_largest_remainder(total: int, weights: Sequence[int | Fraction]) -> list[int]:
    """Split ``total`` cents in proportion to ``weights`` so the parts sum exactly to ``total``.

    DOMAIN.md §3: each party gets the floor of its exact quota; the leftover cents go one each to
    the largest fractional parts; ties go to the larger weight, then to the earlier position.
    A zero weight never receives a leftover cent. A negative ``total`` is split as the mirror
    image of the positive one (used for losses). Raises ``ValueError`` for negative weights or
    when every weight is zero and ``total`` is not.
    """
    if any(w < 0 for w in weights):
        raise ValueError("weights must not be negative")
    if total < 0:
        return [-part for part in allocate_largest_remainder(-total, weights)]
    weight_sum = sum(Fraction(w) for w in weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot split a non-zero amount over zero weights")
        return [0 for _ in weights]
    quotas = [Fraction(total) * Fraction(w) / weight_sum for w in weights]
    parts = [q.numerator // q.denominator for q in quotas]
    leftover = total - sum(parts)
    order = sorted(
        (i for i, w in enumerate(weights) if w > 0),
        key=lambda i: (-(quotas[i] - parts[i]), -Fraction(weights[i]), i),
    )
    for i in order[:leftover]:
        parts[i] += 1
    return parts

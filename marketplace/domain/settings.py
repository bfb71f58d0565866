"""The co-op's adjustable decisions, with their defaults and how to read them.

Each setting is stored as dated rows (``coop_settings``); this module only knows the names, defaults,
allowed ranges and parsing. Values are strings in the database and typed here.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


class SettingError(ValueError):
    """A setting value that is unknown or outside its allowed range."""


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: str
    kind: type  # int or Fraction
    default: str
    minimum: str
    maximum: str
    help: str = ""

    def parse(self, raw: str) -> int | Fraction:
        """Read a stored or submitted value exactly and check its range."""
        try:
            value = self.kind(str(raw).strip())
        except (ValueError, ZeroDivisionError) as exc:
            noun = "whole number" if self.kind is int else "number"
            raise SettingError(f"{self.label}: '{raw}' is not a {noun}") from exc
        if not self.kind(self.minimum) <= value <= self.kind(self.maximum):
            raise SettingError(f"{self.label}: {raw} is outside {self.minimum}–{self.maximum}")
        return value


SPECS: dict[str, SettingSpec] = {
    s.key: s
    for s in (
        SettingSpec("offer_fanout", "Workers offered each job at once", int, "3", "1", "20",
                    "How many top-ranked workers receive an offer in each round."),
        SettingSpec("offer_deadline_minutes", "Minutes to answer an offer", int, "120", "5", "2880"),
        SettingSpec("match_weight_distance", "Matching weight: distance", Fraction, "0.3", "0", "1"),
        SettingSpec("match_weight_rating", "Matching weight: rating", Fraction, "0.2", "0", "1"),
        SettingSpec("match_weight_fairness", "Matching weight: fairness", Fraction, "0.5", "0", "1",
                    "Favours workers with fewer hours this period relative to their declared availability."),
        SettingSpec("cancellation_window_hours", "Late-cancellation window (hours before start)", int,
                    "24", "0", "168"),
        SettingSpec("auto_confirm_hours", "Hours before a completed gig confirms itself", int, "48", "1", "336"),
        SettingSpec("review_blind_days", "Days before reviews publish without the other side", int, "7", "1", "60"),
    )
}


def spec(key: str) -> SettingSpec:
    try:
        return SPECS[key]
    except KeyError as exc:
        raise SettingError(f"unknown setting '{key}'") from exc

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
        SettingSpec("late_cancellation_fee_percent", "Late cancellation: percent of the gig price charged", Fraction,
                    "50", "0", "100", "Charged when a client cancels inside the window; the rest of the hold is freed"),
        SettingSpec("late_cancellation_worker_share_percent", "Late cancellation: worker's share of the charge",
                    Fraction, "80", "0", "100", "The rest of a late-cancellation charge is co-op fee revenue."),
        SettingSpec("payout_minimum_cents", "Smallest payout, in cents", int, "2500", "0", "10000000",
                    "Smaller earnings balances wait for a later weekly batch."),
        SettingSpec("open_books_individual", "Open books: members see each other's allocations (1 = yes, 0 = no)",
                    int, "0", "0", "1", "When 1, every member can read other members' notices and capital accounts."),
        # Bylaws (issue 6, marketplace/domain/voting.py): membership, shares, and per kind quorum/threshold/window.
        SettingSpec("membership_min_hours", "Hours of confirmed gigs before a worker may apply to join", int,
                    "100", "0", "10000"),
        SettingSpec("membership_min_months", "Months on the platform before a worker may apply to join", int,
                    "3", "0", "60"),
        SettingSpec("member_share_cents", "Member share, in cents", int, "10000", "0", "100000000"),
        SettingSpec("share_instalment_cents", "Share instalment deducted from a weekly payout, in cents", int,
                    "2500", "100", "100000000"),
        SettingSpec("admission_by_vote", "Members are admitted by: 0 = the board, 1 = a member vote", int,
                    "0", "0", "1"),
        SettingSpec("vote_reminder_hours", "Remind members who have not voted this many hours before the close",
                    int, "24", "1", "336"),
        *(SettingSpec(f"vote_{what}_{kind}", f"{label}: {kind.replace('_', ' ')} votes", unit, value, low, high)
          for kind, quorum, threshold, days in (("general", "25", "50", "7"), ("fee_change", "40", "200/3", "14"),
                                                 ("policy", "40", "50", "7"), ("dividend_run", "25", "50", "7"),
                                                 ("admission", "20", "50", "7"), ("election", "25", "0", "14"))
          for what, label, unit, value, low, high in (
              ("quorum_percent", "Quorum (% of members in good standing)", Fraction, quorum, "0", "100"),
              ("threshold_percent", "Threshold (% of the votes for or against)", Fraction, threshold, "0", "100"),
              ("window_days", "Voting window (days)", int, days, "1", "60"))),
    )
}


def spec(key: str) -> SettingSpec:
    try:
        return SPECS[key]
    except KeyError as exc:
        raise SettingError(f"unknown setting '{key}'") from exc

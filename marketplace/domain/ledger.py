"""Double-entry journal rules: the chart of accounts, entry validation and the standard entries.

A posting is an ``int`` amount of cents on an account: positive is a debit, negative a credit. An
entry balances when its postings sum to zero. Entries are never edited; a mistake is corrected by
posting its reversal. Each entry carries an idempotency key derived from the business event, so a
retried job can never post the same event twice (the database keeps the key unique).

Chart of accounts. A code is four digits, optionally followed by ``:<id>`` for a sub-ledger per
client, worker, member or expense category. The leading digit gives the kind:

====  ===========  ======================================================
1xxx  asset        1000 bank, 1100 payment clearing (held by the payment
                   provider), 1200:<client> client receivable
2xxx  liability    2100:<worker> worker payable (earnings owed),
                   2300 dividends payable (cash part of patronage dividends)
3xxx  equity       3000 member share capital, 3100:<member> internal capital
                   account, 3200 collective reserve (indivisible)
4xxx  income       4000 fee revenue from members' gigs, 4010 fee revenue
                   from non-members' gigs (DOMAIN.md §1 MF / NF),
                   4500 other (non-patronage) income
5xxx  expense      5000:<category> operating expenses by category
====  ===========  ======================================================
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from marketplace.domain.money import allocate_largest_remainder
from marketplace.domain.pricing import CancellationCharge, GigPrice

BANK = "1000"
PAYMENT_CLEARING = "1100"
CLIENT_RECEIVABLE = "1200"
WORKER_PAYABLE = "2100"
DIVIDENDS_PAYABLE = "2300"
MEMBER_SHARE_CAPITAL = "3000"
CAPITAL_ACCOUNT = "3100"
COLLECTIVE_RESERVE = "3200"
FEE_REVENUE_MEMBER = "4000"
FEE_REVENUE_NONMEMBER = "4010"
OTHER_INCOME = "4500"
EXPENSE = "5000"
PAYMENT_PROCESSING_CATEGORY = "payment-processing"

MAX_KEY_LENGTH = 200
_KINDS = {"1": "asset", "2": "liability", "3": "equity", "4": "income", "5": "expense"}
_DEBIT_NORMAL = frozenset({"asset", "expense"})
_CODE_RE = re.compile(r"^[1-5]\d{3}(?::[A-Za-z0-9_-]+)?$")
_SUB_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")


class UnbalancedEntry(ValueError):
    """A journal entry that cannot be posted: unbalanced, too few or zero postings, bad key or account."""


@dataclass(frozen=True)
class Posting:
    """One line of a journal entry: positive ``amount_cents`` debits the account, negative credits it."""

    account_code: str
    amount_cents: int


@dataclass(frozen=True)
class JournalEntrySpec:
    """An entry to post, not yet saved; ``idempotency_key`` identifies the business event."""

    idempotency_key: str
    memo: str
    occurred_on: date
    postings: tuple[Posting, ...]

    def __post_init__(self) -> None:
        # A list passed by a caller would make the frozen entry mutable through the back door.
        object.__setattr__(self, "postings", tuple(self.postings))


def _sub_account(base: str, sub_id: int | str) -> str:
    text = str(sub_id)
    if isinstance(sub_id, bool) or not _SUB_ID_RE.match(text):
        raise UnbalancedEntry(f"{sub_id!r} is not a valid sub-account id (letters, digits, '-' or '_')")
    return f"{base}:{text}"


def client_receivable(client_id: int | str) -> str:
    """What a client owes for gigs charged but not yet paid: ``1200:<client id>``."""
    return _sub_account(CLIENT_RECEIVABLE, client_id)


def worker_payable(worker_id: int | str) -> str:
    """Earnings the co-op owes a worker until they are paid out: ``2100:<worker id>``."""
    return _sub_account(WORKER_PAYABLE, worker_id)


def capital_account(member_id: int | str) -> str:
    """A member's internal capital account (DOMAIN.md §5): ``3100:<member id>``."""
    return _sub_account(CAPITAL_ACCOUNT, member_id)


def expense(category_slug: str) -> str:
    """An operating expense category: ``5000:<slug>``."""
    return _sub_account(EXPENSE, category_slug)


def fee_revenue(member_gig: bool) -> str:
    """Fee revenue account: member fees (4000) and non-member fees (4010) are kept apart (DOMAIN.md §1)."""
    return FEE_REVENUE_MEMBER if member_gig else FEE_REVENUE_NONMEMBER


def account_kind(code: str) -> str:
    """The kind of an account from the leading digit of its code: asset, liability, equity, income, expense."""
    if not isinstance(code, str) or not _CODE_RE.match(code):
        raise UnbalancedEntry(f"{code!r} is not an account code (four digits 1xxx–5xxx, optional ':<id>')")
    return _KINDS[code[0]]


def normal_balance_sign(kind: str) -> int:
    """+1 for debit-normal kinds (asset, expense), -1 for credit-normal ones (liability, equity, income)."""
    if kind not in _KINDS.values():
        raise ValueError(f"unknown account kind {kind!r}")
    return 1 if kind in _DEBIT_NORMAL else -1


def validate_entry(spec: JournalEntrySpec) -> None:
    """Reject an entry unless it has a key of 1–200 characters and two or more non-zero whole-cent
    postings on valid accounts that sum to zero (debits equal credits)."""
    key = spec.idempotency_key
    if not isinstance(key, str) or not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise UnbalancedEntry(f"idempotency key must be 1–{MAX_KEY_LENGTH} characters, got {key!r}")
    if len(spec.postings) < 2:
        raise UnbalancedEntry(f"entry {key} needs at least two postings, has {len(spec.postings)}")
    for posting in spec.postings:
        account_kind(posting.account_code)
        amount = posting.amount_cents
        if isinstance(amount, bool) or not isinstance(amount, int):
            raise UnbalancedEntry(f"entry {key}: amount on {posting.account_code} must be int cents, got {amount!r}")
        if amount == 0:
            raise UnbalancedEntry(f"entry {key}: zero posting on {posting.account_code}")
    total = sum(posting.amount_cents for posting in spec.postings)
    if total != 0:
        raise UnbalancedEntry(f"entry {key} does not balance: debits exceed credits by {total} cents")


def _entry(key: str, memo: str, on: date, lines: Iterable[tuple[str, int]]) -> JournalEntrySpec:
    # Builders list every line of the event; a zero line (e.g. a 0 % fee) is simply not posted.
    postings = tuple(Posting(code, amount) for code, amount in lines if amount != 0)
    spec = JournalEntrySpec(idempotency_key=key, memo=memo, occurred_on=on, postings=postings)
    validate_entry(spec)
    return spec


def _positive(name: str, amount: int) -> int:
    if isinstance(amount, bool) or not isinstance(amount, int) or amount <= 0:
        raise UnbalancedEntry(f"{name} must be a positive number of cents, got {amount!r}")
    return amount


def reversal_of(spec: JournalEntrySpec, new_key: str, memo: str, on: date | None = None) -> JournalEntrySpec:
    """The correcting entry: every posting of ``spec`` negated, dated ``on`` (default: the original date).

    Entries are never edited; original plus reversal leave every account as it was.
    """
    validate_entry(spec)
    if new_key == spec.idempotency_key:
        raise UnbalancedEntry("a reversal needs its own idempotency key")
    lines = [(p.account_code, -p.amount_cents) for p in spec.postings]
    return _entry(new_key, memo, on or spec.occurred_on, lines)


def entry_gig_charged(
    gig_id: int, client_id: int, worker_id: int, price: GigPrice, member_gig: bool, on: date
) -> JournalEntrySpec:
    """A completed gig is billed: the client owes the total, the worker is owed their earnings, and the
    fee is member or non-member revenue depending on the worker's status when the gig was done."""
    _positive("client total", price.client_total_cents)
    lines = [
        (client_receivable(client_id), price.client_total_cents),
        (worker_payable(worker_id), -price.worker_earnings_cents),
        (fee_revenue(member_gig), -price.fee_cents),
    ]
    return _entry(f"gig:{gig_id}:charge", f"Gig {gig_id} charged", on, lines)


def entry_cancellation_charged(
    gig_id: int, client_id: int, worker_id: int, charge: CancellationCharge, member_gig: bool, on: date
) -> JournalEntrySpec:
    """A late cancellation is billed: the worker's compensation is payable to them, the rest is fee revenue."""
    _positive("cancellation charge", charge.charged_cents)
    lines = [
        (client_receivable(client_id), charge.charged_cents),
        (worker_payable(worker_id), -charge.worker_cents),
        (fee_revenue(member_gig), -charge.coop_cents),
    ]
    return _entry(f"gig:{gig_id}:cancellation", f"Gig {gig_id} late cancellation", on, lines)


def entry_payment_captured(gig_id: int, client_id: int, amount_cents: int, on: date) -> JournalEntrySpec:
    """The provider captured the client's payment: money now sits in payment clearing, the receivable is settled."""
    amount = _positive("payment", amount_cents)
    lines = [(PAYMENT_CLEARING, amount), (client_receivable(client_id), -amount)]
    return _entry(f"gig:{gig_id}:capture", f"Gig {gig_id} payment captured", on, lines)


def entry_refund(
    gig_id: int, worker_id: int, price: GigPrice, refund_cents: int, member_gig: bool, on: date
) -> JournalEntrySpec:
    """Money returned to the client through the provider after a dispute (one refund per gig).

    The refund is borne by the worker and the co-op in proportion to earnings : fee (largest
    remainder), so neither keeps their share of money the client got back.
    """
    refund = _positive("refund", refund_cents)
    if refund > price.client_total_cents:
        raise UnbalancedEntry(f"refund {refund} exceeds the {price.client_total_cents} cents the client paid")
    worker_part, fee_part = allocate_largest_remainder(refund, [price.worker_earnings_cents, price.fee_cents])
    lines = [
        (worker_payable(worker_id), worker_part),
        (fee_revenue(member_gig), fee_part),
        (PAYMENT_CLEARING, -refund),
    ]
    return _entry(f"gig:{gig_id}:refund", f"Gig {gig_id} refund", on, lines)


def entry_settlement(
    settlement_id: int | str, gross_cents: int, processor_fee_cents: int, on: date
) -> JournalEntrySpec:
    """The provider pays out captured money to the bank, keeping its processing fee as an expense."""
    gross = _positive("settlement", gross_cents)
    if isinstance(processor_fee_cents, bool) or not isinstance(processor_fee_cents, int):
        raise UnbalancedEntry(f"processor fee must be int cents, got {processor_fee_cents!r}")
    if not 0 <= processor_fee_cents < gross:
        raise UnbalancedEntry(f"processor fee {processor_fee_cents} must be at least 0 and below {gross}")
    lines = [
        (BANK, gross - processor_fee_cents),
        (expense(PAYMENT_PROCESSING_CATEGORY), processor_fee_cents),
        (PAYMENT_CLEARING, -gross),
    ]
    return _entry(f"settlement:{settlement_id}", f"Provider settlement {settlement_id}", on, lines)


def entry_payout(batch_id: int, worker_id: int, amount_cents: int, on: date) -> JournalEntrySpec:
    """A worker is paid out of the bank: their payable goes down by the amount sent."""
    amount = _positive("payout", amount_cents)
    lines = [(worker_payable(worker_id), amount), (BANK, -amount)]
    return _entry(f"payout:{batch_id}:{worker_id}", f"Payout batch {batch_id} to worker {worker_id}", on, lines)


def entry_expense(expense_id: int, category: str, amount_cents: int, on: date) -> JournalEntrySpec:
    """An operating expense paid from the bank (part of X in DOMAIN.md §1)."""
    amount = _positive("expense", amount_cents)
    lines = [(expense(category), amount), (BANK, -amount)]
    return _entry(f"expense:{expense_id}", f"Expense {expense_id} ({category})", on, lines)


def entry_other_income(income_id: int, amount_cents: int, on: date, memo: str = "") -> JournalEntrySpec:
    """Non-patronage income received in the bank (OI in DOMAIN.md §1: it goes to the collective)."""
    amount = _positive("income", amount_cents)
    lines = [(BANK, amount), (OTHER_INCOME, -amount)]
    return _entry(f"income:{income_id}", memo or f"Other income {income_id}", on, lines)


def trial_balance(postings: Iterable[Posting]) -> dict[str, int]:
    """Net debit (positive) or credit (negative) per account, in account-code order."""
    totals: dict[str, int] = {}
    for posting in postings:
        totals[posting.account_code] = totals.get(posting.account_code, 0) + posting.amount_cents
    return dict(sorted(totals.items()))


def is_balanced(postings: Iterable[Posting]) -> bool:
    """True when total debits equal total credits, i.e. the postings sum to zero."""
    return sum(posting.amount_cents for posting in postings) == 0

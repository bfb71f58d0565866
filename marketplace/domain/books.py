"""The treasurer's books: expense categories, kinds of other income and receipt files.

Expense categories are a fixed list (each is a ledger sub-account ``5000:<slug>``); other income is
non-patronage income (DOMAIN.md §1 ``OI``: interest, rent, asset sales) posted to ``4500``. A receipt
is a PDF, PNG or JPEG file of at most 5 MB, recognised by its first bytes, never by its name.
"""

from __future__ import annotations

from dataclasses import dataclass

EXPENSE_CATEGORIES: dict[str, str] = {
    "hosting": "Hosting and software",
    "payment-processing": "Payment processing",
    "insurance": "Insurance",
    "accounting": "Accounting and legal",
    "staff": "Coordination staff",
    "outreach": "Outreach and marketing",
    "training": "Training and member education",
    "office": "Office and supplies",
    "bank-fees": "Bank fees",
    "other": "Other expenses",
}

INCOME_KINDS: dict[str, str] = {
    "interest": "Interest",
    "rent": "Rent",
    "asset-sale": "Sale of assets",
    "grant": "Grants and donations",
    "other": "Other income",
}

INCOME_PREFIX = "income:"
MEMO_MAX = 200
MAX_AMOUNT_CENTS = 1_000_000_000  # $10,000,000.00 on one line: anything larger is a typo
RECEIPT_MAX_BYTES = 5 * 1024 * 1024

_SIGNATURES: tuple[tuple[bytes, str, str], ...] = (
    (b"%PDF-", "pdf", "application/pdf"),
    (b"\x89PNG\r\n\x1a\n", "png", "image/png"),
    (b"\xff\xd8\xff", "jpg", "image/jpeg"),
)
RECEIPT_TYPES: dict[str, str] = {ext: mime for _, ext, mime in _SIGNATURES}


class ReceiptError(ValueError):
    """A receipt file that cannot be kept: empty, too large or not a PDF/PNG/JPEG."""


@dataclass(frozen=True)
class ReceiptKind:
    extension: str
    content_type: str


def category_label(slug: str) -> str:
    """The display name of an expense category; an unknown slug (an old or system category) shows as itself."""
    return EXPENSE_CATEGORIES.get(slug, slug.replace("-", " ").capitalize())


def income_label(kind: str) -> str:
    """The display name of a kind of other income."""
    return INCOME_KINDS.get(kind, kind.replace("-", " ").capitalize())


def category_problem(slug: str) -> str | None:
    """Why ``slug`` is not an expense category, or None when it is one."""
    if slug in EXPENSE_CATEGORIES:
        return None
    return f"'{slug}' is not an expense category (one of: {', '.join(EXPENSE_CATEGORIES)})"


def income_kind_problem(kind: str) -> str | None:
    """Why ``kind`` is not a kind of other income, or None when it is one."""
    if kind in INCOME_KINDS:
        return None
    return f"'{kind}' is not a kind of income (one of: {', '.join(INCOME_KINDS)})"


def amount_problem(cents: object) -> str | None:
    """Why ``cents`` cannot be recorded as an expense or income amount, or None: whole cents, 0 < x ≤ $10M."""
    if isinstance(cents, bool) or not isinstance(cents, int):
        return "must be a whole number of cents"
    if cents <= 0:
        return "must be more than 0"
    if cents > MAX_AMOUNT_CENTS:
        return "is above the $10,000,000.00 limit for one line"
    return None


def memo_problem(memo: str) -> str | None:
    """Why a memo/description is unacceptable (required, at most 200 characters), or None."""
    if not memo.strip():
        return "is required"
    if len(memo) > MEMO_MAX:
        return f"must be at most {MEMO_MAX} characters (has {len(memo)})"
    return None


def sniff_receipt(data: bytes) -> ReceiptKind:
    """Recognise a receipt by content: a non-empty PDF, PNG or JPEG of at most 5 MB."""
    if not data:
        raise ReceiptError("The receipt file is empty.")
    if len(data) > RECEIPT_MAX_BYTES:
        raise ReceiptError(f"The receipt is {len(data) // 1024} KB; the limit is 5 MB.")
    for signature, extension, content_type in _SIGNATURES:
        if data.startswith(signature):
            return ReceiptKind(extension, content_type)
    raise ReceiptError("A receipt must be a PDF, PNG or JPEG file.")

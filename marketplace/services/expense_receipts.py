"""Receipt files for expenses, kept under ``<instance>/receipts`` with random names.

The stored name is 32 random hex characters plus the extension of the detected type (PDF, PNG or
JPEG, recognised by content, at most 5 MB: ``domain.books.sniff_receipt``). The uploader's file name is
kept only for display and downloads, never used as a path. Files are served by the books blueprint to
treasurers and admins only.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from flask import current_app
from werkzeug.utils import secure_filename

from marketplace.domain.books import RECEIPT_TYPES, ReceiptError, sniff_receipt
from marketplace.errors import NotFound, ValidationFailed

_STORED_RE = re.compile(r"^[0-9a-f]{32}\.(pdf|png|jpg)$")


def folder() -> Path:
    """The receipts folder inside the instance folder (created on demand)."""
    path = Path(current_app.instance_path) / "receipts"
    path.mkdir(parents=True, exist_ok=True)
    return path


def store(data: bytes, filename: str | None) -> tuple[str, str]:
    """Check and save a receipt; returns (stored name, display name). Rule: PDF/PNG/JPEG by content, ≤ 5 MB."""
    try:
        kind = sniff_receipt(data)
    except ReceiptError as exc:
        raise ValidationFailed({"receipt": str(exc)}) from exc
    stored = f"{secrets.token_hex(16)}.{kind.extension}"
    (folder() / stored).write_bytes(data)
    display = secure_filename(filename or "")[:200] or f"receipt.{kind.extension}"
    return stored, display


def discard(stored: str | None) -> None:
    """Remove a stored receipt whose expense was not saved (rolled back)."""
    if stored and _STORED_RE.match(stored):
        (folder() / stored).unlink(missing_ok=True)


def open_receipt(stored: str | None) -> tuple[Path, str]:
    """The file and content type of a stored receipt; NotFound for a missing file or a name not made by store()."""
    if not stored or not _STORED_RE.match(stored):
        raise NotFound("This expense has no receipt.")
    path = folder() / stored
    if not path.is_file():
        raise NotFound("The receipt file is missing.")
    return path, RECEIPT_TYPES[stored.rsplit(".", 1)[1]]

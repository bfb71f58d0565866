"""The notice-of-allocation PDF is a pure function of a plain dict: what DOMAIN.md §4 says a notice states
must be in the document, in a form a member can read."""

import re
import zlib
from datetime import date

import pytest

from marketplace.web.treasury.notice_pdf import REQUIRED_KEYS, latin1, notice_title, render_notice_pdf


def example_notice(**changes):
    notice = {
        "notice_number": "2025-000017", "coop_name": "Co-op Marketplace", "issued_on": date(2026, 1, 15),
        "member_name": "Ana Morales", "member_number": 17, "period_name": "FY 2025",
        "period_start": date(2025, 1, 1), "period_end": date(2025, 12, 31), "hours": "120.00",
        "earnings_cents": 300000, "share": "0.437500", "allocation_cents": 87230, "cash_cents": 17446,
        "retained_cents": 69784, "qualified": True, "consent_basis": "Consent bylaw, Article VI section 3",
        "ica_balance_cents": 169784,
    }
    notice.update(changes)
    return notice


def pdf_text(data: bytes) -> str:
    """The text drawn on the pages: inflate each content stream and join the literal strings of Tj operators."""
    chunks = []
    for stream in re.findall(rb"stream\r?\n(.*?)\r?\nendstream", data, re.S):
        try:
            content = zlib.decompress(stream)
        except zlib.error:
            content = stream
        chunks += [m.decode("latin-1") for m in re.findall(rb"\((.*?)(?<!\\)\)\s*Tj", content, re.S)]
    return " ".join(chunk.replace("\\(", "(").replace("\\)", ")") for chunk in chunks)


def test_renders_a_pdf_with_every_statement_a_notice_needs():
    data = render_notice_pdf(example_notice())
    assert data.startswith(b"%PDF-")
    assert data.rstrip().endswith(b"%%EOF")
    text = pdf_text(data)
    for expected in ("Qualified written notice of allocation", "Ana Morales", "member no. 17", "FY 2025",
                     "January 1, 2025", "December 31, 2025", "120.00", "$3,000.00", "0.437500", "$872.30",
                     "$174.46", "$697.84", "$1,697.84", "Consent bylaw, Article VI section 3", "2025-000017"):
        assert expected in text, expected


def test_a_nonqualified_notice_says_so():
    text = pdf_text(render_notice_pdf(example_notice(qualified=False, cash_cents=8723, retained_cents=78507)))
    assert "Nonqualified written notice of allocation" in text
    assert "less than 20% is paid in cash" in text
    assert notice_title({"qualified": False}).startswith("Nonqualified")


def test_a_missing_statement_is_refused_by_name():
    notice = example_notice()
    del notice["ica_balance_cents"]
    with pytest.raises(KeyError, match="ica_balance_cents"):
        render_notice_pdf(notice)
    assert "consent_basis" in REQUIRED_KEYS


def test_any_name_renders_even_outside_latin1():
    data = render_notice_pdf(example_notice(member_name="Zoë “Chen” 陳 − O’Neil"))
    text = pdf_text(data)
    assert "Zoë \"Chen\" ? - O'Neil" in text
    assert latin1("a\u2014b\u00a0c") == "a-b c"


def test_iso_text_dates_are_accepted_and_output_is_deterministic_in_content():
    first = pdf_text(render_notice_pdf(example_notice(issued_on="2026-01-15")))
    second = pdf_text(render_notice_pdf(example_notice(issued_on="2026-01-15")))
    assert "2026-01-15" in first
    assert first == second

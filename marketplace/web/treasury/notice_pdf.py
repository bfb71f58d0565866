"""A written notice of allocation as a PDF (fpdf2): a pure function from a plain dict to bytes.

DOMAIN.md §4 lists what a notice states: the period, the member's patronage measures (hours and
earnings), the share, the allocation, the cash paid, the amount retained and credited to the internal
capital account, the consent basis, and the capital account balance. The same dict feeds the HTML page.

Keys of ``notice`` (money in int cents, dates as ``date`` or ISO text):

    notice_number      str   e.g. "2025-000017"
    coop_name          str
    issued_on          date
    member_name        str
    member_number      int | str
    period_name        str   e.g. "FY 2025"
    period_start       date
    period_end         date
    hours              str   decimal hours, e.g. "120.50"
    earnings_cents     int   earnings while a member
    share              str   patronage share with six decimals, e.g. "0.437500"
    allocation_cents   int
    cash_cents         int
    retained_cents     int
    qualified          bool  a qualified written notice (≥ 20% in cash and consent) or not
    consent_basis      str   how the member consented (e.g. the consent bylaw)
    ica_balance_cents  int   capital account balance after this credit

The built-in Helvetica font covers Latin-1 only; other characters are approximated (typographic
dashes and quotes) or replaced with "?" so that any member name renders.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from marketplace.domain.money import format_cents

REQUIRED_KEYS = (
    "notice_number", "coop_name", "issued_on", "member_name", "member_number", "period_name", "period_start",
    "period_end", "hours", "earnings_cents", "share", "allocation_cents", "cash_cents", "retained_cents",
    "qualified", "consent_basis", "ica_balance_cents",
)
_ASCII_FOR = str.maketrans({
    "\u2212": "-", "\u2013": "-", "\u2014": "-", "\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"',
    "\u2026": "...", "\u00a0": " ", "\u2009": " ", "\u202f": " ",
})
_INK = (29, 37, 38)
_MUTED = (88, 100, 102)
_BRAND = (15, 92, 85)
_RULE = (213, 220, 221)


def latin1(text: object) -> str:
    """Text the core PDF fonts can draw: common typography mapped to ASCII, anything else outside Latin-1 → '?'."""
    return str(text).translate(_ASCII_FOR).encode("latin-1", "replace").decode("latin-1")


def dollars(cents: int) -> str:
    """Cents as "$1,234.56" (a leading minus for negatives)."""
    return format_cents(int(cents), thousands=True, symbol="$")


def _day(value: date | str) -> str:
    if isinstance(value, date):
        return f"{value:%B} {value.day}, {value.year}"
    return str(value)


def notice_title(notice: Mapping) -> str:
    """The heading that tells the member (and the IRS) which kind of notice this is (DOMAIN.md §4)."""
    kind = "Qualified" if notice["qualified"] else "Nonqualified"
    return f"{kind} written notice of allocation"


class _NoticePDF(FPDF):
    def __init__(self, footer_text: str) -> None:
        super().__init__(orientation="P", unit="mm", format="Letter")
        self._footer_text = footer_text
        self.set_margins(20, 18, 20)
        self.set_auto_page_break(auto=True, margin=20)

    def footer(self) -> None:
        self.set_y(-14)
        self.set_font("helvetica", size=8)
        self.set_text_color(*_MUTED)
        self.cell(0, 5, latin1(self._footer_text), align="C")


def _line(pdf: FPDF, label: str, value: str, *, bold: bool = False) -> None:
    pdf.set_font("helvetica", size=10)
    pdf.set_text_color(*_MUTED)
    pdf.cell(75, 7, latin1(label))
    pdf.set_font("helvetica", style="B" if bold else "", size=10)
    pdf.set_text_color(*_INK)
    pdf.cell(0, 7, latin1(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _section(pdf: FPDF, title: str) -> None:
    pdf.ln(3)
    pdf.set_font("helvetica", style="B", size=11)
    pdf.set_text_color(*_BRAND)
    pdf.cell(0, 7, latin1(title), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(*_RULE)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.w - pdf.r_margin, pdf.get_y())
    pdf.ln(1)


def _header(pdf: FPDF, notice: Mapping) -> None:
    pdf.set_font("helvetica", style="B", size=16)
    pdf.set_text_color(*_BRAND)
    pdf.cell(0, 9, latin1(notice["coop_name"]), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("helvetica", style="B", size=13)
    pdf.set_text_color(*_INK)
    pdf.cell(0, 8, latin1(notice_title(notice)), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("helvetica", size=9)
    pdf.set_text_color(*_MUTED)
    pdf.cell(0, 6, latin1(f"Notice no. {notice['notice_number']}  -  issued {_day(notice['issued_on'])}"),
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _consent_text(notice: Mapping) -> str:
    if notice["qualified"]:
        status = ("This is a qualified written notice of allocation: at least 20% of your allocation is paid in "
                  f"cash (here {dollars(notice['cash_cents'])}) within 8\u00bd months after the period ends, and "
                  "under your consent the retained amount stated above counts as income in the year you "
                  "receive this notice.")
    else:
        status = ("This is a nonqualified written notice of allocation: less than 20% is paid in cash, so the "
                  "retained amount is taxed when it is redeemed, not now.")
    return f"Consent basis: {notice['consent_basis']}\n\n{status}"


def render_notice_pdf(notice: Mapping) -> bytes:
    """Render one member's notice of allocation (DOMAIN.md §4) as a one-page PDF.

    Raises ``KeyError`` naming the first missing key, so a caller cannot silently print a notice
    that leaves out something the notice must state.
    """
    missing = [key for key in REQUIRED_KEYS if key not in notice]
    if missing:
        raise KeyError(f"notice is missing {', '.join(missing)}")
    pdf = _NoticePDF(f"{notice['coop_name']} - notice {notice['notice_number']} - keep this for your tax records")
    pdf.set_title(latin1(f"{notice_title(notice)} {notice['notice_number']}"))
    pdf.set_author(latin1(notice["coop_name"]))
    pdf.add_page()
    _header(pdf, notice)

    _section(pdf, "Member and period")
    _line(pdf, "Member", f"{notice['member_name']} (member no. {notice['member_number']})")
    _line(pdf, "Fiscal period", f"{notice['period_name']}: {_day(notice['period_start'])} to "
                                f"{_day(notice['period_end'])}")

    _section(pdf, "Your patronage while a member")
    _line(pdf, "Hours worked", str(notice["hours"]))
    _line(pdf, "Earnings", dollars(notice["earnings_cents"]))
    _line(pdf, "Patronage share", str(notice["share"]))

    _section(pdf, "Your patronage dividend")
    _line(pdf, "Allocation", dollars(notice["allocation_cents"]), bold=True)
    _line(pdf, "Paid in cash", dollars(notice["cash_cents"]))
    _line(pdf, "Retained, credited to your capital account", dollars(notice["retained_cents"]))
    _line(pdf, "Capital account balance after this credit", dollars(notice["ica_balance_cents"]), bold=True)

    _section(pdf, "Consent and tax status")
    pdf.set_font("helvetica", size=9.5)
    pdf.set_text_color(*_INK)
    pdf.multi_cell(0, 5, latin1(_consent_text(notice)), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.set_text_color(*_MUTED)
    pdf.set_font("helvetica", size=8.5)
    pdf.multi_cell(0, 4.5, latin1(
        "Retained allocations are revolved (paid out) oldest first under the co-op's bylaws. "
        "This notice states the co-op's records; it is not tax advice."), align="L")
    return bytes(pdf.output())

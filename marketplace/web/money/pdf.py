"""The receipt of a gig as a one-page PDF (fpdf2), drawn from the dict of ``services.receipts.receipt``.

Receipts are written uncompressed: they are small, and their text stays searchable in archives.
"""

from __future__ import annotations

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from marketplace.domain.money import format_cents

_INK = (29, 37, 38)
_MUTED = (88, 100, 102)
_BRAND = (15, 92, 85)


def _text(value: object) -> str:
    return str(value).encode("latin-1", "replace").decode("latin-1")


def _money(cents: int) -> str:
    return format_cents(cents, thousands=True, symbol="$")


def _row(pdf: FPDF, label: str, value: str, bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 11)
    pdf.cell(120, 7, _text(label))
    pdf.cell(0, 7, _text(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)


def _lines(receipt: dict) -> list[tuple[str, str, bool]]:
    rows = [
        ("Hours worked", receipt["hours_text"], False),
        ("Hourly rate", _money(receipt["rate_cents"]), False),
        ("Labour", _money(receipt["labour_cents"]), False),
    ]
    if receipt["materials_cents"]:
        rows.append(("Materials", _money(receipt["materials_cents"]), False))
    fee_label = f"Co-op fee ({receipt['fee_percent']}%, {receipt['fee_mode_text'].lower()})"
    rows += [(fee_label, _money(receipt["fee_cents"]), False),
             ("Worker's earnings", _money(receipt["worker_earnings_cents"]), True),
             ("Total paid by the client", _money(receipt["client_total_cents"]), True)]
    if receipt["payment"]["refunded_cents"]:
        rows.append(("Refunded to the client", _money(receipt["payment"]["refunded_cents"]), False))
    return rows


def receipt_pdf(receipt: dict, site_name: str) -> bytes:
    """Render the receipt: parties, hours, rate, earnings, the co-op fee and what the fee funds."""
    pdf = FPDF(format="A4")
    pdf.set_compression(False)
    pdf.set_title(_text(f"Receipt for gig {receipt['job_id']}"))
    pdf.add_page()
    pdf.set_text_color(*_BRAND)
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, _text(f"{site_name} - receipt"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*_MUTED)
    pdf.set_font("Helvetica", "", 10)
    for line in (f"Gig {receipt['job_id']}: {receipt['title']} ({receipt['category']})",
                 f"Date: {receipt['date']}   Client: {receipt['client_name']}   Worker: {receipt['worker_name']}",
                 f"Payment: {receipt['payment']['method']} ({receipt['payment']['status']})"):
        pdf.cell(0, 6, _text(line), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_text_color(*_INK)
    for label, value, bold in _lines(receipt):
        _row(pdf, label, value, bold)
    pdf.ln(4)
    pdf.set_font("Helvetica", "B", 12)
    pdf.cell(0, 8, "What the co-op fee funds", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 10)
    for item in receipt["fee_funds"]:
        pdf.multi_cell(0, 6, _text(f"- {item}"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    if receipt["spending"]:
        spent = ", ".join(f"{row['category']} {row['percent']}%" for row in receipt["spending"])
        pdf.multi_cell(0, 6, _text(f"Co-op spending so far: {spent}."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    kind = "a member" if receipt["member_gig"] else "a non-member"
    pdf.set_text_color(*_MUTED)
    pdf.multi_cell(0, 6, _text(f"This gig was done by {kind} of the co-op."), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())

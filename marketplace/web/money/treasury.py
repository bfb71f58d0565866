"""The treasurer's money pages: payout batches and their bank file, fee rates, bank-transfer invoices."""

from __future__ import annotations

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from marketplace.domain.money import format_cents
from marketplace.errors import ValidationFailed
from marketplace.services import fees, invoices, payouts
from marketplace.web.forms import apply_errors
from marketplace.web.money import bp, roles_required
from marketplace.web.money.forms import ConfirmForm, FeeRateForm, cents_or_none


@bp.get("/treasury/payouts")
@roles_required("treasurer", "admin")
def payout_batches():
    return render_template("money/payouts.html", batches=payouts.batches(), form=ConfirmForm())


@bp.post("/treasury/payouts")
@roles_required("treasurer")
def create_batch():
    if ConfirmForm().validate_on_submit():
        batch = payouts.create_payout_batch()
        if batch is None:
            flash("Nobody is due a payout this week (balances below the minimum or no bank details).", "info")
            return redirect(url_for("money.payout_batches"))
        flash(f"This week's batch: {batch.line_count} payouts, ${format_cents(batch.total_cents)}.", "success")
        return redirect(url_for("money.payout_batch", batch_id=batch.id))
    return redirect(url_for("money.payout_batches"))


@bp.get("/treasury/payouts/<int:batch_id>")
@roles_required("treasurer", "admin")
def payout_batch(batch_id: int):
    batch = payouts.get_batch(batch_id)
    return render_template("money/payout_batch.html", batch=batch, mask=payouts.mask_account)


@bp.get("/treasury/payouts/<int:batch_id>.csv")
@roles_required("treasurer", "admin")
def payout_csv(batch_id: int):
    return Response(payouts.bank_csv_for(batch_id), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="payouts-{batch_id}.csv"'})


@bp.route("/treasury/fees", methods=["GET", "POST"])
@roles_required("treasurer", "admin")
def fee_rates():
    form = FeeRateForm()
    if request.method == "POST" and not current_user.has_role("treasurer"):
        abort(403, "Only the treasurer records fee rates.")
    if form.validate_on_submit():
        try:
            fees.set_fee_rate(form.percent.data, form.effective_from.data, cents_or_none(form.min_fee.data),
                              cents_or_none(form.max_fee.data), form.mode.data, current_user.id, form.note.data or "")
        except ValidationFailed as exc:
            apply_errors(form, exc, {"min_cents": "min_fee", "max_cents": "max_fee"})
        else:
            flash("The new fee rate is recorded.", "success")
            return redirect(url_for("money.fee_rates"))
    current = fees.current_fee_rate()
    return render_template("money/fees.html", form=form, history=fees.fee_rate_history(), current=current,
                           current_percent=fees.percent_text(int(current.percent * 100)), labels=fees.MODE_LABELS,
                           can_edit=current_user.has_role("treasurer"))


@bp.get("/treasury/invoices")
@roles_required("treasurer", "admin")
def open_invoices():
    return render_template("money/invoices.html", invoices=invoices.open_invoices(), form=ConfirmForm())


@bp.post("/treasury/invoices/<int:invoice_id>/paid")
@roles_required("treasurer", "admin")
def mark_paid(invoice_id: int):
    if ConfirmForm().validate_on_submit():
        invoice = invoices.mark_invoice_paid(invoice_id, current_user.id)
        flash(f"Invoice {invoice.number} is marked paid.", "success")
    return redirect(url_for("money.open_invoices"))

"""Receipts (client, worker, treasurer, admin), the worker's earnings and payouts, the client's test card."""

from __future__ import annotations

from flask import Response, current_app, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.errors import ValidationFailed
from marketplace.services import payments, payouts, receipts
from marketplace.web.forms import apply_errors
from marketplace.web.money import bp, roles_required
from marketplace.web.money.forms import CardForm, ConfirmForm, PayoutAccountForm
from marketplace.web.money.pdf import receipt_pdf


@bp.get("/gigs/<int:job_id>/receipt")
@login_required
def receipt(job_id: int):
    return render_template("money/receipt.html", receipt=receipts.receipt_for(job_id, current_user.id))


@bp.get("/gigs/<int:job_id>/receipt.pdf")
@login_required
def receipt_download(job_id: int):
    data = receipt_pdf(receipts.receipt_for(job_id, current_user.id), current_app.config["SITE_NAME"])
    return Response(data, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="receipt-gig-{job_id}.pdf"'})


@bp.route("/work/earnings", methods=["GET", "POST"])
@roles_required("worker")
def earnings():
    account = payouts.payout_account(current_user.id)
    form = PayoutAccountForm(holder_name=account.holder_name if account else current_user.name)
    if form.validate_on_submit():
        try:
            payouts.set_payout_account(current_user.id, form.holder_name.data, form.account_number.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash("Your bank details are saved; the next payout goes there.", "success")
            return redirect(url_for("money.earnings"))
    return render_template("money/earnings.html", form=form, account=account,
                           masked=payouts.mask_account(account.account_number) if account else "",
                           balance=payouts.earnings_balance(current_user.id),
                           history=payouts.payout_history(current_user.id))


@bp.route("/pay/card", methods=["GET", "POST"])
@roles_required("client")
def card():
    form = CardForm()
    if form.validate_on_submit():
        try:
            payments.save_test_card(current_user.id, form.card_number.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash("Card saved. New bookings are held on it and charged when you confirm the gig.", "success")
            return redirect(url_for("money.card"))
    return render_template("money/card.html", form=form, remove_form=ConfirmForm(),
                           method=payments.card_on_file(current_user.id))


@bp.post("/pay/card/remove")
@roles_required("client")
def remove_card():
    if ConfirmForm().validate_on_submit():
        payments.remove_card(current_user.id)
        flash("Card removed. New bookings will be invoiced for bank transfer.", "success")
    return redirect(url_for("money.card"))

"""A person's own account: name, email, password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.errors import ValidationFailed
from marketplace.services import accounts
from marketplace.web.account.forms import ProfileForm
from marketplace.web.forms import apply_errors

bp = Blueprint("account", __name__, url_prefix="/account")


@bp.route("/", methods=["GET", "POST"])
@login_required
def profile():
    form = ProfileForm(obj=current_user)
    if form.validate_on_submit():
        try:
            accounts.update_profile(
                current_user, name=form.name.data, email=form.email.data,
                current_password=form.current_password.data or "", new_password=form.new_password.data or "",
            )
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            flash("Your account has been updated.", "success")
            return redirect(url_for("account.profile"))
    return render_template("account/profile.html", form=form)

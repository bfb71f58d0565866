"""Log in, log out, register, reset a forgotten password."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_required, login_user, logout_user

from marketplace.errors import ValidationFailed
from marketplace.extensions import limiter
from marketplace.services import accounts
from marketplace.web.auth.forms import LoginForm, RegisterForm, ResetPasswordForm, ResetRequestForm
from marketplace.web.forms import apply_errors
from marketplace.web.navigation import home_for, safe_next

bp = Blueprint("auth", __name__)


def _log_in(user) -> None:
    session.clear()  # a fresh session at every login: nothing from before the login carries over
    accounts.start_login_session(user, request.user_agent.string)
    login_user(user)


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit("10/minute;50/hour", methods=["POST"])
def login():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        try:
            user = accounts.authenticate(form.email.data, form.password.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            _log_in(user)
            flash(f"Welcome back, {user.name}.", "success")
            return redirect(safe_next(request.args.get("next")) or home_for(user))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
@login_required
def logout():
    accounts.end_login_session(current_user.get_id())
    logout_user()
    session.clear()
    flash("You have logged out.", "info")
    return redirect(url_for("main.index"))


@bp.route("/register", methods=["GET", "POST"])
@limiter.limit("10/hour", methods=["POST"])
def register():
    if current_user.is_authenticated:
        return redirect(home_for(current_user))
    form = RegisterForm(role=request.args.get("as", "client"))
    if form.validate_on_submit():
        try:
            user = accounts.register(form.email.data, form.password.data, form.name.data, form.role.data)
        except ValidationFailed as exc:
            apply_errors(form, exc)
        else:
            _log_in(user)
            flash("Your account is ready.", "success")
            return redirect(home_for(user))
    return render_template("auth/register.html", form=form)


@bp.route("/password/forgot", methods=["GET", "POST"])
@limiter.limit("5/minute;20/hour", methods=["POST"])
def forgot_password():
    form = ResetRequestForm()
    if form.validate_on_submit():
        accounts.request_password_reset(
            form.email.data, lambda token: url_for("auth.reset_password", token=token, _external=True)
        )
        flash("If an account uses that email, a reset link is on its way. It works once, for one hour.", "info")
        return redirect(url_for("auth.login"))
    return render_template("auth/forgot.html", form=form)


@bp.route("/password/reset/<token>", methods=["GET", "POST"])
@limiter.limit("10/minute", methods=["POST"])
def reset_password(token: str):
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            accounts.reset_password(token, form.password.data)
        except ValidationFailed as exc:
            apply_errors(form, exc, aliases={"token": "password"})
        else:
            flash("Your password has been changed. Log in with the new one.", "success")
            return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", form=form)

"""Browser-facing blueprints, error pages, security headers and the login wiring."""

from __future__ import annotations

import contextlib
import logging
import secrets

from flask import Flask, abort, g, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from marketplace import limits
from marketplace.errors import AppError
from marketplace.extensions import db, login_manager

log = logging.getLogger(__name__)

CSP = "default-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"


def register_web(app: Flask) -> None:
    from importlib import import_module

    from marketplace.web.account.routes import bp as account_bp
    from marketplace.web.auth.routes import bp as auth_bp
    from marketplace.web.main.health import bp as health_bp
    from marketplace.web.main.routes import bp as main_bp

    app.register_blueprint(main_bp)
    app.register_blueprint(health_bp)
    app.register_blueprint(auth_bp)
    app.register_blueprint(account_bp)
    app.register_blueprint(import_module("marketplace.web.money").bp)
    app.register_blueprint(import_module("marketplace.web.worker.routes").bp)
    app.register_blueprint(import_module("marketplace.web.client.routes").bp)
    app.register_blueprint(import_module("marketplace.web.gigs.routes").bp)
    app.register_blueprint(import_module("marketplace.web.people.routes").bp)
    app.register_blueprint(import_module("marketplace.web.notifications.routes").bp)
    app.register_blueprint(import_module("marketplace.web.treasury.routes").bp)
    app.register_blueprint(import_module("marketplace.web.member.routes").bp)
    app.register_blueprint(import_module("marketplace.web.books").bp)
    app.register_blueprint(import_module("marketplace.web.governance.routes").bp)
    app.register_blueprint(import_module("marketplace.web.members_admin.routes").bp)
    _register_login(app)
    _register_errors(app)
    _register_headers(app)
    _register_template_helpers(app)


def _register_login(app: Flask) -> None:
    from marketplace.services import accounts

    login_manager.login_view = "auth.login"
    login_manager.login_message = "Please log in to continue."
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(sid: str):
        return accounts.load_session_user(sid)


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_response(status: int, code: str, message: str, fields: dict | None = None):
    """One error shape everywhere: JSON under /api/, an HTML page elsewhere."""
    if wants_json():
        return jsonify({"error": {"code": code, "message": message, "fields": fields or {}}}), status
    template = f"errors/{status}.html" if status in (403, 404, 429, 500) else "errors/generic.html"
    return render_template(template, status=status, message=message), status


def _register_errors(app: Flask) -> None:
    @app.errorhandler(AppError)
    def handle_app_error(exc: AppError):
        return error_response(exc.status, exc.code, exc.message, exc.fields)

    @app.errorhandler(CSRFError)
    def handle_csrf(exc: CSRFError):
        return error_response(400, "csrf_failed", "Your form expired or was not sent from this site. "
                              "Reload the page and try again.")

    @app.errorhandler(429)
    def handle_too_many_requests(exc: HTTPException):
        # The limiter's after-request hook adds Retry-After (and the X-RateLimit-* headers) to this response.
        return error_response(429, "too_many_requests", limits.breach_message(exc))

    @app.errorhandler(HTTPException)
    def handle_http(exc: HTTPException):
        code = (exc.name or "error").lower().replace(" ", "_")
        return error_response(exc.code or 500, code, exc.description or exc.name)

    @app.errorhandler(Exception)
    def handle_unexpected(exc: Exception):
        log.exception("unhandled error on %s %s (request %s)", request.method, request.path, g.get("request_id"))
        # The failed statement may have aborted the transaction; the error page still reads the signed-in user.
        with contextlib.suppress(Exception):
            db.session.rollback()
        return error_response(500, "internal_error", "Something went wrong on our side. It has been logged.")


def _register_headers(app: Flask) -> None:
    @app.before_request
    def assign_request_id():
        g.request_id = request.headers.get("X-Request-ID") or secrets.token_hex(8)

    @app.before_request
    def refuse_nul_characters():
        # No form or link has a reason to send a NUL character, and PostgreSQL text cannot hold one: refuse the
        # request with a clear 400 before a view tries to store or search for it.
        for values in (request.args, request.form):
            if any("\x00" in key or "\x00" in value for key, value in values.items(multi=True)):
                abort(400, "The request contains a NUL character, which is not allowed in text. Remove it and "
                           "try again.")

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
        response.headers["X-Request-ID"] = g.get("request_id", "")
        if app.config["ENV_NAME"] == "production":
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        return response


def _register_template_helpers(app: Flask) -> None:
    from marketplace.domain.money import format_cents

    @app.template_filter("money")
    def money_filter(cents):
        if cents is None:
            return "—"
        text = format_cents(int(cents), thousands=True, symbol="$")
        return text.replace("-", "−")

    @app.context_processor
    def site():
        return {"site_name": app.config["SITE_NAME"]}

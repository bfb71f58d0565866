"""Abuse limits on the endpoints worth attacking: signing in, API tokens and job posting.

The limits themselves are settings (``RATELIMIT_*`` in ``config.py``) so an operator can tune them without a
deploy; they are counted in ``RATELIMIT_STORAGE_URI`` (Redis in production, so every gunicorn worker on every
machine shares one count). An exceeded limit answers 429 with ``Retry-After``: a JSON error under ``/api/``, a
friendly page elsewhere (see ``marketplace.web``).
"""

from __future__ import annotations

import hashlib
import math
import time

from flask import current_app, g, request
from flask_limiter.util import get_remote_address
from flask_login import current_user

from marketplace.extensions import limiter

# How a limited API operation declares its 429 in the OpenAPI document (answered in the usual error shape).
TOO_MANY_REQUESTS = ("Too many requests: wait the number of seconds in the Retry-After header", None)


def _setting(name: str):
    return lambda: current_app.config[name]


def client_ip() -> str:
    return get_remote_address() or "unknown"


def signed_in_user() -> str:
    """The account making the request (bearer token or login session); the address when nobody is signed in."""
    user = g.get("api_user")
    if user is None and current_user and current_user.is_authenticated:
        user = current_user
    return f"user:{user.id}" if user is not None else f"ip:{client_ip()}"


def attempted_email() -> str:
    """The email a token request tries, hashed so the counters in Redis hold no addresses."""
    body = g.get("json") or request.get_json(silent=True) or {}
    email = body.get("email") if isinstance(body, dict) else None
    normalised = (email if isinstance(email, str) else "").strip().lower()
    return "email:" + hashlib.sha256(normalised.encode()).hexdigest()[:32]


def _failed_sign_in(response) -> bool:
    return response.status_code == 401


# Token requests from one address, successful or not.
api_token_per_ip = limiter.limit(
    _setting("RATELIMIT_API_TOKEN"), key_func=client_ip,
    error_message="Too many token requests from your address.")
# Wrong passwords for one email, from any address (a slow, spread-out guess at one account).
api_token_per_email = limiter.limit(
    _setting("RATELIMIT_API_TOKEN_EMAIL"), key_func=attempted_email, deduct_when=_failed_sign_in,
    error_message="Too many failed sign-ins for this account.")
# Job posts by one client, the web form and the API counted together. Every post counts (one sent back to fix a
# mistake too): counting up front is what keeps the limit exact when many posts arrive at once on several servers.
job_posting = limiter.shared_limit(
    _setting("RATELIMIT_JOB_POSTING"), scope="job-posting", key_func=signed_in_user, methods=["POST"],
    error_message="You have posted as many jobs as the co-op allows for now.")


def retry_after_seconds() -> int | None:
    """Seconds until the limit this request broke lets the next one through (None outside a limit breach)."""
    current = limiter.current_limit
    if current is None or not current.breached:
        return None
    return max(1, math.ceil(current.reset_at - time.time()))


def breach_message(exc: Exception) -> str:
    """What the person is told when a limit stops them: which limit, and when to try again."""
    limit = getattr(exc, "limit", None)
    description = getattr(exc, "description", None)
    if limit is not None and not limit.error_message:  # a bare limit such as "10 per 1 minute"
        description = f"Too many attempts: the limit is {description}"
    text = (description or "Too many requests").rstrip(".") + "."
    wait = retry_after_seconds()
    if wait is None:
        return f"{text} Please wait a little and try again."
    if wait < 90:
        return f"{text} Try again in {wait} seconds."
    minutes = math.ceil(wait / 60)
    if minutes < 90:
        return f"{text} Try again in {minutes} minutes."
    return f"{text} Try again in {math.ceil(minutes / 60)} hours."

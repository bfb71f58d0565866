"""Where each kind of user lands, and safe redirects."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import url_for


def home_for(user) -> str:
    """The page a user starts from after logging in."""
    return url_for("main.dashboard")


def safe_next(target: str | None) -> str | None:
    """Only same-site relative paths are followed after login (no open redirects)."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target

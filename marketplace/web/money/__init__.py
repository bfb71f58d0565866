"""Money pages: gig receipts (page and PDF), worker earnings and payouts, the client's test card, and the
treasurer's payouts, fee rates and bank-transfer invoices. One blueprint, ``money``."""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, abort
from flask_login import current_user

from marketplace.extensions import login_manager

bp = Blueprint("money", __name__)


def roles_required(*roles: str):
    """Only signed-in users with one of ``roles`` (403 otherwise; the login page when signed out)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            if not current_user.has_role(*roles):
                abort(403, f"This page is for: {', '.join(roles)}.")
            return view(*args, **kwargs)

        return wrapped

    return decorator


from marketplace.web.money import routes, treasury  # noqa: E402,F401  (attach the views to bp)

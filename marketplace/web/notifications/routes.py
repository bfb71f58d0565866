"""The notifications page and the unread count shown in the navigation."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, render_template, url_for
from flask_login import current_user, login_required

from marketplace.services import notifications
from marketplace.web.notifications.forms import MarkAllReadForm

bp = Blueprint("notifications", __name__, url_prefix="/notifications")

RECENT_LIMIT = 50


@bp.route("/")
@login_required
def index():
    return render_template("notifications/index.html", items=notifications.recent(current_user.id, RECENT_LIMIT),
                           unread=notifications.unread_count(current_user.id))


@bp.post("/read")
@login_required
def mark_all_read():
    if not MarkAllReadForm().validate_on_submit():
        abort(400, "Your form expired. Reload the page and try again.")
    changed = notifications.mark_all_read(current_user.id)
    flash(f"Marked {changed} notification{'' if changed == 1 else 's'} as read." if changed
          else "Nothing new to mark.", "info")
    return redirect(url_for("notifications.index"))


@bp.app_context_processor
def unread_notifications():
    """``unread_notifications()`` in any template: the signed-in user's unread count (queried only when used)."""

    def count() -> int:
        return notifications.unread_count(current_user.id) if current_user.is_authenticated else 0

    return {"unread_notifications": count}

"""The notifications page's one form."""

from flask_wtf import FlaskForm


class MarkAllReadForm(FlaskForm):
    """Mark every notice as read: only the CSRF token."""

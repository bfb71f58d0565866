"""The bridge from service errors to forms: a ValidationFailed's per-field messages land beside the fields."""

from __future__ import annotations

from flask import flash
from flask_wtf import FlaskForm

from marketplace.errors import ValidationFailed


def apply_errors(form: FlaskForm, exc: ValidationFailed, aliases: dict[str, str] | None = None) -> None:
    """Attach each message to its form field; messages for unknown fields are flashed as a form error."""
    aliases = aliases or {}
    for name, message in exc.fields.items():
        field = getattr(form, aliases.get(name, name), None)
        if field is not None and hasattr(field, "errors"):
            field.errors = [*list(field.errors or []), message]
        else:
            flash(message, "error")

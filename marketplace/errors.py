"""The app's own errors, raised by services and turned into form errors or HTTP codes in one place."""

from __future__ import annotations

from collections.abc import Mapping


class AppError(Exception):
    """Base class: ``message`` is shown to the user; ``status`` is the HTTP code the API answers with."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: Mapping[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class ValidationFailed(AppError):
    """Input that breaks a rule; ``fields`` maps a field name to what is wrong with it."""

    status = 422
    code = "validation_failed"

    def __init__(self, fields: Mapping[str, str] | str, message: str | None = None):
        if isinstance(fields, str):
            fields = {"__all__": fields}
        summary = message or "; ".join(fields.values()) or "The input is not valid."
        super().__init__(summary, fields)


class Conflict(AppError):
    """The request is valid but the record's current state does not allow it (someone else got there first)."""

    status = 409
    code = "conflict"


class NotFound(AppError):
    status = 404
    code = "not_found"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Unauthorized(AppError):
    status = 401
    code = "unauthorized"

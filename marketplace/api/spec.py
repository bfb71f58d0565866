"""The API's routes and their OpenAPI description come from one decorator, so the document follows the code.

``operation`` registers a view on the API blueprint, validates the JSON body against the request schema
(a 422 with per-field messages instead of a 500), requires a bearer token unless ``auth=False``, and
records the operation for ``/api/v1/openapi.json``.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from apispec import APISpec
from flask import Blueprint, g, request
from jsonschema import Draft202012Validator, FormatChecker

from marketplace.errors import Forbidden, Unauthorized, ValidationFailed
from marketplace.models.base import MAX_ID

API_PREFIX = "/api/v1"
_REQUIRED_RE = re.compile(r"^'(.+)' is a required property$")
# A record id in a request body; in a path, ``<int:…>`` stops at MAX_ID too (a larger one is a 404).
ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        }
    },
}


ERROR_DESCRIPTIONS = {
    400: "Bad request",
    401: "No bearer token, or one that is expired or revoked",
    403: "The signed-in user may not do this",
    404: "No such record (or one the user may not see)",
    409: "The record's current state does not allow this",
    422: "Invalid input: `fields` says what is wrong with each field",
}
# For operations whose outcome depends on a record's state (a gig, an offer, a vote): declare as a response.
CONFLICT = (ERROR_DESCRIPTIONS[409], None)


@dataclass
class Operation:
    rule: str
    method: str
    summary: str
    tags: list[str]
    request_schema: dict | None
    responses: dict[int, tuple[str, dict | None]]
    auth: bool
    parameters: list[dict] = field(default_factory=list)


# Keyed by (rule, method): building several apps (tests do) describes each operation once.
OPERATIONS: dict[tuple[str, str], Operation] = {}
SCHEMAS: dict[str, dict] = {"Error": ERROR_SCHEMA}


def schema(name: str, definition: dict) -> dict:
    """Register a named component schema and return a reference to it."""
    SCHEMAS[name] = definition
    return {"$ref": f"#/components/schemas/{name}"}


def _path_parameters(rule: str) -> list[dict]:
    params = []
    for part in rule.split("/"):
        if part.startswith("<") and part.endswith(">"):
            conv, _, name = part[1:-1].rpartition(":")
            kind = {"type": "integer", "minimum": 0, "maximum": MAX_ID} if conv == "int" else {"type": "string"}
            params.append({"name": name, "in": "path", "required": True, "schema": kind})
    return params


def _resolve(definition: dict | None) -> dict | None:
    """Inline ``$ref``s for validation (jsonschema validates against the plain definition)."""
    if definition and "$ref" in definition:
        return SCHEMAS[definition["$ref"].rsplit("/", 1)[-1]]
    return definition


# JSON may carry characters no database text column holds (NUL; a lone UTF-16 surrogate, which is not Unicode
# text at all): refuse them with the field's name rather than fail when the row is written.
_UNSTORABLE = re.compile("[\x00\ud800-\udfff]")


def _unstorable_fields(value, path: tuple[str, ...] = ()):
    """The dotted paths of the strings (keys included) in a JSON value that hold unstorable characters."""
    if isinstance(value, str):
        if _UNSTORABLE.search(value):
            yield ".".join(path) or "__all__"
    elif isinstance(value, dict):
        for key, item in value.items():
            if _UNSTORABLE.search(key):
                yield ".".join(path) or "__all__"
            yield from _unstorable_fields(item, (*path, _UNSTORABLE.sub("?", key)))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _unstorable_fields(item, (*path, str(index)))


def _validate_body(request_schema: dict) -> dict:
    body = request.get_json(silent=True)
    if body is None:
        raise ValidationFailed({"__all__": "Send a JSON object with Content-Type: application/json."})
    validator = Draft202012Validator(_resolve(request_schema), format_checker=FormatChecker())
    problems: dict[str, str] = {}
    for err in validator.iter_errors(body):
        path = [str(p) for p in err.absolute_path]
        message = err.message
        if err.validator == "required":
            missing = _REQUIRED_RE.match(err.message)
            path.append(missing.group(1) if missing else "__all__")
            message = "This field is required."
        problems.setdefault(".".join(path) or "__all__", message)
    for name in _unstorable_fields(body):
        problems.setdefault(name, "Remove the control character (NUL) or broken character from this text.")
    if problems:
        raise ValidationFailed(problems)
    return body


def operation(bp: Blueprint, rule: str, method: str, *, summary: str, tags: list[str],
              request_schema: dict | None = None, responses: dict[int, tuple[str, dict | None]] | None = None,
              auth: bool = True, query: list[dict] | None = None, roles: tuple[str, ...] = ()):
    """Register ``view`` as ``method rule`` on ``bp`` and describe it in the OpenAPI document."""
    from marketplace.api.auth import current_api_user

    op = Operation(rule, method, summary, tags, request_schema, responses or {200: ("OK", None)}, auth,
                   _path_parameters(rule) + (query or []))
    OPERATIONS[(rule, method)] = op

    def decorator(view):
        @functools.wraps(view)
        def wrapped(*args, **kwargs):
            if auth:
                user = current_api_user()
                if user is None:
                    raise Unauthorized("Send a bearer token: Authorization: Bearer <token>.")
                if roles and not user.has_role(*roles):
                    raise Forbidden(f"This needs one of the roles: {', '.join(roles)}.")
            if request_schema is not None:
                g.json = _validate_body(request_schema)
            return view(*args, **kwargs)

        bp.add_url_rule(rule, endpoint=f"{view.__name__}_{method.lower()}", view_func=wrapped, methods=[method])
        return wrapped

    return decorator


def _openapi_path(rule: str) -> str:
    parts = []
    for part in rule.split("/"):
        if part.startswith("<") and part.endswith(">"):
            part = "{" + part[1:-1].rpartition(":")[2] + "}"
        parts.append(part)
    return API_PREFIX + "/".join(parts)


def _operation_slug(rule: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"by_\1", rule.lower())).strip("_")


def _openapi30(node):
    """A schema as OpenAPI 3.0 writes it. Request bodies are validated as JSON Schema 2020-12, where a type may
    be a list (``["integer", "null"]``) and ``required`` may be empty; OpenAPI 3.0 allows one type, plus
    ``nullable`` or ``anyOf``, and a non-empty ``required``."""
    if isinstance(node, list):
        return [_openapi30(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _openapi30(value) for key, value in node.items()
           if not (key == "type" and isinstance(value, list)) and not (key == "required" and value == [])}
    types = node.get("type")
    if isinstance(types, list):
        kinds = [kind for kind in types if kind != "null"]
        if len(kinds) == 1:
            out["type"] = kinds[0]
        else:
            out["anyOf"] = [{"type": kind} for kind in kinds]
        if "null" in types:
            out["nullable"] = True
    return out


def build_openapi(title: str) -> dict:
    """The OpenAPI 3.0 document for every registered operation."""
    spec = APISpec(title=f"{title} API", version="1.0.0", openapi_version="3.0.3", plugins=[])
    spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    for name, definition in SCHEMAS.items():
        spec.components.schema(name, _openapi30(definition))
    paths: dict[str, dict] = {}
    for op in OPERATIONS.values():
        error_body = {"$ref": "#/components/schemas/Error"}
        responses = {}
        for status, (description, body) in op.responses.items():
            responses[str(status)] = {"description": description}
            if body is None and status >= 400:  # every error answers in the one error shape
                body = error_body
            if body is not None:
                responses[str(status)]["content"] = {"application/json": {"schema": _openapi30(body)}}
        for status in ([400, 401, 403, 404, 422] if op.auth else [400, 422]):
            responses.setdefault(str(status), {"description": ERROR_DESCRIPTIONS[status],
                                               "content": {"application/json": {"schema": error_body}}})
        entry = {"summary": op.summary, "tags": op.tags, "responses": responses,
                 "operationId": f"{op.method.lower()}_{_operation_slug(op.rule)}"}
        if op.parameters:
            entry["parameters"] = _openapi30(op.parameters)
        if op.request_schema is not None:
            entry["requestBody"] = {"required": True,
                                    "content": {"application/json": {"schema": _openapi30(op.request_schema)}}}
        if op.auth:
            entry["security"] = [{"bearer": []}]
        paths.setdefault(_openapi_path(op.rule), {})[op.method.lower()] = entry
    for path, operations in paths.items():
        spec.path(path=path, operations=operations)
    return spec.to_dict()

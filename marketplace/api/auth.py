"""Bearer-token authentication for the API: tokens only, never the browser cookie (so no CSRF exposure)."""

from __future__ import annotations

from flask import Blueprint, g, jsonify, request

from marketplace import limits
from marketplace.api.spec import operation, schema
from marketplace.errors import Unauthorized, ValidationFailed
from marketplace.services import api_tokens


def current_api_user():
    """The user of the request's bearer token, cached on ``g``; None when no token was sent."""
    if "api_user" not in g:
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            g.api_user, g.api_token = None, None
        else:
            g.api_user, g.api_token = api_tokens.user_for_token(token.strip())
    return g.api_user


TOKEN_REQUEST = schema("TokenRequest", {
    "type": "object",
    "required": ["email", "password"],
    "properties": {"email": {"type": "string", "maxLength": 254}, "password": {"type": "string", "maxLength": 256}},
})
TOKEN = schema("Token", {
    "type": "object",
    "required": ["token", "expires_at", "user"],
    "properties": {
        "token": {"type": "string"},
        "expires_at": {"type": "string", "format": "date-time"},
        "user": {"$ref": "#/components/schemas/User"},
    },
})
USER = schema("User", {
    "type": "object",
    "required": ["id", "email", "name", "roles"],
    "properties": {
        "id": {"type": "integer"},
        "email": {"type": "string"},
        "name": {"type": "string"},
        "roles": {"type": "array", "items": {"type": "string"}},
    },
})


def user_json(user) -> dict:
    return {"id": user.id, "email": user.email, "name": user.name, "roles": sorted(user.roles)}


def register(bp: Blueprint) -> None:
    @operation(bp, "/auth/tokens", "POST", summary="Exchange email and password for a bearer token",
               tags=["auth"], request_schema=TOKEN_REQUEST, auth=False,
               responses={201: ("Token created", TOKEN), 401: ("Wrong email or password", None),
                          429: limits.TOO_MANY_REQUESTS})
    @limits.api_token_per_ip
    @limits.api_token_per_email
    def create_token():
        try:
            token, row = api_tokens.issue_token(g.json["email"], g.json["password"])
        except ValidationFailed as exc:
            raise Unauthorized("Wrong email or password.") from exc
        return jsonify({"token": token, "expires_at": row.expires_at.isoformat(), "user": user_json(row.user)}), 201

    @operation(bp, "/auth/tokens/current", "DELETE", summary="Revoke the token used for this request",
               tags=["auth"], responses={204: ("Revoked", None)})
    def revoke_current_token():
        api_tokens.revoke_token(g.api_token.id, g.api_user.id)
        return "", 204

    @operation(bp, "/me", "GET", summary="The signed-in user", tags=["auth"], responses={200: ("The user", USER)})
    def me():
        return jsonify(user_json(g.api_user))

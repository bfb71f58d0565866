"""Bearer tokens for the JSON API."""

from __future__ import annotations

import secrets

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.orm import joinedload

from marketplace.errors import Unauthorized
from marketplace.extensions import db
from marketplace.models import ApiToken, User
from marketplace.models.base import utcnow
from marketplace.services import accounts, audit


def issue_token(email: str, password: str) -> tuple[str, ApiToken]:
    """Check the credentials and return a new token (shown once) with its row."""
    user = accounts.authenticate(email, password)
    token = secrets.token_urlsafe(32)
    row = ApiToken(
        user_id=user.id,
        token_digest=accounts.digest(token),
        expires_at=utcnow() + current_app.config["API_TOKEN_MAX_AGE"],
    )
    db.session.add(row)
    audit.record("api_token.issued", actor_id=user.id, subject=user)
    db.session.commit()
    return token, row


def user_for_token(token: str) -> tuple[User, ApiToken]:
    """The user a live token belongs to; raises Unauthorized for unknown, revoked or expired tokens."""
    row = db.session.execute(  # token, user and roles in one statement: this runs on every API request
        select(ApiToken).options(joinedload(ApiToken.user).joinedload(User.role_rows))
        .where(ApiToken.token_digest == accounts.digest(token))
    ).unique().scalar_one_or_none()
    if row is None or row.revoked_at is not None or row.expires_at <= utcnow() or not row.user.is_active_account:
        raise Unauthorized("The bearer token is missing, expired or revoked.")
    return row.user, row


def revoke_token(token_id: int, actor_id: int | None = None) -> None:
    revoked = db.session.execute(
        update(ApiToken).where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None)).values(revoked_at=utcnow())
    ).rowcount
    if revoked:
        row = db.session.get(ApiToken, token_id)
        audit.record("api_token.revoked", actor_id=actor_id, subject=row.user)
    db.session.commit()

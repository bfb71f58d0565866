"""Accounts: registration, login sessions, password reset, profile changes and roles."""

from __future__ import annotations

import functools
import hashlib
import secrets

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import joinedload

from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import LoginSession, PasswordResetToken, Role, User, UserRole
from marketplace.models.base import utcnow
from marketplace.services import audit, mail
from marketplace.services.passwords import hash_password, needs_rehash, password_problem, verify_password

SELF_SERVICE_ROLES = (Role.CLIENT.value, Role.WORKER.value)
# Verifying against a real hash when the email is unknown keeps response times alike for both cases.
_DUMMY_HASH_SOURCE = "not-a-real-password-for-timing"


def digest(token: str) -> str:
    """SHA-256 hex digest: tokens are stored only as digests, so a database leak reveals none."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def normalise_email(email: str, *, field: str = "email") -> str:
    """A syntactically valid email address, lower-cased; no DNS lookup."""
    try:
        result = validate_email((email or "").strip(), check_deliverability=False)
    except EmailNotValidError as exc:
        raise ValidationFailed({field: f"Enter a valid email address ({exc})."}) from exc
    return result.normalized.lower()


def find_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(email: str, password: str, name: str, roles: list[str] | tuple[str, ...]) -> User:
    """Add a user with the given roles to the session (not committed); raises ValidationFailed per field."""
    problems: dict[str, str] = {}
    try:
        email = normalise_email(email)
    except ValidationFailed as exc:
        problems.update(exc.fields)
    name = (name or "").strip()
    if not name:
        problems["name"] = "Enter your name."
    elif len(name) > 120:
        problems["name"] = "Use at most 120 characters."
    unknown = [r for r in roles if r not in {role.value for role in Role}]
    if unknown or not roles:
        problems["role"] = f"Unknown role: {', '.join(unknown) or '(none)'}."
    if "email" not in problems and find_by_email(email):
        problems["email"] = "An account with this email already exists. Log in or reset your password."
    weak = password_problem(password or "", email=email, name=name)
    if weak:
        problems["password"] = weak
    if problems:
        raise ValidationFailed(problems)
    user = User(email=email, name=name, password_hash=hash_password(password))
    user.role_rows = [UserRole(role=r) for r in dict.fromkeys(roles)]
    db.session.add(user)
    db.session.flush()
    return user


def register(email: str, password: str, name: str, role: str) -> User:
    """Self-service sign-up as a client or a worker."""
    if role not in SELF_SERVICE_ROLES:
        raise ValidationFailed({"role": "Choose whether you are joining as a client or as a worker."})
    user = create_user(email, password, name, [role])
    audit.record("account.registered", actor_id=user.id, subject=user, detail=role)
    db.session.commit()
    return user


def authenticate(email: str, password: str) -> User:
    """The active user with this email and password; raises ValidationFailed with one vague message."""
    user = find_by_email(email or "")
    if user is None:
        verify_password(hash_password(_DUMMY_HASH_SOURCE), password or "")
        # The address tried is not kept: people sometimes type their password into the email box.
        audit.record("login.failed", detail="unknown email")
        db.session.commit()
        raise ValidationFailed({"password": "Wrong email or password."})
    if not verify_password(user.password_hash, password or "") or not user.is_active_account:
        audit.record("login.failed", actor_id=user.id, subject=user)
        db.session.commit()
        raise ValidationFailed({"password": "Wrong email or password."})
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return user


def start_login_session(user: User, user_agent: str | None = None) -> str:
    """Create a server-side login session and return its id (a fresh one at every login)."""
    sid = secrets.token_urlsafe(32)
    db.session.add(LoginSession(sid=sid, user_id=user.id, user_agent=(user_agent or "")[:255]))
    audit.record("login.succeeded", actor_id=user.id, subject=user)
    db.session.commit()
    user.auth_session_sid = sid
    return sid


@functools.cache
def _live_session_statement():
    """Built once (only ``sid`` changes): neither the statement nor its cache key is rebuilt per request."""
    return (select(LoginSession).options(joinedload(LoginSession.user).joinedload(User.role_rows))
            .where(LoginSession.sid == bindparam("sid"), LoginSession.revoked_at.is_(None)))


def load_session_user(sid: str) -> User | None:
    """The user of a live (not revoked) login session, or None. Runs on every signed-in page, so the session,
    its user and the user's roles come back in one statement."""
    row = db.session.execute(_live_session_statement(), {"sid": sid}).unique().scalar_one_or_none()
    if row is None or not row.user.is_active_account:
        return None
    row.user.auth_session_sid = sid
    return row.user


def end_login_session(sid: str | None) -> None:
    """Revoke a login session (log out): a copy of its cookie no longer authenticates."""
    if sid:
        user_id = db.session.scalar(select(LoginSession.user_id).where(LoginSession.sid == sid))
        ended = db.session.execute(
            update(LoginSession)
            .where(LoginSession.sid == sid, LoginSession.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        ).rowcount
        if ended:
            audit.record("logout", actor_id=user_id, subject=db.session.get(User, user_id))
        db.session.commit()


def revoke_all_sessions(user_id: int, except_sid: str | None = None) -> None:
    stmt = update(LoginSession).where(LoginSession.user_id == user_id, LoginSession.revoked_at.is_(None))
    if except_sid:
        stmt = stmt.where(LoginSession.sid != except_sid)
    db.session.execute(stmt.values(revoked_at=utcnow()))


def request_password_reset(email: str, reset_url_for) -> None:
    """Email a single-use reset link if the account exists; says nothing either way (no account probing).

    ``reset_url_for(token)`` builds the absolute link; the token itself is never stored.
    """
    user = find_by_email(email or "")
    if user is None or not user.is_active_account:
        return
    token = secrets.token_urlsafe(32)
    expires = utcnow() + current_app.config["PASSWORD_RESET_MAX_AGE"]
    db.session.add(PasswordResetToken(user_id=user.id, token_digest=digest(token), expires_at=expires))
    mail.queue_email(
        user.email, "Reset your password", "password_reset", kind="password_reset",
        user=user, reset_url=reset_url_for(token), expires_at=expires,
    )
    audit.record("password.reset_requested", actor_id=user.id, subject=user)
    db.session.commit()


def reset_password(token: str, new_password: str) -> User:
    """Set a new password with a reset token; the token works once and only before it expires."""
    row = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.token_digest == digest(token or "")))
    now = utcnow()
    if row is None:
        raise ValidationFailed({"token": "This reset link is not valid. Ask for a new one."})
    if row.used_at is not None:
        raise ValidationFailed({"token": "This reset link has already been used. Ask for a new one."})
    if row.expires_at <= now:
        raise ValidationFailed({"token": "This reset link has expired. Ask for a new one."})
    user = row.user
    problem = password_problem(new_password or "", email=user.email, name=user.name)
    if problem:
        raise ValidationFailed({"password": problem})
    # Claim the token with a conditional update so two simultaneous uses cannot both succeed.
    claimed = db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.id == row.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    ).rowcount
    if claimed != 1:
        db.session.rollback()
        raise ValidationFailed({"token": "This reset link has already been used. Ask for a new one."})
    _set_password(user, new_password)
    revoke_all_sessions(user.id)
    audit.record("password.reset", actor_id=user.id, subject=user)
    db.session.commit()
    return user


def _set_password(user: User, new_password: str) -> None:
    user.password_hash = hash_password(new_password)
    user.password_changed_at = utcnow()


def update_profile(user: User, *, name: str, email: str, current_password: str = "",
                   new_password: str = "") -> User:
    """Change name and email, and the password when a new one is given (the current one is required)."""
    problems: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        problems["name"] = "Enter your name."
    try:
        email = normalise_email(email)
        other = find_by_email(email)
        if other is not None and other.id != user.id:
            problems["email"] = "Another account already uses this email."
    except ValidationFailed as exc:
        problems.update(exc.fields)
    changing_sensitive = bool(new_password) or email != user.email
    if changing_sensitive and not verify_password(user.password_hash, current_password or ""):
        problems["current_password"] = "Enter your current password to change your email or password."  # noqa: S105
    if new_password:
        weak = password_problem(new_password, email=email, name=name)
        if weak:
            problems["new_password"] = weak
    if problems:
        raise ValidationFailed(problems)
    user.name, user.email = name, email
    if new_password:
        _set_password(user, new_password)
        revoke_all_sessions(user.id, except_sid=user.auth_session_sid)
    audit.record("account.updated", actor_id=user.id, subject=user)
    db.session.commit()
    return user


def grant_role(user: User, role: str, *, actor_id: int | None = None) -> None:
    """Give a role (idempotent) and audit it; the caller commits."""
    if role not in {r.value for r in Role}:
        raise ValidationFailed({"role": f"Unknown role '{role}'."})
    if role not in user.roles:
        user.role_rows.append(UserRole(role=role))
        audit.record("role.granted", actor_id=actor_id, subject=user, detail=role)


def revoke_role(user: User, role: str, *, actor_id: int | None = None) -> None:
    for row in list(user.role_rows):
        if row.role == role:
            user.role_rows.remove(row)
            audit.record("role.revoked", actor_id=actor_id, subject=user, detail=role)

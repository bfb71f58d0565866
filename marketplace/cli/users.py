"""``flask users create|roles``: manage accounts from the command line."""

from __future__ import annotations

import click
from flask.cli import AppGroup

from marketplace.errors import ValidationFailed
from marketplace.extensions import db
from marketplace.models import ROLE_VALUES
from marketplace.services import accounts, audit

users = AppGroup("users", help="Create accounts and manage roles.")


@users.command("create")
@click.argument("email")
@click.option("--password", required=True, help="At least 8 characters, not a common password.")
@click.option("--role", "roles", multiple=True, required=True, type=click.Choice(ROLE_VALUES),
              help="Repeat for several roles.")
@click.option("--name", default=None, help="Display name (defaults to the part of the email before @).")
def create(email: str, password: str, roles: tuple[str, ...], name: str | None):
    """Create an account with one or more roles."""
    try:
        user = accounts.create_user(email, password, name or email.split("@")[0], list(roles))
    except ValidationFailed as exc:
        db.session.rollback()
        for field, message in exc.fields.items():
            click.echo(f"Error: {field}: {message}", err=True)
        raise SystemExit(2) from None
    audit.record("account.created", subject=user, detail="roles: " + ", ".join(sorted(user.roles)))
    db.session.commit()
    click.echo(f"Created user {user.id} <{user.email}> with roles {', '.join(sorted(user.roles))}.")


@users.command("grant")
@click.argument("email")
@click.argument("role", type=click.Choice(ROLE_VALUES))
def grant(email: str, role: str):
    """Give an existing account a role."""
    user = accounts.find_by_email(email)
    if user is None:
        raise click.UsageError(f"No account with email {email}.")
    accounts.grant_role(user, role)
    db.session.commit()
    click.echo(f"{user.email} now has roles {', '.join(sorted(user.roles))}.")

"""``flask seed-demo``: a believable demo co-op for trying the product."""

from __future__ import annotations

import click
from flask.cli import with_appcontext

from marketplace.services import demo


@click.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the database already has users.")
@with_appcontext
def seed_demo(if_empty: bool):
    """Fill the database with the demo co-op (categories, workers, clients, treasurer, admin)."""
    if if_empty and not demo.database_is_empty():
        click.echo("The database already has data; demo seeding skipped.")
        return
    if not demo.database_is_empty():
        raise click.UsageError("The database already has data. Use a fresh database for the demo.")
    summary = demo.seed()
    click.echo("Demo co-op created: " + ", ".join(f"{count} {what}" for what, count in summary.items()))
    click.echo(f"Log in with any demo account and the password '{demo.DEMO_PASSWORD}' (see README).")

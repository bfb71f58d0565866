"""``flask ledger verify|import-expenses``: check the books; import a bank CSV of expenses and other income.

Exit codes: 0 success; 1 ``verify`` found problems; 2 bad input (a file with bad rows, a file already
imported, an unknown user).
"""

from __future__ import annotations

from pathlib import Path

import click
from flask.cli import AppGroup

from marketplace.domain.bank_import import BankImportError, decode_upload
from marketplace.domain.money import format_cents
from marketplace.errors import AppError
from marketplace.extensions import db
from marketplace.services import accounts, books
from marketplace.services import ledger as ledger_service

ledger = AppGroup("ledger", help="The double-entry ledger: verification and bank-file imports.")


class InputError(click.ClickException):
    """Bad input: 'Error: …' lines on stderr and exit code 2."""

    exit_code = 2


@ledger.command("verify")
def verify():
    """Check that every entry balances, nothing is orphaned and fee revenue matches the confirmed gigs."""
    problems = ledger_service.verify()
    for problem in problems:
        click.echo(f"PROBLEM: {problem}")
    if problems:
        click.echo(f"Ledger has {len(problems)} problem{'s' if len(problems) != 1 else ''}.", err=True)
        raise SystemExit(1)
    entries, postings = ledger_service.counts()
    click.echo(f"Ledger OK: {entries} entries, {postings} postings")


@ledger.command("import-expenses")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--as", "actor_email", default=None, help="Email of the treasurer the import is recorded for.")
def import_expenses(file: Path, actor_email: str | None):
    """Import a bank CSV of expenses and other income: all rows or none.

    The header is date,amount,description,category; category is an expense category slug
    (hosting, insurance, ...) or income:<kind> (income:interest, ...). Dates are YYYY-MM-DD.
    """
    actor_id = None
    if actor_email:
        user = accounts.find_by_email(actor_email)
        if user is None:
            raise InputError(f"option '--as': no account with email {actor_email}")
        actor_id = user.id
    try:
        text = decode_upload(file.read_bytes())
    except OSError as exc:
        raise InputError(f"cannot read {file}: {exc.strerror or exc}") from exc
    except BankImportError as exc:
        raise InputError(f"{file.name}: {exc.problems[0]}") from exc
    try:
        batch = books.import_bank_csv(text, actor_id, filename=file.name)
    except books.ImportRejected as exc:
        db.session.rollback()
        for problem in exc.problems:
            click.echo(f"{file.name}: {problem}", err=True)
        raise InputError(exc.message) from exc
    except AppError as exc:
        db.session.rollback()
        raise InputError(exc.message) from exc
    click.echo(f"Imported {batch.row_count} rows from {file.name} (import {batch.id}): "
               f"expenses {_money(batch.expense_cents)}, other income {_money(batch.income_cents)}.")


def _money(cents: int) -> str:
    return format_cents(cents, thousands=True, symbol="$")

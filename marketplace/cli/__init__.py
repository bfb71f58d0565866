"""``flask <group> <command>``: the operator's entry points. Each command parses, calls a service, prints."""

from __future__ import annotations

from flask import Flask


def register_cli(app: Flask) -> None:
    from marketplace.cli.dividends import dividends
    from marketplace.cli.ledger import ledger
    from marketplace.cli.seed import seed_demo
    from marketplace.cli.users import users

    app.cli.add_command(users)
    app.cli.add_command(seed_demo)
    app.cli.add_command(dividends)
    app.cli.add_command(ledger)

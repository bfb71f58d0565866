"""``flask dividends simulate``: a what-if patronage dividend run over a CSV file, no database needed."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import click
from flask.cli import AppGroup

from marketplace.domain.money import MoneyFormatError, format_cents, parse_cents
from marketplace.domain.patronage import AllocationPolicy, IncomeFigures, PatronageInputError, compute_allocation
from marketplace.domain.simulation import (
    SimulationInputError,
    parse_decimal,
    read_patronage_csv,
    render_csv,
    render_json,
)

FOUR_AMOUNTS = ("--member-fees", "--nonmember-fees", "--other-income", "--expenses")

dividends = AppGroup("dividends", help="Patronage dividends (DOMAIN.md §1–5).")


class InputError(click.ClickException):
    """Bad input: a single 'Error: …' line on stderr and exit code 2, like a usage error but without the usage block."""

    exit_code = 2


class _OneLineFailure(click.ParamType):
    # Click's own BadParameter prints a usage block; our users get one line naming the option.
    def fail(self, message: str, param: click.Parameter | None = None, ctx: click.Context | None = None):
        name = param.opts[0] if param is not None and param.opts else "value"
        raise InputError(f"option '{name}': {message}")


class Amount(_OneLineFailure):
    """Money with up to two decimals, as int cents."""

    name = "amount"

    def __init__(self, *, allow_negative: bool = False) -> None:
        self.allow_negative = allow_negative

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return parse_cents(value, allow_negative=self.allow_negative)
        except MoneyFormatError as exc:
            self.fail(str(exc), param, ctx)


class Decimal(_OneLineFailure):
    """A non-negative decimal number as an exact Fraction, optionally capped (percentages: 0–100)."""

    name = "number"

    def __init__(self, *, maximum: Fraction | None = None) -> None:
        self.maximum = maximum

    def convert(self, value, param, ctx):
        if isinstance(value, Fraction):
            return value
        try:
            number = parse_decimal(value)
        except ValueError as exc:
            self.fail(str(exc), param, ctx)
        if self.maximum is not None and number > self.maximum:
            self.fail(f"'{value}' is above {self.maximum} (a percentage is between 0 and 100)", param, ctx)
        return number


class Format(_OneLineFailure, click.Choice):
    """csv or json, with a one-line error for anything else."""


def _income_source(surplus: int | None, amounts: tuple[int | None, ...]) -> tuple[IncomeFigures | None, int | None]:
    given = [name for name, value in zip(FOUR_AMOUNTS, amounts, strict=True) if value is not None]
    if surplus is not None:
        if given:
            raise InputError(f"option '--surplus' cannot be combined with {', '.join(given)}; use one or the other")
        return None, surplus
    if not given:
        raise InputError(f"give either option '--surplus' or all four of {', '.join(FOUR_AMOUNTS)}")
    if len(given) < len(FOUR_AMOUNTS):
        missing = [name for name in FOUR_AMOUNTS if name not in given]
        raise InputError(f"missing option {', '.join(missing)}: the four amounts {', '.join(FOUR_AMOUNTS)} go together")
    return IncomeFigures(*amounts), None


def _read_members(path_text: str):
    path = Path(path_text)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise InputError(f"PATRONAGE.csv: file '{path_text}' does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"PATRONAGE.csv: cannot read '{path_text}' ({exc})") from None
    try:
        return read_patronage_csv(text)
    except SimulationInputError as exc:
        raise InputError(f"{path.name}: {exc}") from None


@dividends.command("simulate", with_appcontext=False)
@click.argument("patronage_csv", metavar="PATRONAGE.csv")
@click.option("--surplus", type=Amount(allow_negative=True), help="Member-sourced surplus (zero or less: loss year).")
@click.option("--member-fees", type=Amount(), help="Co-op fees on members' gigs (MF).")
@click.option("--nonmember-fees", type=Amount(), help="Co-op fees on non-members' gigs (NF).")
@click.option("--other-income", type=Amount(), help="Non-patronage income (OI).")
@click.option("--expenses", type=Amount(), help="Operating expenses (X).")
@click.option("--reserve-percent", type=Decimal(maximum=Fraction(100)), default="0", show_default=True)
@click.option("--cash-percent", type=Decimal(maximum=Fraction(100)), default="20", show_default=True)
@click.option("--hours-weight", type=Decimal(), default="1", show_default=True)
@click.option("--earnings-weight", type=Decimal(), default="1", show_default=True)
@click.option("--format", "output_format", type=Format(["csv", "json"]), default="csv", show_default=True)
def simulate(
    patronage_csv,
    surplus,
    member_fees,
    nonmember_fees,
    other_income,
    expenses,
    reserve_percent,
    cash_percent,
    hours_weight,
    earnings_weight,
    output_format,
):
    """Allocate a surplus over the members in PATRONAGE.csv (columns member,hours,earnings) and print the result."""
    income, member_surplus = _income_source(surplus, (member_fees, nonmember_fees, other_income, expenses))
    if hours_weight == 0 and earnings_weight == 0:
        raise InputError("options '--hours-weight' and '--earnings-weight' must not both be zero")
    members = _read_members(patronage_csv)
    try:
        policy = AllocationPolicy(reserve_percent, hours_weight, earnings_weight, cash_percent)
        result = compute_allocation(members, policy, income=income, member_surplus=member_surplus)
    except PatronageInputError as exc:
        raise InputError(str(exc)) from None
    if output_format == "json":
        click.echo(render_json(result), nl=False)
        return
    if result.is_loss_year:
        click.echo(
            f"loss year: member surplus {format_cents(result.member_surplus)} is not positive; nothing is allocated",
            err=True,
        )
    click.echo(render_csv(result), nl=False)


@dividends.command("revolve")
@click.option("--before-year", "before_year", required=True, help="Revolve allocations of periods ended before it.")
def revolve_command(before_year):
    """Pay out retained allocations of periods that ended before --before-year, oldest first (DOMAIN.md §5)."""
    from marketplace.errors import AppError
    from marketplace.services import capital

    text = str(before_year).strip()
    if not text.isdigit():
        raise InputError(f"option '--before-year': '{before_year}' is not a year (e.g. 2021)")
    try:
        summary = capital.revolve(int(text))
    except AppError as exc:
        raise InputError(f"option '--before-year': {'; '.join(exc.fields.values()) or exc.message}") from None
    click.echo(
        f"Revolved {summary['allocations']} allocations of {summary['members']} members before "
        f"{summary['before_year']}: {format_cents(summary['total_cents'])} now payable."
    )

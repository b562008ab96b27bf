"""What every command shares: building the app from options, printing data or tables."""

from __future__ import annotations

import getpass
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import typer
from rich.console import Console

from handoffs.cli.errors import CliError, NotFound

if TYPE_CHECKING:
    from handoffs.bootstrap import App

__all__ = [
    "ByOption",
    "CliError",
    "DbOption",
    "JsonOption",
    "NotFound",
    "audit",
    "check_period",
    "cli_actor",
    "console",
    "err_console",
    "money",
    "open_app",
    "opened",
    "operator_name",
    "plain",
    "print_json",
    "require_schema",
]

console = Console()
err_console = Console(stderr=True)

DbOption = Annotated[
    str | None,
    typer.Option(
        "--database-url",
        envvar="HANDOFFS_DATABASE_URL",
        help="sqlite:///PATH (default sqlite:///handoffs.db) or postgresql://USER@HOST:PORT/DB.",
        show_default=False,
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
ByOption = Annotated[
    str | None,
    typer.Option("--by", help="Who acts, for the audit log (default: your user name on this machine)."),
]
_PERIOD = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")


def check_period(value: str) -> str:
    """A Typer callback: accept YYYY-MM only."""
    if not _PERIOD.match(value):
        raise typer.BadParameter("must be YYYY-MM")
    return value


def open_app(database_url: str | None, *, systems: Path | Any = None, **overrides: Any) -> App:
    """The application; with ``systems`` (a handoffs.yaml, or one loaded) its ERPs, routes, limits."""
    # Imported here, not at the top: every command's --help should start fast.
    from handoffs.bootstrap import build
    from handoffs.keyring import KeyringError
    from handoffs.settings import Settings

    config = systems
    if isinstance(systems, Path):
        from handoffs.config.systems import load_systems

        config = load_systems(systems)
    hub = build(Settings.from_env(database_url=database_url, **overrides), systems=config)
    try:
        hub.keyring()  # a missing or short master secret is said now, not as a traceback later
    except KeyringError as exc:
        hub.close()
        raise CliError(f"{exc} (see docs/security.md: the master secret)") from None
    return hub


@contextmanager
def opened(database_url: str | None, **overrides: Any) -> Iterator[App]:
    """The application for one command on a set-up database (no ERP unless asked), closed after."""
    hub = open_app(database_url, **{"erp": "none", **overrides})
    try:
        require_schema(hub)
        yield hub
    finally:
        hub.close()


def require_schema(app: App) -> None:
    """Stop with a clear message when the database has not been set up."""
    from sqlalchemy import inspect

    from handoffs.store.db import redact_url

    if not inspect(app.engine).has_table("alembic_version"):
        raise CliError(
            f"The database at {redact_url(app.settings.database_url)} is not set up. Run: handoffs db upgrade"
        )


def money(amount: Any, currency: str | None = None) -> str:
    """Money as people read it: ``1,234,567.50 EUR`` (a :class:`Money`, or an amount and code).

    The amount keeps its own digits (no rounding here); ``-`` when there is none.
    """
    if amount is None:
        return "-"
    if currency is None and hasattr(amount, "currency"):
        amount, currency = amount.amount, amount.currency
    if isinstance(amount, dict):
        amount, currency = amount["amount"], amount["currency"]
    from decimal import Decimal, InvalidOperation

    try:
        text = f"{Decimal(str(amount)):,}"
    except InvalidOperation:
        text = str(amount)
    return f"{text} {currency}" if currency else text


def plain(value: Any) -> str:
    """A value as text for people, never a Python repr: ``yes``/``no``, ``-`` for none, money
    with thousands separators, mappings as ``key value, ...`` and lists joined by commas."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict):
        if set(value) == {"amount", "currency"}:
            return money(value)
        return ", ".join(f"{k} {plain(v)}" for k, v in value.items()) or "-"
    if isinstance(value, list | tuple | set | frozenset):
        return ", ".join(plain(v) for v in value) or "-"
    if hasattr(value, "currency") and hasattr(value, "amount"):
        return money(value)
    return str(value)


def print_json(data: Any) -> None:
    sys.stdout.write(orjson.dumps(data, option=orjson.OPT_INDENT_2, default=str).decode() + "\n")


def operator_name(by: str | None = None) -> str:
    """Who acts: the name given with ``--by``, else the operating-system user running the command."""
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def cli_actor(by: str | None = None) -> str:
    """The audit log's actor for an operator command: ``cli:<--by or OS user>``."""
    return f"cli:{operator_name(by)}"


def audit(
    uow: Any, action: str, target: str, *, by: str | None = None, before: Any = None, after: Any = None
) -> None:
    """Write an operator's action to the audit log, in the unit of work's transaction.

    The actor is ``cli:<--by>``, else ``cli:<OS user>``; the caller commits the change and
    its audit row together.
    """
    from handoffs.audit import append

    append(
        uow.connection,
        at=uow.now,
        actor=cli_actor(by),
        action=action,
        target=target,
        before=before,
        after=after,
    )

"""``handoffs console``: the web console's users (the console itself runs in ``handoffs serve``)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from handoffs.cli.common import (
    CliError,
    DbOption,
    JsonOption,
    NotFound,
    audit,
    console,
    err_console,
    opened,
    print_json,
)

app = typer.Typer(
    help="Manage the web console's users (serve it with: handoffs serve).", no_args_is_help=True
)

PasswordStdin = Annotated[
    bool, typer.Option("--password-stdin", help="Read the password from the first line of standard input.")
]


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Repeat it", hide_input=True) != first:
        err_console.print("[red]The two passwords differ.[/red]")
        raise typer.Exit(2)
    return str(first)


@app.command("adduser")
def adduser(
    name: Annotated[str, typer.Argument(help="The user name to sign in with.")],
    role: Annotated[
        str,
        typer.Option(
            help="viewer (reads), operator (also acts on exceptions) or admin (also manages users)."
        ),
    ] = "viewer",
    password_stdin: PasswordStdin = False,
    database_url: DbOption = None,
) -> None:
    """Add a console user with a role; the password is prompted for (or read from standard input)."""
    from handoffs.console.users import ROLES, UserError, add_user

    if role not in ROLES:
        raise typer.BadParameter(f"must be one of {', '.join(ROLES)}", param_hint="--role")
    password = _read_password(password_stdin)
    with opened(database_url) as hub, hub.uow() as uow:
        try:
            add_user(uow.connection, name, role, password, uow.now)
        except UserError as exc:
            raise CliError(str(exc)) from None
        audit(uow, "cli.add_console_user", f"user:{name}", after={"role": role})
        uow.commit()
    console.print(f"Console user {name} added as {role}. Sign in at /console after: handoffs serve")


@app.command("password")
def password(
    name: Annotated[str, typer.Argument(help="The user whose password to replace.")],
    password_stdin: PasswordStdin = False,
    database_url: DbOption = None,
) -> None:
    """Give a console user a new password (same policy as adduser); their sessions end."""
    from handoffs.console.users import UserError, set_password

    new = _read_password(password_stdin)
    with opened(database_url) as hub, hub.uow() as uow:
        try:
            found = set_password(uow.connection, name, new, uow.now)
        except UserError as exc:
            raise CliError(str(exc)) from None
        if not found:
            raise NotFound(f"No console user {name}.")
        audit(uow, "cli.set_console_password", f"user:{name}")
        uow.commit()
    console.print(f"Console user {name} has a new password.")


@app.command("users")
def users(database_url: DbOption = None, as_json: JsonOption = False) -> None:
    """List the console's users and their roles."""
    from rich.table import Table

    from handoffs.console.users import list_users

    with opened(database_url) as hub, hub.uow() as uow:
        everyone = list_users(uow.connection)
    if as_json:
        print_json([{"name": u.name, "role": u.role, "created_at": u.created_at} for u in everyone])
        return
    if not everyone:
        console.print("No console users yet: handoffs console adduser NAME --role admin")
        return
    table = Table(title=f"{len(everyone)} console user(s)")
    for column in ("name", "role", "since"):
        table.add_column(column)
    for u in everyone:
        table.add_row(u.name, u.role, u.created_at.isoformat(timespec="seconds"))
    console.print(table)

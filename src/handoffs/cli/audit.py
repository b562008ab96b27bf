"""``handoffs audit``: read the audit log and verify its hash chain."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from handoffs.audit import entries, verify
from handoffs.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    open_app,
    print_json,
    require_schema,
)

app = typer.Typer(
    help="The tamper-evident audit log of API calls and operator actions.", no_args_is_help=True
)


@app.command("verify")
def verify_(database_url: DbOption = None, as_json: JsonOption = False) -> None:
    """Check every row's hash and link. Exits 1 when a row was edited or deleted."""
    hub = open_app(database_url, erp="none")
    require_schema(hub)
    with hub.engine.connect() as conn:
        checked, breaks = verify(conn)
    hub.close()
    if as_json:
        print_json(
            {
                "rows": checked,
                "intact": not breaks,
                "breaks": [{"seq": b.seq, "reason": b.reason} for b in breaks],
            }
        )
    elif breaks:
        err_console.print(f"[red]The audit log was tampered with[/red] ({checked} rows checked):")
        for b in breaks:
            err_console.print(f"  row {b.seq}: {b.reason}")
    else:
        console.print(f"Audit log intact: {checked} rows, hash chain verified.")
    if breaks:
        raise typer.Exit(1)


@app.command("list")
def list_(
    database_url: DbOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many, newest first.")] = 50,
    target: Annotated[str | None, typer.Option(help="Only rows about this target.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Who did what, when, with the state before and after."""
    hub = open_app(database_url, erp="none")
    require_schema(hub)
    with hub.engine.connect() as conn:
        rows = entries(conn, limit=limit, target=target)
    hub.close()
    if as_json:
        print_json(
            [
                {
                    "seq": r.seq,
                    "at": r.at.isoformat(),
                    "actor": r.actor,
                    "action": r.action,
                    "target": r.target,
                    "before": r.before,
                    "after": r.after,
                }
                for r in rows
            ]
        )
        return
    table = Table(title="Audit log")
    for col in ("seq", "at", "actor", "action", "target"):
        table.add_column(col)
    for r in rows:
        table.add_row(str(r.seq), r.at.isoformat(timespec="seconds"), r.actor, r.action, r.target)
    console.print(table)

"""``handoffs exceptions``: what needs a person, with the original payload."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

import typer
from rich.table import Table

from handoffs.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    open_app,
    print_json,
    require_schema,
)
from handoffs.store.repositories.exceptions import ExceptionRecord

app = typer.Typer(help="Inspect exceptions (failed validations, dead letters).", no_args_is_help=True)


@app.command("list")
def list_(
    database_url: DbOption = None,
    state: Annotated[
        str | None, typer.Option(help="open, in_progress, retrying, resolved or ignored.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Only this category, e.g. validation.")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Show at most this many.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List exceptions, oldest first, each with its reason and raw payload."""
    hub = open_app(database_url, erp="none")
    require_schema(hub)
    with hub.uow() as uow:
        records = uow.exceptions.list(state=state, category=category, limit=limit)
    hub.close()
    if as_json:
        print_json([_as_dict(r) for r in records])
        return
    table = Table(title=f"{len(records)} exception(s)")
    for col in ("id", "category", "state", "source", "reason", "raw"):
        table.add_column(col, overflow="fold")
    for r in records:
        table.add_row(str(r.id), r.category, r.state, r.source, r.reason, r.raw[:160])
    console.print(table)


@app.command("show")
def show(
    exception_id: Annotated[int, typer.Argument(help="The exception's id.")],
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one exception in full, with its raw payload."""
    hub = open_app(database_url, erp="none")
    require_schema(hub)
    with hub.uow() as uow:
        record = uow.exceptions.get(exception_id)
    hub.close()
    if record is None:
        err_console.print(f"[red]No exception {exception_id}.[/red]")
        raise typer.Exit(1)
    data = _as_dict(record)
    if as_json:
        print_json(data)
        return
    for key, value in data.items():
        console.print(f"[bold]{key}[/bold]: {value}")


def _as_dict(r: ExceptionRecord) -> dict[str, object]:
    return {**asdict(r), "runbook": r.runbook}

"""``handoffs sync [SYSTEM ...]`` and ``handoffs sync state list|show|reset``.

``sync`` pulls the source systems of ``handoffs.yaml`` from their cursors (incremental),
maps, validates and stores what changed, and hands a CRM's won deals over; an outage ends
that one system's pull as an exception. Exit 0 when all went through, 1 when something
needs a person (an outage, a record held as an exception), 2 for a usage error, 130 on Ctrl-C.
"""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from typer.core import TyperGroup

from handoffs.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    open_app,
    print_json,
    require_schema,
)
from handoffs.cli.sync_state import SystemsFile, state_app

__all__ = ["app"]

log = logging.getLogger("handoffs.sync")


class _SyncGroup(TyperGroup):
    """``sync`` takes system names, except when its first word is a subcommand (``state``)."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        if args and args[0] in self.commands:
            super().parse_args(ctx, [])  # the group's own options keep their defaults
            ctx._protected_args, ctx.args = [args[0]], args[1:]
            return ctx.args
        ctx.allow_interspersed_args = True  # `sync harvest --json`: options after the names
        return super().parse_args(ctx, args)


app = typer.Typer(
    cls=_SyncGroup, help="Pull the source systems in handoffs.yaml.", invoke_without_command=True
)
app.add_typer(state_app, name="state")

COLUMNS = ("pulled", "new", "updated", "unchanged", "held")


@app.callback()
def sync(
    ctx: typer.Context,
    names: Annotated[
        list[str] | None,
        typer.Argument(metavar="SYSTEM", help="Systems to pull (default: every source)."),
    ] = None,
    systems: SystemsFile = Path("handoffs.yaml"),
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Pull every source system (or the named ones) incrementally, map, validate and store.

    Prints per system what was pulled, new, updated, unchanged and held as exceptions. An
    outage past the retry budget ends that system's pull as an exception with its cursor
    unmoved; the others go on. Exits 1 when anything needs a person.
    """
    if ctx.invoked_subcommand is not None:
        return
    from handoffs.config.systems import SystemsConfigError, load_systems
    from handoffs.connectors.mapping import MappingSpecError
    from handoffs.connectors.secrets import SecretError
    from handoffs.domain.routing import Routing
    from handoffs.sync.run import source_systems, sync_systems

    if not systems.exists():
        err_console.print(f"[red]{systems} not found.[/red] Write one with: handoffs init SYSTEM ...")
        raise typer.Exit(2)
    try:
        config = load_systems(systems)
        chosen = source_systems(config, names or ())
    except (SystemsConfigError, OSError, ValueError) as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    # Only the systems pulled are wired: an ERP's or another source's secrets are not needed.
    pulled = replace(config, systems={c.name: c for c in chosen}, routing=Routing())
    try:
        hub = open_app(database_url, systems=pulled, erp="none")
    except (SecretError, MappingSpecError, OSError, KeyError) as exc:
        err_console.print(f"[red]{exc}[/red] (handoffs systems check names what is missing)")
        raise typer.Exit(2) from None
    try:
        require_schema(hub)
        with _display(as_json) as show:
            results = sync_systems(hub, names or (), progress=show)
    except KeyboardInterrupt:
        err_console.print(
            "Interrupted: resources pulled in full kept their cursors; the next sync repeats the rest."
        )
        raise typer.Exit(130) from None
    finally:
        hub.close()
    rows = [r.as_dict() for r in results]
    if as_json:
        print_json({"systems": rows})
    else:
        _table(rows)
    if any(not r["ok"] or r["held"] for r in rows):
        raise typer.Exit(1)


class _display:
    """A Rich progress display in a terminal; plain log lines on standard error otherwise."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.live = not quiet and err_console.is_terminal
        self.progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description:<32}"),
            TextColumn("{task.completed:>8,.0f} records"),
            TimeElapsedColumn(),
            console=err_console,
            transient=True,
            disable=not self.live,
        )
        self.tasks: dict[str, Any] = {}

    def __enter__(self) -> _display:
        self.progress.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self.progress.__exit__(None, None, None)

    def __call__(self, system: str, resource: str, done: int) -> None:
        stage = f"{system} {resource}"
        if self.live:
            if stage not in self.tasks:
                self.tasks[stage] = self.progress.add_task(stage, total=None)
            self.progress.update(self.tasks[stage], completed=done)
        elif not self.quiet and (done or stage not in self.tasks):
            self.tasks[stage] = None
            what = "pulling" if done == 0 else f"{done:,} records"
            sys.stderr.write(f"{datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} sync {stage}: {what}\n")


def _table(rows: list[dict[str, Any]]) -> None:
    table = Table(title="handoffs sync")
    table.add_column("system")
    for column in COLUMNS:
        table.add_column(column, justify="right")
    table.add_column("outcome")
    for r in rows:
        outcome = "ok" if r["ok"] else f"[red]stopped at {r['failed_resource']}: {r['error']}[/red]"
        table.add_row(r["system"], *(f"{r[c]:,}" for c in COLUMNS), outcome)
    console.print(table)
    if any(r["held"] for r in rows):
        console.print("Held records and outages: handoffs exceptions list --state open")

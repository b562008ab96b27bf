"""``handoffs load``: canonical JSON Lines in, bad lines kept as exceptions."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from handoffs.cli.common import (
    ByOption,
    DbOption,
    JsonOption,
    audit,
    console,
    err_console,
    open_app,
    print_json,
    require_schema,
)
from handoffs.cli.progress import progress as progress_display
from handoffs.flows.ingest import LoadReport, ingest_lines


def load(
    path: Annotated[
        Path,
        typer.Argument(
            help="A canonical JSON Lines file (one object per line, any types).",
            exists=True,
            dir_okay=False,
            readable=True,
        ),
    ],
    database_url: DbOption = None,
    source: Annotated[
        str | None, typer.Option(help="Source name recorded on records and exceptions.")
    ] = None,
    batch_size: Annotated[int, typer.Option(min=1, max=50_000, help="Lines per transaction.")] = 2000,
    by: ByOption = None,
    as_json: JsonOption = False,
) -> None:
    """Load canonical objects. Good lines are stored; each bad line becomes an exception.

    Loading the same file again changes nothing. Exits 1 when any line failed. The load is
    written to the audit log when it ends (or stops), with the file's SHA-256 and what it did.
    """
    hub = open_app(database_url, erp="none")
    require_schema(hub)
    size = path.stat().st_size
    digest = hashlib.sha256()
    report: LoadReport | None = None
    with progress_display(
        TextColumn("{task.description}"),
        BarColumn(),
        DownloadColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
    ) as progress:
        task = progress.add_task(f"loading {path.name} (bytes)", total=size)

        def lines() -> Iterator[bytes]:
            with path.open("rb") as fh:  # bytes: a line that is not UTF-8 is one bad line
                for line in fh:
                    digest.update(line)
                    progress.advance(task, len(line))
                    yield line

        try:
            report = ingest_lines(
                lines(), hub.uow, hub.ports, source=source or f"file:{path.name}", batch_size=batch_size
            )
        finally:  # each batch committed on its own: the audit row says how far the load went
            done = {"completed": True, **report.as_dict()} if report else {"completed": False}
            with hub.uow() as uow:
                audit(
                    uow, "cli.load", f"file:{path.name}", by=by, after={"sha256": digest.hexdigest(), **done}
                )
                uow.commit()
            hub.close()
    _print(report, as_json)
    if report.failed:
        raise typer.Exit(1)


def _print(report: LoadReport, as_json: bool) -> None:
    if as_json:
        print_json(report.as_dict())
        return
    table = Table(title=f"Loaded {report.lines} lines")
    table.add_column("outcome")
    table.add_column("records", justify="right")
    for outcome, n in sorted(report.outcomes.items()):
        table.add_row(outcome, str(n))
    table.add_row("[red]failed[/red]" if report.failed else "failed", str(report.failed))
    console.print(table)
    console.print(f"Approved time entries queued for billing: {report.approvals_published}")
    if report.failed:
        console.print(f"[red]{report.failed} line(s) failed[/red]; see: handoffs exceptions list")

"""``handoffs demo``: the main job, on the embedded SQLite default."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from handoffs.cli.common import JsonOption, console, err_console, open_app, print_json
from handoffs.flows.ingest import ingest_lines
from handoffs.reconcile.billing import check_billing

EXAMPLE = Path("examples/firm.jsonl")


def demo(
    file: Annotated[Path, typer.Option(help="Canonical JSON Lines to run through the hub.")] = EXAMPLE,
    out_dir: Annotated[Path, typer.Option(help="Where the demo's databases go (recreated).")] = Path(
        "demo-out"
    ),
    as_json: JsonOption = False,
) -> None:
    """Load the example firm, run the time-to-invoice flow to completion, and print a summary."""
    if not file.exists():
        err_console.print(
            f"[red]{file} not found.[/red] Run the demo from the repository root, or pass --file."
        )
        raise typer.Exit(2)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.db*"):
        stale.unlink()
    started = time.perf_counter()
    hub = open_app(f"sqlite:///{out_dir / 'handoffs.db'}", erp=f"file:{out_dir / 'erp.db'}")
    hub.upgrade()
    total = sum(1 for _ in file.open(encoding="utf-8"))
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=as_json,
        transient=True,
    ) as progress:
        task = progress.add_task("loading", total=total)
        with file.open(encoding="utf-8") as fh:
            report = ingest_lines(
                fh,
                hub.uow,
                hub.ports,
                source=f"file:{file.name}",
                on_progress=lambda n: progress.advance(task, n),
            )
        work = progress.add_task("processing", total=None)
        worker = hub.worker()
        worker.run(
            until_idle=True,
            on_batch=lambda s, left: progress.update(work, completed=s.processed, total=s.processed + left),
        )
    summary = _summary(hub, report.as_dict(), worker.stats.as_dict(), time.perf_counter() - started)
    hub.close()
    if as_json:
        print_json(summary)
    else:
        _print(summary, out_dir)


def _summary(hub: Any, load: dict[str, Any], work: dict[str, int], seconds: float) -> dict[str, Any]:
    with hub.uow() as uow:
        check = check_billing(uow.connection)
        deliveries = uow.deliveries.count_by_status()
        exceptions = uow.exceptions.count_by_category()
    return {
        "records_loaded": load["by_type"],
        "lines_failed": load["lines"] and load["failed"],
        "worker": work,
        "invoices_generated": check.invoices,
        "invoices_posted": deliveries.get("confirmed", 0),
        "deliveries": deliveries,
        "invoice_totals": check.as_dict()["totals_by_currency"],
        "approved_billable_entries": check.approved_billable_entries,
        "billed_entries": check.billed_entries,
        "double_billed_entries": check.double_billed_entries,
        "unbilled_approved_by_state": check.unbilled_by_state,
        "invoice_total_mismatches": len(check.invoices_total_mismatch) + len(check.lines_rate_mismatch),
        "exceptions_by_category": exceptions,
        "duration_s": round(seconds, 2),
    }


def _print(s: dict[str, Any], out_dir: Path) -> None:
    table = Table(title="Handoffs demo: time to invoice to ERP", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for key, value in s["records_loaded"].items():
        table.add_row(f"loaded {key}", str(value))
    table.add_row("lines that failed validation", str(s["lines_failed"]))
    table.add_row("approved billable entries", str(s["approved_billable_entries"]))
    table.add_row("entries billed (exactly once)", str(s["billed_entries"]))
    table.add_row("entries billed twice", str(s["double_billed_entries"]))
    for state, n in s["unbilled_approved_by_state"].items():
        table.add_row(f"approved, not billed: {state}", str(n))
    table.add_row("invoices generated", str(s["invoices_generated"]))
    table.add_row("invoices posted to the ERP", str(s["invoices_posted"]))
    for cur, amount in s["invoice_totals"].items():
        table.add_row(f"invoiced {cur}", amount)
    table.add_row("invoice totals not matching their lines", str(s["invoice_total_mismatches"]))
    for cat, n in s["exceptions_by_category"].items():
        table.add_row(f"exceptions: {cat}", str(n))
    table.add_row("seconds", str(s["duration_s"]))
    console.print(table)
    url = f"sqlite:///{out_dir / 'handoffs.db'}"
    console.print(f"Explore: handoffs --database-url {url} exceptions list | export invoices --format csv")

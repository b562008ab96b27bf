"""``handoffs demo``: the main job. A simulated firm's systems over HTTP, the hub in between.

By default it generates a firm (seed 7, ~150 consultants, one month), starts its systems
with the ``default`` fault profile, and runs the hub against them through the connectors
on the embedded SQLite default. ``--file`` runs the older canonical-file mode instead.
"""

from __future__ import annotations

import os
import time
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn, TimeElapsedColumn
from rich.table import Table

from handoffs.cli.common import CliError, JsonOption, console, err_console, money, open_app, plain, print_json
from handoffs.cli.progress import LineProgress
from handoffs.cli.progress import progress as progress_display
from handoffs.telemetry.logs import configure_logging


def demo(
    seed: Annotated[int, typer.Option(help="Seed of the generated firm; the same seed, the same firm.")] = 7,
    size: Annotated[
        str, typer.Option(help="Firm size: small, default (~150 consultants), large.")
    ] = "default",
    faults: Annotated[
        str, typer.Option(help="Fault profile: none, default, month-end, hostile.")
    ] = "default",
    out_dir: Annotated[Path, typer.Option(help="Where the hub's database and the systems' files go.")] = Path(
        "demo-out"
    ),
    file: Annotated[
        Path | None, typer.Option(help="Run a canonical JSON Lines file instead of the simulated systems.")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Run the hub against a simulated firm's systems over HTTP and print what happened."""
    if file is not None:
        _file_demo(file, out_dir, as_json)
        return
    with _progress(as_json) as progress:
        tasks: dict[str, TaskID] = {}

        def report(stage: str, completed: int, total: int | None) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=total)
            progress.update(tasks[stage], completed=completed, total=total)

        try:
            from handoffs.sync.firm_run import run_firm  # imported when used: --help stays fast

            run = run_firm(seed, out_dir, size=size, faults=faults, progress=report)
        except ValueError as exc:
            raise CliError(str(exc)) from None
    if as_json:
        print_json(run.summary)
    else:
        _print(run.summary, out_dir)


def _progress(quiet: bool) -> Progress | LineProgress:
    if not quiet and "HANDOFFS_LOG_LEVEL" not in os.environ:
        # each dead letter is already counted in the summary's exceptions: a warning line per
        # dead letter would drown the progress display (HANDOFFS_LOG_LEVEL=WARNING shows them)
        configure_logging(level="ERROR")
    return progress_display(
        TextColumn("{task.description:<32}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err_console,
        disable=quiet,
    )


def _print(s: dict[str, Any], out_dir: Path) -> None:
    table = Table(title="Handoffs demo: a simulated firm's systems, over HTTP", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    for system, n in s["records_pulled"].items():
        table.add_row(f"records pulled from {system}", str(n))
    table.add_row("new records on the incremental re-pull", str(s["re_pull_new_records"]))
    table.add_row("invoices generated", str(s["invoices_generated"]))
    for erp, n in s["invoices_posted_by_erp"].items():
        table.add_row(f"invoices posted to {erp}", str(n))
    counted, rate = s["straight_through_records"], s["straight_through_rate"]
    table.add_row(
        "straight-through rate (as analytics and the console)",
        "no approved billable record reached billing"
        if rate is None
        else f"{rate:.2%} ({counted['straight_through']} of {counted['records']} records)",
    )
    table.add_row("pulled records needing no person", f"{s['pulled_records_needing_no_person']:.2%}")
    for cat, n in s["exceptions_by_category"].items():
        table.add_row(f"exceptions: {cat}", str(n))
    for entity, hours in s["hours_by_legal_entity"].items():
        approved, billed = hours.get("approved_billable_hours", "0"), hours.get("billed_hours", "0")
        fixed = hours.get("fixed_fee_or_milestone_hours", "0")
        table.add_row(
            f"{entity}: approved billable / billed by the hour / fixed-fee or milestone hours",
            " / ".join(f"{Decimal(h):,}" for h in (approved, billed, fixed)),
        )
    for entity, amounts in s.get("revenue_by_legal_entity", {}).items():
        for currency, amount in amounts.items():
            table.add_row(f"{entity}: revenue recognised", money(amount, currency))
    if "journals_balanced" in s:
        balanced = plain(s["journals_balanced"])
        table.add_row("journal entries, all balanced", f"{s['journal_entries']:,}, {balanced}")
        table.add_row("unexplained reconciliation breaks", str(s["unexplained_reconciliation_breaks"]))
    for period, r in s.get("billing_readiness_before_close", {}).items():
        why = ", ".join(f"{k} {v}" for k, v in r["blocked_by_reason"].items()) or "-"
        table.add_row(f"{period}: projects ready / blocked", f"{r['ready']} / {r['blocked']} ({why})")
    if "opportunity_to_project" in s:
        o = s["opportunity_to_project"]
        table.add_row(
            "won deals handed over / projects approved / amended",
            f"{o['opportunities_won']} / {o['projects_approved']} / {o['contracts_amended']}",
        )
        for erp, n in o["contracts_confirmed_by_erp"].items():
            table.add_row(f"contracts sent to {erp}", str(n))
    if "erp_comparison" in s:
        c = s["erp_comparison"]
        kinds = ", ".join(f"{k} {n}" for k, n in c["differences_by_kind"].items())
        table.add_row(
            f"{c['legacy']} vs {c['new']}: invoices compared, differences",
            f"{c['invoices']}, {c['differences_total']}" + (f" ({kinds})" if kinds else ""),
        )
    table.add_row("records lost", str(s["lost_records"]))
    table.add_row("entries billed twice", str(s["double_billed_entries"]))
    table.add_row("seconds", str(s["duration_s"]))
    console.print(table)
    console.print(_explained(s, out_dir), markup=False, highlight=False)


def _explained(s: dict[str, Any], out_dir: Path) -> str:
    """What the figures mean and what to run next, with this run's values filled in."""
    periods = sorted(s.get("billing_readiness_before_close") or {})
    period = periods[-1] if periods else "YYYY-MM"
    url = f"sqlite:///{out_dir / 'handoffs.db'}"
    line = _an_invoice_line(out_dir) or "INVOICE-LINE-ID"
    worked = ", ".join(periods) if periods else "the generated month"
    return "\n".join(
        [
            f"What it shows: the firm's work in {worked}, pulled from its systems over HTTP while",
            "they fail on purpose, priced, invoiced, posted to the ERPs and reconciled.",
            "Billed hours are fewer than approved billable hours because fixed-fee and milestone",
            "contracts bill installments and accepted milestones, not hours: their hours count",
            "toward revenue (percentage of completion) but appear on no invoice line.",
            "",
            "Try next:",
            f"  export HANDOFFS_DATABASE_URL={url}",
            "  handoffs exceptions list --sort priority",
            f"  handoffs reconcile --period {period} --only-breaks",
            f"  handoffs explain invoice-line {line}",
            "  handoffs console adduser me --role admin   (then: handoffs serve "
            f"--systems {out_dir / 'handoffs.yaml'}, and open http://127.0.0.1:8000/console)",
        ]
    )


def _an_invoice_line(out_dir: Path) -> str | None:
    """One invoice line of the run, for an ``explain`` example that works as typed."""
    from sqlalchemy import select

    from handoffs.store.db import make_engine
    from handoffs.store.tables import invoice_lines

    path = out_dir / "handoffs.db"
    if not path.exists():
        return None
    engine = make_engine(f"sqlite:///{path}")
    try:
        with engine.connect() as conn:
            found = conn.execute(select(invoice_lines.c.id).order_by(invoice_lines.c.id).limit(1)).scalar()
    finally:
        engine.dispose()
    return str(found) if found else None


def _file_demo(file: Path, out_dir: Path, as_json: bool) -> None:
    """The canonical-file mode: load the file, run the worker to completion, summarise."""
    if not file.exists():
        err_console.print(f"[red]{file} not found.[/red]")
        raise typer.Exit(2)
    out_dir.mkdir(parents=True, exist_ok=True)
    for stale in out_dir.glob("*.db*"):
        stale.unlink()
    started = time.perf_counter()
    hub = open_app(f"sqlite:///{out_dir / 'handoffs.db'}", erp=f"file:{out_dir / 'erp.db'}")
    hub.upgrade()
    with _progress(as_json) as progress, file.open(encoding="utf-8") as fh:
        task = progress.add_task("loading", total=None)
        from handoffs.flows.ingest import ingest_lines  # imported when used: --help stays fast

        report = ingest_lines(
            fh,
            hub.uow,
            hub.ports,
            source=f"file:{file.name}",
            on_progress=lambda n: progress.advance(task, n),
        )
        worker = hub.worker()
        worker.run(until_idle=True)
    with hub.uow() as uow:
        from handoffs.reconcile.billing import check_billing  # imported when used: --help stays fast

        check = check_billing(uow.connection)
        summary = {
            "records_loaded": report.as_dict()["by_type"],
            "invoices_generated": check.invoices,
            "invoices_posted": uow.deliveries.count_by_status().get("confirmed", 0),
            "exceptions_by_category": uow.exceptions.count_by_category(),
            "double_billed_entries": check.double_billed_entries,
            "worker": worker.stats.as_dict(),
            "duration_s": round(time.perf_counter() - started, 2),
        }
    hub.close()
    if as_json:
        print_json(summary)
    else:
        console.print(summary)

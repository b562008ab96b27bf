"""``handoffs reconcile``: approved work against invoices against journals and the ERP."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from handoffs.cli.common import (
    ByOption,
    DbOption,
    JsonOption,
    audit,
    check_period,
    console,
    opened,
    print_json,
)
from handoffs.reconcile.controls import EXPLAINED, Break, ReconcileReport, record_breaks
from handoffs.reconcile.controls import reconcile as run_controls


def reconcile(
    period: Annotated[
        str, typer.Option(help="The period of work to reconcile, YYYY-MM.", callback=check_period)
    ],
    entity: Annotated[str | None, typer.Option(help="Only this legal entity.")] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            min=0, help="Detail rows to list after the summary by code (default 20; 0: all; JSON: all)."
        ),
    ] = None,
    only_breaks: Annotated[
        bool, typer.Option("--only-breaks", help="List only unexplained breaks, the ones that need a person.")
    ] = False,
    by: ByOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Match approved time and expenses to invoice lines, journals and ERP postings.

    Every break gets a variance code; unexplained breaks become exceptions for a person.
    Exits 1 when any break is unexplained.
    """
    with opened(database_url) as hub, hub.uow() as uow:
        report = run_controls(uow.connection, period, entity)
        opened_now = record_breaks(uow, report)
        after = {
            "entity": entity,
            "breaks": len(report.breaks),
            "exceptions_opened": sum(opened_now.values()),
        }
        audit(uow, "cli.reconcile", f"period:{period}", by=by, after=after)
        uow.commit()
    rows = report.unexplained if only_breaks else report.breaks
    if as_json:
        data = report.as_dict()
        if only_breaks:
            data["details"] = [d for d in data["details"] if not d["explained"]]
        if limit:
            data["details"] = data["details"][:limit]
        print_json(data)
    else:
        _print(report, rows, 20 if limit is None else limit)
    if report.unexplained:
        raise typer.Exit(1)


def _print(report: ReconcileReport, rows: list[Break], limit: int) -> None:
    data = report.as_dict()
    checked = ", ".join(f"{n:,} {what}" for what, n in data["checked"].items()) or "nothing"
    console.print(
        f"Reconciled {report.period}{' for ' + report.entity if report.entity else ''}: checked {checked}.",
        highlight=False,
    )
    summary = Table(title=f"{data['breaks']:,} difference(s), {data['unexplained']:,} unexplained break(s)")
    for col in ("variance code", "count", "explained", "projects"):
        summary.add_column(col, justify="right" if col in ("count", "projects") else "left")
    for code, count in data["by_code"].items():
        explained = code in EXPLAINED
        projects = len({b.project_id for b in report.breaks if b.code == code})
        summary.add_row(code, f"{count:,}", "yes" if explained else "[red]no[/red]", f"{projects:,}")
    console.print(summary)
    shown = rows if limit == 0 else rows[:limit]
    if not shown:
        return
    table = Table(title="unexplained breaks" if len(rows) == len(report.unexplained) else "differences")
    for col in ("code", "explained", "project", "source", "detail"):
        table.add_column(col, overflow="fold")
    for b in shown:
        table.add_row(b.code, "yes" if b.explained else "[red]no[/red]", b.project_id, b.source, b.detail)
    console.print(table)
    if len(shown) < len(rows):
        console.print(
            f"{len(rows) - len(shown):,} more not listed: --limit 0 lists all, --json gives them all."
        )

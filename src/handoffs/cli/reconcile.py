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
from handoffs.reconcile.controls import ReconcileReport, record_breaks
from handoffs.reconcile.controls import reconcile as run_controls


def reconcile(
    period: Annotated[
        str, typer.Option(help="The period of work to reconcile, YYYY-MM.", callback=check_period)
    ],
    entity: Annotated[str | None, typer.Option(help="Only this legal entity.")] = None,
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
    if as_json:
        print_json(report.as_dict())
    else:
        _print(report)
    if report.unexplained:
        raise typer.Exit(1)


def _print(report: ReconcileReport) -> None:
    data = report.as_dict()
    checked = ", ".join(f"{n} {what}" for what, n in data["checked"].items()) or "nothing"
    console.print(
        f"Reconciled {report.period}{' for ' + report.entity if report.entity else ''}: checked {checked}."
    )
    table = Table(title=f"{data['breaks']} break(s), {data['unexplained']} unexplained")
    for col in ("code", "explained", "project", "source", "detail"):
        table.add_column(col, overflow="fold")
    for b in report.breaks:
        table.add_row(b.code, "yes" if b.explained else "[red]no[/red]", b.project_id, b.source, b.detail)
    console.print(table)

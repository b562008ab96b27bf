"""``handoffs period close|reopen|list``: a legal entity's books for a month, closed by a person."""

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
    err_console,
    opened,
    operator_name,
    print_json,
)

app = typer.Typer(help="Close or reopen a legal entity's accounting period.", no_args_is_help=True)

EntityArg = Annotated[str, typer.Argument(help="The legal entity's id.")]
PeriodArg = Annotated[str, typer.Argument(help="The month, YYYY-MM.", callback=check_period)]


@app.command("close")
def close(
    entity: EntityArg,
    period: PeriodArg,
    by: ByOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close a month: nothing is posted into it again, and its reported figures stay as they are now.

    Items dated in it later (late time, back-dated documents) are posted in the next open
    month, with the reason on their journals, and reported there.
    """
    from handoffs.analytics import reported_at_close

    with opened(database_url) as hub, hub.uow() as uow:
        if uow.objects.get("legal_entity", entity) is None:
            err_console.print(f"[red]No legal entity {entity} in the hub.[/red]")
            raise typer.Exit(2)
        before = uow.periods.get(entity, period)
        if before is not None and before.closed:
            err_console.print(f"[red]{entity} {period} is already closed (by {before.closed_by}).[/red]")
            raise typer.Exit(2)
        who = operator_name(by)
        uow.periods.close(entity, period, who, reported_at_close(uow.connection, entity, period))
        audit(
            uow,
            "cli.period_close",
            f"period:{entity}:{period}",
            by=who,
            before=_state(before),
            after="closed",
        )
        uow.commit()
        row = uow.periods.get(entity, period)
    _show(row.as_dict() if row else {}, as_json, f"Closed {entity} {period}")


@app.command("reopen")
def reopen(
    entity: EntityArg,
    period: PeriodArg,
    reason: Annotated[str, typer.Option(help="Why it is reopened (kept in the audit log).")],
    by: ByOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Reopen a month a person closed: it takes postings again and reports what the store holds."""
    with opened(database_url) as hub, hub.uow() as uow:
        before = uow.periods.get(entity, period)
        if before is None or not before.closed:
            err_console.print(f"[red]{entity} {period} was not closed with handoffs period close.[/red]")
            raise typer.Exit(2)
        who = operator_name(by)
        uow.periods.reopen(entity, period, who)
        after = {"state": "reopened", "reason": reason}
        audit(uow, "cli.period_reopen", f"period:{entity}:{period}", by=who, before="closed", after=after)
        uow.commit()
        row = uow.periods.get(entity, period)
    _show(row.as_dict() if row else {}, as_json, f"Reopened {entity} {period}")


@app.command("list")
def list_(
    entity: Annotated[str | None, typer.Option(help="Only this legal entity.")] = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every month closed or reopened by a person, with who and when."""
    with opened(database_url) as hub, hub.uow() as uow:
        rows = [p.as_dict() for p in uow.periods.all(entity)]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} period(s) closed or reopened")
    for col in ("legal_entity_id", "period", "state", "closed_by", "closed_at", "reopened_by", "reopened_at"):
        table.add_column(col)
    for r in rows:
        table.add_row(*(str(r[k] or "-") for k in r))
    console.print(table)


def _state(row: object) -> str | None:
    return None if row is None else "reopened"


def _show(row: dict[str, object], as_json: bool, said: str) -> None:
    if as_json:
        print_json(row)
    else:
        console.print(
            f"{said} (by {row.get('closed_by') if row.get('state') == 'closed' else row.get('reopened_by')})."
        )

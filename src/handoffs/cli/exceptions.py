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
    opened,
    print_json,
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
    with opened(database_url) as hub, hub.uow() as uow:
        records = uow.exceptions.list(state=state, category=category, limit=limit)
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
    with opened(database_url) as hub, hub.uow() as uow:
        record = uow.exceptions.get(exception_id)
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


ReasonOption = Annotated[str, typer.Option(help="Why: kept with the exception and in the audit log.")]
ByOption = Annotated[str, typer.Option("--by", help="Who acts (recorded in the audit log).")]


def _act(database_url: str | None, action: str, exception_id: int, reason: str, by: str) -> None:
    """Retry or ignore through the same commands the process API uses, audited the same way."""
    from handoffs.api import commands
    from handoffs.api.context import Principal
    from handoffs.audit import append

    with opened(database_url) as hub:
        operator = Principal(
            client_id=f"cli:{by}", name=by, scopes=frozenset({"*"}), entities=None, key_id="cli"
        )
        run = commands.retry_exception if action == "retry" else commands.ignore_exception
        try:
            with hub.uow() as uow:
                result = run(uow, operator, exception_id, reason)
                for audit in result.audit:
                    append(
                        uow.connection,
                        at=uow.now,
                        actor=operator.actor,
                        action=audit.action.replace("process.", "cli."),
                        target=audit.target,
                        before=audit.before,
                        after=audit.after,
                    )
                uow.commit()
        except Exception as exc:  # the commands raise NotFound/Conflict with a message for a person
            if type(exc).__name__ not in ("NotFound", "Conflict"):
                raise
            err_console.print(f"[red]{exc}[/red]")
            raise typer.Exit(2) from None
    console.print(
        f"Exception {exception_id}: {result.body['state']}."
        + (" Its work is queued again; run the worker." if result.body.get("work_requeued") else "")
    )


@app.command("retry")
def retry(
    exception_id: Annotated[int, typer.Argument(help="The exception's id.")],
    reason: ReasonOption,
    by: ByOption = "operator",
    database_url: DbOption = None,
) -> None:
    """Put a dead letter's work back in line; it resolves itself when the work succeeds."""
    _act(database_url, "retry", exception_id, reason, by)


@app.command("ignore")
def ignore(
    exception_id: Annotated[int, typer.Argument(help="The exception's id.")],
    reason: ReasonOption,
    by: ByOption = "operator",
    database_url: DbOption = None,
) -> None:
    """Close an exception without acting on it, with the reason on record."""
    _act(database_url, "ignore", exception_id, reason, by)


@app.command("assign")
def assign(
    exception_id: Annotated[int, typer.Argument(help="The exception's id.")],
    owner: Annotated[str, typer.Option(help="Who owns it from now on.")],
    by: ByOption = "operator",
    database_url: DbOption = None,
) -> None:
    """Give an exception an owner (an open one moves to in_progress)."""
    from handoffs.audit import append

    with opened(database_url) as hub, hub.uow() as uow:
        record = uow.exceptions.get(exception_id)
        if record is None:
            err_console.print(f"[red]No exception {exception_id}.[/red]")
            raise typer.Exit(1)
        uow.exceptions.assign(exception_id, owner)
        append(
            uow.connection,
            at=uow.now,
            actor=f"cli:{by}",
            action="cli.assign_exception",
            target=f"exception:{exception_id}",
            before={"owner": record.owner},
            after={"owner": owner},
        )
        uow.commit()
    console.print(f"Exception {exception_id} is owned by {owner}.")


@app.command("fix")
def fix(
    exception_id: Annotated[int, typer.Argument(help="A validation exception from a load.")],
    raw: Annotated[str, typer.Option(help="The corrected record, one line of canonical JSON.")],
    by: ByOption = "operator",
    database_url: DbOption = None,
) -> None:
    """Edit and retry: load the corrected record in place of the one that failed."""
    from handoffs.audit import append
    from handoffs.flows.ingest import ingest_lines

    with opened(database_url) as hub:
        with hub.uow() as uow:
            record = uow.exceptions.get(exception_id)
        if record is None or record.category != "validation" or record.work_id is not None:
            err_console.print(
                f"[red]{exception_id} is not a validation exception from a load; use retry.[/red]"
            )
            raise typer.Exit(2)
        report = ingest_lines([raw], hub.uow, hub.ports, source=record.source)
        if report.failed:
            err_console.print(
                "[red]The corrected record still fails; see: handoffs exceptions list --state open[/red]"
            )
            raise typer.Exit(1)
        with hub.uow() as uow:
            uow.exceptions.set_state(exception_id, "resolved", f"corrected by {by} and loaded")
            append(
                uow.connection,
                at=uow.now,
                actor=f"cli:{by}",
                action="cli.fix_exception",
                target=f"exception:{exception_id}",
                before={"raw": record.raw},
                after={"raw": raw},
            )
            uow.commit()
    console.print(f"Exception {exception_id} resolved: the corrected record is loaded. Run the worker.")

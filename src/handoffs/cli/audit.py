"""``handoffs audit``: read the audit log, verify its keyed chain, export signed checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from handoffs.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    open_app,
    opened,
    print_json,
    require_schema,
)

if TYPE_CHECKING:
    from handoffs.audit import Report

app = typer.Typer(
    help="The tamper-evident audit log of API calls and operator actions.", no_args_is_help=True
)

CheckpointOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--checkpoint",
        help="A checkpoint file from `handoffs audit checkpoint` to hold the chain against (repeatable).",
        exists=True,
        dir_okay=False,
        readable=True,
    ),
]


@app.command("verify")
def verify_(
    database_url: DbOption = None, checkpoint: CheckpointOption = None, as_json: JsonOption = False
) -> None:
    """Check every row's keyed hash and link, and each checkpoint given.

    Exits 1 when a row was edited or deleted, or the log was cut short of a checkpoint;
    exits 2 when a checkpoint is not one this hub signed (forged or altered).
    """
    from handoffs.audit import CheckpointError, read_checkpoint, verify_chain

    with opened(database_url) as hub:
        keyring = hub.keyring()
        try:
            checkpoints = [read_checkpoint(path.read_text(), keyring) for path in checkpoint or []]
        except CheckpointError as exc:
            err_console.print(f"[red]Refused checkpoint:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        with hub.engine.connect() as conn:
            report = verify_chain(conn, keyring, checkpoints)
    _print_report(report, len(checkpoints), as_json)
    if report.breaks:
        raise typer.Exit(1)


def _print_report(report: Report, checkpoints: int, as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "rows": report.rows,
                "keyed_rows": report.keyed,
                "legacy_rows": report.legacy,
                "checkpoints": checkpoints,
                "intact": report.intact,
                "breaks": [{"seq": b.seq, "reason": b.reason} for b in report.breaks],
            }
        )
    elif report.breaks:
        err_console.print(f"[red]The audit log was tampered with[/red] ({report.rows} rows checked):")
        for b in report.breaks:
            err_console.print(f"  row {b.seq}: {b.reason}", highlight=False)
    else:
        legacy = f", {report.legacy} from before the chain was keyed" if report.legacy else ""
        console.print(
            f"Audit log intact: {report.rows} rows{legacy}, keyed chain verified"
            f" against {checkpoints} checkpoint(s)."
        )


@app.command("checkpoint")
def checkpoint_(
    database_url: DbOption = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Write the checkpoint to this file (default: stdout).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Verify the chain, then export a signed checkpoint of its head; keep it off this machine.

    The checkpoint (row, hash, time, key id, Ed25519 signature) lets `audit verify
    --checkpoint FILE` later detect rows cut from the end, or history rewritten, since.
    Exits 1 without a checkpoint when the chain does not verify.
    """
    from handoffs.audit import sign_checkpoint, verify_chain

    with opened(database_url) as hub:
        keyring = hub.keyring()
        with hub.engine.connect() as conn:
            report = verify_chain(conn, keyring)
        now = hub.ports.clock.now()
    if report.breaks:
        _print_report(report, 0, as_json)
        err_console.print("[red]No checkpoint made:[/red] a checkpoint must not vouch for a broken chain.")
        raise typer.Exit(1)
    signed = sign_checkpoint(keyring, report.head_seq, report.head_hash, now)
    if out is None:
        typer.echo(signed.to_json(), nl=False)
        return
    out.write_text(signed.to_json())
    if as_json:
        print_json(signed.as_dict())
    else:
        console.print(f"Checkpoint of row {signed.seq} written to {out}. Keep a copy off this machine.")


@app.command("list")
def list_(
    database_url: DbOption = None,
    limit: Annotated[int, typer.Option(min=1, help="Show at most this many, newest first.")] = 50,
    target: Annotated[str | None, typer.Option(help="Only rows about this target.")] = None,
    as_json: JsonOption = False,
) -> None:
    """Who did what, when, with the state before and after."""
    from handoffs.audit import entries

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

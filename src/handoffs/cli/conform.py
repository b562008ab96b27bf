"""``handoffs systems conform SYSTEM``: run the conformance kit against one configured system."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from handoffs.cli.common import ByOption, DbOption, JsonOption, audit, console, err_console, print_json

__all__ = ["conform"]


def _hub(database_url: str | None) -> Any:
    """The hub whose store answers mapping lookups, or None when there is none set up here."""
    from sqlalchemy import inspect

    from handoffs.bootstrap import build
    from handoffs.settings import Settings

    settings = Settings.from_env(database_url=database_url, erp="none")
    url = settings.database_url
    if url.startswith("sqlite:///") and not Path(url.removeprefix("sqlite:///")).is_file():
        return None  # never create an empty database just to look nothing up
    hub = build(settings)
    if not inspect(hub.engine).has_table("alembic_version"):
        hub.close()
        return None
    return hub


def conform(
    system: Annotated[str, typer.Argument(help="The system's name in handoffs.yaml.")],
    file: Annotated[Path, typer.Option("--file", "-f", help="The systems configuration.")] = Path(
        "handoffs.yaml"
    ),
    write: Annotated[
        bool,
        typer.Option(
            "--write",
            help="Also run the checks that write to the system (an ERP refusing an unmappable "
            "invoice, posting --invoice twice). Read-only without it.",
        ),
    ] = False,
    invoice: Annotated[
        str | None, typer.Option("--invoice", help="With --write: a hub invoice an ERP posts twice.")
    ] = None,
    database_url: DbOption = None,
    by: ByOption = None,
    as_json: JsonOption = False,
) -> None:
    """Check one system against what the hub relies on; each check passes or says why not.

    Exit 1 when a check fails; 2 when the file or the system is not found.
    """
    from handoffs.cli.systems import QUICK
    from handoffs.config.systems import SystemsConfigError, load_systems
    from handoffs.conformance import run_checks
    from handoffs.connectors.mapping import NoLookups
    from handoffs.sync.lookups import StoreLookups

    try:
        cfg = load_systems(file).systems.get(system)
    except (OSError, SystemsConfigError) as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    if cfg is None:
        err_console.print(f"[red]{file} has no system named {system!r}.[/red]")
        raise typer.Exit(2)
    if invoice and not write:
        err_console.print("[red]--invoice posts to the ERP: add --write to allow it.[/red]")
        raise typer.Exit(2)
    hub = _hub(database_url)
    if write and hub is not None:
        _keyring_or_exit(hub)  # the run is audited: a missing master secret is said before any write
    try:
        found = _invoice(hub, invoice) if invoice else None
        lookups = StoreLookups(hub.engine) if hub else NoLookups()
        checks = run_checks(cfg, lookups, write=write, invoice=found, policy=QUICK)
        if write and hub is not None:
            with hub.uow() as uow:
                after = {"checks": len(checks), "failed": sum(not c.ok for c in checks)}
                audit(uow, "cli.systems.conform", f"system:{system}", by=by, after=after)
                uow.commit()
    finally:
        if hub is not None:
            hub.close()
    _show(system, file, write, hub is not None, checks, as_json)
    if not all(c.ok for c in checks):
        raise typer.Exit(1)


def _keyring_or_exit(hub: Any) -> None:
    from handoffs.keyring import KeyringError

    try:
        hub.keyring()
    except KeyringError as exc:
        hub.close()
        err_console.print(f"[red]{exc}[/red] (see docs/security.md: the master secret)")
        raise typer.Exit(2) from None


def _invoice(hub: Any, invoice_id: str) -> Any:
    found = None
    if hub is not None:
        with hub.uow() as uow:
            found = uow.invoices.get(invoice_id)
    if found is None:
        err_console.print(f"[red]The hub has no invoice {invoice_id!r}.[/red]")
        raise typer.Exit(2)
    return found


def _show(system: str, file: Path, write: bool, hub: bool, checks: list[Any], as_json: bool) -> None:
    if as_json:
        print_json(
            {
                "system": system,
                "file": str(file),
                "write": write,
                "lookups": "hub" if hub else "none",
                "ok": all(c.ok for c in checks),
                "checks": [c.as_dict() for c in checks],
            }
        )
        return
    if not hub:
        err_console.print("No hub database here: mappings that look up hub records are checked without them.")
    table = Table(title=f"{system}: conformance ({'read and write' if write else 'read-only'})")
    for column in ("check", "result", "reason"):
        table.add_column(column)
    for c in checks:
        table.add_row(
            c.name + (" (writes)" if c.writes else ""), "pass" if c.ok else "[red]FAIL[/red]", c.reason
        )
    console.print(table)

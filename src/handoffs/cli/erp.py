"""``handoffs erp compare``: the shadow comparison of an ERP migration (legacy against new)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from handoffs.cli.common import DbOption, JsonOption, console, err_console, print_json, require_schema

app = typer.Typer(help="ERPs the hub posts to: compare what each accepted.", no_args_is_help=True)

FileOption = Annotated[
    Path, typer.Option("--file", "-f", help="The systems configuration (handoffs.yaml) naming both ERPs.")
]


@app.command("compare")
def compare(
    file: FileOption = Path("handoffs.yaml"),
    legacy: Annotated[
        str | None, typer.Option(help="The legacy ERP's system name (default: migration.legacy in the file).")
    ] = None,
    new: Annotated[
        str | None, typer.Option(help="The new ERP's system name (default: migration.new in the file).")
    ] = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Read back every invoice the hub routed to both ERPs from each, and list every difference.

    Differences: missing on one side, currency, net/tax/total amount, line count, a line's
    amount, an account's net posting. An attribute only one ERP holds is not compared; the
    report says which were. Exits 1 when there is a difference.
    """
    from handoffs.bootstrap import build
    from handoffs.config.systems import SystemsConfigError, load_systems
    from handoffs.connectors.secrets import SecretError
    from handoffs.reconcile.coexistence import compare_erps
    from handoffs.settings import Settings

    try:
        systems = load_systems(file)
    except (OSError, SystemsConfigError) as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    legacy = legacy or systems.routing.legacy
    new = new or systems.routing.new
    if not legacy or not new:
        raise typer.BadParameter(
            f"name both ERPs (--legacy and --new) or add migration: {{legacy: ..., new: ...}} to {file}",
            param_hint="--legacy/--new",
        )
    try:
        hub = build(Settings.from_env(database_url=database_url, erp="none"), systems=systems)
    except (SecretError, ValueError) as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    try:
        require_schema(hub)
        with hub.uow() as uow:
            report = compare_erps(uow.connection, hub.erps, legacy, new)
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        hub.close()
    data = report.as_dict()
    if as_json:
        print_json(data)
    else:
        _render(data)
    if report.differences:
        raise typer.Exit(1)


def _render(data: dict[str, object]) -> None:
    console.print(
        f"{data['legacy']} (legacy) against {data['new']} (new): {data['invoices']} invoices routed to both, "
        f"held {data['held']}; compared {', '.join(data['compared'])}"  # type: ignore[arg-type]
    )
    differences = data["differences"]
    if not differences:
        console.print("0 differences")
        return
    table = Table(title=f"{data['differences_total']} differences")
    for column in ("invoice", "kind", "item", str(data["legacy"]), str(data["new"])):
        table.add_column(column)
    for d in differences:  # type: ignore[attr-defined]
        table.add_row(d["invoice_id"], d["kind"], d["item"] or "", d["legacy"] or "-", d["new"] or "-")
    console.print(table)

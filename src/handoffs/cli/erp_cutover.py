"""``handoffs erp cutover``: end an ERP migration at a period boundary once the shadow comparison agrees."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from handoffs.cli.common import (
    ByOption,
    DbOption,
    JsonOption,
    audit,
    check_period,
    cli_actor,
    console,
    err_console,
    print_json,
    require_schema,
)


def cutover(
    old: Annotated[str, typer.Option("--from", help="The ERP being replaced (a system name in the file).")],
    new: Annotated[str, typer.Option("--to", help="The ERP replacing it.")],
    at: Annotated[
        str,
        typer.Option(
            "--at",
            help="The first period (YYYY-MM) the new ERP is the system of record.",
            callback=check_period,
        ),
    ],
    file: Annotated[
        Path, typer.Option("--file", "-f", help="The systems configuration (handoffs.yaml) naming both ERPs.")
    ] = Path("handoffs.yaml"),
    by: ByOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Switch postings from one ERP to another at a period boundary, once both agree.

    Refuses (exit 1) while the shadow comparison (``handoffs erp compare``) of what the hub
    routed to both ERPs has a difference, when invoices of a later period already went to
    the old ERP, or when it was cut over before. Otherwise records, in one transaction
    with its audit row: postings of periods before PERIOD stay as routed; those of PERIOD
    go to both (the new ERP is the system of record, the old one a shadow still compared);
    those after PERIOD go to the new ERP instead of the old one.
    """
    from handoffs.bootstrap import build
    from handoffs.config.systems import SystemsConfigError, load_systems
    from handoffs.connectors.secrets import SecretError
    from handoffs.domain.routing import Cutover
    from handoffs.reconcile.cutover import check_cutover
    from handoffs.settings import Settings
    from handoffs.store.repositories.cutovers import read_cutovers, record_cutover

    try:
        systems = load_systems(file)
        hub = build(Settings.from_env(database_url=database_url, erp="none"), systems=systems)
    except (OSError, SystemsConfigError, SecretError, ValueError) as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    try:
        require_schema(hub)
        with hub.uow() as uow:
            check = check_cutover(uow.connection, hub.erps, old, new, at)
        if check.ok:
            with hub.uow() as uow:  # the switch and its audit row: one transaction
                if any(c.old == old for c in read_cutovers(uow.connection)):
                    check.problems.append(f"{old} was cut over meanwhile")
                else:
                    record_cutover(uow.connection, Cutover(old, new, at), uow.now, cli_actor(by))
                    audit(uow, "cli.erp_cutover", f"erp:{old}", by=by, after={"to": new, "at": at})
                    uow.commit()
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/red]")
        raise typer.Exit(2) from None
    finally:
        hub.close()
    if as_json:
        print_json(check.as_dict())
    elif check.ok:
        console.print(
            f"Cut over from {old} to {new} at {at}: {new} is the system of record from {at}; "
            f"{old} still receives {at} as a shadow (run handoffs erp compare after it), nothing later."
        )
    else:
        err_console.print(f"[red]Not cut over[/red] from {old} to {new} at {at}:")
        for problem in check.problems:
            err_console.print(f"  - {problem}")
    if not check.ok:
        raise typer.Exit(1)

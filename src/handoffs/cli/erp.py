"""``handoffs erp``: in an ERP migration, send journals where routed, compare what each accepted, cut over."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from handoffs.cli.common import (
    ByOption,
    CliError,
    DbOption,
    JsonOption,
    audit,
    check_period,
    cli_actor,
    console,
    err_console,
    plain,
    print_json,
    require_schema,
)
from handoffs.cli.progress import progress as progress_display

if TYPE_CHECKING:
    from handoffs.bootstrap import App

app = typer.Typer(
    help="ERPs the hub posts to: send journal entries where routed, compare what each accepted, cut over.",
    no_args_is_help=True,
)

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
    """Read back every invoice and journal entry the hub routed to both ERPs, and list every difference.

    Differences: missing on one side, currency, net/tax/total amount, line count, a line's
    amount, an account's net posting. An attribute only one ERP holds is not compared; the
    report says which were. Exits 1 when there is a difference.
    """
    from handoffs.reconcile.coexistence import compare_erps
    from handoffs.store.repositories.cutovers import read_cutovers

    hub = _open(file, database_url)
    legacy = legacy or hub.systems.routing.legacy
    new = new or hub.systems.routing.new
    if not legacy or not new:
        hub.close()
        raise typer.BadParameter(
            f"name both ERPs (--legacy and --new) or add migration: {{legacy: ..., new: ...}} to {file}",
            param_hint="--legacy/--new",
        )
    try:
        require_schema(hub)
        with hub.uow() as uow:
            report = compare_erps(uow.connection, hub.erps, legacy, new)
            cut = [c for c in read_cutovers(uow.connection) if c.old == legacy]
    except ValueError as exc:
        raise CliError(str(exc)) from None
    finally:
        hub.close()
    data = report.as_dict()
    data["cutover"] = {"to": cut[0].new, "at": cut[0].at_period} if cut else None
    if as_json:
        print_json(data)
    else:
        _render(data)
    if report.differences:
        raise typer.Exit(1)


@app.command("post-journals")
def post_journals(
    period: Annotated[
        str, typer.Option(help="The period whose journal entries to send, YYYY-MM.", callback=check_period)
    ],
    file: FileOption = Path("handoffs.yaml"),
    by: ByOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Send the period's journal entries (revenue, expense claims) to the ERPs the file routes them to.

    Needs a route such as ``{object: journal, to: [legacy_gl, netsuite]}``; an invoice's
    journal travels as the invoice. Queues one delivery per ERP and entry (a repeat sends
    nothing twice), then works with the file's ERPs until nothing is left.
    """
    from sqlalchemy import func, select

    from handoffs.flows.journal_posting import request_journal_postings
    from handoffs.store.tables import deliveries

    hub = _open(file, database_url)
    try:
        require_schema(hub)
        with hub.uow() as uow:
            queued = request_journal_postings(uow, hub.ports, period)
            audit(uow, "cli.post_journals", f"period:{period}", by=by, after={"queued": queued})
            uow.commit()
        w = hub.worker()
        columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
        with progress_display(*columns, console=err_console, disable=as_json) as progress:
            task = progress.add_task(f"posting {queued:,} journal deliveries", total=None)

            def on_batch(_stats: object, outstanding: int) -> None:
                s = w.stats
                progress.update(task, description=f"posting: done {s.processed:,}, queued {outstanding:,}")

            stats = w.run(until_idle=True, on_batch=on_batch).as_dict()
        with hub.uow() as uow:
            rows = uow.connection.execute(
                select(deliveries.c.system, deliveries.c.status, func.count())
                .where(deliveries.c.operation == "post_journal")
                .group_by(deliveries.c.system, deliveries.c.status)
            ).all()
    finally:
        hub.close()
    by_system: dict[str, dict[str, int]] = {}
    for system, status, n in rows:
        by_system.setdefault(system, {})[status] = n
    data = {"period": period, "queued": queued, "journal_deliveries": by_system, "worker": stats}
    if as_json:
        print_json(data)
    else:
        console.print(
            f"{queued:,} journal deliveries queued for {period}; all journal deliveries: {plain(by_system)}"
        )
    if any(status != "confirmed" for counts in by_system.values() for status in counts):
        raise typer.Exit(1)


@app.command("cutover")
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
    file: FileOption = Path("handoffs.yaml"),
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
    from handoffs.domain.routing import Cutover
    from handoffs.reconcile.cutover import check_cutover
    from handoffs.store.repositories.cutovers import read_cutovers, record_cutover

    hub = _open(file, database_url)
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


def _open(file: Path, database_url: str | None) -> App:
    """The hub wired to ``file``'s ERPs (no HANDOFFS_ERP), or exit 2 saying what is wrong."""
    from handoffs.bootstrap import build
    from handoffs.config.systems import SystemsConfigError, load_systems
    from handoffs.connectors.secrets import SecretError
    from handoffs.settings import Settings

    try:
        return build(Settings.from_env(database_url=database_url, erp="none"), systems=load_systems(file))
    except (OSError, SystemsConfigError, SecretError, ValueError) as exc:
        raise CliError(str(exc)) from None


def _render(data: dict[str, object]) -> None:
    console.print(
        f"{data['legacy']} (legacy) against {data['new']} (new): {data['invoices']} invoices routed to both, "
        f"held {data['held']}; compared {', '.join(data['compared'])}"  # type: ignore[arg-type]
    )
    cut = data.get("cutover")
    if isinstance(cut, dict):
        console.print(
            f"Cut over to {cut['to']} at {cut['at']}: {cut['at']} still goes to both and is compared; "
            f"nothing later goes to {data['legacy']}."
        )
    differences = data["differences"]
    if not differences:
        console.print("0 differences")
        return
    table = Table(title=f"{data['differences_total']} differences")
    for column in ("invoice", "kind", "item", str(data["legacy"]), str(data["new"])):
        table.add_column(column)
    for d in differences:  # type: ignore[attr-defined]
        table.add_row(d["document_id"], d["kind"], d["item"] or "", d["legacy"] or "-", d["new"] or "-")
    console.print(table)

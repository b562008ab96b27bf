"""``handoffs policy check`` and ``handoffs policy whatif``: validate rule files, replay a period."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from handoffs.cli.common import (
    DbOption,
    JsonOption,
    console,
    err_console,
    open_app,
    print_json,
    require_schema,
)
from handoffs.policies import load_book, load_policy_text

app = typer.Typer(help="Versioned policy files: check them, and try a new version before it goes live.")

PoliciesOption = Annotated[
    Path | None,
    typer.Option(
        "--policies",
        envvar="HANDOFFS_POLICIES",
        help="Folder (or file) of the policies in force (default: none).",
        show_default=False,
    ),
]


@app.command("check")
def check(
    files: Annotated[
        list[Path] | None, typer.Argument(help="Policy files or folders (default: policies/).")
    ] = None,
) -> None:
    """Validate policy files; print each error as FILE:LINE: message and exit 1 if there is any."""
    paths = files or [Path("policies")]
    book, errors = load_book(paths)
    for error in sorted(errors, key=lambda e: (e.file, e.line)):
        typer.echo(str(error))
    if errors:
        err_console.print(f"[red]{len(errors)} error(s)[/red]")
        raise typer.Exit(1)
    for policy in sorted(book.policies, key=lambda p: (p.name, p.version)):
        console.print(
            f"ok {policy.ref} from {policy.effective_from.isoformat()} ({policy.source})", highlight=False
        )


@app.command("whatif")
def whatif(
    policy: Annotated[Path, typer.Option("--policy", help="The proposed policy version (one YAML file).")],
    period: Annotated[str, typer.Option(help="The period to replay, YYYY-MM.")],
    policies: PoliciesOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Replay a period under a proposed policy version and print what would change.

    Nothing is written: every approved record of the period is decided in memory, once under
    the policies in force (--policies) and once with the proposed version in force all period.
    """
    from handoffs.flows.readiness import parse_period
    from handoffs.flows.validation import replay_period

    try:
        parse_period(period)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None
    proposed, errors = load_policy_text(policy.read_text(encoding="utf-8"), str(policy))
    current, more = load_book([policies] if policies else [])
    for error in [*errors, *more]:
        typer.echo(str(error), err=True)
    if proposed is None or more:
        raise typer.Exit(1)
    hub = open_app(database_url, erp="none")
    require_schema(hub)
    try:
        with hub.uow() as uow:
            data = replay_period(uow, current, proposed, period).as_dict()
    finally:
        hub.close()
    if as_json:
        print_json(data)
        return
    _render(data)


def _render(data: dict[str, Any]) -> None:
    console.print(
        f"What if {data['proposed']} were in force for {data['period']} ({data['records']} records)"
    )
    table = Table(title="Invoices (time and materials, net)")
    for column in ("project", "currency", "before", "after", "difference"):
        table.add_column(column, justify="right" if column in ("before", "after", "difference") else "left")
    for row in data["invoices"]:
        table.add_row(
            row["project_id"], row["currency"] or "", row["before"], row["after"], row["difference"]
        )
    console.print(table)
    for label in ("invoiced_total", "revenue_total"):
        before, after = data[label]["before"], data[label]["after"]
        console.print(f"{label.replace('_', ' ')}: {before} -> {after}", highlight=False)
    rules = Table(title="Exceptions by rule")
    for column in ("rule", "before", "after"):
        rules.add_column(column)
    for rule, (before, after) in data["exceptions"].items():
        rules.add_row(rule, str(before), str(after))
    console.print(rules)
    console.print(f"{len(data['changes'])} records change decision", highlight=False)
    for change in data["changes"][:20]:
        console.print(f"  {change['record']}: {change['before']} -> {change['after']}", highlight=False)

"""``handoffs exceptions``: what needs a person, with the original payload."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from handoffs.cli.common import (
    ByOption,
    CliError,
    DbOption,
    JsonOption,
    NotFound,
    audit,
    cli_actor,
    console,
    err_console,
    money,
    opened,
    operator_name,
    plain,
    print_json,
)
from handoffs.cli.exceptions_bulk import (
    CategoryOpt,
    DryRunOpt,
    EntityOpt,
    FilterOptions,
    OlderOpt,
    ProjectOpt,
    SearchOpt,
    StateOpt,
    SystemOpt,
    YesOpt,
)
from handoffs.cli.exceptions_bulk import run as bulk_run
from handoffs.store.repositories.exceptions import ExceptionRecord

if TYPE_CHECKING:
    from handoffs.config.systems import SystemsConfig
    from handoffs.flows.replay_preview import ReplayPreview

app = typer.Typer(
    help="Work the exceptions queue: list by priority, show, assign, retry, replay, fix, ignore.",
    no_args_is_help=True,
)


@app.command("list")
def list_(
    database_url: DbOption = None,
    state: Annotated[
        str | None, typer.Option(help="open, in_progress, retrying, resolved or ignored.")
    ] = None,
    category: Annotated[str | None, typer.Option(help="Only this category, e.g. validation.")] = None,
    sort: Annotated[
        str,
        typer.Option(
            help="priority (most urgent first), money (most at risk first), days (closest cutoff "
            "first) or id (oldest first)."
        ),
    ] = "id",
    group_by: Annotated[
        str | None,
        typer.Option(
            "--group-by",
            help="Count and total the money at risk per project, invoice, customer or message.",
        ),
    ] = None,
    today: Annotated[
        str | None, typer.Option(help="Count days to close from this day, YYYY-MM-DD (default: today).")
    ] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Show at most this many.")] = None,
    as_json: JsonOption = False,
) -> None:
    """List exceptions with their business priority, money at risk and days to close."""
    from handoffs.flows.triage import GROUP_BY, SORTS, queue

    if sort not in SORTS:
        raise typer.BadParameter(f"must be one of {', '.join(SORTS)}", param_hint="--sort")
    if group_by is not None and group_by not in GROUP_BY:
        raise typer.BadParameter(f"must be one of {', '.join(GROUP_BY)}", param_hint="--group-by")
    day = _day(today)
    with opened(database_url) as hub, hub.uow() as uow:
        q = queue(uow, state=state, category=category, group_by=group_by, today=day, sort=sort, limit=limit)
    if as_json:
        print_json(q.as_dict() if group_by else [_as_dict(i.exception) | i.as_dict() for i in q.items])
        return
    if group_by:
        groups = Table(title=f"{len(q.groups)} group(s) by {group_by}")
        for col in (group_by, "count", "priority", "money at risk"):
            groups.add_column(col, overflow="fold")
        for g in q.groups:
            money_ = ", ".join(money(a, c) for c, a in sorted(g.money_at_risk.items())) or "-"
            groups.add_row(g.key, f"{g.count:,}", str(g.priority), money_)
        console.print(groups)
        return
    # Readable at 80 columns: the raw payload is in `exceptions show ID`; the state only when
    # the rows differ in it; the reason takes the width left and wraps.
    states = sorted({i.exception.state for i in q.items})
    one_state = f" ({states[0]})" if len(states) == 1 else ""
    title = f"{len(q.items):,} exception(s){one_state}: handoffs exceptions show ID for one in full"
    table = Table(title=title)
    table.add_column("id", justify="right", no_wrap=True, min_width=2)
    table.add_column("pri", justify="right", no_wrap=True, min_width=3)
    table.add_column("at risk", justify="right", no_wrap=True, min_width=12)
    table.add_column("close", justify="right", no_wrap=True, min_width=5)
    table.add_column("category", no_wrap=True, min_width=8, max_width=12, overflow="ellipsis")
    if not one_state:
        table.add_column("state", no_wrap=True, min_width=5, max_width=11, overflow="ellipsis")
    table.add_column("reason", min_width=20)
    for i in q.items:
        r = i.exception
        days = "-" if i.days_to_close is None else f"{i.days_to_close} d"
        cells = [str(r.id), str(i.priority), money(i.money_at_risk), days, r.category]
        table.add_row(*cells, *([] if one_state else [r.state]), r.reason)
    console.print(table)


def _day(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter("must be YYYY-MM-DD", param_hint="--today") from None


@app.command("show")
def show(
    exception_id: Annotated[int, typer.Argument(help="The exception's id.")],
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Show one exception in full, with its raw payload."""
    from handoffs.flows.triage import assess

    with opened(database_url) as hub, hub.uow() as uow:
        item = assess(uow, exception_id)
    if item is None:
        raise NotFound(f"No exception {exception_id}.")
    data = _as_dict(item.exception) | {
        k: v for k, v in item.as_dict().items() if k not in ("id", "category", "state", "owner", "reason")
    }
    if as_json:
        print_json(data)
        return
    if data.get("money_at_risk") is not None:
        data["money_at_risk"] = money(data["money_at_risk"], str(data.get("currency") or ""))
    for key, value in data.items():
        console.print(f"[bold]{key}[/bold]: {escape(plain(value))}", highlight=False)


def _as_dict(r: ExceptionRecord) -> dict[str, object]:
    return {**asdict(r), "runbook": r.runbook}


def _act(
    database_url: str | None,
    action: str,
    exception_id: int,
    reason: str,
    by: str | None,
    as_json: bool = False,
    systems: SystemsConfig | None = None,
) -> None:
    """Retry or ignore through the same commands the process API uses, audited the same way.

    A retry of a record a pull held maps it again from its stored payload through
    ``systems``' current mapping (stored: exit 0; held again: exit 1), as the console, the
    process API and bulk retries do; a dead letter's work is queued again.
    """
    from handoffs.api import commands
    from handoffs.api.context import Principal
    from handoffs.sync.remap import remapper

    by = operator_name(by)
    with opened(database_url) as hub:
        operator = Principal(
            client_id=f"cli:{by}", name=by, scopes=frozenset({"*"}), entities=None, key_id="cli"
        )
        try:
            with hub.uow() as uow:
                if action == "retry":
                    remap = remapper(hub, cli_actor(by), systems)
                    result = commands.retry_exception(uow, operator, exception_id, reason, remap)
                else:
                    result = commands.ignore_exception(uow, operator, exception_id, reason)
                for row in result.audit:  # audited as cli:<user>, not as an API client
                    action = row.action.replace("process.", "cli.")
                    audit(uow, action, row.target, by=by, before=row.before, after=row.after)
                uow.commit()
        except Exception as exc:  # the commands raise NotFound/Conflict with a message for a person
            if type(exc).__name__ not in ("NotFound", "Conflict"):
                raise
            raise CliError(str(exc)) from None
    remapped = result.body.get("remap")
    if remapped is not None:
        _said_remap(exception_id, remapped, as_json)
        return
    if as_json:
        print_json(result.body)
        return
    console.print(
        f"Exception {exception_id}: {result.body['state']}."
        + (" Its work is queued again; run the worker." if result.body.get("work_requeued") else "")
    )


def _said_remap(exception_id: int, outcome: dict[str, Any], as_json: bool) -> None:
    """A re-mapped held record: stored (exit 0), or held again with its new reason (exit 1)."""
    if as_json:
        print_json(outcome)
    elif outcome["outcome"] == "stored":
        console.print(f"Exception {exception_id} resolved: {outcome['reason']}.", markup=False)
    else:
        err_console.print(f"Exception {exception_id} is still held: {outcome['reason']}", markup=False)
    if outcome["outcome"] == "held":
        raise typer.Exit(1)


def _systems(path: Path | None) -> SystemsConfig | None:
    """The systems file named, else ./handoffs.yaml if it exists and loads (it is optional here)."""
    from handoffs.config.systems import SystemsConfigError, load_systems

    if path is None:
        try:
            return load_systems(Path("handoffs.yaml")) if Path("handoffs.yaml").is_file() else None
        except (OSError, SystemsConfigError):
            return None
    if not path.is_file():
        err_console.print(f"No systems file {path}.", markup=False, style="red")
        raise typer.Exit(2)
    try:
        return load_systems(path)
    except (OSError, SystemsConfigError) as exc:
        err_console.print(str(exc), markup=False, style="red")
        raise typer.Exit(2) from None


def _bulk_or_one(exception_id: int | None, options: FilterOptions, action: str) -> bool:
    """True for a bulk action (filter options, no id); a usage error for both or neither."""
    if exception_id is not None and options.given():
        raise typer.BadParameter("give an exception id or filter options, not both")
    if exception_id is None and not options.given():
        raise typer.BadParameter(
            f"give the id of the exception to {action}, or filter options (--system, --category, "
            "--state, --project, --entity, --older-than, --search) to act on many"
        )
    return exception_id is None


SystemsOpt = Annotated[
    Path | None,
    typer.Option(
        envvar="HANDOFFS_SYSTEMS",
        dir_okay=False,
        help="retry: the systems file whose current mappings re-map a held record (default: "
        "./handoffs.yaml when it exists).",
    ),
]
OptionalId = Annotated[
    int | None, typer.Argument(help="The exception's id; leave out and filter to act on many.")
]


def _one_or_many(action: str, doc: str, text: Any) -> None:
    """Register ``retry``, ``ignore`` or ``assign``: one exception by id, or every match of
    filter options. ``text`` is the command's ``--reason`` (or ``--owner``) option."""

    def command(
        text: str,
        exception_id: OptionalId = None,
        state: StateOpt = None,
        category: CategoryOpt = None,
        system: SystemOpt = None,
        project: ProjectOpt = None,
        entity: EntityOpt = None,
        older_than: OlderOpt = None,
        search: SearchOpt = None,
        dry_run: DryRunOpt = False,
        yes: YesOpt = False,
        by: ByOption = None,
        database_url: DbOption = None,
        systems: SystemsOpt = None,
        as_json: JsonOption = False,
    ) -> None:
        options = FilterOptions(state, category, system, project, entity, older_than, search)
        if _bulk_or_one(exception_id, options, action):
            said = {"owner": text} if action == "assign" else {"reason": text}
            loaded = _systems(systems) if action == "retry" else None
            bulk_run(
                database_url,
                action,
                options,
                by=by,
                dry_run=dry_run,
                yes=yes,
                as_json=as_json,
                systems=loaded,
                **said,
            )
            return
        assert exception_id is not None
        if action == "assign":
            _assign_one(database_url, exception_id, text, by)
        else:
            loaded = _systems(systems) if action == "retry" else None
            _act(database_url, action, exception_id, text, by, as_json, loaded)

    command.__doc__ = doc
    command.__annotations__["text"] = text  # --reason or --owner, resolved as it stands
    app.command(action)(command)


def _assign_one(database_url: str | None, exception_id: int, owner: str, by: str | None) -> None:
    from handoffs.console.actions import assign as assign_owner

    with opened(database_url) as hub:
        outcome = assign_owner(hub, operator_name(by), exception_id, owner, via="cli")
    if not outcome.ok:  # not found, or refused as given: nothing was done
        raise CliError(outcome.message)
    console.print(f"Exception {exception_id} is owned by {owner}.")


ReasonOption = Annotated[
    str, typer.Option("--reason", help="Why: kept with the exception and in the audit log.")
]
_one_or_many(
    "retry",
    "Retry: a record a pull could not map or validate is mapped again from its stored payload "
    "through its system's current mapping and reference data (stored: exit 0; held again: exit 1); "
    "a dead letter's work is put back in line and resolves itself when it succeeds.\n\n"
    "With filter options instead of an id, retries every match after showing the money preview "
    "of replaying them (e.g. --system harvest --older-than 7d).",
    ReasonOption,
)
_one_or_many(
    "ignore",
    "Close an exception without acting on it, with the reason on record.\n\n"
    "With filter options instead of an id, closes every match "
    "(e.g. --system harvest --category validation --older-than 7d).",
    ReasonOption,
)
_one_or_many(
    "assign",
    "Give an exception an owner (an open one moves to in_progress); with filter options, many.",
    Annotated[str, typer.Option("--owner", help="Who owns it from now on.")],
)


@app.command("replay")
def replay(
    exception_id: Annotated[int, typer.Argument(help="The exception's id.")],
    reason: Annotated[
        str | None, typer.Option(help="Why: kept with the exception and in the audit log (needed to replay).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only show the money impact; change nothing.")
    ] = False,
    yes: Annotated[bool, typer.Option("--yes", help="Replay without asking after the preview.")] = False,
    by: ByOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Run the exception's work again, after a preview of what it would invoice, price and post.

    The preview runs the replay's handlers in a transaction that is rolled back and calls no
    other system. Confirm to queue the replay (audited); the worker then runs it.
    """
    from handoffs.cli.common import open_app, require_schema
    from handoffs.engine.replay import replay_exception
    from handoffs.flows.triage import replay_preview

    if not dry_run and not reason:
        raise typer.BadParameter("say why (kept in the audit log), or use --dry-run", param_hint="--reason")
    hub = open_app(database_url)
    try:
        require_schema(hub)
        try:
            with hub.uow() as uow:
                preview = replay_preview(uow, exception_id, registry=hub.registry, ports=hub.ports)
        except (LookupError, ValueError) as exc:
            raise CliError(str(exc)) from None
        if as_json and dry_run:
            print_json(preview.as_dict())
            return
        if not as_json:
            print_preview(preview)
        if dry_run:
            return
        if not yes and not confirmed("Queue this replay?"):
            err_console.print("Nothing replayed.")
            raise typer.Exit(1)
        try:
            with hub.uow() as uow:
                result = replay_exception(
                    uow,
                    exception_id,
                    subscriptions=hub.registry.subscriptions,
                    reason=str(reason),
                    actor=cli_actor(by),
                )
                uow.commit()
        except (LookupError, ValueError) as exc:
            raise CliError(str(exc)) from None
    finally:
        hub.close()
    if as_json:
        print_json({"preview": preview.as_dict(), **result})
    else:
        console.print(f"Exception {exception_id} replayed: {result['queued']} run(s) queued. Run the worker.")


def confirmed(question: str) -> bool:
    try:
        return typer.confirm(question, default=False, err=True)
    except typer.Abort:  # no terminal to answer on (end of input): the answer is no
        return False


def print_preview(preview: ReplayPreview) -> None:
    data = preview.as_dict()
    what = "Replay" if data["exception_id"] is None else f"Replay of exception {data['exception_id']}"
    console.print(f"{what}: {data['runs']} message run(s).")
    for step in data["steps"]:
        console.print(f"  {step}")
    if data["failure"]:
        console.print(f"[red]It would fail again:[/red] {data['failure']}")
    table = Table(title="Invoices it would create or change")
    for col in ("invoice", "change", "project", "period", "total", "lines"):
        table.add_column(col, overflow="fold")
    for inv in data["invoices"]:
        lines = "; ".join(
            f"{x['id']} {x['kind']} {x['quantity']} x {x['unit_price']} = {x['amount']}" for x in inv["lines"]
        )
        table.add_row(
            inv["id"],
            inv["change"],
            inv["project_id"],
            inv["period"],
            f"{inv['total']} {inv['currency']}",
            lines,
        )
    console.print(table)
    priced = ", ".join(f"{a} {c}" for c, a in data["priced_value"].items()) or "0"
    console.print(
        f"Entries priced: {data['entries_priced']} ({priced}); billed: {data['entries_billed']}; "
        f"postings: {', '.join(data['postings']) or 'none'}."
    )


@app.command("fix")
def fix(
    exception_id: Annotated[int, typer.Argument(help="A validation exception from a load.")],
    raw: Annotated[str, typer.Option(help="The corrected record, one line of canonical JSON.")],
    by: ByOption = None,
    database_url: DbOption = None,
) -> None:
    """Edit and retry: load the corrected record in place of the one that failed."""
    from handoffs.console.actions import fix as fix_record

    with opened(database_url) as hub:
        outcome = fix_record(hub, operator_name(by), exception_id, raw, via="cli")
    if not outcome.ok:  # not found, or refused as given: nothing was done
        raise CliError(outcome.message)
    console.print(f"Exception {exception_id} resolved: the corrected record is loaded. Run the worker.")

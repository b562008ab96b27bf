"""``handoffs sync state list|show|reset``: where each incremental pull will start again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from handoffs.cli.common import (
    ByOption,
    DbOption,
    JsonOption,
    audit,
    console,
    err_console,
    opened,
    print_json,
)

__all__ = ["SystemsFile", "state_app"]

state_app = typer.Typer(help="The cursors of incremental pulls: list, show, reset.", no_args_is_help=True)

System = Annotated[str, typer.Argument(help="A system's name in handoffs.yaml.")]
SystemsFile = Annotated[
    Path,
    typer.Option(
        "--systems",
        "-f",
        envvar="HANDOFFS_SYSTEMS",
        dir_okay=False,
        help="The systems configuration (written by `handoffs init`).",
    ),
]


def _overlap(systems: Path, system: str) -> timedelta:
    from handoffs.config.systems import SystemsConfigError, load_systems
    from handoffs.sync.run import DEFAULT_OVERLAP

    try:
        cfg = load_systems(systems).systems.get(system)
    except (OSError, SystemsConfigError):
        return DEFAULT_OVERLAP
    return (cfg.overlap if cfg is not None else None) or DEFAULT_OVERLAP


def _row(r: Any, overlap: timedelta | None = None) -> dict[str, Any]:
    from handoffs.sync.pull import parse_version

    found: dict[str, Any] = {
        "system": r.connector,
        "resource": r.resource,
        "position": r.position,
        "pulls": r.pulls,
        "keys_in_overlap": r.seen,
        "updated_at": r.updated_at.isoformat() if r.updated_at else None,
    }
    if overlap is not None:
        start = parse_version(r.position)
        found["overlap_seconds"] = int(overlap.total_seconds())
        found["next_pull_from"] = (start - overlap).isoformat() if start else None
    return found


def _rows(database_url: str | None, system: str | None) -> list[Any]:
    from handoffs.store.repositories.cursors import CursorRepository

    with opened(database_url) as hub, hub.uow() as uow:
        return CursorRepository(uow.connection, uow.now).rows(system)


def _print(rows: list[dict[str, Any]], title: str) -> None:
    table = Table(title=title)
    columns = list(rows[0]) if rows else ["system", "resource", "position", "pulls"]
    for column in columns:
        table.add_column(column.replace("_", " "))
    for r in rows:
        table.add_row(*("-" if r[c] is None else str(r[c]) for c in columns))
    console.print(table)


@state_app.command("list")
def list_(database_url: DbOption = None, as_json: JsonOption = False) -> None:
    """Every pull cursor: system, resource, position, pulls so far, last change."""
    rows = [_row(r) for r in _rows(database_url, None)]
    if as_json:
        print_json(rows)
    else:
        _print(rows, "Pull cursors")


@state_app.command("show")
def show(
    system: System,
    systems: SystemsFile = Path("handoffs.yaml"),
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """One system's cursors, its overlap window and where its next pull starts."""
    found = _rows(database_url, system)
    if not found:
        err_console.print(f"[red]No pull cursor for {system!r}[/red] (it has not been pulled yet).")
        raise typer.Exit(2)
    overlap = _overlap(systems, system)
    rows = [_row(r, overlap) for r in found]
    if as_json:
        print_json(rows)
    else:
        _print(rows, f"Pull cursors of {system}")


def _moment(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise typer.BadParameter("must be an ISO 8601 date or time, e.g. 2026-01-31T00:00:00Z") from None
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).astimezone(UTC).isoformat()


@state_app.command("reset")
def reset(
    system: System,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", help="Start the next pull here (ISO 8601, UTC if no offset); default: from the start."
        ),
    ] = None,
    resource: Annotated[
        str | None, typer.Option("--resource", help="Only this resource (default: all of the system's).")
    ] = None,
    database_url: DbOption = None,
    by: ByOption = None,
    as_json: JsonOption = False,
) -> None:
    """Move a system's cursors so the next `handoffs sync` pulls again from a point (audited).

    Pulling again is safe: records the hub already has are stored again only if newer.
    """
    from handoffs.store.repositories.cursors import CursorRepository, StoredCursor

    position = _moment(to)
    with opened(database_url) as hub, hub.uow() as uow:
        repo = CursorRepository(uow.connection, uow.now)
        found = [r for r in repo.rows(system) if resource is None or r.resource == resource]
        if not found and resource is None:
            err_console.print(f"[red]No pull cursor for {system!r}[/red]: nothing to reset.")
            raise typer.Exit(2)
        names = [r.resource for r in found] or [str(resource)]
        before = {r.resource: r.position for r in found}
        for name in names:
            pulls = next((r.pulls for r in found if r.resource == name), 0)
            repo.save(system, name, StoredCursor(position, {}, pulls))
        after = dict.fromkeys(names, position)
        audit(uow, "cli.sync.state.reset", f"system:{system}", by=by, before=before, after=after)
        uow.commit()
    result = {"system": system, "resources": names, "before": before, "position": position}
    if as_json:
        print_json(result)
    else:
        where = position or "the start"
        console.print(f"{system}: {', '.join(names)} will be pulled from {where} on the next sync.")

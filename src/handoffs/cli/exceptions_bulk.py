"""Bulk ``handoffs exceptions retry|ignore|assign``: act on what a filter selects.

``handoffs exceptions ignore --system harvest --category validation --older-than 7d --reason ...``
selects with :mod:`handoffs.flows.triage_bulk` (as the console and the process API do), shows
how many exceptions match (and, for a retry, the money preview of replaying them), asks, and
runs the single action on each through :mod:`handoffs.api.bulk`, audited as ``cli:<user>``.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Annotated, Any

import typer

from handoffs.cli.common import console, err_console, opened, operator_name, print_json
from handoffs.flows.triage_bulk import BulkPreview, Filter, parse_age

__all__ = ["FilterOptions", "run"]


@dataclass(frozen=True, slots=True)
class FilterOptions:
    """The filter options as typed on the command line."""

    state: str | None = None
    category: str | None = None
    system: str | None = None
    project: str | None = None
    entity: str | None = None
    older_than: str | None = None
    search: str | None = None

    def given(self) -> bool:
        return any(getattr(self, f.name) for f in fields(self))

    def to_filter(self) -> Filter:
        try:
            age = parse_age(self.older_than) if self.older_than else None
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--older-than") from None
        return Filter(
            state=self.state or "",
            category=self.category or "",
            system=self.system or "",
            project=self.project or "",
            entity=self.entity or "",
            older_than=age,
            q=self.search or "",
        )


# Options each bulk command adds (the single-exception form takes an id instead).
SystemOpt = Annotated[str | None, typer.Option(help="Bulk: only exceptions from this system, e.g. harvest.")]
CategoryOpt = Annotated[str | None, typer.Option(help="Bulk: only this category, e.g. validation.")]
StateOpt = Annotated[str | None, typer.Option(help="Bulk: only this state (open, in_progress, retrying).")]
ProjectOpt = Annotated[str | None, typer.Option(help="Bulk: only exceptions holding up this project.")]
EntityOpt = Annotated[str | None, typer.Option(help="Bulk: only this legal entity, e.g. LE-US.")]
OlderOpt = Annotated[
    str | None, typer.Option("--older-than", help="Bulk: only exceptions older than this, e.g. 7d or 2w.")
]
SearchOpt = Annotated[
    str | None, typer.Option(help="Bulk: only exceptions with this text in reason, object id or payload.")
]
DryRunOpt = Annotated[bool, typer.Option("--dry-run", help="Bulk: show what would change; change nothing.")]
YesOpt = Annotated[bool, typer.Option("--yes", help="Bulk: act without asking after the summary.")]


def _money(amounts: dict[str, Any]) -> str:
    return ", ".join(f"{_sep(a)} {c}" for c, a in amounts.items()) or "0"


def _sep(amount: Any) -> str:
    """An exact decimal with thousands separators: 12345.50 -> 12,345.50."""
    text = str(amount)
    sign, text = ("-", text[1:]) if text.startswith("-") else ("", text)
    whole, _, frac = text.partition(".")
    return f"{sign}{int(whole):,}" + (f".{frac}" if frac else "")


def _print_preview(p: BulkPreview) -> None:
    shown = "" if p.previewed == p.selected else f" (the first {p.previewed} previewed)"
    console.print(f"Replaying their work{shown}: {p.replayable} exception(s) have work to run again.")
    console.print(
        f"  would invoice {_money(p.invoiced)} on {p.invoices} invoice(s); price {p.entries_priced} "
        f"entries ({_money(p.priced_value)}); bill {p.entries_billed}; postings: {len(p.postings)}."
    )
    for exception_id, why in list(p.failures.items())[:5]:
        console.print(f"  [red]#{exception_id} would fail again:[/red] {why}", markup=True)


def run(
    database_url: str | None,
    action: str,
    options: FilterOptions,
    *,
    reason: str = "",
    owner: str = "",
    by: str | None,
    dry_run: bool,
    yes: bool,
    as_json: bool,
    systems: Any = None,
) -> None:
    """Select, summarise, confirm, act; exit 1 when some exceptions were refused or nothing was done.

    A retry maps a pull's held record again from its stored payload through ``systems``'
    current mapping (``handoffs.yaml``), as the single retry does.
    """
    from handoffs.api import bulk
    from handoffs.api.context import Principal
    from handoffs.cli.exceptions import confirmed
    from handoffs.flows import triage_bulk
    from handoffs.sync.remap import remapper

    selection = options.to_filter()
    name = operator_name(by)
    with opened(database_url) as hub:
        with hub.uow() as uow:
            items = triage_bulk.select(uow, selection)
            preview = (
                triage_bulk.preview(uow, items, registry=hub.registry, ports=hub.ports)
                if action == "retry" and items
                else None
            )
        ids = [i.id for i in items]
        summary: dict[str, Any] = {"action": action, "selected": len(ids), "selected_ids": ids}
        if preview is not None:
            summary["preview"] = preview.as_dict()
        if not as_json:
            console.print(f"{len(ids)} exception(s) match {selection.as_dict()}.".replace("'", ""))
            if preview is not None:
                _print_preview(preview)
        if dry_run or not ids:
            if as_json:
                print_json(summary)
            return
        if not yes and not confirmed(f"{action.capitalize()} these {len(ids)} exception(s)?"):
            err_console.print("Nothing changed.")
            raise typer.Exit(1)
        principal = Principal(
            client_id=f"cli:{name}", name=name, scopes=frozenset({"*"}), entities=None, key_id="cli"
        )
        with hub.uow() as uow:
            try:
                result = bulk.apply(
                    uow,
                    principal,
                    action,
                    ids,
                    reason=reason,
                    owner=owner,
                    criteria=selection.as_dict(),
                    remap=remapper(hub, f"cli:{name}", systems),
                )
            except ValueError as exc:
                raise typer.BadParameter(str(exc)) from None
            bulk.record_audit(uow, result, f"cli:{name}", "cli")
            uow.commit()
    body = result.body
    if as_json:
        print_json(summary | body)
    else:
        console.print(f"{body['changed']} exception(s) changed, {body['refused']} refused.")
        for item in body["refused_items"][:10]:
            err_console.print(f"  #{item['id']}: {item['reason']}", markup=False)
        if action == "retry" and body["changed"]:
            console.print("Their work is queued again; run the worker.")
    if body["refused"]:
        raise typer.Exit(1)

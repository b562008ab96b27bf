"""``handoffs readiness --period YYYY-MM``: which projects can be billed, and what blocks the rest."""

from __future__ import annotations

from collections import Counter
from typing import Annotated

import typer
from rich.table import Table

from handoffs.cli.common import DbOption, JsonOption, console, open_app, print_json, require_schema
from handoffs.flows.readiness import parse_period, period_readiness
from handoffs.store.repositories.readiness import ReadinessReads


def readiness(
    period: Annotated[str, typer.Option(help="The billing period, YYYY-MM.")],
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Billing readiness per project: ready, invoiced, or blocked with every reason.

    Policies in force come from ``HANDOFFS_POLICIES`` (a folder or file).
    """
    try:
        parse_period(period)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--period") from None
    hub = open_app(database_url, erp="none")
    require_schema(hub)
    try:
        with hub.uow() as uow:
            results = period_readiness(uow, ReadinessReads(uow.connection), hub.ports, period)
    finally:
        hub.close()
    counts = Counter(r.status for r in results)
    reasons = Counter(reason.code for r in results for reason in r.reasons)
    if as_json:
        print_json(
            {
                "period": period,
                "counts": dict(sorted(counts.items())),
                "blocked_by_reason": dict(sorted(reasons.items())),
                "projects": [r.as_dict() for r in results],
            }
        )
        return
    table = Table(title=f"Billing readiness {period}")
    for column in ("project", "status", "approved h", "policy", "reasons"):
        table.add_column(column)
    for r in results:
        why = "\n".join(f"{x.code}: {x.detail}" for x in r.reasons)
        table.add_row(r.project_id, r.status, str(r.approved_hours), r.policy or "-", why)
    console.print(table)
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    console.print(
        f"{summary or 'no billable projects'}; blocked by "
        + (", ".join(f"{code} x{n}" for code, n in sorted(reasons.items())) or "nothing")
    )

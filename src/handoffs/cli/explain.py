"""``handoffs explain``: the lineage behind a number."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.tree import Tree

from handoffs.cli.common import (
    DbOption,
    JsonOption,
    NotFound,
    console,
    money,
    opened,
    plain,
    print_json,
)
from handoffs.flows.lineage import invoice_line_lineage

app = typer.Typer(help="Explain where a figure came from.", no_args_is_help=True)


@app.command("invoice-line")
def invoice_line(
    line_id: Annotated[str, typer.Argument(help="The invoice line's id, e.g. INV-P-001-2026-01-01-L0001.")],
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """What the line bills (with source ids and approvals), its rate, FX, tax, journal and deliveries."""
    with opened(database_url) as hub, hub.uow() as uow:
        data = invoice_line_lineage(uow, line_id)
    if data is None:
        raise NotFound(f"No invoice line {line_id}.")
    if as_json:
        print_json(data)
        return
    line, inv = data["line"], data["invoice"]
    tree = Tree(
        f"[bold]{line['id']}[/bold]: {line['quantity']} x {money(line['unit_price'])} = "
        f"{money(line['amount'])} + tax {money(line['tax'])}"
    )
    tree.add(
        f"invoice {inv['id']} ({inv['kind']}, {inv['status']}), period {inv['period']}, "
        f"project {inv['project_id']}, contract {inv['contract_id']}"
    )
    rate = data["rate_card_version"]
    if rate:
        tree.add(f"rate card v{rate['version']} effective {rate['effective_from']}: {plain(rate['rates'])}")
    fx = data["fx"]
    if fx and fx["cost"]:
        cost, conv = fx["cost"], fx["converted_cost"]
        via = f" at {fx['rate']} ({fx['rate_id']})" if fx["rate_id"] else ""
        tree.add(
            f"cost {cost['amount']} {cost['currency']}{via} = {conv['amount']} {conv['currency']}, "
            f"markup {fx['markup']}"
        )
    elif fx:
        tree.add(f"FX {fx['rate_id']} at {fx['rate']}")
    tax = data["tax_rule"]
    tree.add(f"tax {tax.get('id', '-')} at {tax['rate']}")
    tree.add(f"policy version: {data['policy_version'] or 'none applied (no policy files configured)'}")
    sources = tree.add(f"bills {len(data['sources'])} source record(s)")
    for s in data["sources"]:
        label = f"{s['type']} {s['id']}"
        if s["type"] == "time_entry" and s.get("approval"):
            a = s["approval"]
            label += (
                f": {s['hours']} h on {s['work_date']} by {s['resource_id']}, {a['status']} by "
                f"{a['approved_by']} at {a['approved_at']}; from {s['source_system']} v{s['source_version']}"
            )
            if s["system_ids"]:
                label += f"; ids {plain(s['system_ids'])}"
        elif s.get("amount"):
            a = s["approval"]
            label += (
                f": {s['amount']['amount']} {s['amount']['currency']} on {s['incurred_on']} by "
                f"{s['resource_id']}, {a['status']}{', with receipt' if a['has_receipt'] else ''}"
            )
        sources.add(label)
    journal = data["journal"]
    if journal:
        j = tree.add(f"journal {journal['id']} in {journal['period']}")
        for jl in journal["lines"]:
            j.add(f"{jl['account']}: debit {money(jl['debit'])} credit {money(jl['credit'])}")
    for d in data["deliveries"]:
        tree.add(
            f"delivery to {d['system']}: {d['status']} after {d['attempts']} attempt(s), "
            f"key {d['idempotency_key']}, ERP id {d['external_id']}"
        )
    console.print(tree)

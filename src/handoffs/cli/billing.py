"""``handoffs bill``, ``credit-note``, ``proposals``: the billing decisions a person makes."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from handoffs.cli.common import (
    ByOption,
    CliError,
    DbOption,
    JsonOption,
    audit,
    check_period,
    console,
    opened,
    operator_name,
    print_json,
)
from handoffs.domain.errors import ValidationError
from handoffs.flows.operations import decide_proposal, issue_credit_note, request_billing

proposals_app = typer.Typer(
    help="Write-downs and credit-and-rebills waiting for a decision.", no_args_is_help=True
)


def bill(
    period: Annotated[str, typer.Option(help="The billing period to close, YYYY-MM.", callback=check_period)],
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    issue_date: Annotated[
        str | None, typer.Option(help="Invoice date YYYY-MM-DD (default: the period's last day).")
    ] = None,
    by: ByOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue billing runs for a period: fixed-fee installments due, accepted milestones, T&M time.

    Each run recognises revenue, invoices what is due and journals both; run the worker after.
    """
    with opened(database_url) as hub:
        try:
            with hub.uow() as uow:
                day = date.fromisoformat(issue_date) if issue_date else None
                queued = request_billing(uow, hub.ports, period, project, day)
                after = {"project": project, "issue_date": issue_date, "queued": queued}
                audit(uow, "cli.bill", f"period:{period}", by=by, after=after)
                uow.commit()
        except ValidationError as exc:
            raise CliError(str(exc)) from None
    if as_json:
        print_json({"period": period, "projects": queued})
    else:
        console.print(
            f"Queued billing runs for {len(queued)} project(s) in {period}. Run: handoffs worker --until-idle"
        )


def credit_note_(
    invoice_id: Annotated[str, typer.Argument(help="The invoice to credit in full.")],
    reason: Annotated[str, typer.Option(help="Why: recorded on the credit note and its journal.")],
    issue_date: Annotated[str | None, typer.Option(help="YYYY-MM-DD (default: today).")] = None,
    by: ByOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Credit an invoice. What it billed is released and billed again by the next billing run."""
    with opened(database_url) as hub:
        day = date.fromisoformat(issue_date) if issue_date else hub.ports.clock.now().date()
        try:
            with hub.uow() as uow:
                note = issue_credit_note(uow, hub.ports, invoice_id, reason, day)
                after = {"credit_note": note.id, "reason": reason, "total": str(note.total.amount)}
                audit(uow, "cli.credit_note", f"invoice:{invoice_id}", by=by, after=after)
                uow.commit()
        except ValidationError as exc:
            raise CliError(str(exc)) from None
    if as_json:
        print_json({"credit_note": note.id, "total": str(note.total.amount), "currency": note.currency})
    else:
        console.print(f"Issued {note.id} for {note.total}. It is delivered by the worker.")


@proposals_app.command("list")
def list_proposals(
    state: Annotated[str | None, typer.Option(help="open, approved or rejected.")] = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List proposals with their money impact."""
    with opened(database_url) as hub, hub.uow() as uow:
        found = uow.finance.proposals(state=state)
    rows = [
        {
            "id": p.id,
            "kind": p.kind,
            "state": p.state,
            "contract_id": p.contract_id,
            "project_id": p.project_id,
            "period": p.period,
            "amount": str(p.amount),
            "currency": p.currency,
            "reason": p.reason,
            "detail": p.doc,
        }
        for p in found
    ]
    if as_json:
        print_json(rows)
        return
    table = Table(title=f"{len(rows)} proposal(s)")
    for col in ("id", "kind", "state", "project_id", "period", "amount"):
        table.add_column(col)
    for r in rows:
        cells = [str(r[k]) for k in ("id", "kind", "state", "project_id", "period")]
        table.add_row(*cells, f"{r['amount']} {r['currency']}")
    console.print(table)


def _decide(proposal_id: str, approve: bool, reason: str, by: str | None, database_url: str | None) -> None:
    state = "approved" if approve else "rejected"
    with opened(database_url) as hub:
        try:
            with hub.uow() as uow:
                who = operator_name(by)
                decide_proposal(uow, hub.ports, proposal_id, approve=approve, by=who, reason=reason)
                after = {"state": state, "reason": reason}
                action = f"cli.{'approve' if approve else 'reject'}_proposal"
                audit(uow, action, f"proposal:{proposal_id}", by=who, before={"state": "open"}, after=after)
                uow.commit()
        except ValidationError as exc:
            raise CliError(str(exc)) from None
    console.print(f"{proposal_id}: {state}.")


@proposals_app.command("approve")
def approve(
    proposal_id: Annotated[str, typer.Argument(help="The proposal's id.")],
    reason: Annotated[str, typer.Option(help="Why it is approved (kept with the decision).")],
    by: ByOption = None,
    database_url: DbOption = None,
) -> None:
    """Approve: a write-down writes the hours off; a credit-and-rebill issues both documents."""
    _decide(proposal_id, True, reason, by, database_url)


@proposals_app.command("reject")
def reject(
    proposal_id: Annotated[str, typer.Argument(help="The proposal's id.")],
    reason: Annotated[str, typer.Option(help="Why it is rejected.")],
    by: ByOption = None,
    database_url: DbOption = None,
) -> None:
    """Reject a credit-and-rebill proposal; the invoice stands as issued."""
    _decide(proposal_id, False, reason, by, database_url)

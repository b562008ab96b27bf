"""``handoffs bill``, ``credit-note``, ``proposals``: the billing decisions a person makes."""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
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
from handoffs.cli.dates import AsOfOption, as_of_date
from handoffs.domain.errors import ValidationError
from handoffs.flows.crediting import issue_credit_note
from handoffs.flows.operations import decide_proposal, request_billing
from handoffs.flows.ports import business_today

proposals_app = typer.Typer(
    help="Write-downs and credit-and-rebills waiting for a decision.", no_args_is_help=True
)


def bill(
    period: Annotated[str, typer.Option(help="The billing period to close, YYYY-MM.", callback=check_period)],
    project: Annotated[str | None, typer.Option(help="Only this project.")] = None,
    issue_date: Annotated[
        str | None,
        typer.Option(help="Invoice date YYYY-MM-DD (default: the --as-of date, else the period's last day)."),
    ] = None,
    as_of: AsOfOption = None,
    by: ByOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Queue billing runs for a period: fixed-fee installments due, accepted milestones, T&M time.

    Each run recognises revenue, invoices what is due and journals both; run the worker after.
    """
    with opened(database_url, as_of=as_of_date(as_of)) as hub:
        try:
            with hub.uow() as uow:
                day = date.fromisoformat(issue_date) if issue_date else hub.ports.business_date
                issue_date = day.isoformat() if day else None
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
    invoice_id: Annotated[str, typer.Argument(help="The invoice to credit (in full by default).")],
    reason: Annotated[str, typer.Option(help="Why: recorded on the credit note and its journal.")],
    issue_date: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD (default: the --as-of date, else today).")
    ] = None,
    as_of: AsOfOption = None,
    entry: Annotated[
        list[str] | None,
        typer.Option(help="Credit only this time entry or expense (repeat for more); the rest stays billed."),
    ] = None,
    line: Annotated[
        str | None, typer.Option(help="Credit only this invoice line (what is left of it).")
    ] = None,
    amount: Annotated[
        str | None, typer.Option(help="Credit this amount of --line (a price concession); releases nothing.")
    ] = None,
    by: ByOption = None,
    database_url: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Credit an invoice, a line, some entries or an amount. What it releases is billed again by
    the next billing run; open credit-and-rebill proposals on the invoice are withdrawn."""
    try:
        money = Decimal(amount) if amount is not None else None
    except InvalidOperation:
        raise CliError(f"--amount {amount!r} is not a decimal amount") from None
    with opened(database_url, as_of=as_of_date(as_of)) as hub:
        day = date.fromisoformat(issue_date) if issue_date else business_today(hub.ports)
        try:
            with hub.uow() as uow:
                note = issue_credit_note(
                    uow, hub.ports, invoice_id, reason, day, entries=entry or None, line=line, amount=money
                )
                after = {
                    "credit_note": note.id,
                    "reason": reason,
                    "total": str(note.total.amount),
                    "entries": entry or None,
                    "line": line,
                    "amount": amount,
                }
                audit(uow, "cli.credit_note", f"invoice:{invoice_id}", by=by, after=after)
                uow.commit()
        except ValidationError as exc:
            raise CliError(str(exc)) from None
    if as_json:
        print_json({"credit_note": note.id, "total": str(note.total.amount), "currency": note.currency})
    else:
        console.print(
            f"Issued {note.id} for {note.total.amount:,.2f} {note.currency}. It is delivered by the worker."
        )


@proposals_app.command("list")
def list_proposals(
    state: Annotated[str | None, typer.Option(help="open, approved, rejected or withdrawn.")] = None,
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


def _decide(
    proposal_id: str,
    approve: bool,
    reason: str,
    by: str | None,
    database_url: str | None,
    as_of: str | None = None,
) -> None:
    state = "approved" if approve else "rejected"
    with opened(database_url, as_of=as_of_date(as_of)) as hub:
        try:
            with hub.uow() as uow:
                who = operator_name(by)
                day = hub.ports.business_date
                decide_proposal(
                    uow, hub.ports, proposal_id, approve=approve, by=who, reason=reason, issue_date=day
                )
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
    as_of: AsOfOption = None,
    by: ByOption = None,
    database_url: DbOption = None,
) -> None:
    """Approve: a write-down writes the hours off; a credit-and-rebill issues both documents.

    With ``--as-of`` (or HANDOFFS_AS_OF) the documents are dated that business date, not the
    date the proposal was made.
    """
    _decide(proposal_id, True, reason, by, database_url, as_of)


@proposals_app.command("reject")
def reject(
    proposal_id: Annotated[str, typer.Argument(help="The proposal's id.")],
    reason: Annotated[str, typer.Option(help="Why it is rejected.")],
    by: ByOption = None,
    database_url: DbOption = None,
) -> None:
    """Reject a credit-and-rebill proposal; the invoice stands as issued."""
    _decide(proposal_id, False, reason, by, database_url)

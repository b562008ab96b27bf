"""Time and expense validation before finance, under the policy version in force.

    TimeEntryApproved --price step calls screen_time--> accept: priced as before
                                                     -> not_billable: kept out of billing
                                                     -> reject: exception naming the rule
    expense records --ingest screen (screen_expenses)--> stored, or an exception (not stored)
    BilledTimeChanged (status -> rejected) --reverse--> credit note for the invoice that
                                                     billed it; the rest is billed again

Each decision is written once per record version with the policy name and version it was
made under; a later policy version never changes it (a replay reads it back).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson

from handoffs.domain.billing import SourceRef
from handoffs.domain.codec import decode
from handoffs.domain.messages import BilledTimeChanged, GenerateInvoice
from handoffs.domain.work import Expense, Project, TimeEntry
from handoffs.engine.registry import Handler
from handoffs.flows.billing_run import BillingContext
from handoffs.flows.crediting import issue_credit_note
from handoffs.flows.ingest import correlation_for_project
from handoffs.flows.ingest_reports import fingerprint
from handoffs.flows.ports import Ports
from handoffs.policies import (
    Decision,
    ExpenseFacts,
    TimeFacts,
    evaluate_expense,
    evaluate_time,
    facts_context,
)
from handoffs.policies.model import Policy, PolicyBook
from handoffs.policies.whatif import WhatIf, what_if

__all__ = [
    "decide_time",
    "handlers",
    "policy_for",
    "replay_period",
    "screen_expenses",
    "screen_time",
    "time_facts",
]

_STATE = {"not_billable": "not_billable", "reject": "rejected"}


class _Objects:
    """Canonical objects from the store, overlaid by the batch being ingested."""

    def __init__(self, uow: Any, batch: Iterable[Any] = ()) -> None:
        self._uow = uow
        self._batch: dict[tuple[str, str], Any] = {(r.type, r.obj.id): r.obj for r in batch}

    def get(self, type_: str, id_: str | None) -> Any:
        if id_ is None:
            return None
        return self._batch.get((type_, id_)) or self._uow.objects.get(type_, id_)

    def all(self, type_: str) -> list[Any]:
        found = {o.id: o for o in self._uow.objects.all(type_)}
        found.update({i: o for (t, i), o in self._batch.items() if t == type_})
        return list(found.values())


def _context(objects: _Objects, project: Project, resource_id: str, day: Any) -> Any:
    contract = objects.get("contract", project.contract_id)
    return facts_context(
        project=project,
        resource_id=resource_id,
        day=day,
        assignments=tuple(
            a
            for a in objects.all("assignment")
            if a.project_id == project.id and a.resource_id == resource_id
        ),
        resource=objects.get("resource", resource_id),
        entity=objects.get("legal_entity", project.legal_entity_id),
        contract=contract,
        customer=objects.get("customer", contract.customer_id if contract else project.customer_id),
        tax_codes={t.id: t for t in objects.all("tax_code")},
        gl_accounts=tuple(objects.all("gl_account")),
    )


def policy_for(book: Any, objects: Any, project: Project, day: Any) -> Policy | None:
    entity = objects.get("legal_entity", project.legal_entity_id)
    return book.select(project.legal_entity_id, entity.country if entity else None, day)  # type: ignore[no-any-return]


def time_facts(uow: Any, entry: TimeEntry, project: Project) -> TimeFacts:
    return TimeFacts(entry, _context(_Objects(uow), project, entry.resource_id, entry.work_date))


def _record(
    uow: Any,
    ports: Ports,
    kind: str,
    id_: str,
    version: str,
    project: Project,
    period: str,
    decision: Decision,
) -> Decision:
    """Write the decision once; when this record version already has one, that one stands."""
    if ports.decisions is None:
        return decision
    stored = ports.decisions(uow).record(
        record_type=kind,
        record_id=id_,
        record_version=version,
        project_id=project.id,
        period=period,
        policy=decision.policy,
        policy_version=decision.version,
        outcome=decision.outcome,
        rule=decision.rule,
        reason=decision.reason,
    )
    return Decision(stored.outcome, stored.rule, stored.reason, stored.policy, stored.policy_version)


def decide_time(uow: Any, ports: Ports, entry: TimeEntry, version: int, project: Project) -> Decision:
    """The decision for this entry version: the stored one, or a new one under today's policy."""
    if ports.decisions is not None:
        found = ports.decisions(uow).get("time_entry", entry.id, str(version))
        if found is not None:
            return Decision(found.outcome, found.rule, found.reason, found.policy, found.policy_version)
    policy = policy_for(ports.policies, uow.objects, project, entry.work_date)
    decision = evaluate_time(policy, time_facts(uow, entry, project))
    return _record(uow, ports, "time_entry", entry.id, str(version), project, entry.period, decision)


def screen_time(entry: TimeEntry, version: int, project: Project, uow: Any, ports: Ports) -> str | None:
    """Called by the price step: None to price, else the billing state the entry takes instead."""
    if ports.policies is None:
        return None
    decision = decide_time(uow, ports, entry, version, project)
    if decision.outcome == "reject":
        raw = orjson.dumps({"id": entry.id})
        _raise(uow, "time_entry", entry.id, str(version), project, decision, raw, period=entry.period)
    else:  # this version passes: exceptions raised for an earlier one are settled
        uow.exceptions.supersede("time_entry", entry.id, str(version))
    return _STATE.get(decision.outcome)


def _raise(
    uow: Any,
    kind: str,
    id_: str,
    version: str,
    project: Project,
    decision: Decision,
    raw: bytes,
    where: Any = None,
    *,
    period: str,
) -> None:
    label = kind.replace("_", " ")
    uow.exceptions.add(
        category="validation",
        source=f"policy:{decision.policy_ref}",
        reason=f"{label} {id_} broke rule {decision.rule} ({decision.policy_ref}): {decision.reason}",
        raw=raw.decode(),
        detail={
            "rule": decision.rule,
            "policy": decision.policy,
            "policy_version": decision.version,
            "record_version": version,
            "project_id": project.id,
            "period": period,
            **({"record": where} if where else {}),
        },
        object_type=kind,
        object_id=id_,
        correlation_id=correlation_for_project(project.id),
        fingerprint=f"policy:{kind}:{id_}:{version}",
    )


def _judged_version(record: Any, raw: str) -> str:
    """The version a decision is kept for: the hub versions an API client's record by its content."""
    if record.source_version is not None or not record.hub_versioned:
        return record.source_version or "0"
    return "hub:" + fingerprint(raw)


def screen_expenses(uow: Any, items: list[Any], ports: Ports, source: str) -> list[Any]:
    """An ingest screen: approved expenses that break a rule become exceptions and are not stored."""
    if ports.policies is None:
        return items
    objects = _Objects(uow, (r for _, _, r in items if r.type != "expense"))
    kept = []
    for where, raw, record in items:
        expense: Expense = record.obj
        project = objects.get("project", expense.project_id) if record.type == "expense" else None
        if project is None or expense.status != "approved":
            kept.append((where, raw, record))
            continue
        version = _judged_version(record, raw)
        ctx = _context(objects, project, expense.resource_id, expense.incurred_on)
        policy = policy_for(ports.policies, objects, project, expense.incurred_on)
        decision = evaluate_expense(policy, ExpenseFacts(expense, ctx))
        period = f"{expense.incurred_on:%Y-%m}"
        decision = _record(uow, ports, "expense", expense.id, version, project, period, decision)
        if decision.outcome == "reject":
            _raise(uow, "expense", expense.id, version, project, decision, raw.encode(), where, period=period)
        else:
            uow.exceptions.supersede("expense", expense.id, version)
            kept.append((where, raw, record))
    return kept


def reverse_rejected_time(events: list[BilledTimeChanged], uow: Any, ports: Ports) -> None:
    """Billed time whose approval is withdrawn: credit the invoice that billed it, bill the rest again."""
    for event in events:
        after = decode(TimeEntry, orjson.loads(event.entry))
        stored = uow.time_entries.get(event.entry_id)
        project = uow.objects.get("project", after.project_id)
        if (
            after.status != "rejected"
            or stored is None
            or stored.billing_state != "billed"
            or project is None
        ):
            continue
        policy = policy_for(ports.policies, uow.objects, project, after.work_date) if ports.policies else None
        if policy is None or not policy.checks.reverse_withdrawn_approvals:
            continue  # no policy asks for it: the billing flow's proposal waits for a person
        ctx = BillingContext(uow, project, uow.objects.get("contract", project.contract_id))
        line_id = ctx.ledger().line_billing(SourceRef(type="time_entry", id=after.id))
        invoice_id = uow.invoices.invoice_of_line(line_id) if line_id else None
        if invoice_id is None:
            continue
        reason = f"approval of time entry {after.id} was withdrawn after invoicing"
        today = ports.clock.now().date()
        issue_credit_note(uow, ports, invoice_id, reason, today)
        uow.time_entries.apply_held_change(after)
        uow.time_entries.set_state([after.id], "rejected")
        for proposal in uow.finance.proposals(state="open"):
            if proposal.id.startswith(f"ADJ-{after.id}-"):
                uow.finance.decide(proposal.id, "rejected", "handoffs", f"superseded: {reason}")
        uow.publish(
            GenerateInvoice(
                message_id=ports.ids.derive("rebill-after-rejection", event.message_id),
                occurred_at=ports.clock.now(),
                correlation_id=correlation_for_project(project.id),
                project_id=project.id,
                period=after.period,
                issue_date=today,
            )
        )


def handlers() -> list[Handler]:
    return [Handler("validation.reverse-rejected-time", BilledTimeChanged, handle=reverse_rejected_time)]


def _select(book: PolicyBook, ctx: Any) -> Policy | None:
    return book.select(ctx.project.legal_entity_id, ctx.entity.country if ctx.entity else None, ctx.day)


def replay_period(uow: Any, current: PolicyBook, proposed: Policy, period: str) -> WhatIf:
    """Decide the period's approved time and expenses under ``current`` and with ``proposed``.

    Reads only: nothing is stored, published or raised (see :func:`handoffs.policies.whatif.what_if`).
    """
    objects = _Objects(uow)
    time: list[TimeFacts] = []
    expenses: list[ExpenseFacts] = []
    for project in uow.objects.all("project"):
        for entry in uow.time_entries.approved_for_project(project.id):
            if entry.period == period:
                time.append(TimeFacts(entry, _context(objects, project, entry.resource_id, entry.work_date)))
    for item in uow.objects.all("expense"):
        project = objects.get("project", item.project_id)
        if project is not None and item.status == "approved" and f"{item.incurred_on:%Y-%m}" == period:
            expenses.append(
                ExpenseFacts(item, _context(objects, project, item.resource_id, item.incurred_on))
            )
    return what_if(period, current, proposed, time, expenses, _select)

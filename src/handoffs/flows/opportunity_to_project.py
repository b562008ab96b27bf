"""Opportunity to project: a won deal becomes a customer, a contract, a project shell and its
billing structure, and the contract's metadata goes to the ERP.

    won opportunity (IsWon) --win_opportunity--> OpportunityWon
    OpportunityWon --open_project--> customer matched (id, else name in the legal entity) or created
                                     contract (rate card, installments, milestones) + project shell
                                     --> ProjectApproved, SyncContract per ERP
                                     (a deal naming a contract the hub already holds, with its
                                     project: matched and linked, nothing rewritten)
    OpportunityWon again, after handoff --> the contract's new version --> ContractAmended
                                     (the terms over the stored contract; changed rates are a new
                                     rate-card version from their date; repriced by the
                                     contract-amendment flow), never a second project
    SyncContract --push_contract (ERP port, idempotency key)--> delivery confirmed, xref linked
                 (to each ERP routed for contracts whose connector takes them: NetSuite, Odoo)

The stage label is never read: only ``IsWon``. Every object the flow writes is the hub's own
write (source system ``handoffs``), so the owner sending it back changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any

import orjson

from handoffs.domain.catalog import CanonicalRecord
from handoffs.domain.codec import decode, encode
from handoffs.domain.contracts import Contract
from handoffs.domain.errors import DomainError
from handoffs.domain.messages import ContractAmended, OpportunityWon, ProjectApproved, SyncContract
from handoffs.domain.parties import Customer
from handoffs.domain.work import Project
from handoffs.engine.errors import TerminalError
from handoffs.engine.registry import Handler
from handoffs.flows.ingest import correlation_for_project
from handoffs.flows.ports import ExternalRef, Ports, UnitOfWork, erp_targets

__all__ = ["amend_terms", "handlers", "open_project", "win_opportunity"]

HUB = "handoffs"


def win_opportunity(
    uow: Any, ports: Ports, deal: Mapping[str, Any], system: str, terms: Mapping[str, Any]
) -> bool:
    """Publish ``OpportunityWon`` for a CRM opportunity whose ``IsWon`` is true; False otherwise."""
    if deal.get("IsWon") is not True:
        return False
    body = orjson.dumps(terms, option=orjson.OPT_SORT_KEYS).decode()
    uow.publish(
        OpportunityWon(
            message_id=ports.ids.derive("opportunity-won", system, str(deal["Id"]), body),
            occurred_at=ports.clock.now(),
            correlation_id=correlation_for_project(_flow_project(uow, system, str(deal["Id"]), terms)),
            opportunity_id=str(deal["Id"]),
            system=system,
            terms=body,
        )
    )
    return True


def _flow_project(uow: Any, system: str, opp: str, terms: Mapping[str, Any]) -> str:
    """The project a deal is (or becomes): the deal's flow is that project's flow, one trace from
    the won opportunity to the posted invoice (tracing derives the trace id from the correlation)."""
    handed_over = uow.xrefs.canonical_id(system, "project", opp)
    if handed_over is not None:
        return str(handed_over)
    contract_id = (terms.get("contract") or {}).get("id")
    if contract_id:
        for project in uow.objects.all("project"):
            if project.contract_id == str(contract_id):
                return str(project.id)
    return f"P-{opp}"


def _customer(uow: Any, data: dict[str, Any]) -> tuple[Customer, bool]:
    """Match by id, else by name within the legal entity; otherwise a new customer."""
    found = uow.objects.get("customer", data.get("id", ""))
    if found is not None:
        return found, False
    name = str(data.get("name", "")).casefold().strip()
    for customer in uow.objects.all("customer"):
        if customer.name.casefold().strip() == name and customer.legal_entity_id == data.get(
            "legal_entity_id"
        ):
            return customer, False
    return decode(Customer, data), True


def _write(uow: Any, type_: str, obj: Any, version: str) -> Any:
    [result] = uow.objects.upsert([CanonicalRecord(type_, obj, HUB, version)])
    return result


def open_project(events: list[OpportunityWon], uow: Any, ports: Ports) -> None:
    """Hand a won deal over to delivery, once; a later change to the deal amends its contract."""
    for event in events:
        terms = orjson.loads(event.terms)
        opp = event.opportunity_id
        handed_over = uow.xrefs.canonical_id(event.system, "project", opp)
        if handed_over is None and _match(uow, ports, event, terms):
            continue
        customer, new, contract, project = _parse(uow, opp, terms)
        stamp = event.occurred_at.isoformat()
        if new:
            _write(uow, "customer", customer, stamp)
        written = _write(uow, "contract", contract, stamp)
        if handed_over is not None:
            if written.outcome == "updated":
                uow.publish(_amended(event, contract.id, written.version, ports))
                _sync(uow, ports, event, contract.id, handed_over, contract.legal_entity_id)
            continue
        _write(uow, "project", project, stamp)
        _approve(uow, ports, event, contract, project)


def _parse(uow: Any, opp: str, terms: dict[str, Any]) -> tuple[Customer, bool, Contract, Project]:
    """The customer (matched or new), the contract (over the stored one, if any) and the project."""
    try:
        customer, new = _customer(uow, {"id": f"C-{opp}", **terms["customer"]})
        data = {"id": f"K-{opp}", **terms["contract"], "customer_id": customer.id}
        stored = uow.objects.get("contract", data["id"])
        contract = decode(Contract, amend_terms(encode(stored), data) if stored is not None else data)
        project = decode(
            Project,
            {
                "id": f"P-{opp}",
                "legal_entity_id": contract.legal_entity_id,
                "start_date": contract.start_date.isoformat(),
                **terms.get("project", {}),
                "customer_id": customer.id,
                "contract_id": contract.id,
            },
        )
    except (DomainError, KeyError, TypeError, ArithmeticError) as exc:
        raise TerminalError(
            f"opportunity {opp}: the won deal's terms are not usable: {exc}", category="validation"
        ) from exc
    return customer, new, contract, project


def _match(uow: Any, ports: Ports, event: OpportunityWon, terms: dict[str, Any]) -> bool:
    """A deal whose contract the hub already holds (its contract register) is matched, not rewritten."""
    contract_id = (terms.get("contract") or {}).get("id")
    contract = uow.objects.get("contract", str(contract_id)) if contract_id else None
    if contract is None:
        return False
    project = next((p for p in uow.objects.all("project") if p.contract_id == contract.id), None)
    if project is None:
        return False  # a registered contract without its project: the shell is made as for a new deal
    _approve(uow, ports, event, contract, project)
    return True


def _approve(uow: Any, ports: Ports, event: OpportunityWon, contract: Contract, project: Project) -> None:
    for type_, id_ in (("contract", contract.id), ("project", project.id)):
        uow.xrefs.link(type_, id_, event.system, event.opportunity_id)
    uow.publish(
        ProjectApproved(
            message_id=ports.ids.derive("project-approved", project.id),
            occurred_at=ports.clock.now(),
            correlation_id=correlation_for_project(project.id),
            project_id=project.id,
            contract_id=contract.id,
            customer_id=contract.customer_id,
            opportunity_id=event.opportunity_id,
        )
    )
    _sync(uow, ports, event, contract.id, project.id, contract.legal_entity_id)


def amend_terms(stored: dict[str, Any], terms: dict[str, Any]) -> dict[str, Any]:
    """The stored contract (canonical JSON) with the deal's terms over it.

    Fields the terms name replace the stored ones; what they leave out (installments,
    milestones, the fee, the tax code...) is kept. Rates are never rewritten in the past: a
    rate-card version of the terms whose rates differ from the version in force on its date
    becomes the next version from that date (its rates over the ones in force).
    """
    merged = {**stored, **{k: v for k, v in terms.items() if k != "rate_card"}}
    card = [dict(v) for v in stored.get("rate_card") or []]
    for proposed in sorted(terms.get("rate_card") or [], key=lambda v: str(v["effective_from"])):
        day = str(proposed["effective_from"])
        earlier = [v for v in card if str(v["effective_from"]) <= day]
        in_force = max(earlier, key=lambda v: str(v["effective_from"])) if earlier else {"rates": {}}
        rates = {k: Decimal(str(v)) for k, v in in_force["rates"].items()}
        wanted = {k: Decimal(str(v)) for k, v in proposed["rates"].items()}
        if all(rates.get(role) == rate for role, rate in wanted.items()):
            continue
        new = {k: str(v) for k, v in {**rates, **wanted}.items()}
        same_day = next((v for v in card if str(v["effective_from"]) == day), None)
        if same_day is not None:
            same_day["rates"] = new
        else:
            card.append(
                {
                    "version": max((int(v["version"]) for v in card), default=0) + 1,
                    "effective_from": day,
                    "rates": new,
                }
            )
    merged["rate_card"] = card
    return merged


def _amended(event: OpportunityWon, contract_id: str, version: int, ports: Ports) -> ContractAmended:
    return ContractAmended(
        message_id=ports.ids.derive("contract-amended", contract_id, str(version)),
        occurred_at=ports.clock.now(),
        correlation_id=f"contract:{contract_id}",
        contract_id=contract_id,
        version=version,
    )


def _sync(
    uow: Any, ports: Ports, event: OpportunityWon, contract_id: str, project_id: str, entity: str
) -> None:
    when = event.occurred_at.strftime("%Y-%m")  # the deal's period: a replay routes it the same way
    for system in erp_targets(ports, "contract", lambda: entity, uow=uow, period=when):
        if not hasattr(ports.erps.get(system), "push_contract"):
            continue  # an ERP that takes no contracts (a GL file drop) is not asked for one
        message_id = ports.ids.derive("sync-contract", system, contract_id, event.message_id)
        cmd = SyncContract(
            message_id=message_id,
            occurred_at=ports.clock.now(),
            correlation_id=correlation_for_project(project_id),
            contract_id=contract_id,
            system=system,
        )
        if uow.deliveries.ensure(_key(cmd), system, "sync_contract", "contract", contract_id):
            uow.publish(cmd)


def _key(cmd: SyncContract) -> str:
    """The delivery's idempotency key: one per ERP, contract and deal version handed over."""
    return f"{cmd.system}:contract:{cmd.contract_id}:{cmd.message_id}"


def call_sync_contract(cmd: SyncContract, uow_factory: Callable[[], UnitOfWork], ports: Ports) -> Any:
    """Push the contract's metadata with an idempotency key (outside any transaction).

    An ERP connector without ``push_contract`` is skipped: its delivery stays pending.
    """
    with uow_factory() as uow:  # type: ignore[attr-defined]
        contract = uow.objects.get("contract", cmd.contract_id)
    erp = ports.erps.get(cmd.system)
    push = getattr(erp, "push_contract", None)
    if contract is None or push is None:
        return None
    metadata = {
        k: v for k, v in encode(contract).items() if k not in ("rate_card", "installments", "milestones")
    }
    return ports.guard.call(cmd.system, lambda: push(metadata, cmd.message_id))


def record_sync_contract(cmd: SyncContract, ref: ExternalRef | None, uow: Any, ports: Ports) -> None:
    if ref is None:
        return
    uow.deliveries.confirm(_key(cmd), ref.external_id)
    uow.xrefs.link("contract", cmd.contract_id, cmd.system, ref.external_id)


def sync_contract_dead(cmd: SyncContract, error: str, uow: Any, ports: Ports) -> None:
    """The ERP refused the contract for good: its delivery is failed (the dead letter says why)."""
    uow.deliveries.failed_attempt(_key(cmd), error, final=True)


def handlers() -> list[Handler]:
    return [
        Handler("opportunity-to-project.open", OpportunityWon, handle=open_project),
        Handler(
            "opportunity-to-project.sync-contract",
            SyncContract,
            call=call_sync_contract,
            record=record_sync_contract,
            on_dead=sync_contract_dead,
        ),
    ]

"""The demo's summary and its controls, computed from the store and the systems' own state.

* ``lost_records``: records a system holds that reached the hub neither as a stored object
  (an xref to its id) nor as an exception keeping the raw record. Must be 0.
* ``double_billed_entries``: from :func:`handoffs.reconcile.billing.check_billing`.
* ``straight_through_rate``: the one definition the console and ``handoffs analytics show``
  print (:func:`handoffs.analytics.flow.straight_through_overall`): approved billable records
  invoiced with no exception naming them.
* ``pulled_records_needing_no_person``: the share of distinct pulled source records that needed
  no person: not held in a mapping exception, not named by a dead letter, and (approved
  billable time) not left priced but unbilled because its invoice run failed.
* ``unexplained_exceptions``: mapping exceptions on records no fault touched (must be 0).
* ``opportunity_to_project``: won deals handed over (``OpportunityWon``), projects approved,
  contracts amended, and contract metadata confirmed by each ERP.
* ``erp_comparison``: the shadow comparison of the migration named in ``handoffs.yaml``
  (``migration: {legacy, new}``): every difference between what the two ERPs accepted.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import func, select

from handoffs.analytics import compute
from handoffs.analytics.flow import straight_through_overall
from handoffs.bootstrap import App
from handoffs.domain.journals import journals_balanced
from handoffs.domain.work import Project
from handoffs.flows.readiness import period_readiness
from handoffs.reconcile.billing import check_billing
from handoffs.reconcile.coexistence import compare_erps
from handoffs.reconcile.controls import reconcile
from handoffs.simulator.systems.fleet import Fleet
from handoffs.store.repositories.readiness import ReadinessReads
from handoffs.store.serde import from_doc
from handoffs.store.tables import deliveries, exceptions, objects, time_entries, xrefs
from handoffs.sync.pull import PullReport

__all__ = ["source_truth", "summarise"]


def source_truth(fleet: Fleet) -> dict[tuple[str, str], set[str]]:
    """Every record id each simulated system holds, by (system, resource)."""
    s: Any = fleet.systems
    harvest, workday, expenses, sf = s["harvest"], s["workday"], s["expenses"], s["salesforce"]
    return {
        ("harvest", "time_entries"): {str(r["id"]) for r in harvest.data.get("time_entries", [])},
        ("harvest", "users"): {str(r["id"]) for r in harvest.data.get("users", [])},
        ("harvest", "projects"): {str(r["id"]) for r in harvest.data.get("projects", [])},
        ("workday", "workers"): {str(w["Employee_ID"]) for w in workday.workers},
        ("expenses", "expenses"): {
            str(line["id"]) for r in expenses.reports.values() for line in r.get("line_items", [])
        },
        ("salesforce", "accounts"): {str(r["Id"]) for r in sf.objects.get("Account", [])},
        ("salesforce", "opportunities"): {
            str(r["Id"]) for r in sf.objects.get("Opportunity", []) if r["IsWon"]
        },
    }


def _accounted(conn: Any) -> tuple[dict[str, set[str]], dict[tuple[str, str], set[str]], Counter[str]]:
    linked: dict[str, set[str]] = defaultdict(set)
    for row in conn.execute(select(xrefs.c.system, xrefs.c.external_id)):
        linked[row.system].add(row.external_id)
    excepted: dict[tuple[str, str], set[str]] = defaultdict(set)
    categories: Counter[str] = Counter()
    for row in conn.execute(
        select(exceptions.c.source, exceptions.c.detail, exceptions.c.raw, exceptions.c.category)
    ):
        detail = orjson.loads(row.detail)
        system, _, resource = str(row.source).partition(":")
        record = detail.get("record_id") or str(detail.get("record", "")).rsplit(" ", 1)[-1]
        if record:
            excepted[(system, resource)].add(str(record))
            categories[row.category] += 1
        try:
            raw = orjson.loads(row.raw)
        except orjson.JSONDecodeError:
            continue
        for line in (raw.get("lines") or raw.get("line_items") or []) if isinstance(raw, dict) else []:
            if isinstance(line, dict) and "id" in line:
                excepted[(system, resource)].add(str(line["id"]))
    return linked, excepted, categories


def _needing_person(conn: Any) -> dict[str, set[str]]:
    """Native ids (by system) of records a dead letter names or a failed billing run left behind."""
    canonical: set[str] = set()
    for row in conn.execute(select(exceptions.c.raw).where(exceptions.c.source.like("consumer:%"))):
        try:
            raw = orjson.loads(row.raw)
        except orjson.JSONDecodeError:
            continue
        if isinstance(raw, dict) and isinstance(raw.get("entry_id"), str):
            canonical.add(raw["entry_id"])
    stuck = select(time_entries.c.id).where(
        (time_entries.c.status == "approved") & time_entries.c.billable.is_(True),
        time_entries.c.billing_state == "priced",
    )
    canonical |= {r.id for r in conn.execute(stuck)}
    found: dict[str, set[str]] = defaultdict(set)
    rows = conn.execute(
        select(xrefs.c.system, xrefs.c.canonical_id, xrefs.c.external_id).where(
            xrefs.c.canonical_type == "time_entry"
        )
    )
    for r in rows:
        if r.canonical_id in canonical:
            found[r.system].add(r.external_id)
    return found


def _hours_by_entity(conn: Any) -> dict[str, dict[str, str]]:
    projects = {
        r.id: from_doc(Project, r.doc)
        for r in conn.execute(select(objects.c.id, objects.c.doc).where(objects.c.type == "project"))
    }
    approved = (time_entries.c.status == "approved") & time_entries.c.billable.is_(True)
    rows = conn.execute(
        select(time_entries.c.project_id, time_entries.c.billing_state, func.sum(time_entries.c.hours))
        .where(approved)
        .group_by(time_entries.c.project_id, time_entries.c.billing_state)
    )
    out: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for project_id, state, hours in rows:
        project = projects.get(project_id)
        entity = project.legal_entity_id if project else "unknown"
        out[entity]["approved_billable_hours"] += Decimal(hours)
        if state == "billed":
            out[entity]["billed_hours"] += Decimal(hours)
        elif state == "not_hourly":
            out[entity]["fixed_fee_or_milestone_hours"] += Decimal(hours)
    return {le: {k: str(v) for k, v in sorted(d.items())} for le, d in sorted(out.items())}


def _unexplained(fleet: Fleet, excepted: dict[tuple[str, str], set[str]], conn: Any) -> int:
    touched: dict[str, set[str]] = defaultdict(set)
    for name, sim in fleet.systems.items():
        for event in sim.faults.log:
            if event["fault"] in ("malformed", "incomplete", "schema_drift") and event.get("id") is not None:
                touched[name].add(str(event["id"]))
    count = 0
    query = select(exceptions.c.source, exceptions.c.detail).where(
        exceptions.c.category.in_(("mapping", "schema_drift"))
    )
    for row in conn.execute(query):
        system = str(row.source).partition(":")[0]
        if str(orjson.loads(row.detail).get("record_id")) not in touched[system]:
            count += 1
    return count


def _revenue_by_entity(events: list[Any]) -> dict[str, dict[str, str]]:
    """Revenue recognised, per legal entity and currency (computed from the revenue events)."""
    totals: dict[str, dict[str, Decimal]] = {}
    for e in events:
        per = totals.setdefault(e.legal_entity_id, {})
        per[e.amount.currency] = per.get(e.amount.currency, Decimal(0)) + e.amount.amount
    return {le: {c: str(v) for c, v in sorted(cur.items())} for le, cur in sorted(totals.items())}


def readiness_by_period(hub: App) -> dict[str, Any]:
    """Projects ready to bill and blocked, with how often each reason blocks (per period)."""
    out: dict[str, Any] = {}
    with hub.uow() as uow:
        periods = sorted({r[0] for r in uow.connection.execute(select(time_entries.c.period).distinct())})
        for period in periods:
            out[period] = _period_readiness(uow, hub, period)
    return out


def _period_readiness(uow: Any, hub: App, period: str) -> dict[str, Any]:
    results = period_readiness(uow, ReadinessReads(uow.connection), hub.ports, period)
    reasons: Counter[str] = Counter(r.code for x in results for r in x.reasons)
    return {
        "ready": sum(1 for x in results if x.status == "ready"),
        "blocked": sum(1 for x in results if x.status != "ready"),
        "blocked_by_reason": dict(sorted(reasons.items())),
    }


def summarise(
    hub: App, fleet: Fleet, pulls: list[PullReport], worker: dict[str, int], seconds: float
) -> dict[str, Any]:
    truth = source_truth(fleet)
    with hub.uow() as uow:
        conn = uow.connection
        check = check_billing(conn)
        deliveries = uow.deliveries.count_by_status()
        by_category = uow.exceptions.count_by_category()
        linked, excepted, _ = _accounted(conn)
        hours = _hours_by_entity(conn)
        unexplained = _unexplained(fleet, excepted, conn)
        held = _needing_person(conn)
        posted = Counter(
            r.system for r in conn.execute(select(xrefs.c.system).where(xrefs.c.canonical_type == "invoice"))
        )
        journals = uow.finance.journal_entries()
        revenue = _revenue_by_entity(uow.finance.revenue_events())
        periods = sorted({r[0] for r in conn.execute(select(time_entries.c.period).distinct())})
        breaks = sum(len(reconcile(conn, period).unexplained) for period in periods)
        straight = straight_through_overall(
            compute(conn, names=["straight_through"])["straight_through"].rows
        )
        deals = _deals(conn, uow.messages.count_by_type())
        routing = hub.systems.routing if hub.systems is not None else None
        comparison = (
            compare_erps(conn, hub.erps, routing.legacy, routing.new).as_dict()
            if routing is not None and routing.legacy and routing.new
            else None
        )
    lost = {
        f"{system}:{resource}": len(ids - linked[system] - excepted[(system, resource)])
        for (system, resource), ids in truth.items()
    }
    first = [p for p in pulls if p.label == "pull"]
    pulled: Counter[str] = Counter()
    for p in first:
        pulled[p.system] += p.fetched
    distinct = sum(len(ids) for ids in truth.values())
    needing_person = sum(len((excepted[key] | held[key[0]]) & ids) for key, ids in truth.items())
    return {
        "records_pulled": dict(pulled),
        "records_pulled_by_resource": {f"{p.system}:{p.resource}": p.as_dict() for p in first},
        "re_pull_new_records": sum(p.mapped for p in pulls if p.label != "pull"),
        "invoices_generated": check.invoices,
        "invoices_posted": sum(posted.values()),
        "invoices_posted_by_erp": dict(sorted(posted.items())),
        "deliveries": deliveries,
        "invoice_totals": check.as_dict()["totals_by_currency"],
        # one definition with `handoffs analytics show` and the console (analytics.flow)
        "straight_through_rate": float(straight[2]) if straight[2] is not None else None,  # no records
        "straight_through_records": {"records": straight[0], "straight_through": straight[1]},
        "pulled_records_needing_no_person": round(1 - needing_person / distinct, 4) if distinct else 1.0,
        "exceptions_by_category": by_category,
        "unexplained_exceptions": unexplained,
        "time_entries_needing_a_person": sum(len(v) for v in held.values()),
        "lost_records": sum(lost.values()),
        "lost_records_by_resource": lost,
        "double_billed_entries": check.double_billed_entries,
        "approved_billable_entries": check.approved_billable_entries,
        "billed_entries": check.billed_entries,
        "hours_by_legal_entity": hours,
        "journals_balanced": journals_balanced(journals),
        "journal_entries": len(journals),
        "revenue_by_legal_entity": revenue,
        "unexplained_reconciliation_breaks": breaks,
        "opportunity_to_project": deals,
        **({"erp_comparison": comparison} if comparison is not None else {}),
        "worker": worker,
        "duration_s": round(seconds, 2),
    }


def _deals(conn: Any, by_type: dict[str, int]) -> dict[str, Any]:
    d = deliveries.c
    confirmed = conn.execute(
        select(d.system, func.count())
        .where(d.operation == "sync_contract", d.status == "confirmed")
        .group_by(d.system)
    ).all()
    return {
        "opportunities_won": by_type.get("OpportunityWon", 0),
        "projects_approved": by_type.get("ProjectApproved", 0),
        "contracts_amended": by_type.get("ContractAmended", 0),
        "contracts_confirmed_by_erp": {system: n for system, n in sorted(confirmed)},
    }

"""Runs the worked examples of docs/billing-and-revenue.md from tests/fixtures/billing.

Each ``run_<example>`` loads the example's canonical JSON Lines, calls the pure billing and
revenue rules in the order the flows will, and returns the figures in the same shape as
the example's ``expected.json`` (which holds the hand-computed numbers).
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from handoffs.domain.amendments import reprice_for_amendment
from handoffs.domain.billing import Invoice, JournalEntry, RevenueEvent
from handoffs.domain.catalog import decode_record
from handoffs.domain.contract_billing import bill_installments, bill_milestones, bill_time_and_materials
from handoffs.domain.contracts import Contract
from handoffs.domain.credit_notes import credit_note
from handoffs.domain.expenses import expense_charge
from handoffs.domain.fx import FxTable
from handoffs.domain.journals import (
    ChartOfAccounts,
    ContractPosition,
    account_balances,
    journal_for_expense_claim,
    journal_for_invoice,
    journal_for_revenue,
)
from handoffs.domain.ledger import BillingLedger
from handoffs.domain.money import Money
from handoffs.domain.periods import PeriodCalendar
from handoffs.domain.pricing import price_entry
from handoffs.domain.revenue import (
    cost_to_date,
    recognise_as_delivered,
    recognise_milestones,
    recognise_percent_complete,
)
from handoffs.domain.tax import resolve_tax_code
from handoffs.domain.versions import is_newer

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "billing"
EXAMPLES = (
    "tm-rate-change",
    "tm-cap",
    "fixed-fee-poc",
    "milestone-vat",
    "expense-fx-markup",
    "credit-reinvoice",
    "late-approval",
    "amendment-reprice",
)
CHART = ChartOfAccounts(
    {
        "LE-FR": {
            "accounts_receivable": "411000",
            "unbilled_receivable": "418100",
            "tax_payable": "445710",
            "deferred_revenue": "487000",
            "reimbursement_payable": "421000",
            "revenue": "706000",
            "project_expense": "625100",
        }
    }
)


class Firm:
    """The decoded records of one example; the newest version of each object wins."""

    def __init__(self, name: str) -> None:
        self.objects: dict[str, dict[str, Any]] = defaultdict(dict)
        self.versions: dict[tuple[str, str], str | None] = {}
        self.history: dict[str, list[Any]] = defaultdict(list)
        for raw in (FIXTURES / f"{name}.jsonl").read_text().splitlines():
            record = decode_record(json.loads(raw))
            key = (record.type, record.obj.id)
            self.history[record.type].append(record.obj)
            if key not in self.versions or is_newer(record.source_version, self.versions[key]):
                self.objects[record.type][record.obj.id] = record.obj
                self.versions[key] = record.source_version

    def all(self, kind: str) -> list[Any]:
        return list(self.objects[kind].values())

    def one(self, kind: str) -> Any:
        (obj,) = self.objects[kind].values()
        return obj

    @property
    def roles(self) -> dict[str, str]:
        return {r.id: r.role for r in self.all("resource")}

    def tax_code(self, contract: Contract) -> Any:
        entity = self.objects["legal_entity"][contract.legal_entity_id]
        customer = self.objects["customer"][contract.customer_id]
        return resolve_tax_code(contract, entity, self.objects["tax_code"], customer)

    @property
    def calendar(self) -> PeriodCalendar:
        return PeriodCalendar.from_entities(self.all("legal_entity"))


def money(m: Money) -> str:
    return str(m.amount)


def invoice_figures(inv: Invoice) -> dict[str, Any]:
    return {
        "id": inv.id,
        "kind": inv.kind,
        "period": inv.period,
        "issue_date": inv.issue_date.isoformat(),
        "currency": inv.currency,
        "lines": [
            {
                "id": line.id,
                "kind": line.kind,
                "quantity": str(line.quantity),
                "unit_price": money(line.unit_price),
                "amount": money(line.amount),
                "tax": money(line.tax),
                "sources": [f"{s.type}:{s.id}" for s in line.sources],
                **({"rate_card_version": line.rate_card_version} if line.rate_card_version else {}),
                **({"fx_rate": str(line.fx_rate), "fx_rate_id": line.fx_rate_id} if line.fx_rate_id else {}),
            }
            for line in inv.lines
        ],
        "subtotal": money(inv.subtotal),
        "tax": money(inv.tax),
        "total": money(inv.total),
    }


def event_figures(ev: RevenueEvent) -> dict[str, Any]:
    return {
        "id": ev.id,
        "period": ev.period,
        "recognised_on": ev.recognised_on.isoformat(),
        "method": ev.method,
        "amount": money(ev.amount),
    }


def journal_figures(je: JournalEntry | None) -> dict[str, Any]:
    assert je is not None
    lines = []
    for line in je.lines:
        side = ("debit", line.debit) if not line.debit.is_zero else ("credit", line.credit)
        lines.append({"account": line.account, side[0]: money(side[1])})
    return {
        "id": je.id,
        "period": je.period,
        "entry_date": je.entry_date.isoformat(),
        "currency": je.currency,
        "lines": lines,
        **({"reason": je.memo.split("; ", 1)[1]} if "; " in je.memo else {}),
    }


class Books:
    """Journals a sequence of documents and events, tracking each contract's position."""

    def __init__(self, calendar: PeriodCalendar, currency: str = "EUR") -> None:
        self.calendar = calendar
        self.position = ContractPosition.empty(currency)
        self.entries: list[JournalEntry] = []

    def revenue(self, ev: RevenueEvent) -> dict[str, Any]:
        je = journal_for_revenue(
            ev, entry_id=f"JE-{ev.id}", chart=CHART, calendar=self.calendar, position=self.position
        )
        self.position = self.position.after(ev)
        assert je is not None
        self.entries.append(je)
        return journal_figures(je)

    def invoice(self, inv: Invoice) -> dict[str, Any]:
        je = journal_for_invoice(
            inv, entry_id=f"JE-{inv.id}", chart=CHART, calendar=self.calendar, position=self.position
        )
        self.position = self.position.after(inv)
        assert je is not None
        self.entries.append(je)
        return journal_figures(je)

    def balances(self) -> dict[str, str]:
        return {
            acct: money(m)
            for (_, acct, _), m in sorted(account_balances(self.entries).items())
            if not m.is_zero
        }


def _time_revenue(
    firm: Firm, contract: Contract, event_id: str, period: str, entry_ids: list[str]
) -> RevenueEvent:
    entries = [firm.objects["time_entry"][i] for i in entry_ids]
    priced = [price_entry(e, contract, firm.roles[e.resource_id]) for e in entries]
    ev = recognise_as_delivered(
        event_id=event_id, contract=contract, project_id=entries[0].project_id, period=period, priced=priced
    )
    assert ev is not None
    return ev


def run_tm_rate_change() -> dict[str, Any]:
    firm = Firm("tm-rate-change")
    contract = firm.one("contract")
    approved = [e.id for e in firm.all("time_entry") if e.status == "approved"]
    books = Books(firm.calendar)
    ev = _time_revenue(firm, contract, "REV-C-TM-RATE-2026-03", "2026-03", approved)
    run = bill_time_and_materials(
        invoice_id="INV-RATE-03",
        contract=contract,
        project_id="P-RATE",
        period="2026-03",
        entries=firm.all("time_entry"),
        ledger=BillingLedger.from_documents(),
        roles=firm.roles,
        tax_code=firm.tax_code(contract),
    )
    assert run.invoice is not None
    journals = [books.revenue(ev), books.invoice(run.invoice)]
    return {
        "invoices": [invoice_figures(run.invoice)],
        "not_billed": {d.entry_id: d.reason for d in run.time.dispositions if d.line_id is None},
        "revenue_events": [event_figures(ev)],
        "journals": journals,
    }


def run_tm_cap() -> dict[str, Any]:
    firm = Firm("tm-cap")
    contract = firm.one("contract")
    prior = firm.one("invoice")
    books = Books(firm.calendar)
    books.position = ContractPosition(recognised=Money.of("7300.00", "EUR"), billed=prior.subtotal)
    march = [e for e in firm.all("time_entry") if e.work_date >= date(2026, 3, 1)]
    priced = [price_entry(e, contract, "consultant") for e in march]
    ev = recognise_as_delivered(
        event_id="REV-C-TM-CAP-2026-03",
        contract=contract,
        project_id="P-CAP",
        period="2026-03",
        priced=priced,
        time_recognised_to_date=Money.of("7300.00", "EUR"),
    )
    assert ev is not None
    run = bill_time_and_materials(
        invoice_id="INV-CAP-03",
        contract=contract,
        project_id="P-CAP",
        period="2026-03",
        entries=firm.all("time_entry"),
        ledger=BillingLedger.from_documents([prior]),
        roles=firm.roles,
        tax_code=firm.tax_code(contract),
    )
    assert run.invoice is not None and run.time.write_down is not None
    wd = run.time.write_down
    journals = [books.revenue(ev), books.invoice(run.invoice)]
    return {
        "invoices": [invoice_figures(run.invoice)],
        "write_down": {
            "id": wd.id,
            "hours": str(wd.hours),
            "amount": money(wd.amount),
            "items": [{"entry": i.entry_id, "hours": str(i.hours), "rate": money(i.rate)} for i in wd.items],
        },
        "dispositions": {
            d.entry_id: {"billed_hours": str(d.billed_hours), "held_hours": str(d.held_hours)}
            for d in run.time.dispositions
            if d.entry_id.startswith("T-21")
        },
        "revenue_events": [event_figures(ev)],
        "journals": journals,
    }


def run_fixed_fee_poc() -> dict[str, Any]:
    firm = Firm("fixed-fee-poc")
    contract = firm.one("contract")
    cost_rates = {r.id: r.cost_rate for r in firm.all("resource")}
    books = Books(firm.calendar)
    ledger = BillingLedger.from_documents()
    recognised = Money.zero("EUR")
    out: dict[str, Any] = {"measurements": [], "invoices": [], "revenue_events": [], "journals": []}
    for period, estimate in (("2026-01", "8000.00"), ("2026-02", "10000.00"), ("2026-03", "12500.00")):
        cost = cost_to_date(
            firm.all("time_entry"), cost_rates, project_id="P-FF", period=period, currency="EUR"
        )
        poc = recognise_percent_complete(
            event_id=f"REV-C-FF-{period}",
            contract=contract,
            project_id="P-FF",
            period=period,
            cost=cost,
            recognised_to_date=recognised,
            estimated_cost=Money.of(estimate, "EUR"),
        )
        assert poc.event is not None
        recognised = poc.cumulative
        out["measurements"].append(
            {
                "period": period,
                "cost_to_date": money(cost),
                "estimate": estimate,
                "ratio": str(poc.ratio),
                "cumulative": money(poc.cumulative),
                "catch_up": money(poc.catch_up),
            }
        )
        inv = bill_installments(
            invoice_id=f"INV-FF-{period}",
            contract=contract,
            project_id="P-FF",
            period=period,
            ledger=ledger,
            tax_code=firm.tax_code(contract),
        )
        assert inv is not None
        ledger = ledger.with_documents(inv)
        out["revenue_events"].append(event_figures(poc.event))
        out["invoices"].append(invoice_figures(inv))
        out["journals"] += [books.revenue(poc.event), books.invoice(inv)]
    out["balances"] = books.balances()
    return out


def run_milestone_vat() -> dict[str, Any]:
    firm = Firm("milestone-vat")
    contract = firm.one("contract")
    books = Books(firm.calendar)
    events = recognise_milestones(
        contract=contract, project_id="P-MS", period="2026-04", recognised=(), event_id_prefix="REV-C-MS"
    )
    inv = bill_milestones(
        invoice_id="INV-MS-04",
        contract=contract,
        project_id="P-MS",
        period="2026-04",
        ledger=BillingLedger.from_documents(),
        tax_code=firm.tax_code(contract),
    )
    assert inv is not None
    journals = [books.revenue(ev) for ev in events] + [books.invoice(inv)]
    return {
        "invoices": [invoice_figures(inv)],
        "revenue_events": [event_figures(e) for e in events],
        "journals": journals,
    }


def run_expense_fx_markup() -> dict[str, Any]:
    firm = Firm("expense-fx-markup")
    contract = firm.one("contract")
    fx = FxTable(firm.all("fx_rate"))
    hotel = firm.objects["expense"]["E-501"]
    conversion, charge = expense_charge(hotel, contract, fx)
    books = Books(firm.calendar)
    ev = recognise_as_delivered(
        event_id="REV-C-TM-FX-2026-03",
        contract=contract,
        project_id="P-FX",
        period="2026-03",
        priced=[],
        expense_charges=[charge],
    )
    assert ev is not None
    run = bill_time_and_materials(
        invoice_id="INV-FX-03",
        contract=contract,
        project_id="P-FX",
        period="2026-03",
        entries=[],
        expenses=firm.all("expense"),
        fx=fx,
        ledger=BillingLedger.from_documents(),
        tax_code=firm.tax_code(contract),
    )
    assert run.invoice is not None
    claim = journal_for_expense_claim(
        hotel,
        entry_id="JE-CLAIM-E-501",
        legal_entity_id="LE-FR",
        chart=CHART,
        calendar=firm.calendar,
        conversion=conversion,  # into LE-FR's functional currency, EUR
    )
    return {
        "conversion": {
            "rate": str(conversion.rate),
            "rate_id": conversion.rate_id,
            "converted": money(conversion.converted),
            "charge": money(charge),
        },
        "invoices": [invoice_figures(run.invoice)],
        "not_billed": {d.expense_id: d.reason for d in run.expenses.dispositions if d.line_id is None},
        "revenue_events": [event_figures(ev)],
        "journals": [books.revenue(ev), books.invoice(run.invoice), journal_figures(claim)],
    }


def run_credit_reinvoice() -> dict[str, Any]:
    firm = Firm("credit-reinvoice")
    contract = firm.one("contract")
    tax = firm.tax_code(contract)
    books = Books(firm.calendar)
    ev = _time_revenue(firm, contract, "REV-C-TM-CN-2026-04", "2026-04", ["T-601", "T-602"])
    common: dict[str, Any] = dict(
        contract=contract,
        project_id="P-CN",
        period="2026-04",
        entries=firm.all("time_entry"),
        roles=firm.roles,
        tax_code=tax,
    )
    first = bill_time_and_materials(invoice_id="INV-CN-04A", ledger=BillingLedger.from_documents(), **common)
    assert first.invoice is not None
    ledger = BillingLedger.from_documents([first.invoice])
    again = bill_time_and_materials(invoice_id="INV-CN-04X", ledger=ledger, **common)
    note = credit_note(
        credit_note_id="CN-04A",
        invoice=first.invoice,
        ledger=ledger,
        issue_date=date(2026, 5, 4),
        reason="customer purchase order number missing; reissued",
    )
    ledger = ledger.with_documents(note)
    reissue = bill_time_and_materials(
        invoice_id="INV-CN-04B", ledger=ledger, issue_date=date(2026, 5, 4), **common
    )
    assert reissue.invoice is not None
    final = ledger.with_documents(reissue.invoice)
    journals = [
        books.revenue(ev),
        books.invoice(first.invoice),
        books.invoice(note),
        books.invoice(reissue.invoice),
    ]
    return {
        "invoices": [invoice_figures(first.invoice), invoice_figures(note), invoice_figures(reissue.invoice)],
        "second_run_before_credit": {
            "invoice": again.invoice,
            "reasons": {d.entry_id: d.reason for d in again.time.dispositions},
        },
        "billed_after_credit": ledger.billed_sources("time_entry"),
        "billed_after_reinvoice": final.billed_sources("time_entry"),
        "revenue_events": [event_figures(ev)],
        "journals": journals,
        "balances": books.balances(),
    }


def run_late_approval() -> dict[str, Any]:
    firm = Firm("late-approval")
    contract = firm.one("contract")
    books = Books(firm.calendar)
    late = _time_revenue(firm, contract, "REV-C-TM-LATE-2026-03-LATE", "2026-03", ["T-701"])
    april = _time_revenue(firm, contract, "REV-C-TM-LATE-2026-04", "2026-04", ["T-702"])
    run = bill_time_and_materials(
        invoice_id="INV-LATE-04",
        contract=contract,
        project_id="P-LATE",
        period="2026-04",
        entries=firm.all("time_entry"),
        ledger=BillingLedger.from_documents(),
        roles=firm.roles,
        tax_code=firm.tax_code(contract),
    )
    assert run.invoice is not None
    journals = [books.revenue(late), books.revenue(april), books.invoice(run.invoice)]
    return {
        "invoices": [invoice_figures(run.invoice)],
        "revenue_events": [event_figures(late), event_figures(april)],
        "journals": journals,
    }


def run_amendment_reprice() -> dict[str, Any]:
    firm = Firm("amendment-reprice")
    old, new = firm.history["contract"]
    entries = firm.all("time_entry")
    tax = firm.tax_code(new)
    may = bill_time_and_materials(
        invoice_id="INV-AMD-05",
        contract=old,
        project_id="P-AMD",
        period="2026-05",
        entries=entries,
        ledger=BillingLedger.from_documents(),
        roles=firm.roles,
        tax_code=tax,
    )
    assert may.invoice is not None
    ledger = BillingLedger.from_documents([may.invoice])
    rep = reprice_for_amendment(
        old_contract=old,
        new_contract=new,
        entries=entries,
        ledger=ledger,
        issue_date=date(2026, 6, 10),
        proposal_prefix="AMD-C-AMD-2",
        roles=firm.roles,
        tax_code=tax,
    )
    (proposal,) = rep.proposals
    assert proposal.rebill is not None
    approved = ledger.with_documents(proposal.credit_note, proposal.rebill)
    june = bill_time_and_materials(
        invoice_id="INV-AMD-06",
        contract=new,
        project_id="P-AMD",
        period="2026-06",
        entries=entries,
        ledger=approved,
        roles=firm.roles,
        tax_code=tax,
    )
    assert june.invoice is not None

    def item(r: Any) -> dict[str, Any]:
        return {
            "entry": r.entry_id,
            "hours": str(r.hours),
            "old": f"v{r.old_version} {money(r.old_rate)}",
            "new": f"v{r.new_version} {money(r.new_rate)}",
            "delta": money(r.delta),
        }

    return {
        "effective_from": rep.effective_from.isoformat(),
        "unbilled": [item(r) for r in rep.unbilled],
        "billed": [item(r) for r in rep.billed],
        "proposal": {
            "id": proposal.id,
            "impact_net": money(proposal.impact_net),
            "impact_total": money(proposal.impact_total),
        },
        "invoices": [
            invoice_figures(d) for d in (may.invoice, proposal.credit_note, proposal.rebill, june.invoice)
        ],
    }


RUNS: dict[str, Callable[[], dict[str, Any]]] = {
    "tm-rate-change": run_tm_rate_change,
    "tm-cap": run_tm_cap,
    "fixed-fee-poc": run_fixed_fee_poc,
    "milestone-vat": run_milestone_vat,
    "expense-fx-markup": run_expense_fx_markup,
    "credit-reinvoice": run_credit_reinvoice,
    "late-approval": run_late_approval,
    "amendment-reprice": run_amendment_reprice,
}


def expected(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.expected.json").read_text())
    return data


__all__ = ["CHART", "EXAMPLES", "RUNS", "Books", "Firm", "expected"]

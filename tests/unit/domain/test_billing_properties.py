"""Invariants of billing and revenue, checked with hypothesis over generated firms."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

from billing_factories import VAT20, entry, eur, ff_contract, tm_contract
from billing_scenarios import CHART
from hypothesis import event, given, settings
from hypothesis import strategies as st

from handoffs.domain.amendments import reprice_for_amendment
from handoffs.domain.billing import Invoice, JournalEntry
from handoffs.domain.contract_billing import bill_installments, bill_time_and_materials
from handoffs.domain.credit_notes import credit_note
from handoffs.domain.invoicing import WriteDownProposal, held_hours
from handoffs.domain.journals import (
    ChartOfAccounts,
    ContractPosition,
    journal_for_invoice,
    journal_for_revenue,
    trial_balance,
)
from handoffs.domain.ledger import BillingLedger
from handoffs.domain.money import Money
from handoffs.domain.periods import PeriodCalendar
from handoffs.domain.pricing import price_entry
from handoffs.domain.reference import TaxCode
from handoffs.domain.revenue import recognise_as_delivered, recognise_percent_complete
from handoffs.domain.work import TimeEntry

CHART1 = ChartOfAccounts({"LE-1": dict(CHART.accounts["LE-FR"])})
FAST = settings(max_examples=150, deadline=None)

hours = st.integers(min_value=1, max_value=48).map(lambda q: Decimal(q) / 4)  # 0.25 .. 12.00
statuses = st.sampled_from(["approved", "approved", "approved", "submitted", "rejected"])
entry_specs = st.lists(
    st.tuples(st.integers(0, 60), hours, statuses, st.booleans(), st.sampled_from(["R-1", "R-2"])),
    min_size=1,
    max_size=14,
)
rates = st.integers(min_value=5000, max_value=25000).map(lambda c: Decimal(c) / 100)
caps = st.one_of(st.none(), st.integers(min_value=0, max_value=600000).map(lambda c: f"{Decimal(c) / 100}"))


def _entries(specs: list[tuple[int, Decimal, str, bool, str]]) -> list[TimeEntry]:
    start = date(2026, 3, 1)
    return [
        entry(
            f"T-{i}",
            start + timedelta(days=d),
            str(h),
            status=s,
            billable=b or s != "approved",
            resource_id=r,
        )
        for i, (d, h, s, b, r) in enumerate(specs)
    ]


def _billed_hours(
    docs: list[Invoice], ledger: BillingLedger, by_id: dict[str, TimeEntry]
) -> dict[str, Decimal]:
    """Hours each entry is billed for on live lines; checks every line's quantity adds up."""
    billed: dict[str, Decimal] = defaultdict(Decimal)
    for doc in docs:
        for line in doc.lines:
            if doc.kind != "invoice" or ledger.is_credited(line.id):
                continue
            ids = [s.id for s in line.sources]
            if len(ids) == 1:
                billed[ids[0]] += line.quantity
            else:
                share = {i: by_id[i].hours - ledger.held_hours(i) for i in ids}
                assert sum(share.values()) == line.quantity
                for i, h in share.items():
                    billed[i] += h
    return billed


@FAST
@given(entry_specs, rates, rates, caps, st.booleans(), st.data())
def test_every_approved_billable_hour_is_billed_once_or_held_with_a_reason(
    specs: list[tuple[int, Decimal, str, bool, str]],
    r1: Decimal,
    r2: Decimal,
    cap: str | None,
    credit: bool,
    data: st.DataObject,
) -> None:
    contract = tm_contract((date(2026, 1, 1), str(r1)), (date(2026, 3, 20), str(r2)), cap=cap)
    entries = _entries(specs)
    by_id = {e.id: e for e in entries}
    docs: list[Invoice] = []
    proposals: list[WriteDownProposal] = []
    ledger = BillingLedger.from_documents()
    for n, period in enumerate(("2026-03", "2026-04")):
        run = bill_time_and_materials(
            invoice_id=f"INV-{n}",
            contract=contract,
            project_id="P-1",
            period=period,
            entries=entries,
            ledger=ledger,
            tax_code=VAT20,
        )
        for d in run.time.dispositions:
            assert d.billed_hours + d.held_hours in (Decimal(0), d.hours)
            assert d.reason
            if d.held_hours:
                assert d.reason.startswith("cap reached")
        if run.time.write_down:
            event("cap overflow held")
            proposals.append(run.time.write_down)
            if any(d.billed_hours and d.held_hours for d in run.time.dispositions):
                event("an entry split at the cap")
        if run.invoice:
            docs.append(run.invoice)
        ledger = BillingLedger.from_documents(docs, held_hours(proposals))
        if credit and run.invoice and data.draw(st.booleans()):
            event("credit note then rebill")
            lines = data.draw(
                st.lists(st.sampled_from([line.id for line in run.invoice.lines]), min_size=1, unique=True)
            )
            docs.append(
                credit_note(
                    credit_note_id=f"CN-{n}",
                    invoice=run.invoice,
                    ledger=ledger,
                    issue_date=date(2026, 5, 1),
                    reason="property",
                    line_ids=lines,
                )
            )
            ledger = BillingLedger.from_documents(docs, held_hours(proposals))
    # settle: one more run bills whatever the credit notes released
    run = bill_time_and_materials(
        invoice_id="INV-Z",
        contract=contract,
        project_id="P-1",
        period="2026-04",
        entries=entries,
        ledger=ledger,
        tax_code=VAT20,
    )
    docs += [run.invoice] if run.invoice else []
    proposals += [run.time.write_down] if run.time.write_down else []
    ledger = BillingLedger.from_documents(docs, held_hours(proposals))
    billed = _billed_hours(docs, ledger, by_id)
    for e in entries:
        if e.is_billable_approved:
            assert billed[e.id] + ledger.held_hours(e.id) == e.hours, e.id
        else:
            assert billed[e.id] == 0 and ledger.held_hours(e.id) == 0
    if cap is not None:
        time_billed = Money.sum([line.amount for d in docs for line in d.lines], "EUR")
        assert time_billed <= eur(cap)


@FAST
@given(
    entry_specs,
    rates,
    st.integers(0, 2500).map(lambda t: Decimal(t) / 10000),
    st.sampled_from(["half_up", "half_even"]),
)
def test_invoice_total_is_the_sum_of_lines_plus_tax(
    specs: list[tuple[int, Decimal, str, bool, str]], rate: Decimal, tax_rate: Decimal, rounding: str
) -> None:
    code = TaxCode(id="TX", legal_entity_id="LE-1", name="tax", rate=tax_rate)
    run = bill_time_and_materials(
        invoice_id="INV",
        contract=tm_contract((date(2026, 1, 1), str(rate))),
        project_id="P-1",
        period="2026-04",
        entries=_entries(specs),
        ledger=BillingLedger.from_documents(),
        tax_code=code,
        rounding=rounding,
    )
    inv = run.invoice
    if inv is None:
        return
    assert inv.total == Money.sum([line.amount for line in inv.lines], "EUR") + Money.sum(
        [line.tax for line in inv.lines], "EUR"
    )
    for line in inv.lines:
        assert line.amount == (line.unit_price * line.quantity).rounded(rounding)
        assert line.tax == (line.amount * tax_rate).rounded(rounding)


amounts = st.integers(min_value=-500000, max_value=500000).map(lambda c: Decimal(c) / 100)


@FAST
@given(
    st.lists(
        st.tuples(st.sampled_from(["invoice", "revenue"]), amounts, st.integers(1, 12)),
        min_size=1,
        max_size=12,
    ),
    st.sampled_from([None, "2026-03", "2026-06"]),
)
def test_journals_balance_per_legal_entity_and_currency(
    steps: list[tuple[str, Decimal, int]], closed: str | None
) -> None:
    calendar = PeriodCalendar({"LE-1": closed} if closed else {})
    position = ContractPosition.empty("EUR")
    entries: list[JournalEntry] = []
    docs: list[Invoice] = []
    for n, (kind, amount, month) in enumerate(steps):
        day = date(2026, month, 28)
        if kind == "revenue":
            from handoffs.domain.billing import RevenueEvent

            ev = RevenueEvent(
                id=f"R-{n}",
                contract_id="C-1",
                project_id="P-1",
                legal_entity_id="LE-1",
                period=f"2026-{month:02d}",
                recognised_on=day,
                amount=Money(amount, "EUR"),
                method="as_delivered",
            )
            je = journal_for_revenue(
                ev, entry_id=f"JE-{n}", chart=CHART1, calendar=calendar, position=position
            )
            position = position.after(ev)
        else:
            run = bill_time_and_materials(
                invoice_id=f"INV-{n}",
                contract=tm_contract(),
                project_id="P-1",
                period=f"2026-{month:02d}",
                entries=[
                    entry(
                        f"T-{n}",
                        day,
                        str(min(abs(amount) / 100 + Decimal("0.25"), Decimal(24)).quantize(Decimal("0.01"))),
                    )
                ],
                ledger=BillingLedger.from_documents(),
                tax_code=VAT20,
            )
            assert run.invoice is not None
            doc: Invoice = run.invoice
            if amount < 0:
                doc = credit_note(
                    credit_note_id=f"CN-{n}",
                    invoice=doc,
                    ledger=BillingLedger.from_documents([doc]),
                    issue_date=day,
                    reason="property",
                )
            docs.append(doc)
            je = journal_for_invoice(
                doc, entry_id=f"JE-{n}", chart=CHART1, calendar=calendar, position=position
            )
            position = position.after(doc)
        if je is not None:
            entries.append(je)
            assert not calendar.is_closed("LE-1", je.period)
    for debit, credit in trial_balance(entries).values():
        assert debit == credit
    # the contract asset and liability left on the books are exactly the position
    net = {}
    for je in entries:
        for line in je.lines:
            net[line.account] = net.get(line.account, Decimal(0)) + line.debit.amount - line.credit.amount
    assert (
        net.get("418100", 0) - (-net.get("487000", 0)) == position.recognised.amount - position.billed.amount
    )


@FAST
@given(
    st.lists(st.tuples(st.integers(0, 300000), st.integers(1, 400000)), min_size=1, max_size=10),
    st.integers(1, 10**7).map(lambda c: Decimal(c) / 100),
)
def test_fixed_fee_revenue_to_date_never_exceeds_the_contract_value(
    steps: list[tuple[int, int]], fee: Decimal
) -> None:
    contract = ff_contract(str(fee), "1000.00", n=1)
    recognised = eur("0")
    cost = Decimal(0)
    for month, (spend, estimate) in enumerate(steps):
        cost += Decimal(spend) / 100
        poc = recognise_percent_complete(
            event_id=f"R-{month}",
            contract=contract,
            project_id="P-1",
            period="2026-01",
            cost=eur(str(cost)),
            recognised_to_date=recognised,
            estimated_cost=eur(str(Decimal(estimate) / 100)),
        )
        recognised = recognised + (poc.event.amount if poc.event else eur("0"))
        assert recognised == poc.cumulative
        assert eur("0") <= recognised <= contract.fixed_fee  # type: ignore[operator]
    inv = bill_installments(
        invoice_id="INV",
        contract=contract,
        project_id="P-1",
        period="2026-12",
        ledger=BillingLedger.from_documents(),
    )
    assert inv is not None and inv.subtotal == contract.fixed_fee


@FAST
@given(entry_specs, rates, rates, st.integers(0, 60), st.booleans())
def test_repricing_preserves_hours(
    specs: list[tuple[int, Decimal, str, bool, str]],
    old_rate: Decimal,
    new_rate: Decimal,
    offset: int,
    bill_first: bool,
) -> None:
    old = tm_contract((date(2026, 1, 1), str(old_rate)))
    new = tm_contract(
        (date(2026, 1, 1), str(old_rate)), (date(2026, 3, 1) + timedelta(days=offset), str(new_rate))
    )
    entries = _entries(specs)
    docs = []
    if bill_first:
        run = bill_time_and_materials(
            invoice_id="INV-1",
            contract=old,
            project_id="P-1",
            period="2026-03",
            entries=entries,
            ledger=BillingLedger.from_documents(),
            tax_code=VAT20,
        )
        docs = [run.invoice] if run.invoice else []
    ledger = BillingLedger.from_documents(docs)
    rep = reprice_for_amendment(
        old_contract=old,
        new_contract=new,
        entries=entries,
        ledger=ledger,
        issue_date=date(2026, 6, 1),
        proposal_prefix="AMD",
        tax_code=VAT20,
    )
    by_id = {e.id: e for e in entries}
    for item in (*rep.unbilled, *rep.billed):
        assert item.hours == by_id[item.entry_id].hours
    for prop in rep.proposals:
        assert prop.rebill is not None
        assert sum(line.quantity for line in prop.rebill.lines) == -sum(
            line.quantity for line in prop.credit_note.lines
        )
        assert prop.impact_net == prop.rebill.subtotal + prop.credit_note.subtotal
    expected = sum(
        (by_id[i.entry_id].hours * (i.new_rate.amount - i.old_rate.amount) for i in rep.unbilled), Decimal(0)
    )
    assert sum((i.delta.amount for i in rep.unbilled), Decimal(0)) == expected
    priced_new = [price_entry(by_id[i.entry_id], new, "consultant") for i in rep.unbilled]
    ev = recognise_as_delivered(
        event_id="R", contract=new, project_id="P-1", period="2026-06", priced=priced_new
    )
    assert ev is None or ev.amount.amount >= 0

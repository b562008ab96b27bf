"""Properties of credit notes under any interleaving (#16 items 2 and 3).

Hypothesis draws a T&M project (entries, rate, an optional cap) and a sequence of steps:
billing runs, credit notes of some entries, of whole lines or of an amount, and
credit-and-rebill proposals computed at one moment and approved later (when they may have
gone stale). Approving re-checks the proposal against the current documents, as the flow
does. After every step:

* the billing ledger can be built from the documents: no source of a line is credited twice
  and no line is credited for more than it billed;
* every line is worth, net of its credits, exactly its live entries at its rate (rounded once,
  tax rounded once), less the amounts conceded on it; so, per entry, what was invoiced less
  what was credited is its priced amount whenever it is billed;
* every entry is on at most one live line; after a final billing run, on exactly one (or
  held on a write-down), with billed + held hours = its hours.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st
from tests.unit.domain.billing_factories import VAT20, entry, eur, tm_contract

from handoffs.domain.amendments import credit_and_rebill
from handoffs.domain.billing import Invoice, SourceRef
from handoffs.domain.contract_billing import bill_time_and_materials
from handoffs.domain.credit_notes import amount_credit_note, credit_note, is_current
from handoffs.domain.errors import ValidationError
from handoffs.domain.invoicing import WriteDownProposal, held_hours
from handoffs.domain.ledger import AlreadyBilled, BillingLedger, fee_billed_to_date
from handoffs.domain.money import Money
from handoffs.domain.work import TimeEntry

RATES = {"VAT-20": Decimal("0.20")}
hours_st = st.decimals(min_value=Decimal("0.25"), max_value=Decimal("9"), places=2)
step_st = st.one_of(
    st.tuples(st.just("bill")),
    st.tuples(st.just("entries"), st.lists(st.integers(0, 5), min_size=1, max_size=3)),
    st.tuples(st.just("line"), st.integers(0, 9)),
    st.tuples(st.just("amount"), st.integers(0, 9), st.integers(1, 50000)),
    st.tuples(st.just("propose"), st.integers(0, 5)),
    st.tuples(st.just("propose"), st.integers(0, 5)),
    st.tuples(st.just("approve"), st.integers(0, 9)),
    st.tuples(st.just("approve"), st.integers(0, 9)),
)


class Books:
    """The documents issued so far, and what a person can do to them."""

    def __init__(self, entries: list[TimeEntry], rate: str, cap: str | None) -> None:
        self.entries = {e.id: e for e in entries}
        self.contract = tm_contract((date(2026, 1, 1), rate), cap=cap)
        self.docs: list[Invoice] = []
        self.write_downs: list[WriteDownProposal] = []
        self.pending: list[tuple[Invoice, Invoice | None]] = []
        self.n = 0

    def ledger(self) -> BillingLedger:
        return BillingLedger.from_documents(self.docs, held_hours(self.write_downs))

    def next_id(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n:03d}"

    def invoice_of(self, entry_id: str) -> Invoice | None:
        line = self.ledger().line_billing(SourceRef(type="time_entry", id=entry_id))
        return self.ledger().line(line)[0] if line else None

    def step(self, action: tuple) -> None:  # type: ignore[type-arg]
        ledger, day = self.ledger(), date(2026, 5, 4)
        invoices = [d for d in self.docs if d.kind == "invoice"]
        lines = [ln for d in invoices for ln in d.lines]
        try:
            if action[0] == "bill":
                run = bill_time_and_materials(
                    invoice_id=self.next_id("INV"),
                    contract=self.contract,
                    project_id="P-1",
                    period="2026-04",
                    entries=list(self.entries.values()),
                    ledger=ledger,
                    tax_code=VAT20,
                )
                self.docs += [run.invoice] if run.invoice else []
                self.write_downs += [run.time.write_down] if run.time.write_down else []
            elif action[0] == "entries" and invoices:
                ids = sorted({f"T-{i % len(self.entries)}" for i in action[1]})
                owner = self.invoice_of(ids[0])
                if owner is not None:
                    self.docs.append(self._note(owner, ledger, sources=ids))
            elif action[0] == "line" and lines:
                line = lines[action[1] % len(lines)]
                owner = next(d for d in invoices if line in d.lines)
                self.docs.append(self._note(owner, ledger, line_ids=[line.id]))
            elif action[0] == "amount" and lines:
                line = lines[action[1] % len(lines)]
                owner = next(d for d in invoices if line in d.lines)
                self.docs.append(
                    amount_credit_note(
                        credit_note_id=self.next_id("CN"),
                        invoice=owner,
                        ledger=ledger,
                        issue_date=day,
                        reason="goodwill",
                        line_id_=line.id,
                        amount=Money(Decimal(action[2]) / 100, "EUR"),
                        tax_rates=RATES,
                    )
                )
            elif action[0] == "propose":
                picked = f"T-{action[1] % len(self.entries)}"
                owner = self.invoice_of(picked)
                if owner is not None:
                    proposal = credit_and_rebill(
                        proposal_id=self.next_id("ADJ"),
                        invoice=owner,
                        line_ids=[],
                        entry_ids=[picked],
                        contract=self.contract,
                        entries=list(self.entries.values()),
                        ledger=ledger,
                        issue_date=day,
                        reason="corrected",
                        tax_code=VAT20,
                    )
                    self.pending.append((proposal.credit_note, proposal.rebill))
            elif action[0] == "approve" and self.pending:
                note, rebill = self.pending.pop(action[1] % len(self.pending))
                owner = next(d for d in invoices if d.id == note.credits_invoice_id)
                hours = {e.id: e.hours for e in self.entries.values()}
                if not is_current(note, owner, ledger, hours, RATES):  # the re-check of the flow
                    return
                documents = [note, *([rebill] if rebill else [])]
                ledger.with_documents(*documents)
                self.docs += documents
        except (AlreadyBilled, ValidationError):
            pass  # refused, as it must be when it would credit twice or credit nothing

    def _note(self, owner: Invoice, ledger: BillingLedger, **which: list[str]) -> Invoice:
        return credit_note(
            credit_note_id=self.next_id("CN"),
            invoice=owner,
            ledger=ledger,
            issue_date=date(2026, 5, 4),
            reason="disputed",
            hours={e.id: e.hours for e in self.entries.values()},
            tax_rates=RATES,
            **which,  # type: ignore[arg-type]
        )


def _check(books: Books) -> BillingLedger:
    ledger = books.ledger()  # raises AlreadyBilled if anything was credited twice
    live: dict[str, list[str]] = {}
    for doc in books.docs:
        if doc.kind != "invoice":
            continue
        for line in doc.lines:
            done = ledger.credited_sources(line.id)
            staying = [s.id for s in line.sources if (s.type, s.id) not in done]
            for sid in staying:
                live.setdefault(sid, []).append(line.id)
            conceded = [
                ln
                for d in books.docs
                if d.kind == "credit_note"
                for ln in d.lines
                if ln.kind == "adjustment" and ln.sources[0].id == line.id
            ]
            amount, tax = ledger.uncredited(line.id)
            given_back = Money.sum([ln.amount for ln in conceded], "EUR")
            given_tax = Money.sum([ln.tax for ln in conceded], "EUR")
            if not staying:
                assert (amount.is_zero, tax.is_zero) == (True, True)
                continue
            if len(staying) == len(line.sources):
                value, value_tax = line.amount, line.tax  # as billed (a cap-split line bills the money left)
            else:
                value = (line.unit_price * sum(books.entries[s].hours for s in staying)).rounded()
                value_tax = (value * Decimal("0.20")).rounded()
            if not conceded:  # invoiced less credited = the live entries' price, to the cent
                assert (amount, tax) == (value, value_tax), line.id
            else:  # a concession lowers it, by no more than was conceded
                assert value + given_back <= amount <= value, line.id
                assert value_tax + given_tax <= tax <= value_tax, line.id
    assert all(len(lines) == 1 for lines in live.values()), live
    return ledger


@settings(max_examples=60, deadline=None)
@given(
    hours=st.lists(hours_st, min_size=1, max_size=6),
    rate=st.sampled_from(["150.00", "167.50", "99.99", "200.00"]),
    cap=st.sampled_from([None, "1000.00", "2500.00"]),
    steps=st.lists(step_st, max_size=12),
)
def test_no_line_is_credited_twice_and_every_entry_nets_to_its_price(
    hours: list[Decimal],
    rate: str,
    cap: str | None,
    steps: list[tuple],  # type: ignore[type-arg]
) -> None:
    entries = [entry(f"T-{i}", date(2026, 4, 6 + i), str(h)) for i, h in enumerate(hours)]
    books = Books(entries, rate, cap)
    books.step(("bill",))
    for action in steps:
        books.step(action)
        _check(books)
    books.step(("bill",))
    ledger = _check(books)
    for e in entries:  # billed once, or held, and never more than its hours
        billed = ledger.line_billing(SourceRef(type="time_entry", id=e.id))
        held = ledger.held_hours(e.id)
        assert billed is not None or held > 0, e.id
        assert held <= e.hours
    net = fee_billed_to_date(books.docs, "C-1", "EUR")
    assert cap is None or net <= eur(cap)  # credits and re-bills never push time past the cap

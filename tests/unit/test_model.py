from datetime import date
from decimal import Decimal

import pytest

from handoffs.domain.billing import Invoice, InvoiceLine, JournalEntry, JournalLine
from handoffs.domain.contracts import Contract, Installment, RateCardVersion
from handoffs.domain.errors import NoEffectiveRate, UnbalancedJournal, ValidationError
from handoffs.domain.money import Money
from handoffs.domain.versions import is_newer
from handoffs.domain.work import Assignment, Project, TimeEntry, check_entry_in_schedule

USD = "USD"


def contract(**kw: object) -> Contract:
    base: dict[str, object] = dict(
        id="K-1",
        customer_id="C-1",
        legal_entity_id="LE-US",
        currency=USD,
        billing_model="time_and_materials",
        start_date=date(2026, 1, 1),
        rate_card=(
            RateCardVersion(version=1, effective_from=date(2026, 1, 1), rates={"consultant": Decimal("150")}),
            RateCardVersion(
                version=2, effective_from=date(2026, 1, 15), rates={"consultant": Decimal("160")}
            ),
        ),
    )
    base.update(kw)
    return Contract(**base)  # type: ignore[arg-type]


def test_the_rate_in_force_is_the_latest_version_not_after_the_day() -> None:
    k = contract()
    assert k.rate_for("consultant", date(2026, 1, 14))[1] == Money.of("150", USD)
    assert k.rate_for("consultant", date(2026, 1, 15))[1] == Money.of("160", USD)
    with pytest.raises(NoEffectiveRate):
        k.rate_for("consultant", date(2025, 12, 31))
    with pytest.raises(NoEffectiveRate, match="partner"):
        k.rate_for("partner", date(2026, 1, 20))


def test_contract_models_need_their_terms() -> None:
    with pytest.raises(ValidationError, match="rate_card"):
        contract(rate_card=())
    with pytest.raises(ValidationError, match="fixed_fee"):
        contract(billing_model="fixed_fee")
    with pytest.raises(ValidationError, match="add up"):
        contract(
            billing_model="fixed_fee",
            fixed_fee=Money.of("1000", USD),
            installments=(Installment(id="I-1", due_date=date(2026, 2, 1), amount=Money.of("400", USD)),),
        )
    with pytest.raises(ValidationError, match="cap"):
        contract(cap=Money.of("100", "EUR"))


def test_an_entry_must_fall_inside_its_project_and_assignment() -> None:
    project = Project(
        id="P-1",
        name="P",
        legal_entity_id="LE-US",
        customer_id="C-1",
        contract_id="K-1",
        start_date=date(2026, 1, 1),
        end_date=date(2026, 3, 31),
    )
    assignment = Assignment(
        id="A-1",
        project_id="P-1",
        resource_id="R-1",
        role="consultant",
        start_date=date(2026, 2, 1),
        end_date=date(2026, 2, 28),
    )
    inside = TimeEntry(
        id="T-1", resource_id="R-1", project_id="P-1", work_date=date(2026, 2, 3), hours=Decimal(8)
    )
    check_entry_in_schedule(inside, project, assignment)
    early = TimeEntry(
        id="T-2", resource_id="R-1", project_id="P-1", work_date=date(2026, 1, 20), hours=Decimal(8)
    )
    check_entry_in_schedule(early, project, None)
    with pytest.raises(ValidationError, match="outside assignment"):
        check_entry_in_schedule(early, project, assignment)
    late = TimeEntry(
        id="T-3", resource_id="R-1", project_id="P-1", work_date=date(2026, 4, 1), hours=Decimal(1)
    )
    with pytest.raises(ValidationError, match="outside project"):
        check_entry_in_schedule(late, project, None)
    other = TimeEntry(
        id="T-4", resource_id="R-2", project_id="P-1", work_date=date(2026, 2, 3), hours=Decimal(1)
    )
    with pytest.raises(ValidationError, match="not this resource"):
        check_entry_in_schedule(other, project, assignment)


def _line(amount: str, tax: str = "0") -> InvoiceLine:
    return InvoiceLine(
        id="L-1",
        kind="time",
        description="x",
        quantity=Decimal(1),
        unit_price=Money.of(amount, USD),
        amount=Money.of(amount, USD),
        tax=Money.of(tax, USD),
    )


def test_an_invoice_must_add_up_and_invoices_are_never_negative() -> None:
    fields = dict(
        id="INV-1",
        legal_entity_id="LE-US",
        customer_id="C-1",
        contract_id="K-1",
        project_id="P-1",
        period="2026-01",
        issue_date=date(2026, 1, 31),
        currency=USD,
    )
    ok = Invoice(
        kind="invoice",
        lines=(_line("100.00", "8.00"),),
        subtotal=Money.of("100", USD),
        tax=Money.of("8", USD),
        total=Money.of("108", USD),
        **fields,
    )  # type: ignore[arg-type]
    assert ok.total.amount == Decimal(108)
    with pytest.raises(ValidationError, match="total"):
        Invoice(
            kind="invoice",
            lines=(_line("100.00"),),
            subtotal=Money.of("100", USD),
            tax=Money.zero(USD),
            total=Money.of("101", USD),
            **fields,
        )  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="negative"):
        Invoice(
            kind="invoice",
            lines=(_line("-5.00"),),
            subtotal=Money.of("-5", USD),
            tax=Money.zero(USD),
            total=Money.of("-5", USD),
            **fields,
        )  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="minor unit"):
        _line("1.005")


def test_a_journal_entry_must_balance() -> None:
    def line(account: str, debit: str, credit: str) -> JournalLine:
        return JournalLine(account=account, debit=Money.of(debit, USD), credit=Money.of(credit, USD))

    JournalEntry(
        id="J-1",
        legal_entity_id="LE-US",
        entry_date=date(2026, 1, 31),
        period="2026-01",
        currency=USD,
        lines=(line("AR", "108", "0"), line("REV", "0", "100"), line("TAX", "0", "8")),
    )
    with pytest.raises(UnbalancedJournal):
        JournalEntry(
            id="J-2",
            legal_entity_id="LE-US",
            entry_date=date(2026, 1, 31),
            period="2026-01",
            currency=USD,
            lines=(line("AR", "108", "0"), line("REV", "0", "100")),
        )


@pytest.mark.parametrize(
    ("incoming", "stored", "newer"),
    [
        ("2", None, True),
        ("10", "9", True),
        ("9", "10", False),
        (None, "1", False),
        ("2026-01-02T00:00:00Z", "2026-01-01T23:59:59Z", True),
        ("5", "5", False),
    ],
)
def test_source_versions_order_changes(incoming: str | None, stored: str | None, newer: bool) -> None:
    assert is_newer(incoming, stored) is newer

"""A deal's new terms over the stored contract: rates never rewritten in the past, schedule kept."""

from __future__ import annotations

from typing import Any

from handoffs.flows.opportunity_to_project import amend_terms

STORED: dict[str, Any] = {
    "id": "K-1",
    "billing_model": "fixed_fee",
    "start_date": "2026-01-01",
    "end_date": "2026-12-31",
    "rate_card": [
        {
            "version": 1,
            "effective_from": "2026-01-01",
            "rates": {"consultant": "100.00", "manager": "150.00"},
        },
        {
            "version": 2,
            "effective_from": "2026-07-01",
            "rates": {"consultant": "110.00", "manager": "150.00"},
        },
    ],
    "installments": [
        {"id": "I-1", "due_date": "2026-03-01", "amount": {"amount": "5000", "currency": "USD"}}
    ],
}


def _card(rates_from: str, rates: dict[str, str], **terms: Any) -> dict[str, Any]:
    return amend_terms(
        STORED, {"rate_card": [{"version": 1, "effective_from": rates_from, "rates": rates}], **terms}
    )


def test_rates_already_in_force_change_nothing() -> None:
    assert _card("2026-01-01", {"consultant": "100"})["rate_card"] == STORED["rate_card"]
    assert _card("2026-08-01", {"consultant": "110.0"})["rate_card"] == STORED["rate_card"]


def test_a_changed_rate_is_the_next_version_from_its_date_over_the_rates_in_force() -> None:
    amended = _card("2026-09-01", {"manager": "165.00"}, end_date="2027-03-31")
    assert amended["rate_card"][:2] == STORED["rate_card"]
    assert amended["rate_card"][2] == {
        "version": 3,
        "effective_from": "2026-09-01",
        "rates": {"consultant": "110.00", "manager": "165.00"},
    }
    assert amended["end_date"] == "2027-03-31" and amended["installments"] == STORED["installments"]


def test_a_change_on_a_versions_own_date_replaces_that_versions_rates() -> None:
    amended = _card("2026-07-01", {"consultant": "120.00"})
    assert [v["rates"]["consultant"] for v in amended["rate_card"]] == ["100.00", "120.00"]

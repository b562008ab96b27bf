"""Derived ids are UUIDv5 of their parts: the ids stored by earlier versions are derived again."""

from __future__ import annotations

import uuid

import pytest

from handoffs.domain.ports import DeterministicIds

NAMESPACE = uuid.UUID("6f1c5e0a-6c55-4d8e-9b0b-68616e646f66")


@pytest.mark.parametrize(
    "parts",
    [
        ("time-entry-approved", "TE-00000001", "1"),
        ("generate-invoice", "9a7b", "P-001", "2026-01"),
        ("",),
        ("facture", "Müller & Söhne", "€ 1 000", "日本"),
        ("x" * 5000,),
    ],
)
def test_derived_ids_are_uuid5_of_the_joined_parts(parts: tuple[str, ...]) -> None:
    assert DeterministicIds().derive(*parts) == str(uuid.uuid5(NAMESPACE, "\x1f".join(parts)))


def test_a_known_id_never_changes() -> None:
    derived = DeterministicIds().derive("invoice-generated", "INV-P-001-2026-01-01")
    assert derived == "9999a30a-0e7a-58d0-86e4-9a8d4922c990"

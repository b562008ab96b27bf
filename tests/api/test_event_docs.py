"""docs/events.md matches the event catalog, and each CloudEvent's data matches its documented schema."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import jsonschema
import orjson
import pytest

from handoffs.api.eventdocs import data_schema, render
from handoffs.engine.relay import EVENT_CLASSES, cloudevent

DOC = Path(__file__).parents[2] / "docs" / "events.md"
SAMPLE: dict[type, Any] = {str: "x-1", int: 3, Decimal: Decimal("12.50"), bool: True}


def test_docs_are_generated_from_the_catalog() -> None:
    assert DOC.read_text() == render(), "regenerate: python -m handoffs.api.eventdocs > docs/events.md"


@pytest.mark.parametrize("name", sorted(EVENT_CLASSES))
def test_cloudevent_matches_its_documented_schema(name: str) -> None:
    import dataclasses
    import typing

    cls = EVENT_CLASSES[name]
    hints = typing.get_type_hints(cls)
    values = {f.name: SAMPLE.get(hints[f.name], "x") for f in dataclasses.fields(cls)}
    values["occurred_at"] = datetime(2026, 11, 25, 12, tzinfo=UTC)
    event = orjson.loads(orjson.dumps(cloudevent(cls(**values))))
    assert event["specversion"] == "1.0" and event["type"] == f"dev.handoffs.{name}.v1"
    assert {"id", "source", "type", "time"} <= set(event)
    jsonschema.validate(event["data"], data_schema(cls))

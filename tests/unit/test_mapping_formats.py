"""Mappings read real exports: declared date formats, durations, decimal commas, blank cells, identities."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from handoffs.connectors.mapping import (
    MappingFailure,
    MappingSpecError,
    NoLookups,
    apply_mapping,
    parse_mapping,
    record_updated,
)
from handoffs.connectors.mapping.convert import parse_duration

MAPPING = """\
version: 1
system: tool
mappings:
  - name: time_entries
    direction: inbound
    canonical: time_entry
    key: Id
    fields:
      id: {template: "t-{Id}"}
      resource_id: {from: Mail, lookup: {match: resource, by: email}}
      work_date: {from: Day, type: date, format: ["%d/%m/%Y", "%d.%m.%Y"]}
      hours: {from: Time, type: duration}
      rate: {from: Rate, type: decimal, decimal: ","}
      logged_at: {from: Logged, type: datetime, format: "%d/%m/%Y %H:%M", timezone: Europe/Berlin}
      task: {from: Task, default: general}
"""


class People(NoLookups):
    def __init__(self, by_email: dict[str, list[str]]) -> None:
        self.by_email = by_email

    def match(self, canonical_type: str, field: str, value: str) -> list[str]:
        return (
            self.by_email.get(value.casefold(), [])
            if (canonical_type, field) == ("resource", "email")
            else []
        )


def row(**changes: str) -> dict[str, Any]:
    base = {"Id": "7", "Mail": " Ana@Firm.example", "Day": "14/01/2026", "Time": "1:30", "Rate": "1.234,50",
            "Logged": "14/01/2026 18:05", "Task": "", "_file": "jan.csv", "_line": 3}  # fmt: skip
    return base | changes


@pytest.mark.parametrize(
    ("text", "hours"),
    [
        ("1:30", "1.5"),
        ("0:20", "0.3333"),
        ("1:30:00", "1.5"),
        ("90m", "1.5"),
        ("1.5h", "1.5"),
        ("1h 30m", "1.5"),
        ("2 hours", "2"),
        ("7.25", "7.25"),
    ],
)
def test_durations_are_read_as_hours(text: str, hours: str) -> None:
    assert parse_duration(text) == Decimal(hours)


def test_decimal_comma_durations_and_bare_minutes() -> None:
    assert parse_duration("1,5h", decimal=",") == Decimal("1.5")
    assert parse_duration("1,25", decimal=",") == Decimal("1.25")
    assert parse_duration("45", unit="minutes") == Decimal("0.75")
    with pytest.raises(ValueError, match="not a duration"):
        parse_duration("an hour")


def test_a_record_is_read_as_its_export_writes_it() -> None:
    spec = parse_mapping(MAPPING, "mappings/tool.yaml").get("time_entries")
    mapped = apply_mapping(spec, row(), "tool", People({"ana@firm.example": ["R-0001"]}))
    assert mapped["resource_id"] == "R-0001"
    assert mapped["work_date"] == date(2026, 1, 14)
    assert mapped["hours"] == Decimal("1.5") and mapped["rate"] == Decimal("1234.50")
    assert mapped["logged_at"].astimezone(UTC) == datetime(2026, 1, 14, 17, 5, tzinfo=UTC)
    assert mapped["task"] == "general"  # a blank cell takes the declared default
    assert apply_mapping(spec, row(Day="14.01.2026"), "tool", People({"ana@firm.example": ["R-1"]}))[
        "work_date"
    ] == date(2026, 1, 14)


def test_a_failure_names_the_mapping_file_the_line_and_the_field() -> None:
    spec = parse_mapping(MAPPING, "mappings/tool.yaml").get("time_entries")
    with pytest.raises(MappingFailure) as bad_date:
        apply_mapping(spec, row(Day="2026-13-01"), "tool", People({"ana@firm.example": ["R-1"]}))
    assert bad_date.value.field == "work_date"
    assert "mapping mappings/tool.yaml:11;" in str(bad_date.value) and "jan.csv line 3" in str(bad_date.value)
    assert "%d/%m/%Y" in str(bad_date.value)
    with pytest.raises(MappingFailure, match="no resource has email"):
        apply_mapping(spec, row(), "tool", People({}))
    with pytest.raises(MappingFailure, match="matches 2 resources"):
        apply_mapping(spec, row(), "tool", People({"ana@firm.example": ["R-1", "R-2"]}))
    with pytest.raises(MappingFailure, match="decimal comma"):
        apply_mapping(spec, row(Rate="1.5"), "tool", People({"ana@firm.example": ["R-1"]}))


@pytest.mark.parametrize(
    ("rule", "complaint"),
    [
        ('{from: Day, type: str, format: "%d/%m/%Y"}', "format applies to type date or datetime"),
        ('{from: Day, type: date, format: "dd/mm/yyyy"}', "strptime format"),
        ('{from: Time, type: duration, unit: fortnights}', "unit must be one of"),
        ('{from: Rate, type: decimal, decimal: ";"}', 'decimal must be'),
        ('{from: Logged, type: datetime, timezone: Mars/Olympus}', "not a timezone name"),
        ('{from: Mail, lookup: {match: resource, by: mail}}', "match needs by"),
    ],
)  # fmt: skip
def test_a_wrong_rule_is_refused_at_load_with_its_line(rule: str, complaint: str) -> None:
    text = MAPPING.replace('{template: "t-{Id}"}', '{template: "t-{Id}"}\n      extra: ' + rule)
    with pytest.raises(MappingSpecError) as exc:
        parse_mapping(text, "mappings/tool.yaml")
    assert complaint in str(exc.value) and "mappings/tool.yaml:10" in str(exc.value)
    assert "'extra'" in str(exc.value)


def test_the_cursor_stamp_is_read_as_declared() -> None:
    text = MAPPING.replace(
        "    key: Id\n", '    key: Id\n    updated: {from: Logged, format: "%d/%m/%Y %H:%M", timezone: UTC}\n'
    )
    spec = parse_mapping(text, "mappings/tool.yaml").get("time_entries")
    assert record_updated(spec, row()) == datetime(2026, 1, 14, 18, 5, tzinfo=UTC)
    assert record_updated(spec, row(Logged="")) is None
    iso = parse_mapping(MAPPING.replace("    key: Id\n", "    key: Id\n    updated: Logged\n")).get(
        "time_entries"
    )
    assert record_updated(iso, row(Logged="2026-01-14T18:05:00Z")) == datetime(2026, 1, 14, 18, 5, tzinfo=UTC)
    with pytest.raises(MappingSpecError, match="updated needs from"):
        parse_mapping(MAPPING.replace("    key: Id\n", "    key: Id\n    updated: {format: x}\n"))

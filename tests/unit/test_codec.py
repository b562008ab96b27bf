from decimal import Decimal

import jsonschema
import orjson
import pytest

from handoffs.bench.datagen import backfill_lines
from handoffs.domain.catalog import OBJECT_TYPES, decode_record
from handoffs.domain.codec import encode, json_schema
from handoffs.domain.errors import ValidationError
from handoffs.domain.work import TimeEntry

ENTRY = {
    "type": "time_entry",
    "id": "TE-1",
    "resource_id": "R-1",
    "project_id": "P-1",
    "work_date": "2026-01-05",
    "hours": "7.25",
    "status": "approved",
    "approved_at": "2026-01-06T09:00:00Z",
}


def test_a_record_round_trips_through_the_canonical_format() -> None:
    record = decode_record(ENTRY)
    assert isinstance(record.obj, TimeEntry)
    assert record.obj.hours == Decimal("7.25")
    again = decode_record({"type": "time_entry", **encode(record.obj)})
    assert again.obj == record.obj


@pytest.mark.parametrize(
    ("change", "field", "reason"),
    [
        ({"hours": "0"}, "hours", "more than 0"),
        ({"hours": "24.5"}, "hours", "at most 24"),
        ({"hours": 7.5}, "hours", "never a float"),
        ({"work_date": "2026-02-30"}, "work_date", "not a valid date"),
        ({"approved_at": "2026-01-06T09:00:00"}, "approved_at", "UTC offset"),
        ({"status": "maybe"}, "status", "must be one of"),
        ({"colour": "red"}, "colour", "unknown field"),
        ({"id": ""}, "id", "1-128 characters"),
    ],
)
def test_bad_values_name_their_field(change: dict[str, object], field: str, reason: str) -> None:
    with pytest.raises(ValidationError) as info:
        decode_record({**ENTRY, **change})
    assert info.value.field == field
    assert reason in info.value.reason


def test_missing_fields_and_unknown_types_are_refused() -> None:
    data = dict(ENTRY)
    del data["project_id"]
    with pytest.raises(ValidationError, match="project_id: is required"):
        decode_record(data)
    with pytest.raises(ValidationError, match="type"):
        decode_record({**ENTRY, "type": "timesheet"})


def test_nested_errors_carry_the_path() -> None:
    contract = next(
        orjson.loads(line) for line in backfill_lines(entries=1, projects=1) if '"type":"contract"' in line
    )
    contract["rate_card"][1]["rates"]["analyst"] = "-1"
    with pytest.raises(ValidationError) as info:
        decode_record(contract)
    assert info.value.field == "rate_card[1].rates.analyst"


def test_every_generated_record_validates_against_its_json_schema() -> None:
    schemas = {name: json_schema(cls) for name, cls in OBJECT_TYPES.items()}
    for line in backfill_lines(entries=20, projects=2):
        data = orjson.loads(line)
        body = {k: v for k, v in data.items() if k not in ("type", "source_system", "source_version")}
        jsonschema.validate(body, schemas[data["type"]])

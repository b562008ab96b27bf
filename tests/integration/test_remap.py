"""A held record keeps its raw payload and is mapped again once its mapping or reference data is fixed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from sqlalchemy import select

from handoffs.bootstrap import App, build
from handoffs.config.systems import parse_systems
from handoffs.connectors.registry import load_system_mapping
from handoffs.flows.ingest import ingest_lines
from handoffs.settings import Settings
from handoffs.store.tables import audit_log
from handoffs.sync.pull import PullRunner
from handoffs.sync.remap import retry_exception
from tests.e2e.test_onboard_time_tool import SYSTEMS, master_data

ROOT = Path(__file__).resolve().parents[2]
EXPORT = """\
Entry No;Email;Project;Date;Duration;Billable;Status;Activity;Comment
601;new.hire@firm.example;P-RATE;02/03/2026;7:30;yes;approved;;
602;ana.lopez@firm.example;P-RATE;2026-03-03;90m;;approved;;
603;ana.lopez@firm.example;P-RATE;04/03/2026;25:00;yes;approved;;
"""
NEW_HIRE = {"type": "resource", "id": "R-NEW", "name": "Noor Haddad", "legal_entity_id": "LE-FR",
            "role": "consultant", "cost_rate": {"amount": "90.00", "currency": "EUR"},
            "email": "New.Hire@firm.example", "source_system": "erp"}  # fmt: skip


@pytest.fixture
def studio(database_url: str, tmp_path: Path) -> Iterator[App]:
    mapping = tmp_path / "studio_time.yaml"
    mapping.write_text((ROOT / "mappings" / "studio_time.yaml").read_text())
    (tmp_path / "drops" / "studio" / "inbox").mkdir(parents=True)
    (tmp_path / "drops" / "studio" / "inbox" / "march.csv").write_text(EXPORT)
    systems = parse_systems(SYSTEMS.format(mapping=mapping), str(tmp_path / "handoffs.yaml"), tmp_path)
    app = build(Settings(database_url=database_url, erp="memory"), systems=systems)
    master_data(tmp_path / "firm.jsonl")
    ingest_lines((tmp_path / "firm.jsonl").open(), app.uow, app.ports, source="firm.jsonl")
    cfg = systems.systems["studio_time"]
    spec = load_system_mapping(cfg).get("time_entries")  # type: ignore[union-attr]
    PullRunner(app.uow, app.ports, app.lookups).pull(app.sources["studio_time"], "time_entries", spec)
    yield app
    app.close()


def held(app: App) -> dict[str, object]:
    with app.uow() as uow:
        return {
            str(e.detail.get("record_id") or e.detail["record"].split()[-1]): e for e in uow.exceptions.list()
        }


def test_held_records_are_mapped_again_after_the_fix(studio: App, tmp_path: Path) -> None:
    exceptions = held(studio)
    assert {k: e.category for k, e in exceptions.items()} == {  # type: ignore[attr-defined]
        "601": "mapping",
        "602": "mapping",
        "603": "validation",
    }
    for key, e in exceptions.items():  # the row is kept whole, with where it was in the export
        raw = orjson.loads(e.raw)  # type: ignore[attr-defined]
        assert raw["Entry No"] == key and raw["_file"] == "march.csv"
    person, day, hours = (exceptions[k].id for k in ("601", "602", "603"))  # type: ignore[attr-defined]

    again = retry_exception(studio, person, "cli:ana", reason="before the fix")
    assert again.outcome == "held" and "new.hire@firm.example" in again.reason
    with studio.uow() as uow:
        record = uow.exceptions.get(person)
    assert record is not None and record.state == "open" and record.attempts == 1

    ingest_lines([orjson.dumps(NEW_HIRE).decode()], studio.uow, studio.ports, source="hris")
    stored = retry_exception(studio, person, "cli:ana", reason="HR added the new hire")
    assert (stored.outcome, stored.state, stored.object_id, stored.load_outcome) == (
        "stored",
        "resolved",
        "studio-601",
        "inserted",
    )
    with studio.uow() as uow:
        entry = uow.time_entries.get("studio-601")
        assert entry is not None and entry.entry.resource_id == "R-NEW"
        assert uow.exceptions.get(person).state == "resolved"  # type: ignore[union-attr]
        actions = uow.connection.execute(select(audit_log.c.action, audit_log.c.actor)).all()
    assert actions.count(("exceptions.remap", "cli:ana")) == 2

    mapping = tmp_path / "studio_time.yaml"
    mapping.write_text(mapping.read_text().replace('format: "%d/%m/%Y"', 'format: ["%d/%m/%Y", "%Y-%m-%d"]'))
    assert retry_exception(studio, day, "cli:ana").outcome == "stored"  # the current mapping file is read
    with studio.uow() as uow:
        assert uow.time_entries.get("studio-602").entry.work_date.isoformat() == "2026-03-03"  # type: ignore[union-attr]

    still = retry_exception(studio, hours, "cli:ana")
    assert still.outcome == "held" and "hours" in still.reason and "at most 24" in still.reason
    with pytest.raises(ValueError, match="only an open one"):
        retry_exception(studio, person, "cli:ana")
    with pytest.raises(LookupError):
        retry_exception(studio, 10_000, "cli:ana")


def test_a_bulk_retry_maps_held_records_again_in_every_door(studio: App, tmp_path: Path) -> None:
    """#15 item 4: the filter-and-bulk retry (console, CLI and process API share it) re-maps a
    pull's held records from their payloads, as the single retry does, and leaves the rest held."""
    from handoffs.api import bulk
    from handoffs.api.context import Principal
    from handoffs.flows import triage_bulk
    from handoffs.sync.remap import remapper

    ingest_lines([orjson.dumps(NEW_HIRE).decode()], studio.uow, studio.ports, source="hris")
    mapping = tmp_path / "studio_time.yaml"
    mapping.write_text(mapping.read_text().replace('format: "%d/%m/%Y"', 'format: ["%d/%m/%Y", "%Y-%m-%d"]'))
    operator = Principal("cli:ana", "ana", frozenset({"*"}), None, "cli")
    with studio.uow() as uow:
        chosen = triage_bulk.Filter(system="studio_time")
        ids = [i.id for i in triage_bulk.select(uow, chosen)]
        result = bulk.apply(
            uow, operator, "retry", ids, reason="mapping and HR fixed", remap=remapper(studio, "cli:ana")
        )
        uow.commit()
    assert (result.body["selected"], result.body["changed"], result.body["refused"]) == (3, 3, 0)
    outcomes = sorted(item["remap"] for item in result.body["changed_items"])
    assert outcomes == ["held", "stored", "stored"]  # 25:00 h still breaks the 24 h rule
    with studio.uow() as uow:
        assert (
            uow.time_entries.get("studio-601") is not None and uow.time_entries.get("studio-602") is not None
        )
        states = sorted(e.state for e in uow.exceptions.list())
    assert states == ["open", "resolved", "resolved"]


def test_a_mapping_file_that_no_longer_loads_refuses_each_retry_and_changes_nothing(
    studio: App, tmp_path: Path
) -> None:
    from handoffs.api import bulk
    from handoffs.api.context import Principal
    from handoffs.flows import triage_bulk
    from handoffs.sync.remap import remapper

    (tmp_path / "studio_time.yaml").write_text("resources: [not, a, mapping\n")
    operator = Principal("cli:ana", "ana", frozenset({"*"}), None, "cli")
    with studio.uow() as uow:
        ids = [i.id for i in triage_bulk.select(uow, triage_bulk.Filter(system="studio_time"))]
        result = bulk.apply(uow, operator, "retry", ids, reason="try", remap=remapper(studio, "cli:ana"))
        uow.commit()
    assert (result.body["changed"], result.body["refused"]) == (0, 3)
    assert all("cannot be mapped again" in item["reason"] for item in result.body["refused_items"])
    with studio.uow() as uow:
        assert sorted(e.state for e in uow.exceptions.list()) == ["open", "open", "open"]

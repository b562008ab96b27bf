"""The acquired firm's time tool: a CSV export onboarded with a mapping file and a config entry.

No Python is written for it: the test builds the connector from a ``handoffs.yaml`` entry
(``connector: csv_time``) and ``mappings/acquired_time.yaml``, then runs the conformance suite.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from handoffs.bootstrap import App, build
from handoffs.config.systems import parse_systems
from handoffs.connectors.mapping import MappingSpec, load_mapping
from handoffs.connectors.registry import load_system_mapping
from handoffs.settings import Settings
from handoffs.simulator.firm import Firm, generate_firm
from tests.connectors.conformance import SourceConformance
from tests.connectors.support import pull

ROOT = Path(__file__).resolve().parents[2]
HEADER = ["Entry ID", "User", "Email", "Project Code", "Task", "Description", "Billable", "Start Date",
          "Duration (decimal)", "Approved", "Updated At"]  # fmt: skip
CONFIG = """\
version: 1
systems:
  acquired_time:
    role: time
    connector: csv_time
    folder: drops/acquired-time
    mapping: {mapping}
    resources: [time_entries]
"""


class Folder:
    """The acquired tool's export folder: what it holds, and what it exported."""

    def __init__(self, root: Path, firm: Firm, drift: bool = False) -> None:
        self.root, self.inbox = root, root / "inbox"
        self.inbox.mkdir(parents=True, exist_ok=True)
        self.rows: dict[str, dict[str, str]] = {}
        self.drift = drift
        for n, e in enumerate(firm.time_entries[:120], start=1):
            self.rows[str(70000 + n)] = {
                "Entry ID": str(70000 + n),
                "User": e.resource_id,
                "Email": f"{e.resource_id}@acquired.example",
                "Project Code": e.project_id,
                "Task": e.task or "",
                "Description": e.notes or "",
                "Billable": "Yes" if e.billable else "No",
                "Start Date": e.work_date.isoformat(),
                "Duration (decimal)": str(e.hours),
                "Approved": "Yes" if e.status == "approved" else "No",
                "Updated At": "2025-04-01T09:00:00Z",
            }
        ids = sorted(self.rows)
        self.export("2025-03-a", ids[:60])
        self.export("2025-03-b", ids[60:])

    def export(self, name: str, ids: list[str]) -> None:
        header = [h if not (self.drift and h == "Duration (decimal)") else "Duration" for h in HEADER]
        with (self.inbox / f"{name}.csv").open("w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(header)
            writer.writerows([self.rows[i][h] for h in HEADER] for i in ids)


def link_acquired_people(hub: App, firm: Firm) -> None:
    """Onboarding's identity match: which acquired-tool user is which resource."""
    with hub.uow() as uow:
        for r in firm.resources:
            uow.xrefs.link("resource", r.id, "acquired_time", f"{r.id}@acquired.example")
        uow.commit()


class TestAcquiredCsvTime(SourceConformance):
    system, resource, drift_field = "acquired_time", "time_entries", "hours"

    def start(
        self, seeds: Any, serve: Any, tmp_path: Path, faults: str = "none", **o: Any
    ) -> tuple[Any, Any]:
        self.folder = Folder(
            tmp_path / "drops" / "acquired-time", generate_firm(11, "small"), o.get("schema_drift", False)
        )
        text = CONFIG.format(mapping=ROOT / "mappings" / "acquired_time.yaml")
        systems = parse_systems(text, str(tmp_path / "handoffs.yaml"), tmp_path)
        self.app = build(
            Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}", erp="none"), systems=systems
        )
        self.mapping = load_system_mapping(systems.systems["acquired_time"])
        return self.folder, self.app.sources["acquired_time"]

    def spec(self) -> MappingSpec:
        assert self.mapping is not None
        return self.mapping.get("time_entries")

    def truth(self, sim: Any) -> set[str]:
        return set(sim.rows)

    def touch(self, sim: Any, key: str) -> None:
        sim.rows[key]["Description"] = "corrected after export"
        sim.rows[key]["Updated At"] = "2025-04-02T09:00:00Z"
        sim.export("2025-03-correction", [key])

    def secret(self) -> str:
        return "a-folder-drop-has-no-secret"

    def prepare(self, hub: App) -> None:
        link_acquired_people(hub, generate_firm(11, "small"))

    def bad_connector(self, url: str, tmp_path: Path) -> Any:
        return None

    def test_onboarding_stores_the_time_and_touches_no_python(
        self, firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
    ) -> None:
        folder, connector = self.start(seeds, serve, tmp_path)
        self.prepare(firm_hub)
        report = pull(firm_hub, connector, self.resource, self.spec())
        assert report.mapped == 120 and report.load.outcomes["inserted"] == 120
        assert (
            not list(folder.inbox.glob("*.csv")) and len(list((folder.root / "archive").glob("*.csv"))) == 2
        )
        with firm_hub.uow() as uow:
            stored = uow.time_entries.get("acq-70001")
        assert stored is not None and stored.entry.project_id == firm.time_entries[0].project_id

    def test_a_line_that_is_not_utf8_is_held_and_the_rest_of_the_file_loads(
        self, firm_hub: App, firm: Firm, seeds: Any, serve: Any, tmp_path: Path
    ) -> None:
        """#17 item 3 for file drops: a stray Latin-1 byte makes one bad line, not a failed pull."""
        folder, connector = self.start(seeds, serve, tmp_path)
        self.prepare(firm_hub)
        path = folder.inbox / "2025-03-a.csv"
        lines = path.read_bytes().splitlines(keepends=True)
        lines[3] = lines[3].replace(b",", b",caf\xe9 ", 1)  # row 3 of the file, Latin-1 in UTF-8
        path.write_bytes(b"".join(lines))
        report = pull(firm_hub, connector, self.resource, self.spec())
        assert (report.fetched, report.mapped, report.failed) == (120, 119, 1)
        with firm_hub.uow() as uow:
            [held] = [e for e in uow.exceptions.list() if e.source == "acquired_time:time_entries"]
        assert held.category == "mapping" and "not utf-8-sig text: line 4" in held.reason
        assert "caf\\xe9" in held.reason and "2025-03-a.csv line 4" in held.reason
        assert json.loads(held.raw)["User"].startswith("caf\\xe9")  # its bytes kept, escaped


def test_a_broken_mapping_names_its_line(tmp_path: Path) -> None:
    text = (ROOT / "mappings" / "acquired_time.yaml").read_text().replace("{from: Email,", "{fromm: Email,")
    broken = tmp_path / "acquired_time.yaml"
    broken.write_text(text)
    try:
        load_mapping(broken)
    except ValueError as exc:
        line = next(n for n, t in enumerate(text.splitlines(), start=1) if "fromm" in t)
        assert f"acquired_time.yaml:{line}:" in str(exc) and "fromm" in str(exc)
    else:
        raise AssertionError("a broken mapping must not load")

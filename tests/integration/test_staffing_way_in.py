"""Resource requests come in from a configured system and the process API, reach the staffing
check, leave events for each assignment and refusal, and time to staff reads their timestamps."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from handoffs.analytics import Scope, compute
from handoffs.api import ApiSettings, create_app
from handoffs.api.clients import create_client
from handoffs.bootstrap import App, build
from handoffs.config.systems import parse_systems
from handoffs.connectors.registry import load_system_mapping
from handoffs.flows.ingest import ingest_lines
from handoffs.settings import Settings
from handoffs.store.tables import messages
from handoffs.sync.pull import PullRunner
from tests.e2e.test_onboard_time_tool import master_data

ROOT = Path(__file__).resolve().parents[2]
SYSTEMS = """\
version: 1
systems:
  staffing_board:
    role: psa
    connector: csv_time
    folder: drops/requests
    mapping: {mapping}
    resources: [resource_requests]
    options: {{delimiter: ";"}}
"""
BOARD = """\
Request ID;Project;Role;Start;End;Hours per Week;Status;Requested At;Proposed Email;Proposed At
REQ-1;P-RATE;consultant;02/03/2026;27/03/2026;32;open;02/03/2026 09:00;ana.lopez@firm.example;04/03/2026 15:00
REQ-2;P-RATE;senior;02/03/2026;27/03/2026;16;open;02/03/2026 09:00;ana.lopez@firm.example;03/03/2026 09:00
REQ-3;P-RATE;consultant;09/03/2026;20/03/2026;8;open;03/03/2026 10:00;;
"""


@pytest.fixture
def board(database_url: str, tmp_path: Path) -> Iterator[App]:
    (tmp_path / "drops" / "requests" / "inbox").mkdir(parents=True)
    (tmp_path / "drops" / "requests" / "inbox" / "board.csv").write_text(BOARD)
    text = SYSTEMS.format(mapping=ROOT / "mappings" / "resource_requests.yaml")
    systems = parse_systems(text, str(tmp_path / "handoffs.yaml"), tmp_path)
    app = build(Settings(database_url=database_url, erp="memory"), systems=systems)
    master_data(tmp_path / "firm.jsonl")
    ingest_lines((tmp_path / "firm.jsonl").open(), app.uow, app.ports, source="firm.jsonl")
    yield app
    app.close()


def events(app: App, kind: str) -> list[dict[str, str]]:
    with app.engine.connect() as conn:
        rows = conn.execute(select(messages.c.payload).where(messages.c.type == kind)).all()
    return sorted((orjson.loads(r[0]) for r in rows), key=lambda e: e["request_id"])


def work(app: App) -> None:
    app.worker(sleep=lambda s: None).run(until_idle=True)


def test_requests_reach_the_staffing_check_and_time_to_staff_reads_their_stamps(board: App) -> None:
    spec = load_system_mapping(board.systems.systems["staffing_board"]).get("resource_requests")  # type: ignore[union-attr]
    report = PullRunner(board.uow, board.ports, board.lookups).pull(
        board.sources["staffing_board"], "resource_requests", spec
    )
    assert (report.mapped, report.failed) == (3, 0)
    work(board)

    [assigned] = events(board, "ConsultantAssigned")
    assert (assigned["request_id"], assigned["resource_id"], assigned["time_to_staff_hours"]) == (
        "REQ-1",
        "R-ANA",
        "54.00",  # requested 2 Mar 09:00, Ana named 4 Mar 15:00 (the board's stamps)
    )
    [refused] = events(board, "StaffingRefused")
    assert (refused["request_id"], refused["rule"]) == ("REQ-2", "staffing.role")
    with board.uow() as uow:
        assignment = uow.objects.get("assignment", "A-REQ-1-R-ANA")
        assert assignment is not None and assignment.assigned_at.isoformat() == "2026-03-04T15:00:00+00:00"
        assert [r.status for r in (uow.objects.get("resource_request", f"REQ-{n}") for n in (1, 2, 3))] == [
            "filled",
            "open",
            "open",
        ]
        [held] = uow.exceptions.list(category="staffing")
        assert held.object_id == "REQ-2" and "staffing.role" in held.reason

    with board.uow() as uow:
        key = create_client(uow, "operator:test", "resourcing", ["process:write"], None, rate=100, burst=100)
        uow.commit()
    headers = {"Authorization": f"Bearer {key.secret}"}
    with TestClient(create_app(board, ApiSettings()), raise_server_exceptions=False) as http:
        named = http.post(
            "/v1/process/resource-requests/REQ-3/assignments",
            json={"resource_id": "R-ANA", "assigned_at": "2026-03-05T10:00:00Z"},
            headers={**headers, "Idempotency-Key": "name-req-3"},
        )
        assert named.status_code == 202 and named.json()["type"] == "AssignConsultant", named.text
        raised = http.post(
            "/v1/process/resource-requests",
            json={
                "id": "REQ-4",
                "project_id": "P-RATE",
                "role": "senior",
                "start_date": "2026-03-16",
                "end_date": "2026-03-27",
                "hours_per_week": "20",
                "requested_at": "2026-03-01T09:00:00Z",
                "proposed_resource_id": "R-BEN",
                "proposed_at": "2026-03-02T09:00:00Z",
            },
            headers={**headers, "Idempotency-Key": "raise-req-4"},
        )
        assert raised.status_code == 202, raised.text
        assert raised.json() == {"request_id": "REQ-4", "outcome": "inserted", "staffing": "queued"}
        resent = http.post(  # the board sends the filled request again, still open: no second check
            "/v1/process/resource-requests",
            json={
                "id": "REQ-1",
                "project_id": "P-RATE",
                "role": "consultant",
                "start_date": "2026-03-02",
                "end_date": "2026-03-27",
                "hours_per_week": "32",
                "requested_at": "2026-03-02T09:00:00Z",
                "proposed_resource_id": "R-ANA",
                "proposed_at": "2026-03-04T15:00:00Z",
            },
            headers={**headers, "Idempotency-Key": "resend-req-1"},
        )
        assert resent.status_code == 202 and resent.json()["outcome"] == "updated", resent.text
        missing = http.post(
            "/v1/process/resource-requests/REQ-9/assignments",
            json={"resource_id": "R-ANA"},
            headers={**headers, "Idempotency-Key": "name-req-9"},
        )
        assert missing.status_code == 404
    work(board)
    hours = {e["request_id"]: e["time_to_staff_hours"] for e in events(board, "ConsultantAssigned")}
    assert hours == {"REQ-1": "54.00", "REQ-3": "48.00", "REQ-4": "24.00"}
    assert [e["request_id"] for e in events(board, "StaffingRefused")] == ["REQ-2"]
    with board.uow() as uow:
        assert uow.objects.get("resource_request", "REQ-1").status == "filled"  # type: ignore[union-attr]

    with board.engine.connect() as conn:
        product = compute(conn, Scope(period_from="2026-03", period_to="2026-03"), ["time_to_staff"])
    [row] = product["time_to_staff"].rows
    assert (row["requests"], row["filled"], row["open"]) == (4, 3, 1)
    assert row["mean_days_to_staff"] == Decimal("1.75")  # (54 + 48 + 24) h / 3 / 24
    assert row["max_days_to_staff"] == Decimal("2.25")

"""The file-drop ERP: acknowledgement, rejection, lost acknowledgement, outage, and the CLI fleet."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx

from handoffs.simulator.systems.legacy_gl import GL_HEADER, LegacyGl

GOOD = [
    ("le-uk", "2025-03", "GJ", "1100", "120.00", "", "GBP", "invoice", "inv-1"),
    ("le-uk", "2025-03", "GJ", "4000", "", "100.00", "GBP", "invoice", "inv-1"),
    ("le-uk", "2025-03", "GJ", "2100", "", "20.00", "GBP", "vat", "inv-1"),
]


def _drop(gl: LegacyGl, name: str, rows: list[tuple[str, ...]]) -> None:
    text = ",".join(GL_HEADER) + "\n" + "".join(",".join(r) + "\n" for r in rows)
    (gl.inbox / f"{name}.csv").write_text(text)


def test_a_balanced_batch_is_acknowledged_and_a_bad_one_rejected(tmp_path: Path, seeds: Any) -> None:
    gl = LegacyGl(seeds["legacy_gl"], tmp_path)
    _drop(gl, "B001", GOOD)
    _drop(gl, "B002", [*GOOD[:2], ("le-uk", "2024-01", "GJ", "9999", "", "20.00", "GBP", "x", "inv-2")])
    assert gl.process() == {"B001": "posted", "B002": "rejected"}
    assert "B001,POSTED,3,120.00" in (gl.outbox / "ACK_B001.csv").read_text()
    rejection = (gl.outbox / "REJ_B002.csv").read_text()
    assert "9999" in rejection and "not open" in rejection
    assert len(gl.posted) == 3 and not list(gl.inbox.glob("*.csv"))
    _drop(gl, "B001", GOOD)
    assert gl.process() == {"B001": "rejected"}
    assert len(gl.posted) == 3


def test_lost_acknowledgement_and_outage(tmp_path: Path, seeds: Any) -> None:
    gl = LegacyGl(seeds["legacy_gl"], tmp_path, lost_ack_rate=1.0, outage_windows=((1, 1),))
    _drop(gl, "B010", GOOD)
    assert gl.process() == {"B010": "deferred"}
    assert gl.process() == {"B010": "posted"}
    assert not (gl.outbox / "ACK_B010.csv").exists() and len(gl.posted) == 3
    assert gl.faults.fired == {"outage": 1, "lost_ack": 1}


def test_cli_up_serves_every_system_and_down_stops_them(tmp_path: Path) -> None:
    state = tmp_path / "sim.json"
    env = {**os.environ, "PYTHONPATH": str(Path.cwd() / "src")}
    code = "from handoffs.cli.simulate import app; app()"
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            code,
            "up",
            "--size",
            "small",
            "--state",
            str(state),
            "--workdir",
            str(tmp_path / "work"),
            "--json",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        for _ in range(300):
            if state.exists() or proc.poll() is not None:
                break
            time.sleep(0.1)
        record = json.loads(state.read_text())
        assert set(record["systems"]) == {
            "salesforce",
            "harvest",
            "workday",
            "expenses",
            "netsuite",
            "odoo",
            "legacy_gl",
        }
        harvest = record["systems"]["harvest"]["url"]
        assert httpx.get(f"{harvest}/_sim/state").json()["system"] == "harvest"
        down = subprocess.run(
            [sys.executable, "-c", code, "down", "--state", str(state)],
            env=env,
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert "stopped the simulated systems" in down.stdout
        assert proc.wait(timeout=30) == 0
        assert not state.exists()
    finally:
        if proc.poll() is None:
            proc.kill()

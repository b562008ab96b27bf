"""The documented walk on a clean folder: `simulate up`, `init`, `systems check`, `sync`,
`worker --until-idle`, and a second `sync` that pulls nothing new; then the cursor commands.

`simulate up` runs as its own process (real HTTP on 127.0.0.1); the hub's commands run
through the CLI in this process, with only the handoffs.yaml `init` wrote and the
environment variables it named.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from handoffs.cli.main import app
from handoffs.store.db import make_engine
from handoffs.store.tables import audit_log, deliveries


@pytest.fixture
def simulated(tmp_path: Path) -> Iterator[Path]:
    state = tmp_path / ".handoffs-sim.json"
    up = subprocess.Popen(
        [
            *(sys.executable, "-m", "handoffs.cli.main", "simulate", "up", "--size", "small"),
            *("--consultants", "3", "--state", str(state), "--workdir", str(tmp_path / "sim"), "--json"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(600):
            if state.exists() or up.poll() is not None:
                break
            time.sleep(0.1)
        assert state.exists(), up.stderr.read().decode() if up.stderr else "simulate up did not start"
        yield state
    finally:
        up.terminate()  # SIGTERM: `up` stops its systems and removes its state files
        up.wait(timeout=30)
    assert not state.exists() and not state.with_suffix(".env").exists()


def _secrets(env_file: Path) -> dict[str, str]:
    return dict(re.findall(r"^export (\w+)='(.*?)'$", env_file.read_text(), flags=re.S | re.M))


def test_a_new_user_syncs_works_and_the_second_sync_pulls_nothing_new(
    simulated: Path, tmp_path: Path
) -> None:
    yaml_file, db = tmp_path / "handoffs.yaml", f"sqlite:///{tmp_path / 'hub.db'}"
    cli = CliRunner()
    wrote = cli.invoke(app, ["init", "--simulated", str(simulated), "--file", str(yaml_file), "--json"])
    assert wrote.exit_code == 0, wrote.output
    assert "value:" not in yaml_file.read_text()  # secrets are references, never values
    named = json.loads(wrote.stdout)["environment"]
    again = cli.invoke(app, ["init", "harvest", "--file", str(yaml_file)])
    assert again.exit_code == 2 and "--force" in again.output  # never overwritten silently

    lacking = cli.invoke(app, ["systems", "check", "-f", str(yaml_file), "--json"], env={})
    assert lacking.exit_code == 1
    said = {m for s in json.loads(lacking.stdout)["systems"] for m in s["missing"]}
    assert {f"environment variable {n} is not set" for n in named} == {m.split(": ", 1)[1] for m in said}

    env = {
        **_secrets(simulated.with_suffix(".env")),
        "HANDOFFS_DATABASE_URL": db,
        "HANDOFFS_SYSTEMS": str(yaml_file),
    }
    assert set(named) <= set(env)
    for step in (["systems", "check"], ["db", "upgrade"], ["simulate", "onboard", "--state", str(simulated)]):
        done = cli.invoke(app, step, env=env)
        assert done.exit_code == 0, (step, done.output)

    first = cli.invoke(app, ["sync", "--json"], env=env)
    assert first.exit_code == 0, first.output
    pulled = {s["system"]: s for s in json.loads(first.stdout)["systems"]}
    assert list(pulled) == ["workday", "salesforce", "harvest", "expenses"]  # people before their time
    assert all(s["ok"] and s["new"] > 0 for n, s in pulled.items() if n != "salesforce"), pulled
    assert pulled["salesforce"]["won_deals_handed_over"] > 0

    worked = cli.invoke(app, ["worker", "--until-idle", "--json"], env=env)
    # The simulated firm keeps a few records a person must look at (time outside its project's
    # dates): the worker holds them as exceptions and says so with exit 1, the rest is posted.
    dead = json.loads(worked.stdout)["dead"]
    assert worked.exit_code == (1 if dead else 0), worked.output
    engine = make_engine(db)
    with engine.connect() as conn:
        posted = dict(
            conn.execute(
                select(deliveries.c.system, func.count())
                .where(deliveries.c.object_type == "invoice", deliveries.c.status == "confirmed")
                .group_by(deliveries.c.system)
            ).all()
        )
    assert set(posted) == {"netsuite", "odoo", "legacy_gl"} and len(set(posted.values())) == 1, posted

    logged = cli.invoke(app, ["sync"], env=env)  # not a terminal: a log line per resource, a table
    assert logged.exit_code == 0, logged.output
    assert "sync harvest time_entries: pulling" in logged.stderr and "unchanged" in logged.stdout
    second = cli.invoke(app, ["sync", "--json"], env=env)
    assert second.exit_code == 0, second.output
    for s in json.loads(second.stdout)["systems"]:
        assert (s["new"], s["updated"], s["held"], s["won_deals_handed_over"]) == (0, 0, 0, 0), s

    shown = cli.invoke(app, ["sync", "state", "show", "harvest", "--json"], env=env)
    assert shown.exit_code == 0, shown.output
    cursors = {c["resource"]: c for c in json.loads(shown.stdout)}
    assert (
        set(cursors) == {"users", "projects", "time_entries"} and cursors["users"]["overlap_seconds"] == 600
    )
    reset = cli.invoke(
        app,
        [
            "sync",
            "state",
            "reset",
            "harvest",
            "--resource",
            "time_entries",
            "--to",
            "2025-03-01",
            "--by",
            "ops",
        ],
        env=env,
    )
    assert reset.exit_code == 0, reset.output
    listed = cli.invoke(app, ["sync", "state", "list", "--json"], env=env)
    moved = next(c for c in json.loads(listed.stdout) if c["resource"] == "time_entries")
    assert moved["position"] == "2025-03-01T00:00:00+00:00" and moved["keys_in_overlap"] == 0
    with engine.connect() as conn:
        row = conn.execute(select(audit_log).where(audit_log.c.action == "cli.sync.state.reset")).one()
    assert row.actor == "cli:ops" and row.target == "system:harvest"
    engine.dispose()
    again = cli.invoke(
        app, ["sync", "harvest", "--json"], env=env
    )  # pulled again: nothing new, nothing twice
    assert again.exit_code == 0, again.output
    harvest = json.loads(again.stdout)["systems"][0]
    assert harvest["pulled"] > 0 and (harvest["new"], harvest["updated"]) == (0, 0)

    unknown = cli.invoke(app, ["sync", "quickbooks"], env=env)
    assert unknown.exit_code == 2 and "quickbooks" in unknown.output

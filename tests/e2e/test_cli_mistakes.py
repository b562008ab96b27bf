"""A battery of a new user's mistakes, run through the real ``handoffs`` command.

Each case: the documented exit code (2 for usage, configuration or not found; 130 after
Ctrl-C), at most five lines of output, no traceback, and the problem named.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import orjson
import pytest

from tests.support.cli import handoffs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _handoffs(*args: str, env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return handoffs(*args, env=env, cwd=cwd, stdin="a long and unusual passphrase 42\n", timeout=120)


@pytest.fixture(scope="module")
def place(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A working directory with an upgraded SQLite database and no handoffs.yaml."""
    cwd = tmp_path_factory.mktemp("mistakes")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HANDOFFS_", "NETSUITE_"))}
    env |= {"HANDOFFS_DATABASE_URL": f"sqlite:///{cwd / 'hub.db'}", "COLUMNS": "100"}
    (cwd / "no-client-id.yaml").write_text(NO_CLIENT_ID)
    done = _handoffs("db", "upgrade", env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    return cwd, env


EXAMPLE_YAML = str(Path(__file__).resolve().parents[2] / "handoffs.yaml")  # credentials from env: refs
UNREACHABLE = f"postgresql://someone:hunter2@127.0.0.1:{_free_port()}/hub"
NO_CLIENT_ID = """\
version: 1
systems:
  netsuite:
    role: erp
    connector: netsuite
    base_url: https://1234567.suitetalk.api.netsuite.com
    credentials: {certificate_id: abc, private_key: env:HOME}
"""

# (id, arguments, extra environment, exit code, words that name the problem)
CASES = [
    (
        "bad-scheme",
        ["exceptions", "list", "--database-url", "mysql://u@h/db"],
        {},
        2,
        ["SQLite or PostgreSQL"],
    ),
    ("not-a-url", ["exceptions", "list"], {"HANDOFFS_DATABASE_URL": "hub.db"}, 2, ["not a database URL"]),
    (
        "unreachable",
        ["exceptions", "list", "--database-url", UNREACHABLE],
        {},
        2,
        ["did not answer", "refused"],
    ),
    (
        "bad-setting",
        ["worker", "--until-idle"],
        {"HANDOFFS_BATCH_SIZE": "abc"},
        2,
        ["HANDOFFS_BATCH_SIZE=abc"],
    ),
    ("no-credential", ["worker", "--until-idle", "--systems", EXAMPLE_YAML], {}, 2, ["is not set"]),
    ("no-yaml", ["systems", "check"], {}, 2, ["handoffs.yaml", "not found", "handoffs init"]),
    ("key-missing", ["worker", "--until-idle", "--systems", "no-client-id.yaml"], {}, 2, ["'client_id'"]),
    ("no-yaml-erp", ["erp", "compare"], {}, 2, ["handoffs.yaml", "handoffs init"]),
    ("short-secret", ["exceptions", "list"], {"HANDOFFS_SECRET_KEY": "short"}, 2, ["at least 32"]),
    (
        "not-set-up",
        ["exceptions", "list", "--database-url", "sqlite:///fresh.db"],
        {},
        2,
        ["handoffs db upgrade"],
    ),
    ("no-exception", ["exceptions", "show", "424242"], {}, 2, ["No exception 424242"]),
    ("no-line", ["explain", "invoice-line", "INV-NOPE-L0001"], {}, 2, ["No invoice line INV-NOPE-L0001"]),
    ("no-owner", ["exceptions", "assign", "424242", "--owner", "ana"], {}, 2, ["No exception 424242"]),
    ("no-key", ["apikey", "revoke", "hk_nope"], {}, 2, ["hk_nope"]),
    ("no-user", ["console", "password", "nobody", "--password-stdin"], {}, 2, ["nobody"]),
    ("bad-period", ["reconcile", "--period", "2026-13"], {}, 2, ["--period", "YYYY-MM"]),
    ("no-file", ["load", "missing.jsonl"], {}, 2, ["missing.jsonl", "does not exist"]),
    ("bad-option", ["exceptions", "list", "--colour"], {}, 2, ["--colour", "--help"]),
    ("bad-command", ["exceptoins"], {}, 2, ["exceptoins"]),
]


def test_each_mistake_is_a_short_answer(place: tuple[Path, dict[str, str]]) -> None:
    cwd, env = place

    def check(case: tuple[str, list[str], dict[str, str], int, list[str]]) -> str | None:
        name, args, extra, code, words = case
        done = _handoffs(*args, env=env | extra, cwd=cwd)
        output = done.stdout + done.stderr
        problems = [
            f"exit {done.returncode}, not {code}" if done.returncode != code else "",
            "a traceback" if "Traceback" in output else "",
            "more than five lines" if len(output.strip().splitlines()) > 5 else "",
            "the password shown" if "hunter2" in output else "",
            *(f"{word!r} not said" for word in words if word not in output),
        ]
        found = [p for p in problems if p]
        return f"{name} ({' '.join(args)}): {', '.join(found)}\n{output}" if found else None

    with ThreadPoolExecutor(max_workers=4) as pool:  # independent processes: CI time, not order
        failures = [f for f in pool.map(check, CASES) if f]
    assert not failures, "\n".join(failures)


def test_under_json_the_error_is_json(place: tuple[Path, dict[str, str]]) -> None:
    cwd, env = place
    done = _handoffs("exceptions", "show", "424242", "--json", env=env, cwd=cwd)
    assert done.returncode == 2
    error = orjson.loads(done.stdout)["error"]
    assert error == {"message": "No exception 424242.", "exit_code": 2}


def test_debug_shows_the_traceback(place: tuple[Path, dict[str, str]]) -> None:
    cwd, env = place
    done = _handoffs("--debug", "exceptions", "list", "--database-url", UNREACHABLE, env=env, cwd=cwd)
    assert done.returncode == 1
    assert "Traceback" in done.stderr and "OperationalError" in done.stderr


def test_ctrl_c_exits_130(place: tuple[Path, dict[str, str]]) -> None:
    cwd, env = place
    port = _free_port()
    worker = subprocess.Popen(
        [sys.executable, "-m", "handoffs.cli.main", "worker", "--metrics-port", str(port)],
        env=env,
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(600):  # the worker is in its loop once it serves its metrics
            try:
                httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)
                break
            except httpx.TransportError:
                if worker.poll() is not None:
                    break
                time.sleep(0.1)
        worker.send_signal(signal.SIGINT)
        out, err = worker.communicate(timeout=60)
    finally:
        worker.kill()
    assert worker.returncode == 130, err
    assert "Traceback" not in out + err


def test_version_and_config_show_mask_secrets(place: tuple[Path, dict[str, str]]) -> None:
    cwd, env = place
    done = _handoffs("--version", env=env, cwd=cwd)
    assert done.returncode == 0 and done.stdout.startswith("handoffs 0.")
    (cwd / ".env").write_text("HANDOFFS_BATCH_SIZE=250\nHANDOFFS_SECRET_KEY=" + "k" * 40 + "\n")
    try:
        shown = _handoffs(
            "config", "show", "--json", env=env | {"HANDOFFS_DATABASE_URL": UNREACHABLE}, cwd=cwd
        )
    finally:
        (cwd / ".env").unlink()
    rows = {r["variable"]: r for r in orjson.loads(shown.stdout)}
    assert rows["HANDOFFS_BATCH_SIZE"] == {
        "variable": "HANDOFFS_BATCH_SIZE",
        "value": "250",
        "source": ".env",
    }
    assert rows["HANDOFFS_SECRET_KEY"]["value"] == "***"
    assert rows["HANDOFFS_DATABASE_URL"]["value"].startswith("postgresql://someone:***@127.0.0.1")
    assert rows["HANDOFFS_ERP"]["source"] == "default"
    assert "hunter2" not in shown.stdout and "k" * 40 not in shown.stdout


def test_a_line_that_is_not_utf8_is_one_bad_line(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from handoffs.bench.datagen import backfill_lines
    from handoffs.cli.main import app

    lines = [line.rstrip("\n").encode() for line in backfill_lines(entries=12, projects=2)]
    entry = next(i for i, line in enumerate(lines) if b'"type":"time_entry"' in line)
    lines[entry] = lines[entry].replace(b'"notes":null', b'"notes":"caf\xe9"')  # Latin-1, not UTF-8
    firm = tmp_path / "firm.jsonl"
    firm.write_bytes(b"\n".join(lines) + b"\n")
    env = {"HANDOFFS_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}"}
    runner = CliRunner()
    assert runner.invoke(app, ["db", "upgrade"], env=env).exit_code == 0
    loaded = runner.invoke(app, ["load", str(firm), "--json"], env=env)
    assert loaded.exit_code == 1, loaded.output
    report = orjson.loads(loaded.stdout)
    assert report["lines"] == len(lines) and report["failed"] == 1
    assert report["by_type"]["time_entry"] == 11  # the rest of the file loaded
    (problem,) = orjson.loads(runner.invoke(app, ["exceptions", "list", "--json"], env=env).stdout)
    assert problem["detail"]["line"] == entry + 1
    assert "caf\\xe9" in problem["raw"] and "not UTF-8" in problem["reason"]

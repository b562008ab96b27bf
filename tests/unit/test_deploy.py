"""The deployment files under deploy/ are real: the compose file parses and wires one PostgreSQL,
a one-off migration and stateless workers and API servers; the systemd units run the commands
the CLI has, with the options it accepts, and systemd itself accepts them where it is installed.
"""

from __future__ import annotations

import configparser
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from handoffs.cli.main import app

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
UNITS = ("handoffs-worker@.service", "handoffs-serve@.service", "handoffs-migrate.service")


def _unit(name: str) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read_string((DEPLOY / "systemd" / name).read_text(encoding="utf-8"))
    return parser


def _settings_read_by_the_code() -> set[str]:
    found: set[str] = set()
    for path in (ROOT / "src" / "handoffs").rglob("*.py"):
        found |= set(re.findall(r"HANDOFFS_[A-Z_]+", path.read_text(encoding="utf-8")))
    return found


def _options(*command: str) -> str:
    result = CliRunner().invoke(app, [*command, "--help"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_compose_runs_migrations_once_then_stateless_workers_and_api_servers() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "worker", "api"}
    assert services["postgres"]["image"].startswith("postgres:")
    assert services["migrate"]["command"] == ["db", "upgrade"]
    assert services["migrate"]["restart"] == "no"
    assert services["worker"]["command"][0] == "worker"
    assert services["api"]["command"][:1] == ["serve"] and "--no-upgrade" in services["api"]["command"]
    for name in ("worker", "api"):
        service = services[name]
        assert service["depends_on"] == {"migrate": {"condition": "service_completed_successfully"}}
        assert service["deploy"]["replicas"] >= 2  # stateless: run as many as the load needs
        assert "volumes" not in service or all("erp" in v for v in service["volumes"])
        env = service["environment"]
        assert "@postgres:5432/" in env["HANDOFFS_DATABASE_URL"]
        assert env["HANDOFFS_SECRET_KEY"] == services["migrate"]["environment"]["HANDOFFS_SECRET_KEY"]
        assert set(env) <= _settings_read_by_the_code()
    assert services["migrate"]["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert services["worker"]["stop_signal"] == "SIGTERM"
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert 'ENTRYPOINT ["handoffs"]' in dockerfile and "USER handoffs" in dockerfile


def test_systemd_units_run_real_commands_with_the_shared_environment() -> None:
    worker, serve, migrate = (_unit(name) for name in UNITS)
    for unit in (worker, serve, migrate):
        service = unit["Service"]
        assert service["EnvironmentFile"] == "/etc/handoffs/handoffs.env"
        assert service["User"] == "handoffs"
    assert worker["Service"]["ExecStart"].endswith("handoffs worker --json")
    assert worker["Service"]["KillSignal"] == "SIGTERM"  # finish the batch in hand, then exit
    assert worker["Service"]["Restart"] == "always"
    assert migrate["Service"]["Type"] == "oneshot"
    assert migrate["Service"]["ExecStart"].endswith("handoffs db upgrade")
    exec_serve = serve["Service"]["ExecStart"]
    assert "handoffs serve" in exec_serve and "--port %i" in exec_serve and "--no-upgrade" in exec_serve
    # Every option a unit passes is one the CLI has.
    assert "--json" in _options("worker")
    for option in ("--host", "--port", "--no-upgrade"):
        assert option in _options("serve")
    env = dict(
        line.split("=", 1)
        for line in (DEPLOY / "systemd" / "handoffs.env").read_text(encoding="utf-8").splitlines()
        if line and not line.startswith("#")
    )
    assert env["HANDOFFS_DATABASE_URL"].startswith("postgresql://")
    assert "HANDOFFS_SECRET_KEY" in env  # one master secret for every process of the hub
    assert set(env) <= _settings_read_by_the_code()
    # A worker outlives its lease when stopped: systemd waits longer than a lease lasts.
    assert int(worker["Service"]["TimeoutStopSec"]) > float(env["HANDOFFS_LEASE_SECONDS"])


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd is not installed")
def test_systemd_accepts_the_units(tmp_path: Path) -> None:
    # The binary and the environment file live elsewhere on a real host; point at stand-ins.
    for name in UNITS:
        text = (DEPLOY / "systemd" / name).read_text(encoding="utf-8")
        text = text.replace("/opt/handoffs/.venv/bin/handoffs", "/bin/true")
        text = text.replace("/etc/handoffs/handoffs.env", str(DEPLOY / "systemd" / "handoffs.env"))
        instance = name.replace("@.", "@1.") if "worker" in name else name.replace("@.", "@8000.")
        (tmp_path / instance).write_text(text, encoding="utf-8")
    units = sorted(str(p) for p in tmp_path.iterdir())
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *units], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "handoffs" not in result.stderr, result.stderr  # no warnings about our units either

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
        # Stateless: the configuration read-only, folder drops on a volume every replica shares.
        assert all(v.endswith(":ro") or v.startswith("drops:") for v in service["volumes"])
        env = service["environment"]
        assert "@postgres:5432/" in env["HANDOFFS_DATABASE_URL"]
        assert env["HANDOFFS_SECRET_KEY"] == services["migrate"]["environment"]["HANDOFFS_SECRET_KEY"]
        assert set(env) <= _settings_read_by_the_code()
        assert env["HANDOFFS_SYSTEMS"] == "/etc/handoffs/handoffs.yaml"  # pulls on schedule, posts to ERPs
        assert env["HANDOFFS_POLICIES"] == "/etc/handoffs/policies"
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
    assert env["HANDOFFS_SYSTEMS"] == "/etc/handoffs/handoffs.yaml"
    assert env["HANDOFFS_POLICIES"] == "/etc/handoffs/policies"
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


def _deployed_commands() -> list[tuple[str, list[str]]]:
    """Every ``handoffs ...`` command line the deployment runs or its guide tells a user to run."""
    found: list[tuple[str, list[str]]] = []
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    for name, service in compose["services"].items():
        if "command" in service and name != "postgres":
            found.append((f"compose {name}", list(service["command"])))
    for name in UNITS:
        start = _unit(name)["Service"]["ExecStart"].replace("%i", "8000")
        found.append((name, start.split("/bin/handoffs", 1)[1].split()))
    guide = (ROOT / "docs" / "deploy.md").read_text(encoding="utf-8")
    for line in re.findall(r"^\s*(?:sudo -u handoffs \S+/)?handoffs (.+)$", guide, re.MULTILINE):
        if "handoffs " not in line:  # not the architecture drawing
            found.append(("docs/deploy.md", line.split("#", 1)[0].split()))
    for line in re.findall(r"^docker compose -f \S+ run --rm \w+ (.+)$", guide, re.MULTILINE):
        found.append(("docs/deploy.md (compose run)", line.split("#", 1)[0].split()))
    return found


def test_every_deployed_command_and_option_exists_in_the_cli() -> None:
    import typer.main

    root = typer.main.get_command(app)  # typer's own click: compared by behaviour, not class
    commands = _deployed_commands()
    assert len(commands) >= 8
    for where, args in commands:
        command = root
        rest = list(args)
        while hasattr(command, "list_commands"):  # a group: descend by name
            name = rest.pop(0)
            sub = command.get_command(None, name)  # type: ignore[arg-type]
            assert sub is not None, f"{where}: handoffs has no command {' '.join(args)}"
            command = sub
        options = {
            o: p
            for p in command.params
            if p.param_type_name == "option"
            for o in (*p.opts, *p.secondary_opts)
        }
        i = 0
        while i < len(rest):
            token = rest[i].split("=", 1)[0]
            if token.startswith("-"):
                assert token in options, f"{where}: {' '.join(args)}: {command.name} has no option {token}"
                if not options[token].is_flag and "=" not in rest[i]:
                    i += 1  # its value
            i += 1

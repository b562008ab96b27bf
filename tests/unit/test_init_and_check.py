"""`handoffs init` writes a valid, commented file for any connector type with secrets as
references; `systems check` names what each system still lacks; overlaps parse or are refused
with their line; `sync` refuses what it cannot do with exit 2 (no database needed)."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from handoffs.cli.main import app
from handoffs.config.missing import missing
from handoffs.config.systems import SystemsConfigError, load_systems, parse_systems
from handoffs.config.templates import PLACEHOLDER, TEMPLATES


def test_init_writes_every_type_valid_with_secrets_as_env_references(tmp_path: Path) -> None:
    target = tmp_path / "handoffs.yaml"
    names = [*TEMPLATES, "acquired=csv_time"]
    result = CliRunner().invoke(app, ["init", *names, "--file", str(target), "--json"])
    assert result.exit_code == 0, result.output
    text = target.read_text()
    config = load_systems(target)
    assert (
        set(config.systems) == {*TEMPLATES, "acquired"} and config.systems["acquired"].connector == "csv_time"
    )
    assert text.count("#") > len(TEMPLATES)  # commented
    for cfg in config.systems.values():
        for key, value in (cfg.entry.get("credentials") or {}).items():
            if any(w in key for w in ("token", "secret", "password", "key")):
                assert str(value).startswith("env:HANDOFFS_"), (cfg.name, key, value)
    assert "HANDOFFS_HARVEST_TOKEN" in json.loads(result.stdout)["environment"]
    assert config.systems["harvest"].overlap == timedelta(minutes=10)

    refused = CliRunner().invoke(app, ["init", "harvest", "--file", str(target)])
    assert refused.exit_code == 2 and "--force" in refused.output and target.read_text() == text
    forced = CliRunner().invoke(app, ["init", "harvest", "--file", str(target), "--force"])
    assert forced.exit_code == 0 and set(load_systems(target).systems) == {"harvest"}
    unknown = CliRunner().invoke(app, ["init", "quickbooks", "--file", str(tmp_path / "x.yaml")])
    assert unknown.exit_code == 2 and not (tmp_path / "x.yaml").exists()


def test_check_names_each_missing_variable_file_mapping_and_placeholder(tmp_path: Path) -> None:
    target = tmp_path / "handoffs.yaml"
    CliRunner().invoke(app, ["init", "salesforce", "netsuite", "acquired=csv_time", "--file", str(target)])
    text = target.read_text().replace("env:HANDOFFS_NETSUITE_PRIVATE_KEY", f"file:{tmp_path / 'key.pem'}")
    target.write_text(text)
    config = load_systems(target)
    env = {"HANDOFFS_SALESFORCE_CLIENT_ID": "id"}
    assert missing(config.systems["salesforce"], env) == [
        f"base_url: replace {PLACEHOLDER} in https://{PLACEHOLDER}.my.salesforce.com",
        "credentials.client_secret: environment variable HANDOFFS_SALESFORCE_CLIENT_SECRET is not set",
    ]
    netsuite = missing(config.systems["netsuite"], env)
    assert f"credentials.private_key: secret file {tmp_path / 'key.pem'} not found" in netsuite
    assert f"credentials.certificate_id: replace {PLACEHOLDER}" in netsuite
    assert missing(config.systems["acquired"], env) == [
        f"mapping: file {tmp_path / 'mappings' / 'acquired.yaml'} not found"
    ]
    checked = CliRunner().invoke(app, ["systems", "check", "-f", str(target), "--json"])
    assert checked.exit_code == 1
    rows = {r["system"]: r for r in json.loads(checked.stdout)["systems"]}
    assert all(
        rows[n]["missing"] and not rows[n]["reachable"] for n in ("salesforce", "netsuite", "acquired")
    )


def _harvest(extra: str) -> str:
    entry = "    role: time\n    connector: harvest\n    base_url: http://x\n"
    return f"version: 1\nsystems:\n  h:\n{entry}    {extra}\n"


@pytest.mark.parametrize(
    ("value", "seconds"), [("90s", 90), ("10m", 600), ("2h", 7200), ("1d", 86400), (30, 30)]
)
def test_overlap_units(value: object, seconds: int) -> None:
    assert parse_systems(_harvest(f"overlap: {value}")).systems["h"].overlap == timedelta(seconds=seconds)


def test_a_bad_overlap_is_refused_with_its_line() -> None:
    with pytest.raises(SystemsConfigError, match=":7: system 'h': overlap"):
        parse_systems(_harvest("overlap: soon"))


def test_sync_without_a_file_or_with_an_erp_is_a_usage_error(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'hub.db'}"
    none = CliRunner().invoke(app, ["sync", "--systems", str(tmp_path / "absent.yaml"), "--database-url", db])
    assert none.exit_code == 2 and "handoffs init" in none.output
    target = tmp_path / "handoffs.yaml"
    CliRunner().invoke(app, ["init", "harvest", "legacy_gl", "--file", str(target)])
    erp = CliRunner().invoke(
        app,
        ["sync", "legacy_gl", "--systems", str(target), "--database-url", db],
        env={"HANDOFFS_HARVEST_TOKEN": "t"},
    )
    assert erp.exit_code == 2 and "ERP" in erp.output, erp.output
    shown = CliRunner().invoke(app, ["sync", "state", "show", "harvest", "--database-url", db])
    assert shown.exit_code == 2  # the database is not set up: said, not a traceback

"""The audit chain: `handoffs audit verify` detects rows edited or deleted in the database."""

from __future__ import annotations

import orjson
from sqlalchemy import delete, update
from typer.testing import CliRunner

from handoffs.cli.main import app as cli
from handoffs.store.tables import audit_log
from tests.api.conftest import Api

runner = CliRunner()


def _verify(url: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    result = runner.invoke(cli, ["audit", "verify", "--database-url", url, "--json"])
    return result.exit_code, orjson.loads(result.stdout)


def _activity(api: Api) -> None:
    api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000001"]})
    api.post("/v1/process/time-approvals", {"entry_ids": ["TE-00000002"]})
    api.post("/v1/process/invoice-runs", {"project_id": "P-001", "period": "2026-01"})


def test_verify_passes_then_detects_an_edited_row(api: Api, database_url: str) -> None:
    _activity(api)
    code, report = _verify(database_url)
    assert code == 0 and report["intact"] and report["rows"] >= 5  # 2 key creations + 3 calls
    with api.hub.engine.begin() as conn:  # someone edits history directly in the database
        conn.execute(
            update(audit_log)
            .where(audit_log.c.action == "process.approve_time")
            .values(actor="client:someone-else")
        )
    code, report = _verify(database_url)
    assert code == 1 and not report["intact"]
    assert any("edited" in b["reason"] for b in report["breaks"])


def test_verify_detects_deleted_rows(api: Api, database_url: str) -> None:
    _activity(api)
    with api.hub.engine.begin() as conn:
        conn.execute(delete(audit_log).where(audit_log.c.seq == 3))
    code, report = _verify(database_url)
    assert code == 1 and any("missing" in b["reason"] for b in report["breaks"])


def test_verify_detects_a_deleted_last_row(api: Api, database_url: str) -> None:
    _activity(api)
    with api.hub.engine.begin() as conn:
        last = conn.execute(audit_log.select().order_by(audit_log.c.seq.desc()).limit(1)).first()
        conn.execute(delete(audit_log).where(audit_log.c.seq == last.seq))
    code, report = _verify(database_url)
    assert code == 1 and any("head" in b["reason"] for b in report["breaks"])


def test_operator_key_commands_are_audited(api: Api, database_url: str) -> None:
    made = runner.invoke(
        cli,
        [
            "apikey",
            "create",
            "erp-bot",
            "--scope",
            "system:read",
            "--entity",
            "LE-US",
            "--database-url",
            database_url,
            "--json",
        ],
    )
    assert made.exit_code == 0, made.output
    key = orjson.loads(made.stdout)["api_key"]
    assert key.startswith("hk_live_")
    listed = runner.invoke(cli, ["apikey", "list", "--database-url", database_url, "--json"])
    assert key not in listed.stdout and orjson.loads(made.stdout)["key_prefix"] in listed.stdout
    revoked = runner.invoke(
        cli, ["apikey", "revoke", orjson.loads(made.stdout)["key_prefix"], "--database-url", database_url]
    )
    assert revoked.exit_code == 0
    log = runner.invoke(cli, ["audit", "list", "--database-url", database_url, "--json"])
    actions = [r["action"] for r in orjson.loads(log.stdout)]
    assert actions[:2] == ["apikey.revoke", "apikey.create"]
    assert key not in log.stdout
    assert _verify(database_url)[0] == 0

"""Finding 8: the audit chain is keyed with a secret outside the database, and signed
checkpoints catch what a chain alone cannot (rows cut from the end, the head moved back).

Each attack is what someone with write access to the database, but not the master secret,
can do: edit a row and recompute every later hash, or delete the newest rows and move the head.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import pytest
from alembic import command
from sqlalchemy import Column, Connection, MetaData, Table, delete, insert, select, update
from typer.testing import CliRunner

from handoffs.bootstrap import App
from handoffs.cli.main import app as cli
from handoffs.keyring import Keyring
from handoffs.store.migrate import alembic_config
from handoffs.store.repositories.audit import GENESIS, KEYED, LEGACY, append, row_digest
from handoffs.store.tables import audit_head, audit_log

runner = CliRunner()
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _master_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HANDOFFS_SECRET_KEY", "the-hub-master-secret-" + "x" * 20)


def _activity(hub: App, n: int = 5, first: int = 0) -> None:
    with hub.engine.begin() as conn:
        for i in range(first, first + n):
            append(
                conn,
                at=START + timedelta(minutes=i),
                actor="client:erp-bot",
                action="process.approve_time",
                target=f"time_entry:TE-{i:08d}",
                before={"status": "submitted"},
                after={"status": "approved"},
            )


def _verify(url: str, *checkpoints: Path) -> tuple[int, dict[str, Any]]:
    args = ["audit", "verify", "--database-url", url, "--json"]
    for cp in checkpoints:
        args += ["--checkpoint", str(cp)]
    result = runner.invoke(cli, args)
    return result.exit_code, orjson.loads(result.stdout) if result.stdout.strip() else {}


def _checkpoint(url: str, tmp_path: Path, name: str = "cp.json") -> Path:
    out = tmp_path / name
    result = runner.invoke(cli, ["audit", "checkpoint", "--database-url", url, "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _rechain(conn: Connection, since: int, scheme: str, key: bytes | None, key_id: str | None) -> None:
    """What an attacker does after editing row ``since``: recompute every later hash and the head."""
    rows = conn.execute(select(audit_log).order_by(audit_log.c.seq)).all()
    prev = GENESIS
    for r in rows:
        if r.seq >= since:
            fields = (prev, r.seq, r.at, r.actor, r.action, r.target, r.before, r.after)
            digest = row_digest(scheme, key, *fields)
            conn.execute(
                update(audit_log)
                .where(audit_log.c.seq == r.seq)
                .values(prev_hash=prev, hash=digest, scheme=scheme, key_id=key_id)
            )
            prev = digest
        else:
            prev = r.hash
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=rows[-1].seq, hash=prev))


def test_finding_8_audit_rewrite_with_recomputed_hashes_is_detected(
    hub: App, database_url: str, tmp_path: Path
) -> None:
    _activity(hub)
    cp = _checkpoint(database_url, tmp_path)
    assert _verify(database_url, cp)[0] == 0
    real_id = hub.keyring().key_id()
    attacker = Keyring(b"a guessed secret that is not the hub's own one")
    for scheme, key in ((LEGACY, None), (KEYED, attacker.key("audit"))):
        with hub.engine.begin() as conn:
            conn.execute(update(audit_log).where(audit_log.c.seq == 2).values(actor="client:someone-else"))
            _rechain(conn, 2, scheme, key, None if key is None else real_id)
        code, report = _verify(database_url)  # even without a checkpoint: the attacker lacks the key
        assert code == 1 and not report["intact"], (scheme, report)
        assert any(b["seq"] == 2 for b in report["breaks"]), report
        code, report = _verify(database_url, cp)
        assert code == 1
        assert any(b["seq"] == 5 and "rewritten" in b["reason"] for b in report["breaks"]), report


def test_finding_8_audit_truncated_tail_and_moved_head_are_detected(
    hub: App, database_url: str, tmp_path: Path
) -> None:
    _activity(hub)
    cp = _checkpoint(database_url, tmp_path)
    with hub.engine.begin() as conn:  # cut rows 4 and 5, and move the head back onto row 3
        conn.execute(delete(audit_log).where(audit_log.c.seq > 3))
        row3 = conn.execute(select(audit_log.c.hash).where(audit_log.c.seq == 3)).scalar_one()
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=3, hash=row3))
    code, report = _verify(database_url, cp)
    assert code == 1, report
    reasons = " | ".join(b["reason"] for b in report["breaks"])
    assert "cut from the end" in reasons and "head was moved back" in reasons
    _activity(hub, 4, first=10)  # the hub goes on appending: the chain grows past the checkpoint
    code, report = _verify(database_url, cp)
    assert code == 1 and any(b["seq"] == 5 and "rewritten" in b["reason"] for b in report["breaks"])


def test_finding_8_audit_forged_checkpoint_is_refused(hub: App, database_url: str, tmp_path: Path) -> None:
    _activity(hub)
    cp = _checkpoint(database_url, tmp_path)
    data = orjson.loads(cp.read_text())
    lowered = tmp_path / "lowered.json"  # claims the chain ended earlier, to excuse a truncation
    lowered.write_text(orjson.dumps({**data, "seq": 2}).decode())
    code, _ = _verify(database_url, lowered)
    assert code == 2
    from handoffs.audit import sign_checkpoint

    other = sign_checkpoint(Keyring(b"another hub's master secret, not ours!!"), 2, data["hash"], START)
    forged = tmp_path / "forged.json"  # correctly signed, but by a key the attacker made
    forged.write_text(orjson.dumps({**other.as_dict(), "key_id": data["key_id"]}).decode())
    result = runner.invoke(
        cli, ["audit", "verify", "--database-url", database_url, "--checkpoint", str(forged)]
    )
    assert result.exit_code == 2 and "Refused checkpoint" in result.output
    assert _verify(database_url, cp)[0] == 0


def test_finding_8_audit_rows_from_before_the_key_still_verify_after_the_upgrade(
    hub: App, database_url: str, tmp_path: Path
) -> None:
    config = alembic_config(hub.engine)
    command.downgrade(config, "audit_keyed@-1")  # the schema as it was before the chain was keyed
    old_log = Table(
        "audit_log",
        MetaData(),
        *(Column(c.name, c.type) for c in audit_log.c if c.name not in ("scheme", "key_id")),
    )
    with hub.engine.begin() as conn:  # rows as the unkeyed chain wrote them
        prev = GENESIS
        for seq in (1, 2):
            at, before, after = START + timedelta(seconds=seq), "null", '{"state":"x"}'
            digest = row_digest(LEGACY, None, prev, seq, at, "cli", "cli.old", "t", before, after)
            conn.execute(
                insert(old_log).values(
                    seq=seq, at=at, actor="cli", action="cli.old", target="t",
                    before=before, after=after, prev_hash=prev, hash=digest,
                )
            )  # fmt: skip
            prev = digest
        conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=2, hash=prev))
    command.upgrade(config, "heads")
    _activity(hub, 2, first=3)
    code, report = _verify(database_url)
    assert code == 0, report
    assert (report["legacy_rows"], report["keyed_rows"]) == (2, 2)
    cp = _checkpoint(database_url, tmp_path)
    with hub.engine.begin() as conn:  # an old row edited, every later row recomputed unkeyed
        conn.execute(update(audit_log).where(audit_log.c.seq == 1).values(actor="someone"))
        _rechain(conn, 1, LEGACY, None, None)
    code, report = _verify(database_url, cp)  # the checkpoint taken after the upgrade pins them
    assert code == 1 and any(b["seq"] == 4 and "rewritten" in b["reason"] for b in report["breaks"]), report

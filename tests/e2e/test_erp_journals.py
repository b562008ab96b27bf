"""``handoffs erp post-journals`` sends a period's journal entries to both ledgers of a
migration, once, and ``handoffs erp compare`` then finds them equal."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from handoffs.bootstrap import build
from handoffs.cli.main import app
from handoffs.domain.journals import DEFAULT_ACCOUNTS
from handoffs.settings import Settings
from handoffs.simulator.systems.legacy_gl import LegacyGl
from tests.support.flow import drain, firm_lines, load

CONFIG = """\
version: 1
systems:
  old_ledger: {role: erp, connector: legacy_gl, folder: old, options: {wait_seconds: 10}}
  new_ledger: {role: erp, connector: legacy_gl, folder: new, options: {wait_seconds: 10}}
routing:
  - {object: invoice, to: [new_ledger]}
  - {object: journal, to: [old_ledger, new_ledger]}
migration: {legacy: old_ledger, new: new_ledger}
"""


@pytest.fixture
def hub_url(tmp_path: Path) -> tuple[str, list[str]]:
    """A hub that has billed a month: invoices, revenue journals; nothing sent to any ERP yet."""
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    hub = build(Settings(database_url=url, erp="none", backoff_base=0.01))
    hub.upgrade()
    load(hub, firm_lines(entries=80, projects=2))
    drain(hub)
    with hub.uow() as uow:
        periods = sorted({e.period for e in uow.finance.journal_entries()})
    hub.close()
    return url, periods


@pytest.fixture
def ledgers(tmp_path: Path, hub_url: tuple[str, list[str]]) -> Iterator[list[LegacyGl]]:
    seed = {
        "accounts": [{"company": "LE-US", "account": n} for n in sorted(set(DEFAULT_ACCOUNTS.values()))],
        "open_periods": [{"company": "LE-US", "period": p} for p in hub_url[1]],
    }
    sims = [LegacyGl(seed, tmp_path / name) for name in ("old", "new")]
    for sim in sims:
        sim.start_polling(0.02)
    (tmp_path / "handoffs.yaml").write_text(CONFIG, encoding="utf-8")
    yield sims
    for sim in sims:
        sim.stop()


def test_journals_reach_both_ledgers_once_and_compare_equal(
    tmp_path: Path, hub_url: tuple[str, list[str]], ledgers: list[LegacyGl]
) -> None:
    url, [period] = hub_url
    args = ["--period", period, "--file", str(tmp_path / "handoffs.yaml"), "--database-url", url, "--json"]
    sent = CliRunner().invoke(app, ["erp", "post-journals", *args])
    assert sent.exit_code == 0, sent.output
    first = orjson.loads(sent.stdout)
    per_ledger = first["queued"] // 2
    assert per_ledger > 0 and first["journal_deliveries"] == {
        "new_ledger": {"confirmed": per_ledger},
        "old_ledger": {"confirmed": per_ledger},
    }
    assert all(len(sim.outcomes) == per_ledger for sim in ledgers)  # one batch per journal entry each
    again = orjson.loads(CliRunner().invoke(app, ["erp", "post-journals", *args]).stdout)
    assert again["queued"] == 0 and all(len(sim.outcomes) == per_ledger for sim in ledgers)

    compared = CliRunner().invoke(app, ["erp", "compare", *args[2:]])
    assert compared.exit_code == 0, compared.output
    report = orjson.loads(compared.stdout)
    assert report["journals"] == per_ledger and report["differences"] == []
    assert report["journals_compared"] == ["presence", "accounts", "currency"]

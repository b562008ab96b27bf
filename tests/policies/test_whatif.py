"""What-if: raising one approval threshold, replayed over a copy-free read of the store."""

from __future__ import annotations

from pathlib import Path

import orjson
from typer.testing import CliRunner

from handoffs.bootstrap import App
from handoffs.cli.main import app
from tests.policies.support import entry, firm, policy_text
from tests.support.flow import drain, load, snapshot


def test_whatif_shows_the_effect_of_raising_one_approval_threshold(
    policy_hub: App, database_url: str, tmp_path: Path
) -> None:
    load(
        policy_hub, [*firm(), entry("T-long", "7.5"), entry("T-ok", "6"), entry("T-9", "9", day="2026-01-13")]
    )
    drain(policy_hub)
    (tmp_path / "current").mkdir()
    (tmp_path / "current" / "v1.yaml").write_text(policy_text(1, "7"))
    (tmp_path / "v2.yaml").write_text(policy_text(2, "8", "2026-02-01"))
    before = snapshot(policy_hub)
    args = [
        "policy",
        "whatif",
        "--policy",
        str(tmp_path / "v2.yaml"),
        "--period",
        "2026-01",
        "--policies",
        str(tmp_path / "current"),
        "--database-url",
        database_url,
    ]
    result = CliRunner().invoke(app, [*args, "--json"])
    assert result.exit_code == 0, result.output
    data = orjson.loads(result.stdout)
    assert data["proposed"] == "test@v2" and data["records"] == 3
    assert data["exceptions"] == {"approvals.second-approver": [2, 1]}  # the 9 h entry still needs two
    assert data["invoices"] == [
        {
            "project_id": "P-1",
            "currency": "USD",
            "before": "600.00",
            "after": "1350.00",
            "difference": "750.00",
        }
    ]
    assert data["revenue_total"] == {"before": "600.00", "after": "1350.00"}
    assert [c["record"] for c in data["changes"]] == ["time_entry T-long"]
    assert snapshot(policy_hub) == before  # nothing was written
    table = CliRunner().invoke(app, args)
    assert table.exit_code == 0 and "1 records change decision" in table.output

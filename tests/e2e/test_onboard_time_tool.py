"""A new time tool onboarded with a mapping file only: its CSV export is pulled, priced and invoiced.

The studio's tool writes day-first dates, durations as ``1:30``, ``90m`` or ``7,5``, and knows
people by their e-mail: ``mappings/studio_time.yaml`` declares all of it, ``handoffs.yaml``
names the folder. Master data is loaded, the folder pulled, and the usual commands bill it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
from typer.testing import CliRunner

from handoffs.cli.common import open_app
from handoffs.cli.main import app
from handoffs.connectors.registry import load_system_mapping
from handoffs.sync.pull import PullRunner

ROOT = Path(__file__).resolve().parents[2]
FIXTURE = ROOT / "tests" / "fixtures" / "billing" / "tm-rate-change.jsonl"
EMAILS = {"R-ANA": "ana.lopez@firm.example", "R-BEN": "Ben.Okafor@firm.example"}
EXPORT = """\
Entry No;Email;Project;Date;Duration;Billable;Status;Activity;Comment;Last Change
501;ANA.LOPEZ@firm.example;P-RATE;02/03/2026;7:30;yes;approved;Workshop;;02/03/2026 18:30
502;ben.okafor@firm.example ;P-RATE;03/03/2026;90m;;approved;;Kick-off, part 1;03/03/2026 18:00
503;ana.lopez@firm.example;P-RATE;04/03/2026;7,5;yes;approved;;;04/03/2026 18:00
504;nobody@firm.example;P-RATE;05/03/2026;8:00;yes;approved;;;05/03/2026 18:00
505;ana.lopez@firm.example;P-RATE;31/02/2026;8:00;yes;approved;;;06/03/2026 18:00
"""
SYSTEMS = """\
version: 1
systems:
  studio_time:
    role: time
    connector: csv_time
    folder: drops/studio
    mapping: {mapping}
    resources: [time_entries]
    options: {{delimiter: ";"}}
"""


def cli(env: dict[str, str], *args: str, code: int = 0) -> Any:
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exit_code == code, f"{args} exited {result.exit_code}: {result.output[-2000:]}"
    return orjson.loads(result.stdout) if "--json" in args else result.stdout


def master_data(path: Path) -> None:
    """The firm's reference data, people and contract, with the e-mails HR holds for them."""
    lines = []
    for line in FIXTURE.read_text().splitlines():
        record = orjson.loads(line)
        if record["type"] == "time_entry":
            continue
        if record["type"] == "resource":
            record["email"] = EMAILS[record["id"]]
        lines.append(orjson.dumps(record).decode())
    path.write_text("\n".join(lines) + "\n")


def test_a_new_tools_export_is_onboarded_with_a_mapping_file_and_billed(tmp_path: Path) -> None:
    env = {"HANDOFFS_DATABASE_URL": f"sqlite:///{tmp_path / 'hub.db'}", "HANDOFFS_ERP": "none"}
    (tmp_path / "drops" / "studio" / "inbox").mkdir(parents=True)
    (tmp_path / "drops" / "studio" / "inbox" / "march.csv").write_text(EXPORT, encoding="utf-8")
    systems = tmp_path / "handoffs.yaml"
    systems.write_text(SYSTEMS.format(mapping=ROOT / "mappings" / "studio_time.yaml"))
    master_data(tmp_path / "firm.jsonl")

    cli(env, "db", "upgrade")
    cli(env, "load", str(tmp_path / "firm.jsonl"))
    checked = cli(env, "systems", "check", "--file", str(systems), "--json")
    assert checked["systems"][0]["mapping"] == "1 mappings" and checked["systems"][0]["reachable"]

    hub = open_app(env["HANDOFFS_DATABASE_URL"], systems=systems, erp="none")
    try:
        mapping = load_system_mapping(hub.systems.systems["studio_time"])
        assert mapping is not None
        report = PullRunner(hub.uow, hub.ports, hub.lookups).pull(
            hub.sources["studio_time"], "time_entries", mapping.get("time_entries")
        )
        with hub.uow() as uow:
            stored = {i: uow.time_entries.get(i) for i in ("studio-501", "studio-502", "studio-503")}
    finally:
        hub.close()
    assert report.mapped == 3 and report.failed == 2
    assert report.position == "2026-03-06T17:00:00+00:00"  # the export's Paris stamps, read as declared
    assert {
        i: (s.entry.resource_id, s.entry.hours, s.entry.work_date.isoformat()) for i, s in stored.items() if s
    } == {
        "studio-501": ("R-ANA", Decimal("7.5"), "2026-03-02"),
        "studio-502": ("R-BEN", Decimal("1.5"), "2026-03-03"),
        "studio-503": ("R-ANA", Decimal("7.5"), "2026-03-04"),
    }
    held = {e["detail"]["record_id"]: e for e in cli(env, "exceptions", "list", "--json")}
    assert held["504"]["category"] == "mapping" and held["504"]["detail"]["field"] == "resource_id"
    assert "no resource has email 'nobody@firm.example'" in held["504"]["reason"]
    assert "studio_time.yaml:14" in held["504"]["reason"] and "march.csv line 5" in held["504"]["reason"]
    assert held["505"]["detail"]["field"] == "work_date" and "%d/%m/%Y" in held["505"]["reason"]
    assert orjson.loads(held["504"]["raw"])["Email"] == "nobody@firm.example"  # the row is kept whole

    cli(env, "worker", "--until-idle")
    cli(env, "bill", "--period", "2026-03")
    cli(env, "worker", "--until-idle")
    invoices = orjson.loads(cli(env, "export", "invoices", "--format", "json"))
    billed = {s["id"] for inv in invoices for line in inv["lines"] for s in line["sources"]}
    assert billed == {"studio-501", "studio-502", "studio-503"}
    hours = sum((Decimal(line["quantity"]) for inv in invoices for line in inv["lines"]), Decimal(0))
    assert hours == Decimal("16.5")

    # HR records the missing person; the held row is mapped again from its stored payload
    hire = {"type": "resource", "id": "R-NEW", "name": "Noor Haddad", "legal_entity_id": "LE-FR",
            "role": "consultant", "cost_rate": {"amount": "90.00", "currency": "EUR"},
            "email": "nobody@firm.example", "source_system": "erp"}  # fmt: skip
    (tmp_path / "hire.jsonl").write_text(orjson.dumps(hire).decode() + "\n")
    cli(env, "load", str(tmp_path / "hire.jsonl"))
    retry = ("exceptions", "retry", "--reason", "HR added them", "--systems", str(systems), "--json")
    done = cli(env, *retry[:2], str(held["504"]["id"]), *retry[2:])
    assert done["outcome"] == "stored" and done["object_id"] == "studio-504"
    still = cli(env, *retry[:2], str(held["505"]["id"]), *retry[2:], code=1)
    assert still["outcome"] == "held" and "31/02/2026" in still["reason"]

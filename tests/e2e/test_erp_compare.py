"""``handoffs erp compare`` as a user runs it: two ledgers' detail extracts, a real database."""

from __future__ import annotations

import csv
import os
import subprocess
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from handoffs.bootstrap import build
from handoffs.connectors.csvdrop.gl import DEFAULT_ACCOUNTS, GL_HEADER, journal_lines
from handoffs.domain.billing import Invoice
from handoffs.settings import Settings
from handoffs.simulator.firm.generate import generate_firm
from tests.connectors.support import firm_invoice
from tests.support.cli import handoffs

CONFIG = """\
version: 1
systems:
  old_ledger: {role: erp, connector: legacy_gl, folder: old}
  new_ledger: {role: erp, connector: legacy_gl, folder: new}
migration: {legacy: old_ledger, new: new_ledger}
"""


def _run(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return handoffs(*args, env=env, timeout=120)


def _extract(folder: Path, invoices: list[Invoice]) -> Path:
    """The ledger's detail extract, holding each invoice as the GL interface posted it."""
    path = folder / "extract" / "gl_detail.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out, lineterminator="\n")
        writer.writerow((*GL_HEADER, "batch"))
        for invoice in invoices:
            writer.writerows((*row, invoice.id) for row in journal_lines(invoice, DEFAULT_ACCOUNTS))
    return path


def routed_to_both(url: str, folder: Path, *, stored: bool = False) -> list[Invoice]:
    """Two invoices the hub routed to both ledgers (``stored``: kept in its invoices table too),
    each ledger's extract holding them, and the systems file in ``folder``."""
    firm = generate_firm(11, "small")
    invoices = [firm_invoice(firm, "le-uk"), firm_invoice(firm, "le-us")]
    hub = build(Settings(database_url=url, erp="none"))
    hub.upgrade()
    with hub.uow() as uow:
        for invoice in invoices:
            if stored:
                uow.invoices.add(invoice, f"project:{invoice.project_id}")
            for system in ("old_ledger", "new_ledger"):
                uow.deliveries.ensure(
                    f"{system}:invoice:{invoice.id}", system, "post_invoice", "invoice", invoice.id
                )
        uow.commit()
    hub.close()
    for name in ("old", "new"):
        _extract(folder / name, invoices)
    (folder / "handoffs.yaml").write_text(CONFIG, encoding="utf-8")
    return invoices


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    routed_to_both(url, tmp_path)
    return {**os.environ, "HANDOFFS_DATABASE_URL": url, "COLUMNS": "200"}


def test_a_clean_migration_compares_equal_and_a_changed_posting_is_listed(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = str(tmp_path / "handoffs.yaml")
    clean = _run("erp", "compare", "--file", config, "--json", env=env)
    assert clean.returncode == 0, clean.stderr
    report = orjson.loads(clean.stdout)
    assert report["invoices"] == 2 and report["differences"] == []
    assert report["compared"] == ["presence", "accounts", "currency", "net", "tax", "total"]

    extract = tmp_path / "new" / "extract" / "gl_detail.csv"
    rows = list(csv.DictReader(extract.open(encoding="utf-8")))
    rows[0]["debit"] = str(Decimal(rows[0]["debit"]) + 10)  # receivables 10 more
    rows[1]["credit"] = str(Decimal(rows[1]["credit"]) + 10)  # and revenue with them: still balanced
    with extract.open("w", newline="", encoding="utf-8") as out:
        writer = csv.DictWriter(out, fieldnames=[*GL_HEADER, "batch"], lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    changed = _run("erp", "compare", "--file", config, "--json", env=env)
    assert changed.returncode == 1
    found = orjson.loads(changed.stdout)["differences"]
    assert {(d["document_id"], d["kind"], d["item"]) for d in found} == {
        (rows[0]["reference"], "net", None),
        (rows[0]["reference"], "total", None),
        (rows[0]["reference"], "account", rows[0]["account"]),
        (rows[0]["reference"], "account", rows[1]["account"]),
    }
    table = _run("erp", "compare", "--file", config, env=env)
    assert table.returncode == 1 and "4 differences" in table.stdout


def test_it_says_which_ledgers_to_compare_when_the_file_does_not(env: dict[str, str], tmp_path: Path) -> None:
    bare = tmp_path / "bare.yaml"
    bare.write_text(CONFIG.split("migration:")[0], encoding="utf-8")
    result = _run("erp", "compare", "--file", str(bare), env=env)
    assert result.returncode == 2 and "--legacy" in result.stderr
    named = _run("erp", "compare", "--file", str(bare), "--legacy", "old_ledger", "--new", "nope", env=env)
    assert named.returncode == 2 and "'nope' is not a configured ERP" in named.stderr

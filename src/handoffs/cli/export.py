"""``handoffs export``: finance documents out, as JSON or CSV."""

from __future__ import annotations

import csv
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from handoffs.cli.common import DbOption, JsonOption, opened, print_json
from handoffs.domain.codec import encode
from handoffs.domain.tax import tax_totals

app = typer.Typer(help="Export finance documents.", no_args_is_help=True)


class Format(StrEnum):
    json = "json"
    csv = "csv"


FormatOption = Annotated[Format, typer.Option("--format", help="json (documents) or csv (one row per line).")]
OutOption = Annotated[
    Path | None, typer.Option("--out", help="Write to this file instead of standard output.")
]

_CSV_COLUMNS = [
    "invoice_id",
    "kind",
    "status",
    "project_id",
    "customer_id",
    "legal_entity_id",
    "period",
    "currency",
    "invoice_subtotal",
    "invoice_tax",
    "invoice_total",
    "line_id",
    "line_kind",
    "role",
    "resource_id",
    "rate_card_version",
    "quantity",
    "unit_price",
    "amount",
    "tax",
    "sources",
    "external_ids",
]


def _documents(database_url: str | None, kind: str) -> list[dict[str, Any]]:
    with opened(database_url) as hub, hub.uow() as uow:
        docs = [
            {
                **encode(inv),
                "tax_totals": [encode(t) for t in tax_totals(inv)],
                "status": status,
                "external_ids": uow.xrefs.for_object("invoice", inv.id),
            }
            for inv, status in uow.invoices.iter_all()
            if inv.kind == kind
        ]
    return docs


@app.command("invoices")
def invoices(
    database_url: DbOption = None,
    fmt: FormatOption = Format.json,
    out: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every invoice with its lines, the entries each line bills, status and ERP ids."""
    docs = _documents(database_url, "invoice")
    _write_json(docs, out) if as_json or fmt is Format.json else _write_csv(docs, out)


@app.command("credit-notes")
def credit_notes(
    database_url: DbOption = None,
    fmt: FormatOption = Format.json,
    out: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every credit note, the invoice it credits, and the sources it released."""
    docs = _documents(database_url, "credit_note")
    _write_json(docs, out) if as_json or fmt is Format.json else _write_csv(docs, out)


@app.command("revenue")
def revenue(
    database_url: DbOption = None,
    fmt: FormatOption = Format.json,
    out: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every revenue event: contract, period, method, amount and basis.

    ``period`` is the period the revenue was posted to (reported in), ``delivered_period``
    the one it was earned in: they differ for late revenue of a period already closed.
    """
    with opened(database_url) as hub, hub.uow() as uow:
        rows = revenue_rows(uow)
    if as_json or fmt is Format.json:
        _write_json(rows, out)
        return
    flat = [
        {
            **{k: v for k, v in r.items() if k != "amount"},
            "amount": r["amount"]["amount"],
            "currency": r["amount"]["currency"],
        }
        for r in rows
    ]
    _write_rows(
        flat,
        [
            "id",
            "contract_id",
            "project_id",
            "legal_entity_id",
            "period",
            "delivered_period",
            "recognised_on",
            "method",
            "amount",
            "currency",
            "basis",
        ],
        out,
    )


@app.command("journals")
def journals(
    database_url: DbOption = None,
    fmt: FormatOption = Format.json,
    out: OutOption = None,
    as_json: JsonOption = False,
) -> None:
    """Every journal entry (CSV: one row per journal line); each balances per entity and currency."""
    with opened(database_url) as hub, hub.uow() as uow:
        rows = [encode(e) for e in uow.finance.journal_entries()]
    if as_json or fmt is Format.json:
        _write_json(rows, out)
        return
    flat = [
        {
            "journal_id": r["id"],
            "legal_entity_id": r["legal_entity_id"],
            "period": r["period"],
            "entry_date": r["entry_date"],
            "currency": r["currency"],
            "account": line["account"],
            "debit": line["debit"]["amount"],
            "credit": line["credit"]["amount"],
            "memo": line["memo"],
        }
        for r in rows
        for line in r["lines"]
    ]
    _write_rows(
        flat,
        [
            "journal_id",
            "legal_entity_id",
            "period",
            "entry_date",
            "currency",
            "account",
            "debit",
            "credit",
            "memo",
        ],
        out,
    )


def revenue_rows(uow: Any) -> list[dict[str, Any]]:
    """Revenue events as reported: ``period`` posted to, ``delivered_period`` earned in."""
    posted = {
        j.source.id: j.period
        for j in uow.finance.journal_entries()
        if j.source and j.source.type == "revenue_event"
    }
    return [
        {**encode(e), "period": posted.get(e.id, e.period), "delivered_period": e.period}
        for e in uow.finance.revenue_events()
    ]


def _write_rows(rows: list[dict[str, Any]], columns: list[str], out: Path | None) -> None:
    fh = out.open("w", newline="", encoding="utf-8") if out else sys.stdout
    writer = csv.DictWriter(fh, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    if out:
        fh.close()


def _write_json(docs: list[dict[str, Any]], out: Path | None) -> None:
    if out is None:
        print_json(docs)
        return
    import orjson

    out.write_bytes(orjson.dumps(docs, option=orjson.OPT_INDENT_2) + b"\n")


def _write_csv(docs: list[dict[str, Any]], out: Path | None) -> None:
    fh = out.open("w", newline="", encoding="utf-8") if out else sys.stdout
    writer = csv.writer(fh)
    writer.writerow(_CSV_COLUMNS)
    for d in docs:
        ext = ";".join(f"{k}={v}" for k, v in sorted(d["external_ids"].items()))
        for line in d["lines"]:
            writer.writerow(
                [
                    d["id"],
                    d["kind"],
                    d["status"],
                    d["project_id"],
                    d["customer_id"],
                    d["legal_entity_id"],
                    d["period"],
                    d["currency"],
                    d["subtotal"]["amount"],
                    d["tax"]["amount"],
                    d["total"]["amount"],
                    line["id"],
                    line["kind"],
                    line["role"],
                    line["resource_id"],
                    line["rate_card_version"],
                    line["quantity"],
                    line["unit_price"]["amount"],
                    line["amount"]["amount"],
                    line["tax"]["amount"],
                    " ".join(f"{s['type']}:{s['id']}" for s in line["sources"]),
                    ext,
                ]
            )
    if out:
        fh.close()

"""Three-way reconciliation by amount: invoice totals against journals and against the ERP.

Existence is not enough: a balanced journal that understates its invoice, or a line credited
twice, must show. Per document of the period (invoices and credit notes issued by the hub):

* its journal ``JE-<document>`` must post the document's total to accounts receivable, its
  tax to tax payable, in the document's currency;
* what the ERP holds on read-back, where a posting was read back and differed (an open
  ``read_back`` exception), is a break on the document;
* no source of an invoice line is credited twice, and no line is credited for more than it
  billed;

and per account and legal entity, the journals' receivable and tax balances must equal the
documents' totals and taxes. Variance codes:

| code | meaning |
| --- | --- |
| ``amount`` | a journal's receivable, an account's balance, or the ERP's untaxed amount or total differs |
| ``tax`` | a journal's tax payable, an account's tax balance or the ERP's tax differs |
| ``currency`` | the journal (with no stored rate to translate) or the ERP is in another currency |
| ``fx_difference`` | a journal in another currency differs from the document translated at the stored rate |
| ``credited_twice`` | a line's source credited twice, or credits above the line's amount |
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, select

from handoffs.domain.billing import Invoice, JournalEntry
from handoffs.domain.errors import NoEffectiveRate
from handoffs.domain.fx import FxTable
from handoffs.domain.journals import chart_from_accounts
from handoffs.domain.reference import FxRate, GlAccount
from handoffs.store.serde import from_doc
from handoffs.store.tables import exceptions, invoices, objects

__all__ = ["AMOUNT_CODES", "amount_breaks"]

AMOUNT_CODES = ("amount", "tax", "currency", "fx_difference", "credited_twice")
_READ_BACK = {"currency": "currency", "tax": "tax", "untaxed": "amount", "total": "amount", "lines": "amount"}

Found = tuple[str, str, str, str, str]  # code, legal entity, project, source, detail


def amount_breaks(
    conn: Connection, period: str, projects: Iterable[str], *, read_back: bool = True
) -> tuple[int, list[Found]]:
    """How many documents were compared, and every break found among them.

    Args:
        read_back: also report the documents an ERP read back with other figures (left out
            after a worker batch, where the read-back exception itself is the alert).
    """
    scope = list(projects)
    rows = conn.execute(
        select(invoices.c.doc).where(
            invoices.c.period == period, invoices.c.project_id.in_(scope), invoices.c.status != "imported"
        )
    )
    docs = [from_doc(Invoice, r.doc) for r in rows]
    journals = _journals(conn, [f"JE-{d.id}" for d in docs])
    chart = chart_from_accounts(_all(conn, "gl_account", GlAccount))
    fx = FxTable(_all(conn, "fx_rate", FxRate))
    found: list[Found] = []
    per_account: dict[tuple[str, str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0), Decimal(0)])
    for doc in docs:
        entry = journals.get(f"JE-{doc.id}")
        if entry is None:
            continue  # a missing journal is the posting control's missing_posting
        ar = chart.account(doc.legal_entity_id, "accounts_receivable")
        tax = chart.account(doc.legal_entity_id, "tax_payable")
        for account, want, got in (
            (ar, doc.total.amount, _net(entry, ar)),
            (tax, doc.tax.amount, -_net(entry, tax)),
        ):
            if entry.currency != doc.currency:
                continue  # compared document by document, after translation
            key = (doc.legal_entity_id, doc.currency, account)
            per_account[key][0] += want
            per_account[key][1] += got
        found.extend(_document_breaks(doc, entry, ar, tax, fx))
    for (entity, currency, account), (want, got) in sorted(per_account.items()):
        if want != got:
            code = "tax" if account == chart.account(entity, "tax_payable") else "amount"
            detail = f"documents {want} {currency}, journals {got} {currency} in {period}"
            found.append((code, entity, "", f"account:{entity}:{account}", detail))
    if read_back:
        found.extend(_read_back(conn, {d.id: d for d in docs}))
    found.extend(_credited_twice(conn, scope, period))
    return len(docs), found


def _document_breaks(doc: Invoice, entry: JournalEntry, ar: str, tax: str, fx: FxTable) -> list[Found]:
    source, out = f"{doc.kind}:{doc.id}", []
    where = (doc.legal_entity_id, doc.project_id, source)
    total, taxed = doc.total, doc.tax
    if entry.currency != doc.currency:
        try:
            total = fx.convert(doc.total, entry.currency, doc.issue_date).converted.rounded()
            taxed = fx.convert(doc.tax, entry.currency, doc.issue_date).converted.rounded()
        except NoEffectiveRate:
            return [("currency", *where, f"journal in {entry.currency}, document in {doc.currency}, no rate")]
        if _net(entry, ar) != total.amount or -_net(entry, tax) != taxed.amount:
            detail = f"journal {entry.id} posts {_net(entry, ar)}; {doc.total} on {doc.issue_date} is {total}"
            return [("fx_difference", *where, detail)]
        return []
    if _net(entry, ar) != total.amount:
        detail = f"journal {entry.id} posts {_net(entry, ar)} to receivables; the total is {total.amount}"
        out.append(("amount", *where, detail))
    if -_net(entry, tax) != taxed.amount:
        detail = f"journal {entry.id} posts {-_net(entry, tax)} of tax; the document's tax is {taxed.amount}"
        out.append(("tax", *where, detail))
    return out


def _net(entry: JournalEntry, account: str) -> Decimal:
    """Debits less credits of one account in a journal."""
    return sum(
        (ln.debit.amount - ln.credit.amount for ln in entry.lines if ln.account == account), Decimal(0)
    )


def _journals(conn: Connection, ids: list[str]) -> dict[str, JournalEntry]:
    found: dict[str, JournalEntry] = {}
    query = select(objects.c.id, objects.c.doc).where(objects.c.type == "journal_entry")
    for start in range(0, len(ids), 500):
        for r in conn.execute(query.where(objects.c.id.in_(ids[start : start + 500]))):
            found[r.id] = from_doc(JournalEntry, r.doc)
    return found


def _all(conn: Connection, type_: str, cls: type[Any]) -> list[Any]:
    return [from_doc(cls, r.doc) for r in conn.execute(select(objects.c.doc).where(objects.c.type == type_))]


def _read_back(conn: Connection, docs: dict[str, Invoice]) -> list[Found]:
    """Documents an ERP holds with other figures than the hub (open read-back exceptions)."""
    rows = conn.execute(
        select(exceptions.c.reason, exceptions.c.object_id).where(
            exceptions.c.category == "read_back", exceptions.c.state.in_(("open", "in_progress", "retrying"))
        )
    )
    found: list[Found] = []
    for reason, object_id in rows:
        doc = docs.get(object_id or "") or next(
            (d for i, d in docs.items() if f" {i} " in f" {reason} "), None
        )
        fields = re.search(r"\(([a-z, ]+) differ\)", reason)
        if doc is None or fields is None:
            continue
        codes = sorted({_READ_BACK.get(f.strip(), "amount") for f in fields.group(1).split(",")})
        for code in codes:
            found.append(
                (
                    code,
                    doc.legal_entity_id,
                    doc.project_id,
                    f"{doc.kind}:{doc.id}",
                    f"ERP read-back: {reason}",
                )
            )
    return found


def _credited_twice(conn: Connection, projects: list[str], period: str) -> list[Found]:
    """Lines of the period's invoices whose credits (of any period) repeat a source or exceed the line
    (read from the documents themselves, so a second credit is found even if it was written
    around the ledger and the database's key)."""
    rows = conn.execute(select(invoices.c.doc).where(invoices.c.project_id.in_(projects)))
    docs = [from_doc(Invoice, r.doc) for r in rows]
    lines = {ln.id: (d, ln) for d in docs if d.kind == "invoice" for ln in d.lines}
    seen: dict[str, list[str]] = defaultdict(list)
    credited: dict[str, Decimal] = defaultdict(Decimal)
    for d in docs:
        if d.kind != "credit_note":
            continue
        for ln in d.lines:
            for target in (s.id for s in ln.sources if s.type == "invoice_line"):
                seen[target].extend(f"{s.type}:{s.id}" for s in ln.sources if s.type != "invoice_line")
                credited[target] -= ln.amount.amount
    found: list[Found] = []
    for target, amount in sorted(credited.items()):
        if target not in lines:
            continue
        doc, line = lines[target]
        if doc.period != period:
            continue
        twice = sorted({s for s in seen[target] if seen[target].count(s) > 1})
        if twice or amount > line.amount.amount:
            detail = f"credited {amount} of {line.amount.amount}" + (
                f"; {', '.join(twice)} credited twice" if twice else ""
            )
            found.append(
                ("credited_twice", doc.legal_entity_id, doc.project_id, f"invoice_line:{target}", detail)
            )
    return found

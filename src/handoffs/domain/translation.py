"""Journals in the legal entity's functional currency, for documents in another currency.

Rules:

* A journal of a document (invoice, credit note, revenue event) in a currency other than its
  legal entity's is translated line by line into the entity's functional currency, each
  line rounded once. Every line keeps the document's amount and the rate it was translated
  at; the entry keeps the rate record on its memo.
* Lines that add to the contract asset (unbilled receivable) or the contract liability
  (deferred revenue) are translated at the document's rate, the rate in force on its date.
  Lines that reduce one of them are translated at the rate it is carried at (its functional
  balance over its document balance), so the balance reaches nil in both currencies.
* What is left between the debits and credits in the functional currency is the difference
  between the rate revenue was translated at and the rate it was invoiced at (and rounding):
  it is posted to the entity's ``fx_difference`` account.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal

from handoffs.domain.billing import JournalEntry, JournalLine
from handoffs.domain.money import Money

__all__ = ["Carried", "translate"]

Carried = Mapping[str, tuple[Decimal, Decimal]]  # account -> (document balance, functional balance)


def translate(
    entry: JournalEntry,
    *,
    currency: str,
    rate: Decimal,
    rate_id: str | None,
    carried: Carried,
    fx_account: str,
    rounding: str = "half_up",
) -> JournalEntry:
    """``entry`` in ``currency``: each line at ``rate`` or, when it reduces a carried balance,
    at that balance's rate; the difference on ``fx_account``."""
    lines: list[JournalLine] = []
    net = Decimal(0)
    for line in entry.lines:
        signed = line.debit.amount - line.credit.amount
        used = rate
        doc, func = carried.get(line.account, (Decimal(0), Decimal(0)))
        if doc and (doc > 0) != (signed > 0):
            used = func / doc
        amount = Money(signed * used, currency).rounded(rounding)
        net += amount.amount
        lines.append(_line(line, amount, Money(signed, entry.currency), used))
    if net:
        zero = Money.zero(currency)
        diff = Money(abs(net), currency)
        memo = "FX difference: revenue and invoicing translated at different rates"
        fx = JournalLine(account=fx_account, debit=zero, credit=diff, memo=memo)
        lines.append(fx if net > 0 else replace(fx, debit=diff, credit=zero))
    via = f" at {rate} ({rate_id})" if rate_id else ""
    return replace(
        entry,
        currency=currency,
        lines=tuple(lines),
        memo=f"{entry.memo}; translated from {entry.currency}{via}",
    )


def _line(line: JournalLine, amount: Money, document: Money, used: Decimal) -> JournalLine:
    zero = Money.zero(amount.currency)
    debit, credit = (amount, zero) if amount.amount >= 0 else (zero, -amount)
    return replace(line, debit=debit, credit=credit, document_amount=document, fx_rate=used)

"""Journal entries to the ERPs routed for them (in a migration, the legacy ledger and the new one).

    request_journal_postings(period) --> one Delivery per routed ERP and journal entry
        (revenue recognised, expense claims owed; an invoice's journal travels as the invoice)
        --> PostJournal(system)
    PostJournal --post_journal (ERP port, idempotency key)--> delivery confirmed, xref linked

Journals go only where ``handoffs.yaml`` routes them (``{object: journal, to: [...]}``) and
only to ERPs whose connector takes journal entries. Each ERP has its own delivery and key,
so one refusing neither holds back nor repeats the posting to the other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from handoffs.domain.billing import JournalEntry
from handoffs.domain.messages import PostJournal
from handoffs.engine.errors import TerminalError
from handoffs.engine.registry import Handler
from handoffs.flows.ports import ExternalRef, Ports, erp_targets

__all__ = ["handlers", "journal_key", "request_journal_postings"]


def journal_key(system: str, journal_id: str) -> str:
    return f"{system}:journal:{journal_id}"


def request_journal_postings(uow: Any, ports: Ports, period: str) -> int:
    """Queue the period's journal entries for every ERP routed for them; returns how many new."""
    queued = 0
    entries: list[JournalEntry] = uow.finance.journal_entries()
    for entry in sorted(entries, key=lambda e: e.id):
        if entry.period != period or (entry.source is not None and entry.source.type == "invoice"):
            continue
        entity = lambda e=entry: e.legal_entity_id  # noqa: E731
        for system in erp_targets(ports, "journal", entity, uow=uow, period=entry.period):
            if not hasattr(ports.erps.get(system), "post_journal"):
                continue  # an ERP whose connector takes no journal entries
            key = journal_key(system, entry.id)
            if uow.deliveries.ensure(key, system, "post_journal", "journal_entry", entry.id):
                uow.publish(
                    PostJournal(
                        message_id=ports.ids.derive("post-journal", key),
                        occurred_at=ports.clock.now(),
                        correlation_id=f"journal:{entry.id}",
                        journal_id=entry.id,
                        system=system,
                    )
                )
                queued += 1
    return queued


def call_post_journal(cmd: PostJournal, uow_factory: Callable[[], Any], ports: Ports) -> ExternalRef | None:
    """Send the entry with its idempotency key (outside any transaction)."""
    key = journal_key(cmd.system, cmd.journal_id)
    with uow_factory() as uow:
        delivery = uow.deliveries.get(key)
        entry = uow.finance.journal(cmd.journal_id)
    if delivery is None or entry is None:
        raise TerminalError(f"delivery {key} or its journal entry is missing", category="missing_reference")
    if delivery.status == "confirmed":
        return None
    erp = ports.erps.get(cmd.system)
    if erp is None or not hasattr(erp, "post_journal"):
        raise TerminalError(
            f"no ERP taking journal entries is configured as {cmd.system!r}", category="configuration"
        )
    ref: ExternalRef = ports.guard.call(cmd.system, lambda: erp.post_journal(entry, key))
    return ref


def record_post_journal(cmd: PostJournal, ref: ExternalRef | None, uow: Any, ports: Ports) -> None:
    if ref is None:
        return
    uow.deliveries.confirm(journal_key(cmd.system, cmd.journal_id), ref.external_id)
    uow.xrefs.link("journal_entry", cmd.journal_id, cmd.system, ref.external_id)


def post_journal_dead(cmd: PostJournal, error: str, uow: Any, ports: Ports) -> None:
    uow.deliveries.failed_attempt(journal_key(cmd.system, cmd.journal_id), error, final=True)


def handlers() -> list[Handler]:
    return [
        Handler(
            "journal-posting.post",
            PostJournal,
            call=call_post_journal,
            record=record_post_journal,
            on_dead=post_journal_dead,
        )
    ]

"""References by internal id: the hub's names (currency codes, account numbers, tax codes)
resolved to the NetSuite account's internal ids through lookups, cached per connector.

NetSuite writes a reference by ``id`` (or ``externalId``); ``refName`` is read-only and
names differ between accounts. The mapping writes ``{field: {refName: <hub name>}}`` and
:meth:`References.resolve` replaces it with ``{id: …}`` found by a collection query
(``GET /record/v1/{type}?q=<field> IS "<name>"``), or refuses the posting as a mapping
error naming what the account lacks.
"""

from __future__ import annotations

import threading
from typing import Any

from handoffs.connectors.http import HttpClient
from handoffs.engine.errors import TerminalError

__all__ = ["NAMED", "References"]

RECORD = "/services/rest/record/v1"
# body or line field -> (record type, the field holding the name the hub uses)
NAMED: dict[str, tuple[str, str]] = {
    "currency": ("currency", "symbol"),
    "custrecord_handoffs_currency": ("currency", "symbol"),
    "account": ("account", "acctNumber"),
    "taxCode": ("salestaxitem", "itemId"),
}
SCOPED = {"account"}  # looked up within the record's subsidiary


class References:
    def __init__(self, system: str, client: HttpClient, aliases: dict[str, str] | None = None) -> None:
        self.system, self.client, self.aliases = system, client, aliases or {}
        self._ids: dict[tuple[str, str, str, str], str] = {}
        self._names: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def resolve(self, body: dict[str, Any], sublist: str | None) -> dict[str, Any]:
        """``body`` with every ``{refName: name}`` reference replaced by ``{id: internal id}``."""
        subsidiary = str((body.get("subsidiary") or {}).get("id") or "")
        out = self._resolve_fields(body, subsidiary)
        if sublist and isinstance(body.get(sublist), dict):
            items = [self._resolve_fields(line, subsidiary) for line in body[sublist].get("items") or []]
            out[sublist] = {**body[sublist], "items": items}
        return out

    def _resolve_fields(self, record: dict[str, Any], subsidiary: str) -> dict[str, Any]:
        out = dict(record)
        for name, (record_type, field) in NAMED.items():
            ref = out.get(name)
            if not isinstance(ref, dict) or "refName" not in ref:
                continue
            if ref["refName"] is None:
                del out[name]  # nothing to refer to (a line without a tax code)
                continue
            wanted = str(ref["refName"])
            wanted = self.aliases.get(wanted, wanted) if name == "taxCode" else wanted
            out[name] = {"id": self.id_of(record_type, field, wanted, subsidiary if name in SCOPED else "")}
        return out

    def id_of(self, record_type: str, field: str, name: str, subsidiary: str = "") -> str:
        key = (record_type, field, name, subsidiary)
        with self._lock:
            if key in self._ids:
                return self._ids[key]
        q = f'{field} IS "{name}"' + (f" AND subsidiary ANY_OF {subsidiary}" if subsidiary else "")
        items = (
            self.client.json("GET", f"{RECORD}/{record_type}", params={"q": q, "limit": 2}).get("items") or []
        )
        if not items:
            where = f" in subsidiary {subsidiary}" if subsidiary else ""
            raise TerminalError(
                f"{self.system} holds no {record_type} with {field} {name!r}{where}: set it up in NetSuite "
                "(docs/connectors.md, NetSuite) and check with `handoffs systems check`",
                category="mapping",
            )
        found = str(items[0]["id"])
        with self._lock:
            self._ids[key] = found
            self._names[(record_type, found)] = name
        return found

    def name_of(self, record_type: str, field: str, internal_id: str) -> str:
        """The hub's name for an internal id (read from the record when not resolved before)."""
        key = (record_type, str(internal_id))
        with self._lock:
            if key in self._names:
                return self._names[key]
        record = self.client.json("GET", f"{RECORD}/{record_type}/{internal_id}")
        name = str(record.get(field))
        with self._lock:
            self._names[key] = name
        return name

    def missing(self, wanted: dict[str, list[str]]) -> list[str]:
        """What of ``{record type: [names]}`` the account does not hold (for systems check)."""
        fields = {record_type: field for record_type, field in NAMED.values()} | {"subsidiary": "id"}
        gaps = []
        for record_type, names in wanted.items():
            for name in names:
                try:
                    self.id_of(record_type, fields.get(record_type, "name"), self.aliases.get(name, name))
                except TerminalError:
                    gaps.append(f"{record_type} {name}")
        return gaps

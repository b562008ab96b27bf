"""``write_back`` in ``handoffs.yaml``: which source systems the hub tells what became of their
records, and where it writes. Only what the real product's API accepts is allowed::

    salesforce:
      write_back: {project_id: Opportunity.Project_Id__c}   # the won opportunity's project id
    expenses:
      write_back: {invoiced: export}     # the report marked exported, the invoice id its reference

Each write-back is a delivery (``WriteBack``: business key, retries, dead letter and its own
exception category ``write_back``); see docs/connectors.md.
"""

from __future__ import annotations

import re
from typing import Any

__all__ = ["SUPPORTED", "parse_write_back"]

SUPPORTED: dict[str, frozenset[str]] = {
    "salesforce": frozenset({"project_id"}),
    "expenses": frozenset({"invoiced"}),
}
_REFUSED = {
    "harvest": "Harvest marks time billed only through its own invoices (a time entry's is_billed "
    "cannot be written, and approved entries are locked): no write-back",
}
_CUSTOM_FIELD = re.compile(r"[A-Za-z][A-Za-z0-9_]*__c")


def parse_write_back(connector: str, value: Any) -> dict[str, str]:
    """The validated ``write_back`` entry; ValueError says what is wrong."""
    if connector in _REFUSED:
        raise ValueError(_REFUSED[connector])
    if not isinstance(value, dict) or not value:
        raise ValueError("write_back must map what to write back to where it goes")
    allowed = SUPPORTED.get(connector, frozenset())
    for kind in value:
        if kind not in allowed:
            takes = f"it takes {', '.join(sorted(allowed))}" if allowed else "it takes none"
            raise ValueError(f"connector {connector} takes no {kind!r} write-back ({takes})")
    if connector == "salesforce":
        obj, _, name = str(value["project_id"]).partition(".")
        if obj != "Opportunity" or not _CUSTOM_FIELD.fullmatch(name):
            raise ValueError(
                "project_id must name a custom field of Opportunity, like Opportunity.Project_Id__c"
            )
    if connector == "expenses" and value["invoiced"] != "export":
        raise ValueError("invoiced: export is the expense tool's one write-back (the report's export mark)")
    return {str(k): str(v) for k, v in value.items()}

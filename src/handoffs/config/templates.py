"""A commented ``handoffs.yaml`` for the systems a user names (``handoffs init``).

Secrets are written as references only: ``env:HANDOFFS_<SYSTEM>_<KEY>`` (see
:func:`secret_env`); other credentials and URLs as placeholders to fill in, or, for systems
started by ``handoffs simulate up``, as that run's addresses and made-up values.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

__all__ = ["PLACEHOLDER", "TEMPLATES", "Template", "is_secret", "render", "secret_env"]

PLACEHOLDER = "CHANGE-ME"  # `handoffs systems check` names every value still holding it


@dataclass(frozen=True, slots=True)
class Template:
    role: str
    base_url: str | None
    credentials: tuple[str, ...] = ()
    resources: tuple[str, ...] = ()
    limits: tuple[float, int, str] | None = None  # rate, burst, the documented limit
    note: str = ""
    settle: int | None = None  # seconds an unanswered ERP write is looked for before resending


TEMPLATES: dict[str, Template] = {
    "salesforce": Template(
        "crm",
        f"https://{PLACEHOLDER}.my.salesforce.com",
        ("client_id", "client_secret"),
        ("accounts", "opportunities"),
        (3.5, 200, "15 000 requests / 24 h, shared with other integrations"),
        "OAuth 2.0 client credentials of a connected app",
    ),
    "harvest": Template(
        "time",
        "https://api.harvestapp.com",
        ("token", "account_id"),
        ("users", "projects", "time_entries"),
        (6.6, 100, "100 requests / 15 s"),
        "a personal access token and the account id (Harvest: Developers)",
    ),
    "workday": Template(
        "hris",
        f"https://{PLACEHOLDER}.workday.com",
        ("tenant", "user", "password", "report"),
        ("workers",),
        note="an integration system user and the RaaS report that lists workers",
    ),
    "expenses": Template(
        "expense",
        f"https://{PLACEHOLDER}",
        ("api_key",),
        ("expenses",),
        (2, 120, "120 requests / minute"),
    ),
    "netsuite": Template(
        "erp",
        f"https://{PLACEHOLDER}.suitetalk.api.netsuite.com",
        ("client_id", "certificate_id", "private_key"),
        limits=(25, 15, "concurrency limit 15 (Tier 1)"),
        note="OAuth 2.0 client credentials (M2M): the certificate's id and its private key",
        settle=30,
    ),
    "odoo": Template("erp", f"https://{PLACEHOLDER}.odoo.com", ("db", "login", "password"), settle=120),
    "tryton": Template("erp", f"https://{PLACEHOLDER}", ("database", "login", "password")),
    "csv_time": Template(
        "time",
        None,
        resources=("time_entries",),
        note="exports dropped in FOLDER/inbox, read with the mapping",
    ),
    "legacy_gl": Template("erp", None, note="journal files written to FOLDER/inbox"),
}
_SECRET_WORDS = ("token", "secret", "password", "key")
_CLIENT_IDS = {"salesforce", "netsuite"}  # connectors that read client_id as a reference too


def is_secret(connector: str, key: str) -> bool:
    """Whether a credential is written as a reference (``env:``) rather than a plain value."""
    return any(w in key for w in _SECRET_WORDS) or (key == "client_id" and connector in _CLIENT_IDS)


def secret_env(system: str, key: str) -> str:
    """The environment variable ``init`` names for a system's secret: ``HANDOFFS_HARVEST_TOKEN``."""
    return re.sub(r"[^A-Z0-9]+", "_", f"HANDOFFS_{system}_{key}".upper())


def render(systems: list[tuple[str, str]], known: dict[str, dict[str, Any]] | None = None) -> str:
    """The file for ``(name, connector type)`` pairs; ``known`` fills URLs and plain values.

    ``known`` maps a system name to ``{"url": ..., "credentials": {...}, "folder": ...}``
    (what ``simulate up`` records); secrets stay references even then.
    """
    known = known or {}
    out = [
        "# Handoffs system configuration, written by `handoffs init`. Check it with:",
        "#   handoffs systems check        (names every secret, file or value still missing)",
        "# Credentials are references only: env:NAME or file:/run/secrets/NAME, never values.",
        "version: 1",
        "systems:",
    ]
    for name, kind in systems:
        out += ["", *_entry(name, kind, TEMPLATES[kind], known.get(name, {}))]
    return "\n".join(out) + "\n"


def _entry(name: str, kind: str, t: Template, known: dict[str, Any]) -> list[str]:
    lines = [
        f"  {name}:" + (f"  # {t.note}" if t.note else ""),
        f"    role: {t.role}",
        f"    connector: {kind}",
    ]
    if t.base_url is not None:
        lines.append(f"    base_url: {known.get('url') or t.base_url}")
    if t.credentials:
        lines.append("    credentials:")
        values = known.get("credentials") or {}
        for key in t.credentials:
            if is_secret(kind, key):
                lines.append(f"      {key}: env:{secret_env(name, key)}")
            else:
                lines.append(f'      {key}: "{values.get(key, PLACEHOLDER)}"')
    if t.base_url is None:
        lines.append(f"    folder: {known.get('folder') or 'drops/' + name}")
    if kind == "csv_time":
        lines.append(f"    mapping: mappings/{name}.yaml       # the export's columns -> time entries")
    if t.limits:
        lines.append(f"    limits: {{rate: {t.limits[0]}, burst: {t.limits[1]}}}   # {t.limits[2]}")
    if t.resources:
        lines.append(f"    resources: [{', '.join(t.resources)}]")
    if t.role != "erp":
        lines.append("    overlap: 10m                      # each pull re-reads this much before its cursor")
    if t.settle is not None:  # a simulated ERP finishes a slow write within seconds
        lines.append("    options:")
        lines.append(
            f"      settle_seconds: {5 if known else t.settle}   # how long a lost write is looked for"
        )
    return lines

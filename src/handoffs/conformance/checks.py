"""The checks, grouped per system role; each says what it proved or why it failed.

every system     answers with its configured credential; refuses a wrong one without
                 showing it; no secret reaches a log line or a check's reason
a source         per resource: a full read (every record has its key and update stamp),
                 an incremental read from the newest stamp (``>=``: the boundary record
                 comes back), every record maps with the system's mapping
an ERP           (writes) refuses an invoice it cannot map as terminal; posts one invoice
                 once however often it is sent
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from handoffs.config.systems import SystemConfig
from handoffs.connectors.mapping import Lookups
from handoffs.connectors.registry import build_erp, build_source, load_system_mapping
from handoffs.connectors.secrets import SecretError, resolve_secret
from handoffs.engine.errors import HandoffsFailure, TerminalError

__all__ = ["WRONG_SECRET", "Check", "run_checks", "secret_values", "wrong_credentials"]

WRONG_SECRET = "handoffs-conformance-wrong-secret"  # noqa: S105 (wrong on purpose)


@dataclass(frozen=True, slots=True)
class Check:
    """One check's outcome; ``writes`` says whether it changed anything in the system."""

    name: str
    ok: bool
    reason: str
    writes: bool = False

    def as_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def secret_values(cfg: SystemConfig) -> list[str]:
    """The values of the system's credential references (never printed; only searched for)."""
    found = [_value(str(ref)) for ref in (cfg.entry.get("credentials") or {}).values()]
    return [v for v in found if len(v) >= 4]


def wrong_credentials(cfg: SystemConfig) -> SystemConfig | None:
    """The same system with every credential reference replaced by a wrong value.

    A key in PEM form stays (a wrong text would not even load); its partner, the client or
    certificate id, is then the wrong one."""
    creds = cfg.entry.get("credentials") or {}
    refs = {
        k
        for k, v in creds.items()
        if str(v).split(":", 1)[0] in ("env", "file", "value") and "-----BEGIN" not in _value(str(v))
    }
    if not refs:
        return None
    wrong = {k: f"value:{WRONG_SECRET}" if k in refs else v for k, v in creds.items()}
    return dataclasses.replace(cfg, entry={**cfg.entry, "credentials": wrong})


def _value(ref: str) -> str:
    try:
        return resolve_secret(ref).reveal()
    except SecretError:
        return ""


class _Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextmanager
def _captured_logs() -> Iterator[_Capture]:
    root, handler = logging.getLogger(), _Capture()
    level, effective = root.level, root.getEffectiveLevel()
    others = {h: h.level for h in root.handlers}
    for other in others:  # what they showed before, and no more: the DEBUG lines are for the search
        other.setLevel(max(other.level, effective))
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)
        for other, was in others.items():
            other.setLevel(was)


def run_checks(
    cfg: SystemConfig,
    lookups: Lookups,
    *,
    write: bool = False,
    invoice: Any = None,
    extra: list[Callable[[], list[Check]]] | None = None,
    **http: Any,
) -> list[Check]:
    """Run every check that applies to ``cfg``; writing checks only with ``write``.

    Args:
        lookups: what mappings look up (the hub's store); ``NoLookups()`` without a hub.
        invoice: a hub invoice an ERP is to post twice (with ``write``).
        extra: more checks to run while logs are watched for secrets (write-back targets).
        http: passed to the connectors (an ``HttpPolicy`` as ``policy``).
    """
    from handoffs.conformance.erp import erp_checks
    from handoffs.conformance.source import source_checks

    results: list[Check] = []
    with _captured_logs() as logs:
        try:
            if cfg.role == "erp":
                results += erp_checks(cfg, lookups, write=write, invoice=invoice, **http)
            else:
                results += source_checks(cfg, lookups, **http)
            for more in extra or []:
                results += more()
        except (SecretError, OSError, KeyError, ValueError) as exc:
            results.append(Check("configuration", False, f"{cfg.name}: {exc}"))
    text = "\n".join([*logs.lines, *(c.reason for c in results)])
    leaked = [v for v in secret_values(cfg) if v in text]
    results.append(
        Check(
            "secrets stay out of logs and errors",
            not leaked,
            f"{len(logs.lines)} log lines and every reason searched"
            if not leaked
            else "a credential of this system appears in a log line or an error",
        )
    )
    return results


def answers(connector: Any, name: str) -> Check:
    """The system answers one authenticated call."""
    found = connector.check()
    return Check("answers with its credential", found.ok, found.detail if found.detail else name)


def refuses_wrong_credential(cfg: SystemConfig, build: Callable[[SystemConfig], Any]) -> Check:
    """A wrong credential is refused as terminal (not retried for ever), without being shown."""
    name = "refuses a wrong credential"
    wrong = wrong_credentials(cfg)
    if wrong is None:
        return Check(name, True, "no credential to test (the system has none)")
    connector = build(wrong)
    try:
        found = connector.check()
    except HandoffsFailure as exc:
        found = None
        detail, terminal = str(exc), isinstance(exc, TerminalError)
    else:
        detail, terminal = found.detail, not found.ok
    finally:
        close = getattr(connector, "close", None)
        if close:
            close()
    shown = WRONG_SECRET in detail or any(v in detail for v in secret_values(cfg))
    if shown:
        return Check(name, False, "the refusal shows the credential")
    return Check(name, terminal, f"refused: {detail}" if terminal else "a wrong credential was accepted")


def build_for(cfg: SystemConfig, lookups: Lookups, **http: Any) -> Any:
    """The connector ``cfg`` describes (an ERP port or a source)."""
    if cfg.role == "erp":
        return build_erp(cfg, lookups, **http)
    return build_source(cfg, **http)


def mapping_of(cfg: SystemConfig) -> Any:
    return load_system_mapping(cfg)

"""Settings, read from the environment when the application is built (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from handoffs.engine.egress import ALLOW_ENV, parse_networks
from handoffs.store.db import DEFAULT_URL

__all__ = ["Settings"]


@dataclass(frozen=True, slots=True)
class Settings:
    """Where the hub keeps its state and how its worker behaves.

    Attributes:
        database_url: ``sqlite:///path`` (the embedded default) or ``postgresql://...``.
        erp: the ERP the first flow posts to: ``file:PATH`` (a fake ERP in its own SQLite
            file, shared across processes), ``memory`` (in-process fake), or ``none``.
        batch_size: work items a worker claims at a time.
        lease_seconds: how long a claim lasts before another worker may take it over.
        max_attempts: attempts before a transient failure becomes a dead letter.
        webhook_allow_networks: networks (CIDR) that webhook subscribers may be in besides
            public addresses, e.g. ``("127.0.0.1/32",)`` for a local demo; none by default.
        as_of: the business date billing decides with (which periods have ended, the date of
            invoices, credit notes and approved proposals); None: the machine's date.
    """

    database_url: str = DEFAULT_URL
    erp: str = "file:handoffs-erp.db"
    batch_size: int = 500
    lease_seconds: float = 60.0
    max_attempts: int = 8
    backoff_base: float = 0.5
    webhook_allow_networks: tuple[str, ...] = ()
    as_of: date | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        env = os.environ if env is None else env
        values: dict[str, object] = {
            "database_url": env.get("HANDOFFS_DATABASE_URL", DEFAULT_URL),
            "erp": env.get("HANDOFFS_ERP", "file:handoffs-erp.db"),
            "batch_size": int(env.get("HANDOFFS_BATCH_SIZE", "500")),
            "lease_seconds": float(env.get("HANDOFFS_LEASE_SECONDS", "60")),
            "max_attempts": int(env.get("HANDOFFS_MAX_ATTEMPTS", "8")),
            "backoff_base": float(env.get("HANDOFFS_BACKOFF_BASE", "0.5")),
            "webhook_allow_networks": tuple(str(n) for n in parse_networks(env.get(ALLOW_ENV, ""))),
            "as_of": date.fromisoformat(env["HANDOFFS_AS_OF"]) if env.get("HANDOFFS_AS_OF") else None,
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

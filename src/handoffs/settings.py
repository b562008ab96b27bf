"""Settings, read from the environment when the application is built (never at import)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

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
    """

    database_url: str = DEFAULT_URL
    erp: str = "file:handoffs-erp.db"
    batch_size: int = 500
    lease_seconds: float = 60.0
    max_attempts: int = 8
    backoff_base: float = 0.5

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
        }
        values.update({k: v for k, v in overrides.items() if v is not None})
        return cls(**values)  # type: ignore[arg-type]

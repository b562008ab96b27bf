"""API clients, their hashed keys, and small named secrets made on first use.

The access tokens' signing key is not one of them: it is derived from the master secret
(``handoffs.keyring``) and never stored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from handoffs.store.tables import api_clients, api_keys

__all__ = ["ApiClient", "ApiClientRepository", "ApiKeyRow"]


@dataclass(frozen=True, slots=True)
class ApiClient:
    """A caller of the API: its scopes, and the legal entities it may see (None = all)."""

    id: str
    name: str
    scopes: frozenset[str]
    entities: frozenset[str] | None
    rate: float
    burst: float
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: str
    client_id: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


def _client(r: Any) -> ApiClient:
    entities = str(r.entities)
    return ApiClient(
        id=r.id,
        name=r.name,
        scopes=frozenset(str(r.scopes).split()),
        entities=None if entities == "*" else frozenset(entities.split()),
        rate=float(r.rate),
        burst=float(r.burst),
        created_at=r.created_at,
    )


def _key(r: Any) -> ApiKeyRow:
    return ApiKeyRow(r.id, r.client_id, r.prefix, r.created_at, r.revoked_at)


class ApiClientRepository:
    def __init__(self, conn: Connection, now: datetime) -> None:
        self._conn = conn
        self._now = now

    def add_client(
        self,
        client_id: str,
        name: str,
        scopes: set[str],
        entities: set[str] | None,
        rate: float,
        burst: float,
    ) -> None:
        self._conn.execute(
            insert(api_clients).values(
                id=client_id,
                name=name,
                scopes=" ".join(sorted(scopes)),
                entities="*" if entities is None else " ".join(sorted(entities)),
                rate=rate,
                burst=burst,
                created_at=self._now,
            )
        )

    def client(self, client_id: str) -> ApiClient | None:
        row = self._conn.execute(select(api_clients).where(api_clients.c.id == client_id)).first()
        return None if row is None else _client(row)

    def clients(self) -> list[ApiClient]:
        return [_client(r) for r in self._conn.execute(select(api_clients).order_by(api_clients.c.id))]

    def add_key(self, key_id: str, client_id: str, prefix: str, digest: str) -> None:
        self._conn.execute(
            insert(api_keys).values(
                id=key_id, client_id=client_id, prefix=prefix, hash=digest, created_at=self._now
            )
        )

    def key_by_hash(self, digest: str) -> ApiKeyRow | None:
        row = self._conn.execute(select(api_keys).where(api_keys.c.hash == digest)).first()
        return None if row is None else _key(row)

    def key(self, key_id: str) -> ApiKeyRow | None:
        row = self._conn.execute(select(api_keys).where(api_keys.c.id == key_id)).first()
        return None if row is None else _key(row)

    def keys(self, client_id: str | None = None) -> list[ApiKeyRow]:
        query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
        if client_id is not None:
            query = query.where(api_keys.c.client_id == client_id)
        return [_key(r) for r in self._conn.execute(query)]

    def live(self, client_ids: Iterable[str]) -> set[str]:
        """Those of ``client_ids`` that still have a key not revoked."""
        ids = sorted(set(client_ids))
        if not ids:
            return set()
        query = select(api_keys.c.client_id).where(
            api_keys.c.client_id.in_(ids), api_keys.c.revoked_at.is_(None)
        )
        return {str(r) for r in self._conn.execute(query.distinct()).scalars()}

    def revoke_key(self, key_id: str) -> bool:
        """Revoke one key; False when it does not exist or was already revoked."""
        result = self._conn.execute(
            update(api_keys)
            .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
            .values(revoked_at=self._now)
        )
        return bool(result.rowcount)

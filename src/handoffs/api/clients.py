"""Managing API clients and keys (the ``handoffs apikey`` commands and tests use these).

Every change is written to the audit log in the same transaction, with the operator as actor.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from handoffs.api.deps import SCOPES
from handoffs.api.tokens import NewKey, new_key
from handoffs.audit import append
from handoffs.engine.relay import CLIENT_REVOKED
from handoffs.store.repositories.api_clients import ApiClientRepository
from handoffs.store.repositories.subscriptions import SubscriptionRepository
from handoffs.store.uow import SqlUnitOfWork

__all__ = ["create_client", "end_subscriptions", "revoke_key", "rotate_key"]

_CLIENT_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


def _audit(uow: SqlUnitOfWork, actor: str, action: str, target: str, before: Any, after: Any) -> None:
    """One audit row in the caller's transaction, with the operator as actor."""
    append(uow.connection, at=uow.now, actor=actor, action=action, target=target, before=before, after=after)


def create_client(
    uow: SqlUnitOfWork,
    actor: str,
    client_id: str,
    scopes: Iterable[str],
    entities: Iterable[str] | None = None,
    *,
    name: str | None = None,
    rate: float = 20.0,
    burst: float = 40.0,
) -> NewKey:
    """Create a client and its first key; returns the key (its secret is shown only now)."""
    scope_set = set(scopes)
    unknown = scope_set - set(SCOPES)
    if unknown:
        raise ValueError(f"unknown scope(s): {', '.join(sorted(unknown))}; known: {', '.join(SCOPES)}")
    if not _CLIENT_ID.match(client_id):
        raise ValueError("a client id is 1-64 of a-z, 0-9, _ and -, starting with a letter or digit")
    entity_set = None if entities is None else set(entities)
    repo = ApiClientRepository(uow.connection, uow.now)
    if repo.client(client_id) is not None:
        raise ValueError(f"client {client_id} already exists; use rotate to give it a new key")
    repo.add_client(client_id, name or client_id, scope_set, entity_set, rate, burst)
    key = new_key()
    repo.add_key(key.key_id, client_id, key.prefix, key.digest)
    after = {
        "scopes": sorted(scope_set),
        "entities": None if entity_set is None else sorted(entity_set),
        "key": key.prefix,
        "rate": rate,
        "burst": burst,
    }
    _audit(uow, actor, "apikey.create", f"client:{client_id}", None, after)
    return key


def rotate_key(uow: SqlUnitOfWork, actor: str, client_id: str, *, revoke_old: bool = False) -> NewKey:
    """A new key for the client; the old keys keep working unless ``revoke_old``."""
    repo = ApiClientRepository(uow.connection, uow.now)
    if repo.client(client_id) is None:
        raise ValueError(f"no client {client_id}")
    old = [k for k in repo.keys(client_id) if k.revoked_at is None]
    key = new_key()
    repo.add_key(key.key_id, client_id, key.prefix, key.digest)
    if revoke_old:
        for k in old:
            repo.revoke_key(k.id)
    _audit(
        uow,
        actor,
        "apikey.rotate",
        f"client:{client_id}",
        {"keys": [k.prefix for k in old]},
        {"new": key.prefix, "revoked": [k.prefix for k in old] if revoke_old else []},
    )
    return key


def revoke_key(uow: SqlUnitOfWork, actor: str, key_id: str) -> bool:
    """Revoke a key by id or prefix (``hk_live_<id>``); its access tokens stop working too.

    When it was the client's last key, the client is revoked: its event subscriptions end
    (see :func:`end_subscriptions`).
    """
    key_id = key_id.removeprefix("hk_live_")
    repo = ApiClientRepository(uow.connection, uow.now)
    done = repo.revoke_key(key_id)
    if done:
        _audit(uow, actor, "apikey.revoke", f"key:{key_id}", {"revoked": False}, {"revoked": True})
        key = repo.key(key_id)
        if key is not None and not repo.live([key.client_id]):
            end_subscriptions(uow, actor, key.client_id)
    return done


def end_subscriptions(uow: SqlUnitOfWork, actor: str, client_id: str) -> list[str]:
    """End a revoked client's subscriptions: no event is sent to them again, and what they
    were still owed is recorded ``dead`` with the reason. Returns the subscription ids."""
    subs = SubscriptionRepository(uow.connection, uow.now)
    ended = [s.id for s in subs.find(client_id=client_id, active_only=True)]
    for sub_id in ended:
        subs.deactivate(sub_id)
        subs.close_pending(sub_id, CLIENT_REVOKED)
        _audit(
            uow,
            actor,
            "events.unsubscribe",
            f"subscription:{sub_id}",
            {"active": True},
            {"active": False, "reason": CLIENT_REVOKED},
        )
    return ended

"""The audit log's rows: appended in the caller's transaction, each keyed with a secret.

Each row's ``hash`` is an HMAC-SHA256, under a key derived from the hub's master secret
(:mod:`handoffs.keyring`, purpose ``"audit"``), over the previous row's hash and the row's
own fields in canonical JSON. The master secret lives outside the database, so someone who
can write the database can neither edit a row nor recompute the hashes after it.

Rows written before the chain was keyed keep their plain SHA-256 (``scheme = "sha256"``)
and still verify; every row appended now is ``"hmac-sha256"`` and names the master
secret's public ``key_id``. A one-row head (``audit_head``) holds the last sequence number
and hash: it serialises appenders (locked ``FOR UPDATE`` on PostgreSQL; SQLite has one
writer). Verification and signed checkpoints are in :mod:`handoffs.audit`.
"""

from __future__ import annotations

import hashlib
import hmac
import inspect
import weakref
from collections.abc import Callable
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, insert, select, update

from handoffs.keyring import Keyring
from handoffs.store.tables import audit_head, audit_log

__all__ = [
    "GENESIS",
    "KEYED",
    "LEGACY",
    "PURPOSE",
    "append",
    "audit_keyring",
    "canonical_json",
    "row_digest",
    "use_keyring",
]

GENESIS = "0" * 64
LEGACY = "sha256"  # rows written before the chain was keyed: a plain hash anyone can recompute
KEYED = "hmac-sha256"
PURPOSE = "audit"
_ACTOR_LENGTH, _TARGET_LENGTH = 128, 255

# Engine -> where its hub's keyring comes from (a weak method, so a closed app is not kept alive).
_keyrings: weakref.WeakKeyDictionary[Engine, Callable[[], Keyring | None]] = weakref.WeakKeyDictionary()


def use_keyring(engine: Engine, keyring: Callable[[], Keyring]) -> None:
    """Key the audit rows written through ``engine`` with ``keyring()`` (the app's, in bootstrap)."""
    if inspect.ismethod(keyring):  # held weakly: a closed app is not kept alive by its engine
        method = weakref.WeakMethod(keyring)
        _keyrings[engine] = lambda: bound() if (bound := method()) is not None else None
    else:
        _keyrings[engine] = keyring


def audit_keyring(conn: Connection) -> Keyring:
    """The keyring of the hub that owns ``conn``; else the one its database URL names."""
    engine = conn.engine
    source = _keyrings.get(engine)
    found = source() if source is not None else None
    if found is None:
        loaded = Keyring.load(engine.url.render_as_string(hide_password=False))
        _keyrings[engine] = lambda: loaded
        found = loaded
    return found


def canonical_json(value: Any) -> str:
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS, default=str).decode()


def row_digest(
    scheme: str,
    key: bytes | None,
    prev_hash: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    before: str,
    after: str,
) -> str:
    """A row's hash under ``scheme``; ``key`` is needed for keyed rows."""
    fields: list[Any] = [prev_hash, seq, at.isoformat(), actor, action, target, before, after]
    if scheme == LEGACY:
        return hashlib.sha256(canonical_json(fields).encode()).hexdigest()
    if scheme == KEYED and key is not None:
        return hmac.new(key, canonical_json([scheme, *fields]).encode(), hashlib.sha256).hexdigest()
    raise ValueError(f"cannot compute an audit hash of scheme {scheme!r}")


def append(
    conn: Connection,
    *,
    at: datetime,
    actor: str,
    action: str,
    target: str,
    before: Any = None,
    after: Any = None,
) -> int:
    """Append one keyed row in the caller's transaction; returns its sequence number."""
    keyring = audit_keyring(conn)
    query = select(audit_head.c.seq, audit_head.c.hash).where(audit_head.c.id == 1)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    head = conn.execute(query).first()
    if head is None:
        # Two first appenders race on this insert; the loser's transaction fails and is retried.
        conn.execute(insert(audit_head).values(id=1, seq=0, hash=GENESIS))
        seq, prev = 1, GENESIS
    else:
        seq, prev = int(head.seq) + 1, str(head.hash)
    before_s, after_s = canonical_json(before), canonical_json(after)
    actor, target = actor[:_ACTOR_LENGTH], target[:_TARGET_LENGTH]  # what is hashed is what is stored
    key = keyring.key(PURPOSE)
    digest = row_digest(KEYED, key, prev, seq, at, actor, action, target, before_s, after_s)
    conn.execute(
        insert(audit_log).values(
            seq=seq,
            at=at,
            actor=actor,
            action=action,
            target=target,
            before=before_s,
            after=after_s,
            prev_hash=prev,
            hash=digest,
            scheme=KEYED,
            key_id=keyring.key_id(),
        )
    )
    conn.execute(update(audit_head).where(audit_head.c.id == 1).values(seq=seq, hash=digest))
    return seq

"""Signed checkpoints of the audit chain, to keep off the machine and verify against later.

A checkpoint says "on <at>, the chain ended at row <seq> with hash <hash>", for the master
secret with key id <key_id>, signed with Ed25519 (``cryptography``). The signing key is
derived from the master secret (purpose ``"audit-checkpoint"``), so the database alone cannot
forge one; the checkpoint carries its public key so anyone can check the signature, and this
hub checks that the public key is its own. Held against the chain later, a checkpoint
detects rows cut from the end and the head moved back, which a chain alone cannot.
"""

from __future__ import annotations

import binascii
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from handoffs.keyring import Keyring
from handoffs.store.repositories.audit import canonical_json

__all__ = ["FORMAT", "Checkpoint", "CheckpointError", "read_checkpoint", "sign_checkpoint"]

FORMAT = "handoffs-audit-checkpoint/1"
PURPOSE = "audit-checkpoint"


class CheckpointError(Exception):
    """A checkpoint that is malformed, forged, altered or signed by another hub's secret."""


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    hash: str
    at: str  # ISO 8601, UTC
    key_id: str
    public_key: str  # Ed25519, raw, hex
    signature: str  # hex

    def as_dict(self) -> dict[str, Any]:
        return {"format": FORMAT, **asdict(self)}

    def to_json(self) -> str:
        return orjson.dumps(self.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"


def _private(keyring: Keyring) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(keyring.key(PURPOSE))


def _public_hex(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()


def _signed(seq: int, hash_: str, at: str, key_id: str, public_key: str) -> bytes:
    body = {"format": FORMAT, "seq": seq, "hash": hash_, "at": at, "key_id": key_id, "public_key": public_key}
    return canonical_json(body).encode()


def sign_checkpoint(keyring: Keyring, seq: int, hash_: str, at: datetime) -> Checkpoint:
    """A checkpoint of the chain ending at row ``seq`` with ``hash_``, signed now."""
    private = _private(keyring)
    public, when, key_id = _public_hex(private.public_key()), at.isoformat(), keyring.key_id()
    signature = private.sign(_signed(seq, hash_, when, key_id, public)).hex()
    return Checkpoint(seq, hash_, when, key_id, public, signature)


def read_checkpoint(text: str, keyring: Keyring) -> Checkpoint:
    """Parse a checkpoint and check that this hub's master secret signed it, exactly as it is."""
    try:
        data = orjson.loads(text)
        fields = {name: data[name] for name in ("seq", "hash", "at", "key_id", "public_key", "signature")}
        cp = Checkpoint(**fields)
        ok = data.get("format") == FORMAT and isinstance(cp.seq, int) and cp.seq >= 0
        ok = ok and all(isinstance(v, str) for v in (cp.hash, cp.at, cp.key_id, cp.public_key, cp.signature))
    except (orjson.JSONDecodeError, KeyError, TypeError) as exc:
        raise CheckpointError(f"not an audit checkpoint ({type(exc).__name__})") from None
    if not ok:
        raise CheckpointError("not an audit checkpoint (wrong format or field types)")
    own = _private(keyring).public_key()
    if cp.key_id != keyring.key_id() or cp.public_key != _public_hex(own):
        raise CheckpointError(
            f"signed with another master secret (key id {cp.key_id}, this hub's is {keyring.key_id()})"
        )
    try:
        own.verify(bytes.fromhex(cp.signature), _signed(cp.seq, cp.hash, cp.at, cp.key_id, cp.public_key))
    except (InvalidSignature, ValueError, binascii.Error):
        raise CheckpointError("its signature does not verify: it was forged or altered") from None
    return cp

"""The hub's master secret, kept outside the database, and the keys derived from it.

Whoever can read or write the database must not be able to forge what the hub signs (the
audit chain, checkpoints) nor read what it seals (signing keys, stored secrets). So those
keys come from one master secret that lives outside the database:

* ``HANDOFFS_SECRET_KEY``: the secret itself (at least 32 characters), for deployments that
  inject secrets through the environment; every ``serve`` and ``worker`` process of one hub
  must share it.
* ``HANDOFFS_SECRET_KEY_FILE``: a file holding it. By default the file beside an SQLite
  database (``handoffs.db`` -> ``handoffs.key``), else ``handoffs.key`` in the working
  directory; it is created with mode 0600 on first use when missing.

Each use gets its own key, derived with HKDF-SHA256 (RFC 5869) under a purpose label, so a
key that leaks from one use does not open another. Sealing is Fernet (AES-128-CBC with an
HMAC-SHA256 tag) from the ``cryptography`` package; nothing here is a home-made primitive.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.engine import make_url

__all__ = ["SEALED_PREFIX", "Keyring", "KeyringError", "default_key_file"]

SEALED_PREFIX = "sealed:"
_MIN_LENGTH = 32


class KeyringError(Exception):
    """The master secret is missing, too short or unreadable, or a sealed value does not open."""


def default_key_file(database_url: str) -> Path:
    """Where the master secret lives when nothing says otherwise."""
    try:
        url = make_url(database_url)
    except Exception:  # an unparsable URL is reported where the database is opened
        return Path("handoffs.key")
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:":
        return Path(url.database).expanduser().with_suffix(".key")
    return Path("handoffs.key")


@dataclass(frozen=True, slots=True)
class Keyring:
    """Keys derived from the master secret, one per purpose.

    Attributes:
        master: the master secret's bytes (never logged or shown; not part of ``repr``).
        source: where it came from, for messages (``environment`` or the file's path).
    """

    master: bytes = field(repr=False)
    source: str = "environment"

    @classmethod
    def load(cls, database_url: str, env: Mapping[str, str] | None = None) -> Keyring:
        """The keyring named by the environment, creating the default key file if missing."""
        env = os.environ if env is None else env
        value = env.get("HANDOFFS_SECRET_KEY")
        if value:
            if len(value) < _MIN_LENGTH:
                raise KeyringError(f"HANDOFFS_SECRET_KEY must be at least {_MIN_LENGTH} characters")
            return cls(value.encode(), "environment")
        path = Path(env.get("HANDOFFS_SECRET_KEY_FILE") or default_key_file(database_url))
        return cls(_read_or_create(path), str(path))

    def key(self, purpose: str, length: int = 32) -> bytes:
        """A key for one purpose (``"audit"``, ``"signing-keys"``...), stable for this secret."""
        hkdf = HKDF(algorithm=hashes.SHA256(), length=length, salt=None, info=purpose.encode())
        return hkdf.derive(self.master)

    def key_id(self) -> str:
        """A short public fingerprint of the master secret, to tell which key signed what."""
        return hashlib.sha256(self.key("key-id")).hexdigest()[:16]

    def _fernet(self, purpose: str) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(self.key("seal:" + purpose)))

    def seal(self, purpose: str, plaintext: str) -> str:
        """``plaintext`` encrypted and authenticated for ``purpose``, as ``sealed:<token>``."""
        return SEALED_PREFIX + self._fernet(purpose).encrypt(plaintext.encode()).decode()

    def unseal(self, purpose: str, value: str) -> str:
        """The plaintext of a value :meth:`seal` made; raises :class:`KeyringError` otherwise."""
        if not value.startswith(SEALED_PREFIX):
            raise KeyringError("the value is not sealed")
        try:
            return self._fernet(purpose).decrypt(value[len(SEALED_PREFIX) :].encode()).decode()
        except InvalidToken as exc:
            raise KeyringError(
                "a sealed value does not open with this master secret (was HANDOFFS_SECRET_KEY changed?)"
            ) from exc


def _read_or_create(path: Path) -> bytes:
    try:
        text = path.read_text().strip()
    except FileNotFoundError:
        _create(path)
        return _read_or_create(path)
    except OSError as exc:
        raise KeyringError(f"cannot read the master secret file {path}: {exc.strerror}") from exc
    if len(text) < _MIN_LENGTH:
        raise KeyringError(f"the master secret in {path} must be at least {_MIN_LENGTH} characters")
    return text.encode()


def _create(path: Path) -> None:
    """Write a new secret whole, then link it into place: a racing process sees all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_urlsafe(48) + "\n")
        with contextlib.suppress(FileExistsError):  # another process made it first: theirs counts
            os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)

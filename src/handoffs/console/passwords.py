"""Console passwords: Argon2id hashes (argon2-cffi) and the policy a new password must meet.

Hashes are ``$argon2id$...`` strings made by :class:`argon2.PasswordHasher` with its
default (RFC 9106 low-memory) parameters. A hash made with other parameters, or by the
console's former scrypt scheme (``scrypt$n$r$p$salt$hash``), still verifies;
:func:`needs_rehash` tells the login to store a fresh Argon2id hash in its place.

The policy (:func:`check_password`): at least :data:`MIN_PASSWORD` characters, at most
:data:`MAX_PASSWORD`, not the user's name, and not a well-known common password: the list
shipped in ``data/common-passwords.txt``, compared without regard to case and also with
leading and trailing digits, spaces and punctuation removed (``Password2024!`` counts).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
from importlib.resources import files

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "MAX_PASSWORD",
    "MIN_PASSWORD",
    "PasswordRefused",
    "check_password",
    "hash_password",
    "needs_rehash",
    "verify_password",
]

MIN_PASSWORD = 12
MAX_PASSWORD = 1024
_HASHER = PasswordHasher()
_TRIM = "0123456789 !\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"


class PasswordRefused(ValueError):
    """A new password does not meet the policy; the message says why (never the password)."""


def hash_password(password: str) -> str:
    """A salted Argon2id hash of ``password``."""
    return _HASHER.hash(password)


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored`` (Argon2 or the former scrypt scheme)."""
    if stored.startswith("scrypt$"):
        return _verify_scrypt(password, stored)
    try:
        return _HASHER.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(stored: str) -> bool:
    """Whether ``stored`` should be replaced by a hash with the current scheme and parameters."""
    if not stored.startswith("$argon2"):
        return True
    try:
        return _HASHER.check_needs_rehash(stored)
    except (InvalidHashError, ValueError):
        return True


def _verify_scrypt(password: str, stored: str) -> bool:
    try:
        _, n, r, p, salt, digest = stored.split("$")
        got = hashlib.scrypt(
            password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


@functools.cache
def _common() -> frozenset[str]:
    text = files("handoffs.console").joinpath("data/common-passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def check_password(name: str, password: str) -> None:
    """Refuse a new password for user ``name`` that breaks the policy (:class:`PasswordRefused`)."""
    if len(password) < MIN_PASSWORD:
        raise PasswordRefused(f"a password needs at least {MIN_PASSWORD} characters")
    if len(password) > MAX_PASSWORD:
        raise PasswordRefused(f"a password has at most {MAX_PASSWORD} characters")
    lowered = password.lower()
    core = lowered.strip(_TRIM)
    if name and name.lower() in (lowered, core):
        raise PasswordRefused("a password must not be the user name")
    if lowered in _common() or core in _common() or len(set(lowered)) < 3:
        raise PasswordRefused(
            "that password is too common or too simple; choose a longer passphrase of your own"
        )

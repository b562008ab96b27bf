"""Secrets the store must be able to read back (webhook signing secrets), sealed at rest.

A value is sealed with the master keyring (:mod:`handoffs.keyring`) before it is written and
unsealed after it is read, so a database reader finds only ``sealed:<Fernet token>``. The
keyring is the one :meth:`handoffs.bootstrap.App.keyring` loads: the same environment
(``HANDOFFS_SECRET_KEY`` / ``HANDOFFS_SECRET_KEY_FILE``) and the same database URL, which
the store finds on its own connection, so repositories keep their ``(connection, now)``
constructor.
"""

from __future__ import annotations

from sqlalchemy import Connection

from handoffs.keyring import Keyring, KeyringError

__all__ = ["RECEIVER_PURPOSE", "SUBSCRIPTION_PURPOSE", "Sealer", "keyring_for"]

SUBSCRIPTION_PURPOSE = "webhook-subscription"  # the sealing purpose of outbound webhook secrets
RECEIVER_PURPOSE = "webhook-receiver"  # ...and of inbound (connected systems') webhook secrets


def keyring_for(conn: Connection) -> Keyring:
    """The master keyring of the database ``conn`` opens, found as the application finds it."""
    return Keyring.load(conn.engine.url.render_as_string(hide_password=False))


class Sealer:
    """Seals and opens one connection's secrets, loading the keyring only when first needed."""

    def __init__(self, conn: Connection, keyring: Keyring | None = None) -> None:
        self._conn = conn
        self._keyring = keyring

    def _keys(self) -> Keyring:
        if self._keyring is None:
            self._keyring = keyring_for(self._conn)
        return self._keyring

    def seal(self, purpose: str, plaintext: str | None) -> str | None:
        return None if plaintext is None else self._keys().seal(purpose, plaintext)

    def open(self, purpose: str, stored: str | None) -> str | None:
        """The plaintext, or None when nothing is stored or it does not open with this master secret.

        A plain (unsealed) value is refused too: whoever can write the database must not be
        able to choose a secret the hub will trust.
        """
        if stored is None:
            return None
        try:
            return self._keys().unseal(purpose, stored)
        except KeyringError:
            return None

"""sealed secrets: webhook secrets sealed with the master secret, stored signing keys deleted

Webhook secrets (outbound subscriptions', inbound receivers') are sealed with the master
secret kept outside the database (``handoffs.keyring``); a sealed value is longer than the
old 128-character columns, so they become text. Plain rows are sealed here, with the
keyring the application uses (``HANDOFFS_SECRET_KEY``, or its key file: run the upgrade
with the same environment as ``serve``). The JWT signing key is now derived from the master
secret and the console's from it too, so their old plaintext rows are deleted: access
tokens and console sessions issued before the upgrade end.

Revision ID: 0906
Revises: 0001
Create Date: 2026-12-06 12:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from handoffs.keyring import SEALED_PREFIX, Keyring, KeyringError
from handoffs.store.sealing import RECEIVER_PURPOSE, SUBSCRIPTION_PURPOSE, keyring_for

revision = "0906"
down_revision = "0001"
branch_labels = ("sealed_secrets",)
depends_on = ("0101",)

_STORED_KEYS = ("jwt", "console-session")
# (table, key column, sealing purpose) of each sealed secret column
_SEALED = (
    ("event_subscriptions", "id", SUBSCRIPTION_PURPOSE),
    ("webhook_receivers", "system", RECEIVER_PURPOSE),
)


def _table(name: str, key: str) -> sa.TableClause:
    return sa.table(name, sa.column(key, sa.String), sa.column("secret", sa.Text))


def _rewrite(seal: bool) -> None:
    """Seal every plain secret (``seal``), or open every sealed one; the keyring only if needed."""
    conn = op.get_bind()
    keyring: Keyring | None = None
    for name, key, purpose in _SEALED:
        table = _table(name, key)
        rows = conn.execute(sa.select(table.c[key], table.c.secret).where(table.c.secret.is_not(None))).all()
        for row_key, secret in rows:
            if secret.startswith(SEALED_PREFIX) == seal:
                continue
            keyring = keyring or keyring_for(conn)
            try:
                value = keyring.seal(purpose, secret) if seal else keyring.unseal(purpose, secret)
            except KeyringError:
                value = ""  # a sealed secret that no longer opens signs nothing on the old code either
            conn.execute(sa.update(table).where(table.c[key] == row_key).values(secret=value))


def upgrade() -> None:
    for name in ("event_subscriptions", "webhook_receivers"):
        with op.batch_alter_table(name) as batch:
            batch.alter_column("secret", type_=sa.Text(), existing_type=sa.String(128))
    _rewrite(seal=True)
    api_secrets = sa.table("api_secrets", sa.column("name", sa.String))
    op.execute(sa.delete(api_secrets).where(api_secrets.c.name.in_(_STORED_KEYS)))


def downgrade() -> None:
    _rewrite(seal=False)
    for name in ("event_subscriptions", "webhook_receivers"):
        with op.batch_alter_table(name) as batch:
            batch.alter_column("secret", type_=sa.String(128), existing_type=sa.Text())

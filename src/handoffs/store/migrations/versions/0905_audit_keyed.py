"""audit keyed: each audit row names its hash scheme and the master secret's key id

Rows written before keep ``scheme = 'sha256'`` (a plain hash chain) and still verify; rows
appended from now on are HMAC-SHA256 under a key kept outside the database.

Revision ID: 0905
Revises: 0001 (and needs 0101, which creates audit_log)
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0905"
down_revision = "0001"
branch_labels = ("audit_keyed",)
depends_on = "0101"  # audit_log is created there


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("scheme", sa.String(16), nullable=False, server_default="sha256"))
        batch.add_column(sa.Column("key_id", sa.String(16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("key_id")
        batch.drop_column("scheme")

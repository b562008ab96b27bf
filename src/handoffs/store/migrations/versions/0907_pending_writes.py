"""pending writes: deliveries whose answer never came, and asynchronous jobs still running

A write to an ERP that timed out may have happened; until the record is found by its key
(or a settle period has passed) it must not be sent again. An asynchronous write keeps its
job's location so that a retry polls the job instead of sending the write a second time.

Revision ID: 0907
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from handoffs.store.types import UtcDateTime

revision = "0907"
down_revision = "0001"
branch_labels = ("pending_writes",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pending_writes",
        sa.Column("key", sa.String(255), primary_key=True),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("job", sa.String(500)),
        sa.Column("since", UtcDateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("pending_writes")

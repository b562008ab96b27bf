"""coalescing: pending work items with the same key are one piece of work

Revision ID: 0701
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0701"
down_revision = "0001"
branch_labels = ("coalescing",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("work_queue") as batch:
        batch.add_column(sa.Column("coalesce_key", sa.String(length=200), nullable=True))
    op.create_index("ix_work_queue_coalesce", "work_queue", ["consumer", "coalesce_key", "status"])


def downgrade() -> None:
    op.drop_index("ix_work_queue_coalesce", table_name="work_queue")
    with op.batch_alter_table("work_queue") as batch:
        batch.drop_column("coalesce_key")

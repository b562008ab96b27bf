"""claim order: runnable work read in id order from an index, not sorted per claim

Revision ID: 0802
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0802"
down_revision = "0001"
branch_labels = ("claim_order",)
depends_on = None


def upgrade() -> None:
    op.create_index("ix_work_queue_order", "work_queue", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_work_queue_order", table_name="work_queue")

"""billing: revenue recognition markers, and proposals a person decides

Revision ID: 0201
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoffs.store.types

revision = "0201"
down_revision = "0001"
branch_labels = ("billing",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("time_entries") as batch_op:
        batch_op.add_column(sa.Column("recognised_by", sa.String(length=128), nullable=True))
    op.create_table(
        "proposals",
        sa.Column("id", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("contract_id", sa.String(length=128), nullable=False),
        sa.Column("project_id", sa.String(length=128), nullable=False),
        sa.Column("period", sa.String(length=7), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("amount", handoffs.store.types.Dec(length=48), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("doc", sa.Text(), nullable=False),
        sa.Column("created_at", handoffs.store.types.UtcDateTime(timezone=True), nullable=False),
        sa.Column("decided_at", handoffs.store.types.UtcDateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_proposals")),
    )
    op.create_index(op.f("ix_proposals_contract_id"), "proposals", ["contract_id"], unique=False)
    op.create_table(
        "recognitions",
        sa.Column("source_type", sa.String(length=16), nullable=False),
        sa.Column("source_id", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("source_type", "source_id", name=op.f("pk_recognitions")),
    )


def downgrade() -> None:
    op.drop_table("recognitions")
    op.drop_index(op.f("ix_proposals_contract_id"), table_name="proposals")
    op.drop_table("proposals")
    with op.batch_alter_table("time_entries") as batch_op:
        batch_op.drop_column("recognised_by")

"""policies: the decision each record was processed under, with its policy version

Revision ID: 0301
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoffs.store.types

revision = "0301"
down_revision = "0001"
branch_labels = ("policies",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "policy_decisions",
        sa.Column("record_type", sa.String(length=40), nullable=False),
        sa.Column("record_id", sa.String(length=128), nullable=False),
        sa.Column("record_version", sa.String(length=64), nullable=False),
        sa.Column("project_id", sa.String(length=128), nullable=True),
        sa.Column("period", sa.String(length=7), nullable=True),
        sa.Column("policy", sa.String(length=128), nullable=True),
        sa.Column("policy_version", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("rule", sa.String(length=128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_at", handoffs.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint(
            "record_type", "record_id", "record_version", name=op.f("pk_policy_decisions")
        ),
    )
    op.create_index(op.f("ix_policy_decisions_project_id"), "policy_decisions", ["project_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_policy_decisions_project_id"), table_name="policy_decisions")
    op.drop_table("policy_decisions")

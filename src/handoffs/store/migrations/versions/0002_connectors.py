"""connectors: the cursor of each incremental pull

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25 19:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoffs.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "connector_cursors",
        sa.Column("connector", sa.String(length=64), nullable=False),
        sa.Column("resource", sa.String(length=64), nullable=False),
        sa.Column("position", sa.String(length=64), nullable=True),
        sa.Column("seen", sa.Text(), nullable=False),
        sa.Column("pulls", sa.Integer(), nullable=False),
        sa.Column("updated_at", handoffs.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("connector", "resource", name=op.f("pk_connector_cursors")),
    )


def downgrade() -> None:
    op.drop_table("connector_cursors")

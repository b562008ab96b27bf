"""period closes: a legal entity's period closed by a person, with what was reported at close

Closing is its own action (``handoffs period close ENTITY PERIOD``), audited with who and
when. The row keeps the reported figures of the period at the moment it was closed, so
every report shows them unchanged for as long as the period stays closed.

Revision ID: 0915
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from handoffs.store.types import UtcDateTime

revision = "0915"
down_revision = "0001"
branch_labels = ("period_closes",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "period_closes",
        sa.Column("legal_entity_id", sa.String(128), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("closed", sa.Boolean, nullable=False),
        sa.Column("closed_by", sa.String(255), nullable=False),
        sa.Column("closed_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("reopened_by", sa.String(255)),
        sa.Column("reopened_at", UtcDateTime(timezone=True)),
        sa.Column("reported", sa.Text, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("period_closes")

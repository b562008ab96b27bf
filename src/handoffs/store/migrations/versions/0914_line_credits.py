"""line credits: the database refuses a second credit of an invoice line's source

A credit note may credit a whole line, some of its entries, or an amount of it. Each credited
source (or amount) of a line is one row keyed by (line, source), so a second credit of the
same source fails its transaction, whatever path issued it.

Revision ID: 0914
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from handoffs.store.types import UtcDateTime

revision = "0914"
down_revision = "0001"
branch_labels = ("line_credits",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "line_credits",
        sa.Column("credited_line_id", sa.String(128), nullable=False),
        sa.Column("source_type", sa.String(16), nullable=False),
        sa.Column("source_id", sa.String(128), nullable=False),
        sa.Column("credit_line_id", sa.String(128), nullable=False),
        sa.Column("credit_note_id", sa.String(128), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("credited_line_id", "source_type", "source_id", name="pk_line_credits"),
        sa.ForeignKeyConstraint(
            ["credited_line_id"], ["invoice_lines.id"], name="fk_line_credits_credited_line_id_invoice_lines"
        ),
    )


def downgrade() -> None:
    op.drop_table("line_credits")

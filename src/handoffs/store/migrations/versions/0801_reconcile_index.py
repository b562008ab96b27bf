"""reconcile index: an entry's live billing line found in the index alone

Revision ID: 0801
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0801"
down_revision = "0001"
branch_labels = ("reconcile_index",)
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_billed_sources_lookup",
        "billed_sources",
        ["source_type", "source_id", "released_by", "invoice_line_id"],
    )


def downgrade() -> None:
    op.drop_index("ix_billed_sources_lookup", table_name="billed_sources")

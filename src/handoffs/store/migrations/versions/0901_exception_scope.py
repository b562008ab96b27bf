"""exception scope: the legal entity an exception belongs to, and who raised it when

The exceptions an API client's records raise carry the legal entity they concern, and a client
may raise only so many in a window; the count runs per source over recent rows, so it is
indexed.

Revision ID: 0901
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0901"
down_revision = "0001"
branch_labels = ("exception_scope",)
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("exceptions") as batch:
        batch.add_column(sa.Column("legal_entity_id", sa.String(length=128), nullable=True))
    op.create_index("ix_exceptions_source_created", "exceptions", ["source", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_exceptions_source_created", table_name="exceptions")
    with op.batch_alter_table("exceptions") as batch:
        batch.drop_column("legal_entity_id")

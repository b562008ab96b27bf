"""coexistence: find a record's exceptions by the object they concern

A corrected record supersedes the older open validation exceptions of the same record; the
lookup by (object_type, object_id) runs once per accepted record, so it is indexed.

Revision ID: 0601
Revises: 0001
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0601"
down_revision = "0001"
branch_labels = ("coexistence",)
depends_on = None


def upgrade() -> None:
    op.create_index("ix_exceptions_object", "exceptions", ["object_type", "object_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_exceptions_object", table_name="exceptions")

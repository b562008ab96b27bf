"""console: the web console's users, each with a role and a scrypt password hash

An independent branch off 0001 (``upgrade`` goes to every head). The console signs its
session cookies with a key kept in ``api_secrets`` (branch ``api``), hence ``depends_on``.

Revision ID: 0401
Revises: 0001
Create Date: 2026-11-26 01:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoffs.store.types

revision = "0401"
down_revision = "0001"
branch_labels = ("console",)
depends_on = ("0101",)


def upgrade() -> None:
    op.create_table(
        "console_users",
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("created_at", handoffs.store.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", handoffs.store.types.UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_console_users")),
    )


def downgrade() -> None:
    op.drop_table("console_users")

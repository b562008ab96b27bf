"""console sessions: a server-side record of each console sign-in, and sign-in back-off

An independent branch off 0001 (``upgrade`` goes to every head). Sessions name console
users, hence ``depends_on`` the console branch. ``id`` is the SHA-256 of the session's
secret; the secret itself lives only in the user's signed cookie. ``console_login_throttle``
counts failed sign-ins per user name and per client address.

Revision ID: 0904
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import handoffs.store.types

revision = "0904"
down_revision = "0001"
branch_labels = ("console_sessions",)
depends_on = ("0401",)


def upgrade() -> None:
    op.create_table(
        "console_sessions",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("user_name", sa.String(length=64), nullable=False),
        sa.Column("created_at", handoffs.store.types.UtcDateTime(), nullable=False),
        sa.Column("last_seen_at", handoffs.store.types.UtcDateTime(), nullable=False),
        sa.Column("expires_at", handoffs.store.types.UtcDateTime(), nullable=False),
        sa.Column("ended_at", handoffs.store.types.UtcDateTime(), nullable=True),
        sa.Column("client", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_console_sessions")),
    )
    op.create_index(op.f("ix_console_sessions_user_name"), "console_sessions", ["user_name"])
    op.create_table(
        "console_login_throttle",
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("last_failure_at", handoffs.store.types.UtcDateTime(), nullable=False),
        sa.Column("locked_until", handoffs.store.types.UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_console_login_throttle")),
    )


def downgrade() -> None:
    op.drop_table("console_login_throttle")
    op.drop_index(op.f("ix_console_sessions_user_name"), table_name="console_sessions")
    op.drop_table("console_sessions")

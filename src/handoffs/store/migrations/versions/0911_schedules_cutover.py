"""scheduled pulls and ERP cut-over: pull leases, sync runs, cut-overs

A source system is pulled by one worker at a time: ``pull_leases`` holds who pulls it and
until when (renewed while the pull runs, taken over once expired). ``sync_runs`` records
each pull. ``erp_cutovers`` records from which period a new ERP replaces an old one.

Revision ID: 0911
Revises: 0001
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from handoffs.store.types import UtcDateTime

revision = "0911"
down_revision = "0001"
branch_labels = ("schedules_cutover",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pull_leases",
        sa.Column("system", sa.String(64), primary_key=True),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("expires_at", sa.Float(), nullable=False),
        sa.Column("acquired_at", sa.Float(), nullable=False),
    )
    op.create_table(
        "sync_runs",
        sa.Column(
            "id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), autoincrement=True, nullable=False
        ),
        sa.Column("system", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("started_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", UtcDateTime(timezone=True), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("counts", sa.Text(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_sync_runs"),
    )
    op.create_index("ix_sync_runs_system_started", "sync_runs", ["system", "started_at"])
    op.create_table(
        "erp_cutovers",
        sa.Column("from_system", sa.String(64), primary_key=True),
        sa.Column("to_system", sa.String(64), nullable=False),
        sa.Column("at_period", sa.String(7), nullable=False),
        sa.Column("created_at", UtcDateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("erp_cutovers")
    op.drop_index("ix_sync_runs_system_started", table_name="sync_runs")
    op.drop_table("sync_runs")
    op.drop_table("pull_leases")

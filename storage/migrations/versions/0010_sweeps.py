"""Sweeps of scenario variants (planner sweep, fleet-size, region) and their results.

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sweeps",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("title", sa.String(length=2000), nullable=False),
        sa.Column("engine", sa.String(length=255), nullable=False),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("wall_s", sa.Double(), nullable=False),
        sa.Column("variants", sa.Integer(), nullable=False),
        sa.Column("failed", sa.Integer(), nullable=False),
        sa.Column("spec_json", sa.Text(), nullable=False),
        sa.Column("summary_json", sa.Text(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('sweep', 'fleet', 'region')", name=op.f("ck_sweeps_kind")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_sweeps_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweeps")),
    )
    op.create_index(op.f("ix_sweeps_name"), "sweeps", ["name"])
    op.create_table(
        "sweep_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sweep_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("result_json", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["sweep_id"], ["sweeps.id"], ondelete="CASCADE",
                                name=op.f("fk_sweep_results_sweep_id_sweeps")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sweep_results")),
        sa.UniqueConstraint("sweep_id", "position",
                            name=op.f("uq_sweep_results_sweep_id_position")),
    )
    op.create_index(op.f("ix_sweep_results_sweep_id"), "sweep_results", ["sweep_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_sweep_results_sweep_id"), table_name="sweep_results")
    op.drop_table("sweep_results")
    op.drop_index(op.f("ix_sweeps_name"), table_name="sweeps")
    op.drop_table("sweeps")

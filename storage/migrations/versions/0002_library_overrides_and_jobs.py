"""Library overrides (the current edited values of commune libraries) and solve jobs (the
state of each background solve, kept after its job folder is cleaned).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "library_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("lon", sa.Double(), nullable=True),
        sa.Column("lat", sa.Double(), nullable=True),
        sa.Column("contact", sa.Text(), nullable=True),
        sa.Column("opening_hours", sa.String(length=255), nullable=True),
        sa.Column("market_weekdays", sa.String(length=64), nullable=True),
        sa.Column("market_every_days", sa.Integer(), nullable=True),
        sa.Column("market_anchor", sa.Date(), nullable=True),
        sa.Column("lodging", sa.Boolean(), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.CheckConstraint("(lon IS NULL) = (lat IS NULL)",
                           name=op.f("ck_library_overrides_location_complete")),
        sa.CheckConstraint("(market_every_days IS NULL) = (market_anchor IS NULL)",
                           name=op.f("ck_library_overrides_market_cycle_complete")),
        sa.CheckConstraint("market_every_days IS NULL OR market_every_days >= 1",
                           name=op.f("ck_library_overrides_market_every_days_positive")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_library_overrides_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_overrides")),
        sa.UniqueConstraint("commune_code", name=op.f("uq_library_overrides_commune_code")),
    )
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("job_id", sa.String(length=32), nullable=False),
        sa.Column("scenario_name", sa.String(length=128), nullable=False),
        sa.Column("scenario_source", sa.String(length=16), nullable=False),
        sa.Column("time_limit_s", sa.Double(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("stage", sa.String(length=32), nullable=False),
        sa.Column("progress_json", sa.Text(), nullable=False),
        sa.Column("best_objective", sa.BigInteger(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("log_tail", sa.Text(), nullable=False),
        sa.Column("run_name", sa.String(length=128), nullable=True),
        sa.Column("started_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("started_at", _when(), nullable=True),
        sa.Column("finished_at", _when(), nullable=True),
        sa.Column("updated_at", _when(), nullable=False),
        sa.CheckConstraint("status IN ('queued', 'running', 'done', 'failed', 'cancelled')",
                           name=op.f("ck_jobs_status")),
        sa.CheckConstraint("scenario_source IN ('file', 'database')",
                           name=op.f("ck_jobs_scenario_source")),
        sa.ForeignKeyConstraint(["started_by_id"], ["users.id"],
                                name=op.f("fk_jobs_started_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
        sa.UniqueConstraint("job_id", name=op.f("uq_jobs_job_id")),
    )
    op.create_index(op.f("ix_jobs_scenario_name"), "jobs", ["scenario_name"])


def downgrade() -> None:
    op.drop_index(op.f("ix_jobs_scenario_name"), table_name="jobs")
    op.drop_table("jobs")
    op.drop_table("library_overrides")

"""Solve jobs reported by their workers: the row of a job is its one record (the worker
process writes its state there, no more files to copy), with the worker's process id; the
plan a job made is called ``plan_name`` like everywhere else. Jobs that were queued or
running under the old scheme have no process id and are reported failed by the job service.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases (SQLite >= 3.35 renames and drops columns in place):
# no copy of the table as Alembic's batch mode would make, so its constraints stay exactly
# as migration 0002 made them.

def upgrade() -> None:
    op.execute("ALTER TABLE jobs RENAME COLUMN run_name TO plan_name")
    op.add_column("jobs", sa.Column("worker_pid", sa.Integer(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE jobs DROP COLUMN worker_pid")
    op.execute("ALTER TABLE jobs RENAME COLUMN plan_name TO run_name")

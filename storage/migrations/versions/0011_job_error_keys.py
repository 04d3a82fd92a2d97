"""A failed job's error as a catalogue key and its values, beside its English text: the job
page words it in the page's language (a worker's refusal of a re-plan of the wrong kind).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-06
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# Plain ALTER TABLE on both databases, as migration 0004: the table's constraints stay as
# migration 0002 made them.

def upgrade() -> None:
    op.add_column("jobs", sa.Column("error_key", sa.String(length=64), nullable=True))
    op.add_column("jobs", sa.Column("error_values_json", sa.Text(), nullable=True))


def downgrade() -> None:
    op.execute("ALTER TABLE jobs DROP COLUMN error_values_json")
    op.execute("ALTER TABLE jobs DROP COLUMN error_key")

"""Failed logins, by name and client address, for throttling password guessing.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "login_failures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_failures")),
    )
    for column in ("username", "address", "at"):
        op.create_index(op.f(f"ix_login_failures_{column}"), "login_failures", [column])


def downgrade() -> None:
    for column in ("username", "address", "at"):
        op.drop_index(op.f(f"ix_login_failures_{column}"), table_name="login_failures")
    op.drop_table("login_failures")

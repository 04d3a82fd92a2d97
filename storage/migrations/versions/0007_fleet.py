"""The library's fleet: its vehicles under the ids scenarios give them, and the users tied
to each (drivers); a commune library's street address.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "fleet_vehicles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("profile", sa.String(length=32), nullable=False),
        sa.Column("depot_id", sa.String(length=64), nullable=False),
        sa.Column("plate", sa.String(length=32), nullable=False),
        sa.Column("capacity_crates", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("capacity_crates IS NULL OR capacity_crates >= 1",
                           name=op.f("ck_fleet_vehicles_capacity_positive")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_fleet_vehicles_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fleet_vehicles")),
        sa.UniqueConstraint("vehicle_id", name=op.f("uq_fleet_vehicles_vehicle_id")),
    )
    op.create_table(
        "user_vehicles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_pk", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], ondelete="CASCADE",
                                name=op.f("fk_user_vehicles_user_id_users")),
        sa.ForeignKeyConstraint(["vehicle_pk"], ["fleet_vehicles.id"], ondelete="CASCADE",
                                name=op.f("fk_user_vehicles_vehicle_pk_fleet_vehicles")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user_vehicles")),
        sa.UniqueConstraint("user_id", "vehicle_pk",
                            name=op.f("uq_user_vehicles_user_id_vehicle_pk")),
    )
    op.create_index(op.f("ix_user_vehicles_user_id"), "user_vehicles", ["user_id"])
    op.create_index(op.f("ix_user_vehicles_vehicle_pk"), "user_vehicles", ["vehicle_pk"])
    with op.batch_alter_table("library_overrides") as batch:
        batch.add_column(sa.Column("address", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("library_overrides") as batch:
        batch.drop_column("address")
    op.drop_index(op.f("ix_user_vehicles_vehicle_pk"), table_name="user_vehicles")
    op.drop_index(op.f("ix_user_vehicles_user_id"), table_name="user_vehicles")
    op.drop_table("user_vehicles")
    op.drop_table("fleet_vehicles")

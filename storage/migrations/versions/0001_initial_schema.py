"""Initial schema: users, scenarios, plans, published plan versions (immutable), visit
outcomes, closures and the audit of library edits.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

IMMUTABLE_MESSAGE = "plan_versions rows are immutable: publish a new version instead"


def _when() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "users",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.CheckConstraint("role IN ('dispatcher', 'planner', 'driver', 'viewer')",
                           name=op.f("ck_users_role")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
        sa.UniqueConstraint("username", name=op.f("uq_users_username")),
    )
    op.create_table(
        "plans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("folder", sa.String(length=1024), nullable=True),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("scenario_name", sa.String(length=128), nullable=False),
        sa.Column("scenario_title", sa.String(length=255), nullable=False),
        sa.Column("network", sa.String(length=128), nullable=False),
        sa.Column("plan_created_at", sa.String(length=40), nullable=False),
        sa.Column("seed", sa.Integer(), nullable=True),
        sa.Column("time_limit_s", sa.Double(), nullable=True),
        sa.Column("solver_status", sa.String(length=64), nullable=True),
        sa.Column("objective", sa.BigInteger(), nullable=True),
        sa.Column("scenario_digest", sa.String(length=64), nullable=True),
        sa.Column("data_digest", sa.String(length=64), nullable=True),
        sa.Column("source_job", sa.String(length=32), nullable=True),
        sa.Column("registered_at", _when(), nullable=False),
        sa.Column("updated_at", _when(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plans")),
        sa.UniqueConstraint("name", name=op.f("uq_plans_name")),
    )
    op.create_index(op.f("ix_plans_scenario_name"), "plans", ["scenario_name"])
    op.create_table(
        "scenarios",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("yaml_text", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", _when(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_scenarios_created_by_id_users")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_scenarios_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenarios")),
        sa.UniqueConstraint("name", name=op.f("uq_scenarios_name")),
    )
    op.create_table(
        "plan_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("series", sa.String(length=128), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("published_by_id", sa.Integer(), nullable=False),
        sa.Column("published_at", _when(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("plan_json", sa.Text(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("routes_geojson_gz", sa.LargeBinary(), nullable=True),
        sa.Column("scenario_json", sa.Text(), nullable=True),
        sa.CheckConstraint("number >= 1", name=op.f("ck_plan_versions_number_positive")),
        sa.ForeignKeyConstraint(["plan_id"], ["plans.id"], ondelete="RESTRICT",
                                name=op.f("fk_plan_versions_plan_id_plans")),
        sa.ForeignKeyConstraint(["published_by_id"], ["users.id"],
                                name=op.f("fk_plan_versions_published_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_versions")),
        sa.UniqueConstraint("series", "number", name=op.f("uq_plan_versions_series_number")),
    )
    op.create_index(op.f("ix_plan_versions_plan_id"), "plan_versions", ["plan_id"])
    op.create_table(
        "visit_outcomes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.String(length=64), nullable=False),
        sa.Column("stop_seq", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=8), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", _when(), nullable=False),
        sa.CheckConstraint("status IN ('done', 'failed')", name=op.f("ck_visit_outcomes_status")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_visit_outcomes_recorded_by_id_users")),
        sa.ForeignKeyConstraint(["version_id"], ["plan_versions.id"], ondelete="RESTRICT",
                                name=op.f("fk_visit_outcomes_version_id_plan_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_visit_outcomes")),
    )
    op.create_index(op.f("ix_visit_outcomes_version_id"), "visit_outcomes", ["version_id"])
    op.create_table(
        "closures",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("geometry_geojson", sa.Text(), nullable=False),
        sa.Column("from_date", sa.Date(), nullable=False),
        sa.Column("to_date", sa.Date(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", _when(), nullable=False),
        sa.CheckConstraint("to_date >= from_date", name=op.f("ck_closures_dates_ordered")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"],
                                name=op.f("fk_closures_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_closures")),
    )
    op.create_table(
        "library_edits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("field", sa.String(length=64), nullable=False),
        sa.Column("old_value", sa.Text(), nullable=True),
        sa.Column("new_value", sa.Text(), nullable=True),
        sa.Column("edited_by_id", sa.Integer(), nullable=False),
        sa.Column("edited_at", _when(), nullable=False),
        sa.ForeignKeyConstraint(["edited_by_id"], ["users.id"],
                                name=op.f("fk_library_edits_edited_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_library_edits")),
    )
    op.create_index(op.f("ix_library_edits_commune_code"), "library_edits", ["commune_code"])
    _create_immutability_triggers()


def _create_immutability_triggers() -> None:
    """Published versions cannot be changed by any client, not only through the ORM."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER plan_versions_no_{action.lower()} "
                       f"BEFORE {action} ON plan_versions "
                       f"BEGIN SELECT RAISE(ABORT, '{IMMUTABLE_MESSAGE}'); END")
    elif dialect == "postgresql":
        op.execute("CREATE FUNCTION plan_versions_immutable() RETURNS trigger "
                   "LANGUAGE plpgsql AS $$ BEGIN "
                   f"RAISE EXCEPTION '{IMMUTABLE_MESSAGE}'; END; $$")
        op.execute("CREATE TRIGGER plan_versions_immutable BEFORE UPDATE OR DELETE "
                   "ON plan_versions FOR EACH ROW EXECUTE FUNCTION plan_versions_immutable()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS plan_versions_no_update")
        op.execute("DROP TRIGGER IF EXISTS plan_versions_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS plan_versions_immutable ON plan_versions")
        op.execute("DROP FUNCTION IF EXISTS plan_versions_immutable()")
    for index, table in (("ix_library_edits_commune_code", "library_edits"),
                         ("ix_visit_outcomes_version_id", "visit_outcomes"),
                         ("ix_plan_versions_plan_id", "plan_versions"),
                         ("ix_plans_scenario_name", "plans")):
        op.drop_index(op.f(index), table_name=table)
    for table in ("library_edits", "closures", "visit_outcomes", "plan_versions",
                  "scenarios", "plans", "users"):
        op.drop_table(table)

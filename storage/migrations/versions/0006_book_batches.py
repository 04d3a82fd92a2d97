"""Book batches: the registry, its title lists, the moves of every batch and the commune
library profiles.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PLACES = "('library', 'commune', 'vehicle')"
MOVES_MESSAGE = "a recorded batch move cannot be changed; record a correction move"


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("crates", sa.Integer(), nullable=False),
        sa.Column("languages", sa.String(length=255), nullable=False),
        sa.Column("audiences", sa.String(length=255), nullable=False),
        sa.Column("title", sa.String(length=2000), nullable=False),
        sa.Column("owner", sa.String(length=2000), nullable=False),
        sa.Column("books", sa.Integer(), nullable=True),
        sa.Column("condition", sa.String(length=2000), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("crates >= 1", name=op.f("ck_batches_crates_positive")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_batches_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batches")),
        sa.UniqueConstraint("batch_id", name=op.f("uq_batches_batch_id")),
    )
    op.create_table(
        "batch_titles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_pk", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("isbn", sa.String(length=32), nullable=False),
        sa.Column("title", sa.String(length=2000), nullable=False),
        sa.Column("author", sa.String(length=2000), nullable=False),
        sa.ForeignKeyConstraint(["batch_pk"], ["batches.id"], ondelete="CASCADE",
                                name=op.f("fk_batch_titles_batch_pk_batches")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_titles")),
    )
    op.create_index(op.f("ix_batch_titles_batch_pk"), "batch_titles", ["batch_pk"])
    op.create_table(
        "batch_moves",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_pk", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("src_kind", sa.String(length=8), nullable=False),
        sa.Column("src_ref", sa.String(length=64), nullable=False),
        sa.Column("dst_kind", sa.String(length=8), nullable=False),
        sa.Column("dst_ref", sa.String(length=64), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=True),
        sa.Column("vehicle_id", sa.String(length=64), nullable=True),
        sa.Column("stop_seq", sa.Integer(), nullable=True),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('trip', 'import', 'correction', 'missing')",
                           name=op.f("ck_batch_moves_kind")),
        sa.CheckConstraint(f"src_kind IN {PLACES}", name=op.f("ck_batch_moves_src_kind")),
        sa.CheckConstraint(f"dst_kind IN {PLACES}", name=op.f("ck_batch_moves_dst_kind")),
        sa.ForeignKeyConstraint(["batch_pk"], ["batches.id"], ondelete="RESTRICT",
                                name=op.f("fk_batch_moves_batch_pk_batches")),
        sa.ForeignKeyConstraint(["version_id"], ["plan_versions.id"], ondelete="RESTRICT",
                                name=op.f("fk_batch_moves_version_id_plan_versions")),
        sa.ForeignKeyConstraint(["recorded_by_id"], ["users.id"],
                                name=op.f("fk_batch_moves_recorded_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_batch_moves")),
    )
    op.create_index(op.f("ix_batch_moves_batch_pk"), "batch_moves", ["batch_pk"])
    op.create_index(op.f("ix_batch_moves_at"), "batch_moves", ["at"])
    _create_append_only_triggers()
    op.create_table(
        "commune_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commune_code", sa.String(length=16), nullable=False),
        sa.Column("languages", sa.String(length=255), nullable=False),
        sa.Column("audiences", sa.String(length=255), nullable=False),
        sa.Column("shelf_crates", sa.Integer(), nullable=False),
        sa.Column("languages_required", sa.Boolean(), nullable=False),
        sa.Column("audiences_required", sa.Boolean(), nullable=False),
        sa.Column("batches_per_visit", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("shelf_crates >= 1", name=op.f("ck_commune_profiles_shelf_positive")),
        sa.CheckConstraint("batches_per_visit >= 1",
                           name=op.f("ck_commune_profiles_per_visit_positive")),
        sa.ForeignKeyConstraint(["updated_by_id"], ["users.id"],
                                name=op.f("fk_commune_profiles_updated_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commune_profiles")),
        sa.UniqueConstraint("commune_code", name=op.f("uq_commune_profiles_commune_code")),
    )


def _create_append_only_triggers() -> None:
    """Recorded moves are only added, by any client, not only through the ORM."""
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER batch_moves_no_{action.lower()} "
                       f"BEFORE {action} ON batch_moves "
                       f"BEGIN SELECT RAISE(ABORT, '{MOVES_MESSAGE}'); END")
    elif dialect == "postgresql":
        op.execute("CREATE FUNCTION batch_moves_append_only() RETURNS trigger "
                   "LANGUAGE plpgsql AS $$ BEGIN "
                   f"RAISE EXCEPTION '{MOVES_MESSAGE}'; END; $$")
        op.execute("CREATE TRIGGER batch_moves_append_only BEFORE UPDATE OR DELETE "
                   "ON batch_moves FOR EACH ROW EXECUTE FUNCTION batch_moves_append_only()")


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS batch_moves_no_update")
        op.execute("DROP TRIGGER IF EXISTS batch_moves_no_delete")
    elif dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS batch_moves_append_only ON batch_moves")
        op.execute("DROP FUNCTION IF EXISTS batch_moves_append_only()")
    op.drop_table("commune_profiles")
    op.drop_index(op.f("ix_batch_moves_at"), table_name="batch_moves")
    op.drop_index(op.f("ix_batch_moves_batch_pk"), table_name="batch_moves")
    op.drop_table("batch_moves")
    op.drop_index(op.f("ix_batch_titles_batch_pk"), table_name="batch_titles")
    op.drop_table("batch_titles")
    op.drop_table("batches")

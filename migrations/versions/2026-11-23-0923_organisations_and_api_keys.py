"""Organisation directory and API keys.

Revision ID: 0001_directory
Revises:
Create Date: 2026-11-23 09:23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0001_directory"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE_KOMMUNE = sa.text("kind = 'kommune' AND is_active")


def upgrade() -> None:
    op.create_table(
        "organisations",
        sa.Column("gln", sa.String(length=13), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=35), nullable=False),
        sa.Column("search_name", sa.String(length=105), nullable=False),
        sa.Column("department", sa.String(length=35), nullable=True),
        sa.Column("municipality_code", sa.String(length=3), nullable=True),
        sa.Column("identifier_code", sa.String(length=30), nullable=False),
        sa.Column("identifier", sa.String(length=17), nullable=False),
        sa.Column("accepts", sa.JSON(), nullable=False),
        sa.Column("delivery", sa.String(length=10), nullable=False),
        sa.Column("street", sa.String(length=35), nullable=True),
        sa.Column("postcode", sa.String(length=9), nullable=True),
        sa.Column("district", sa.String(length=35), nullable=True),
        sa.Column("phone", sa.String(length=25), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("created_at", app.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UtcDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("gln", name=op.f("pk_organisations")),
    )
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.create_index(batch_op.f("ix_organisations_kind"), ["kind"])
        batch_op.create_index(
            batch_op.f("ix_organisations_municipality_code"), ["municipality_code"]
        )
        batch_op.create_index(
            "uq_organisations_active_kommune",
            ["municipality_code"],
            unique=True,
            sqlite_where=ACTIVE_KOMMUNE,
            postgresql_where=ACTIVE_KOMMUNE,
        )

    op.create_table(
        "api_keys",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("organisation_gln", sa.String(length=13), nullable=True),
        sa.Column("is_admin", sa.Boolean(), nullable=False),
        sa.Column("label", sa.String(length=100), nullable=True),
        sa.Column("created_at", app.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", app.db.UtcDateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(is_admin AND organisation_gln IS NULL) "
            "OR (NOT is_admin AND organisation_gln IS NOT NULL)",
            name=op.f("ck_api_keys_owner"),
        ),
        sa.ForeignKeyConstraint(
            ["organisation_gln"],
            ["organisations.gln"],
            name=op.f("fk_api_keys_organisation_gln_organisations"),
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_keys")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_api_keys_key_hash")),
    )
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.create_index(batch_op.f("ix_api_keys_organisation_gln"), ["organisation_gln"])


def downgrade() -> None:
    op.drop_table("api_keys")
    op.drop_table("organisations")

"""Messages, their deliveries and status history, the audit log, and organisation units.

Revision ID: 0002_messages
Revises: 0001_directory
Create Date: 2026-11-23 12:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0002_messages"
down_revision: str | None = "0001_directory"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.add_column(sa.Column("unit", sa.String(length=35), nullable=True))

    op.create_table(
        "messages",
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("type", sa.String(length=10), nullable=False),
        sa.Column("sender_gln", sa.String(length=13), nullable=False),
        sa.Column("letter_id", sa.String(length=14), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("patient_ref", sa.String(length=64), nullable=False),
        sa.Column("body", sa.JSON(), nullable=False),
        sa.Column("created_at", app.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("plan_type", sa.String(length=20), nullable=True),
        sa.Column("municipality_code", sa.String(length=3), nullable=True),
        sa.Column("discharge_date", sa.Date(), nullable=True),
        sa.Column("first_contact_deadline", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sender_gln"], ["organisations.gln"], name=op.f("fk_messages_sender_gln_organisations")
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_messages")),
        sa.UniqueConstraint("sender_gln", "letter_id", name="uq_messages_sender_letter"),
    )
    with op.batch_alter_table("messages") as batch_op:
        batch_op.create_index(batch_op.f("ix_messages_patient_ref"), ["patient_ref"])
        batch_op.create_index(
            batch_op.f("ix_messages_first_contact_deadline"), ["first_contact_deadline"]
        )
        batch_op.create_index("ix_messages_sender_created", ["sender_gln", "created_at"])

    op.create_table(
        "deliveries",
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("message_id", sa.String(length=36), nullable=False),
        sa.Column("receiver_gln", sa.String(length=13), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("format", sa.String(length=10), nullable=False),
        sa.Column("envelope_id", sa.String(length=14), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("xml", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", app.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", app.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["message_id"], ["messages.message_id"], name=op.f("fk_deliveries_message_id_messages")
        ),
        sa.ForeignKeyConstraint(
            ["receiver_gln"],
            ["organisations.gln"],
            name=op.f("fk_deliveries_receiver_gln_organisations"),
        ),
        sa.PrimaryKeyConstraint("delivery_id", name=op.f("pk_deliveries")),
        sa.UniqueConstraint("envelope_id", name=op.f("uq_deliveries_envelope_id")),
        sa.UniqueConstraint("message_id", "receiver_gln", name="uq_deliveries_message_receiver"),
    )
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.create_index(batch_op.f("ix_deliveries_message_id"), ["message_id"])
        batch_op.create_index(
            "ix_deliveries_inbox", ["receiver_gln", "status", "created_at", "delivery_id"]
        )

    op.create_table(
        "delivery_events",
        sa.Column("event_id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("delivery_id", sa.String(length=36), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("at", app.db.UtcDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["delivery_id"],
            ["deliveries.delivery_id"],
            name=op.f("fk_delivery_events_delivery_id_deliveries"),
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_delivery_events")),
    )
    with op.batch_alter_table("delivery_events") as batch_op:
        batch_op.create_index(batch_op.f("ix_delivery_events_delivery_id"), ["delivery_id"])

    op.create_table(
        "audit_events",
        sa.Column("event_id", AUTO_ID, autoincrement=True, nullable=False),
        sa.Column("at", app.db.UtcDateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=40), nullable=False),
        sa.Column("actor_key_id", sa.String(length=16), nullable=False),
        sa.Column("actor_gln", sa.String(length=13), nullable=True),
        sa.Column("message_id", sa.String(length=36), nullable=True),
        sa.Column("delivery_id", sa.String(length=36), nullable=True),
        sa.Column("patient_ref", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_audit_events")),
    )
    with op.batch_alter_table("audit_events") as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_events_at"), ["at"])
        batch_op.create_index(batch_op.f("ix_audit_events_message_id"), ["message_id"])
        batch_op.create_index(batch_op.f("ix_audit_events_patient_ref"), ["patient_ref"])


def downgrade() -> None:
    op.drop_table("audit_events")
    op.drop_table("delivery_events")
    op.drop_table("deliveries")
    op.drop_table("messages")
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.drop_column("unit")

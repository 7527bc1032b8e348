"""Receipts and acknowledgement timers: per delivery whether a receipt was asked for, when the
latest transmission was sent, how often it was resent, whether its receipt is overdue and
which receipt answered it; transmissions' envelope ids in the status history.

Revision ID: 0003_receipts
Revises: 0002_messages
Create Date: 2026-11-23 15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import app.db

revision: str = "0003_receipts"
down_revision: str | None = "0002_messages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.add_column(
            sa.Column("ack_requested", sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(sa.Column("sent_at", app.db.UtcDateTime(timezone=True)))
        batch_op.add_column(
            sa.Column("resends", sa.Integer(), nullable=False, server_default=sa.text("0"))
        )
        batch_op.add_column(
            sa.Column("ack_overdue", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(sa.Column("receipt_message_id", sa.String(length=36)))
        batch_op.create_foreign_key(
            batch_op.f("fk_deliveries_receipt_message_id_messages"),
            "messages",
            ["receipt_message_id"],
            ["message_id"],
        )
        # A receipt from another system may name one envelope holding several letters.
        batch_op.drop_constraint("uq_deliveries_envelope_id", type_="unique")
        batch_op.create_index(batch_op.f("ix_deliveries_envelope_id"), ["envelope_id"])
        # The acknowledgement timer: unacknowledged deliveries by send time.
        batch_op.create_index("ix_deliveries_ack_timer", ["status", "ack_overdue", "sent_at"])
    op.execute("UPDATE deliveries SET sent_at = created_at")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.alter_column(
            "sent_at", existing_type=app.db.UtcDateTime(timezone=True), nullable=False
        )
        for column in ("ack_requested", "resends", "ack_overdue"):
            batch_op.alter_column(column, server_default=None)

    with op.batch_alter_table("delivery_events") as batch_op:
        batch_op.add_column(sa.Column("envelope_id", sa.String(length=14)))
        batch_op.create_index(batch_op.f("ix_delivery_events_envelope_id"), ["envelope_id"])
    # Until now every delivery had one transmission: its first event.
    op.execute(
        "UPDATE delivery_events SET envelope_id = (SELECT envelope_id FROM deliveries "
        "WHERE deliveries.delivery_id = delivery_events.delivery_id) "
        "WHERE event_id IN (SELECT min(event_id) FROM delivery_events GROUP BY delivery_id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("delivery_events") as batch_op:
        batch_op.drop_index(batch_op.f("ix_delivery_events_envelope_id"))
        batch_op.drop_column("envelope_id")
    with op.batch_alter_table("deliveries") as batch_op:
        batch_op.drop_index("ix_deliveries_ack_timer")
        batch_op.drop_index(batch_op.f("ix_deliveries_envelope_id"))
        batch_op.create_unique_constraint("uq_deliveries_envelope_id", ["envelope_id"])
        batch_op.drop_constraint(
            batch_op.f("fk_deliveries_receipt_message_id_messages"), type_="foreignkey"
        )
        for column in ("receipt_message_id", "ack_overdue", "resends", "sent_at", "ack_requested"):
            batch_op.drop_column(column)

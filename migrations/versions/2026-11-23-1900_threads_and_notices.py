"""Threads and notices: every message belongs to the conversation of its first message (letters
answer and correct each other, api.md `reply_to` and `corrects`); a notice names the plan it
reports on; a plan keeps its start deadline in force, first meeting, closing day and
the kommune it was transferred to, as the kommune's notices set them (app/domain/deadlines.py).

Revision ID: 0005_threads_notices
Revises: 0004_open_deliveries
Create Date: 2026-11-23 19:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005_threads_notices"
down_revision: str | None = "0004_open_deliveries"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.add_column(sa.Column("thread_id", sa.String(length=36)))
        batch_op.add_column(sa.Column("deadline", sa.Date()))
        batch_op.add_column(sa.Column("started_on", sa.Date()))
        batch_op.add_column(sa.Column("closed_on", sa.Date()))
        batch_op.add_column(sa.Column("transferred_to", sa.String(length=13)))
        batch_op.add_column(sa.Column("plan_message_id", sa.String(length=36)))
        batch_op.create_foreign_key(
            batch_op.f("fk_messages_plan_message_id_messages"),
            "messages",
            ["plan_message_id"],
            ["message_id"],
        )
    # Until now no message answered another, and no kommune had reported on a plan: each
    # message starts its own thread, and a plan's deadline is the one it states.
    op.execute("UPDATE messages SET thread_id = message_id")
    op.execute("UPDATE messages SET deadline = first_contact_deadline WHERE type = 'plan'")
    with op.batch_alter_table("messages") as batch_op:
        batch_op.alter_column("thread_id", existing_type=sa.String(length=36), nullable=False)
        batch_op.create_index(batch_op.f("ix_messages_thread_id"), ["thread_id"])
        batch_op.create_index(batch_op.f("ix_messages_plan_message_id"), ["plan_message_id"])
        batch_op.create_index("ix_messages_deadline", ["deadline", "message_id"])


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch_op:
        batch_op.drop_index("ix_messages_deadline")
        batch_op.drop_index(batch_op.f("ix_messages_plan_message_id"))
        batch_op.drop_index(batch_op.f("ix_messages_thread_id"))
        batch_op.drop_constraint(
            batch_op.f("fk_messages_plan_message_id_messages"), type_="foreignkey"
        )
        for column in (
            "plan_message_id",
            "transferred_to",
            "closed_on",
            "started_on",
            "deadline",
            "thread_id",
        ):
            batch_op.drop_column(column)

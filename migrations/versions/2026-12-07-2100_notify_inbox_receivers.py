"""Inbox notifications on PostgreSQL: when a transaction that puts deliveries into inboxes
commits, every process listening on channel `sektorbro_inbox` hears the receivers' GLNs, so
that their long polls (`GET /v1/inbox?wait=`) answer at once without polling the database
(app/delivery/wakeups.py). PostgreSQL delivers a NOTIFY only at commit, and collapses the
same payload sent twice in one transaction. Statement-level triggers with transition tables:
one call per INSERT or UPDATE statement, however many rows. SQLite has no NOTIFY; there the
service wakes its own polls after its commits.

Revision ID: 0006_notify_inbox
Revises: 0005_threads_notices
Create Date: 2026-12-07 21:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006_notify_inbox"
down_revision: str | None = "0005_threads_notices"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_FUNCTION = """
CREATE FUNCTION notify_inbox_receivers() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('sektorbro_inbox', receiver_gln)
    FROM (SELECT DISTINCT receiver_gln FROM new_deliveries WHERE status = 'available') AS r;
    RETURN NULL;
END
$$
"""


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(_FUNCTION)
    # A new delivery, and a resend that makes a delivery available again.
    for event in ("INSERT", "UPDATE"):
        op.execute(
            f"CREATE TRIGGER deliveries_notify_{event.lower()} AFTER {event} ON deliveries "
            "REFERENCING NEW TABLE AS new_deliveries FOR EACH STATEMENT "
            "EXECUTE FUNCTION notify_inbox_receivers()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER deliveries_notify_update ON deliveries")
    op.execute("DROP TRIGGER deliveries_notify_insert ON deliveries")
    op.execute("DROP FUNCTION notify_inbox_receivers()")

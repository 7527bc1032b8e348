"""Key scopes: a key without an organisation does one job, not all of them (issue 12).
`directory` (organisations), `gateway` (XCTL01 and receipts on behalf of others), `audit`
(patient data across organisations, every read audited) and `metrics`. The admin keys of
before become `directory,metrics`, what the README promised them; what they could do beyond
that (post XCTL01, list every kommune's deadlines) now needs a key of its own.

Revision ID: 0007_key_scopes
Revises: 0006_notify_inbox
Create Date: 2026-12-07 23:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007_key_scopes"
down_revision: str | None = "0006_notify_inbox"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.add_column(
            sa.Column("scopes", sa.String(length=100), server_default="", nullable=False)
        )
    op.execute("UPDATE api_keys SET scopes = 'directory,metrics' WHERE is_admin")


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch_op:
        batch_op.drop_column("scopes")

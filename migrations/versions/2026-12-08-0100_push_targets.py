"""Push targets in the directory (issue 14, item 1): an organisation with `delivery: push` has
the `endpoint_url` its documents are POSTed to and the Standard Webhooks `signing_secret` they
are signed with. The secret is stored in clear because the worker signs with it (HMAC); the
API only ever says whether one is set. A CHECK keeps a push organisation from lacking either.

Revision ID: 0008_push_targets
Revises: 0007_key_scopes
Create Date: 2026-12-08 01:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_push_targets"
down_revision: str | None = "0007_key_scopes"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.add_column(sa.Column("endpoint_url", sa.String(length=2000), nullable=True))
        batch_op.add_column(sa.Column("signing_secret", sa.String(length=100), nullable=True))
        batch_op.create_check_constraint(
            op.f("ck_organisations_push_target"),
            "delivery <> 'push' OR (endpoint_url IS NOT NULL AND signing_secret IS NOT NULL)",
        )


def downgrade() -> None:
    # Without the columns a push organisation could not be reached: it polls its inbox again.
    op.execute("UPDATE organisations SET delivery = 'inbox' WHERE delivery = 'push'")
    with op.batch_alter_table("organisations") as batch_op:
        batch_op.drop_constraint(op.f("ck_organisations_push_target"), type_="check")
        batch_op.drop_column("signing_secret")
        batch_op.drop_column("endpoint_url")

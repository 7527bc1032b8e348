"""SQL for the audit log: append only."""

from collections.abc import Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import TextClause, select, text, tuple_
from sqlalchemy.orm import Session

from app import orm
from app.repositories.rows import insert_values, unnest_parameters, unnested_insert

__all__ = ["AuditEventRow", "AuditRepository", "AuditTarget", "audit_rows"]

# (message_id, delivery_id, patient_ref) of one read or write; any may be None.
AuditTarget = tuple[str | None, str | None, str | None]


# PostgreSQL takes a request's events as one row per array element: one statement, where an
# executemany of fifty rows (an inbox page) costs twice the CPU on both sides (bench/inbox.py).
@cache
def _insert_unnested() -> TextClause:
    return text(unnested_insert(orm.AuditEvent))


# The column values of one audit event, as INSERT parameters.
AuditEventRow = dict[str, Any]


def audit_rows(
    *,
    at: datetime,
    action: str,
    actor_key_id: str,
    actor_gln: str | None,
    request_id: str | None,
    targets: Sequence[AuditTarget],
) -> list[AuditEventRow]:
    """One event per target, all by one actor in one request."""
    actor = {
        "at": at,
        "action": action,
        "actor_key_id": actor_key_id,
        "actor_gln": actor_gln,
        "request_id": request_id,
    }
    return [
        actor | {"message_id": message_id, "delivery_id": delivery_id, "patient_ref": ref}
        for message_id, delivery_id, ref in targets
    ]


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(self, rows: Sequence[AuditEventRow]) -> None:
        """Appends these events to the log (one statement, in the caller's transaction)."""
        if not rows:
            return
        if self.session.get_bind().dialect.name == "postgresql":
            self.session.execute(_insert_unnested(), unnest_parameters(orm.AuditEvent, rows))
        else:
            insert_values(self.session, orm.AuditEvent, rows)

    def trail(
        self, patient_ref: str, *, before: tuple[datetime, int] | None, limit: int
    ) -> list[orm.AuditEvent]:
        """The events about one patient (by the keyed hash of the CPR), newest first, before
        the keyset `before` (at, event id)."""
        event = orm.AuditEvent
        query = (
            select(event)
            .where(event.patient_ref == patient_ref)
            .order_by(event.at.desc(), event.event_id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(tuple_(event.at, event.event_id) < tuple_(*before))
        return list(self.session.scalars(query))

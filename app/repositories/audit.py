"""SQL for the audit log: append only."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, text
from sqlalchemy.orm import Session

from app import orm
from app.db import UtcDateTime
from app.repositories.rows import insert_values

__all__ = ["AuditRepository", "AuditTarget"]

# (message_id, delivery_id, patient_ref) of one read or write; any may be None.
AuditTarget = tuple[str | None, str | None, str | None]

# PostgreSQL takes a request's events as one row per array element: one statement, where an
# executemany of fifty rows (an inbox page) costs twice the CPU on both sides (bench/inbox.py).
_INSERT_UNNESTED = text(
    """
    INSERT INTO audit_events
        (at, action, actor_key_id, actor_gln, request_id, message_id, delivery_id, patient_ref)
    SELECT :at, :action, :actor_key_id, :actor_gln, :request_id,
           target.message_id, target.delivery_id, target.patient_ref
    FROM unnest(CAST(:message_ids AS varchar[]), CAST(:delivery_ids AS varchar[]),
                CAST(:patient_refs AS varchar[])) AS target(message_id, delivery_id, patient_ref)
    """
).bindparams(bindparam("at", type_=UtcDateTime()))


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add(
        self,
        *,
        at: datetime,
        action: str,
        actor_key_id: str,
        actor_gln: str | None,
        request_id: str | None,
        targets: Sequence[AuditTarget],
    ) -> None:
        """Appends one event per target, all by one actor in one request, to the log (one
        statement, in the caller's transaction)."""
        if not targets:
            return
        actor = {
            "at": at,
            "action": action,
            "actor_key_id": actor_key_id,
            "actor_gln": actor_gln,
            "request_id": request_id,
        }
        if self.session.get_bind().dialect.name == "postgresql":
            message_ids, delivery_ids, patient_refs = zip(*targets, strict=True)
            self.session.execute(
                _INSERT_UNNESTED,
                actor
                | {
                    "message_ids": list(message_ids),
                    "delivery_ids": list(delivery_ids),
                    "patient_refs": list(patient_refs),
                },
            )
            return
        insert_values(
            self.session,
            orm.AuditEvent,
            [
                actor | {"message_id": message_id, "delivery_id": delivery_id, "patient_ref": ref}
                for message_id, delivery_id, ref in targets
            ],
        )

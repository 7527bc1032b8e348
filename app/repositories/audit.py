"""SQL for the audit log: append only."""

from collections.abc import Iterable

from sqlalchemy.orm import Session

from app import orm
from app.repositories.rows import insert_rows

__all__ = ["AuditRepository"]


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_all(self, events: Iterable[orm.AuditEvent]) -> None:
        """Appends events to the log (one INSERT, in the caller's transaction)."""
        insert_rows(self.session, list(events))

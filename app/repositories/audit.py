"""SQL for the audit log: append only."""

from collections.abc import Iterable
from typing import Any

from sqlalchemy.orm import Session

from app import orm
from app.repositories.rows import insert_values

__all__ = ["AuditRepository"]


class AuditRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def add_all(self, events: Iterable[dict[str, Any]]) -> None:
        """Appends events, given as column values, to the log (one INSERT, in the caller's
        transaction); an inbox page writes fifty, so no ORM objects are made for them."""
        insert_values(self.session, orm.AuditEvent, list(events))

"""Readiness: the database answers and its schema is the one this code was built for."""

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from app.errors import NotReady
from app.migrate import current_revision

__all__ = ["check_ready"]


def check_ready(session: Session, *, expected_revision: str) -> str:
    """Returns the database's revision, or raises NotReady saying what to do."""
    try:
        revision = current_revision(session.connection())
    except SQLAlchemyError:
        raise NotReady("The database cannot be reached.") from None
    if revision != expected_revision:
        raise NotReady(
            f"The database schema is at revision {revision or 'none'}; this version needs "
            f"{expected_revision}. Run `sektorbro migrate`."
        )
    return revision

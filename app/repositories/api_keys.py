"""SQL for API keys."""

from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from app import orm

__all__ = ["ApiKeyRepository"]


class ApiKeyRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, key_id: str) -> orm.ApiKey | None:
        """Gets a key by its public id."""
        return self.session.get(orm.ApiKey, key_id)

    def get_by_hash(self, key_hash: str) -> orm.ApiKey | None:
        """Gets a key, with its organisation, by the SHA-256 of the key."""
        return self.session.scalar(
            select(orm.ApiKey)
            .options(joinedload(orm.ApiKey.organisation))
            .where(orm.ApiKey.key_hash == key_hash)
        )

    def list_all(self) -> list[orm.ApiKey]:
        """Lists every key, newest first."""
        return list(self.session.scalars(select(orm.ApiKey).order_by(orm.ApiKey.created_at.desc())))

    def list_active_with_label(self, label: str) -> list[orm.ApiKey]:
        """Lists the unrevoked keys that carry `label`."""
        return list(
            self.session.scalars(
                select(orm.ApiKey).where(orm.ApiKey.label == label, orm.ApiKey.revoked_at.is_(None))
            )
        )

    def add(self, key: orm.ApiKey) -> None:
        """Adds a new key to the session."""
        self.session.add(key)

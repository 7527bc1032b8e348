"""SQLAlchemy tables (typed, SQLAlchemy 2 style). Every change here needs a migration in
`migrations/versions/`; tests/test_migrations.py fails on drift.

Imported only by repositories, services, `deps`, `main` and migrations.
"""

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UtcDateTime

__all__ = ["ApiKey", "Organisation"]


class Organisation(Base):
    """A directory entry; see app/domain/organisation.py for the rules on each column."""

    __tablename__ = "organisations"

    gln: Mapped[str] = mapped_column(String(13), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(35))
    # casefold(name), so `q` searches the same way on SQLite (whose lower() is ASCII-only)
    # and PostgreSQL.
    search_name: Mapped[str] = mapped_column(String(105))
    department: Mapped[str | None] = mapped_column(String(35))
    municipality_code: Mapped[str | None] = mapped_column(String(3), index=True)
    identifier_code: Mapped[str] = mapped_column(String(30))
    identifier: Mapped[str] = mapped_column(String(17))
    accepts: Mapped[list[str]] = mapped_column(JSON)
    delivery: Mapped[str] = mapped_column(String(10))
    street: Mapped[str | None] = mapped_column(String(35))
    postcode: Mapped[str | None] = mapped_column(String(9))
    district: Mapped[str | None] = mapped_column(String(35))
    phone: Mapped[str | None] = mapped_column(String(25))
    is_active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    __table_args__ = (
        # Routing needs exactly one receiving kommune per kommunekode (bopælskommune).
        Index(
            "uq_organisations_active_kommune",
            "municipality_code",
            unique=True,
            sqlite_where=text("kind = 'kommune' AND is_active"),
            postgresql_where=text("kind = 'kommune' AND is_active"),
        ),
    )


class ApiKey(Base):
    """A bearer key: only its SHA-256 is stored; the key itself is shown once at creation."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_gln: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.gln"), index=True
    )
    is_admin: Mapped[bool] = mapped_column(Boolean)
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    organisation: Mapped[Organisation | None] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint(
            "(is_admin AND organisation_gln IS NULL) "
            "OR (NOT is_admin AND organisation_gln IS NOT NULL)",
            name="owner",
        ),
    )

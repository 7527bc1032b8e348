"""SQL for the organisation directory."""

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import orm

__all__ = ["DirectoryEntry", "OrganisationRepository"]


@dataclass(frozen=True, slots=True)
class DirectoryEntry:
    """An organisation's directory entry as a plain value: what routing and the documents
    need, read as a row (a third of the CPU of loading it as an ORM object, bench/README.md)
    and safe to share between requests and threads, unlike a row bound to one session."""

    gln: str
    kind: str
    name: str
    department: str | None
    unit: str | None
    municipality_code: str | None
    identifier_code: str
    identifier: str
    accepts: tuple[str, ...]
    delivery: str
    street: str | None
    postcode: str | None
    district: str | None
    phone: str | None
    is_active: bool

    @classmethod
    def of(cls, row: Any) -> "DirectoryEntry":
        """The entry of an `orm.Organisation`, or of a row of the organisations table."""
        values = {name: getattr(row, name) for name in _ENTRY_FIELDS}
        return cls(**values | {"accepts": tuple(row.accepts)})


_ENTRY_FIELDS = [field.name for field in fields(DirectoryEntry)]
_ORGANISATIONS = orm.Organisation.__table__


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class OrganisationRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, gln: str) -> orm.Organisation | None:
        """Gets an organisation by its GLN."""
        return self.session.get(orm.Organisation, gln)

    def get_many(self, glns: Iterable[str]) -> dict[str, orm.Organisation]:
        """Gets the organisations with these GLNs, keyed by GLN."""
        rows = self.session.scalars(
            select(orm.Organisation).where(orm.Organisation.gln.in_(list(glns)))
        )
        return {row.gln: row for row in rows}

    def get_many_and_kommune(
        self, glns: Iterable[str], *, municipality_code: str
    ) -> tuple[dict[str, DirectoryEntry], DirectoryEntry | None]:
        """The organisations with these GLNs, keyed by GLN, and the active kommune registered
        for the kommunekode: what routing a plan needs, in one round trip, as plain rows."""
        wanted = set(glns)
        table = _ORGANISATIONS
        registered = and_(
            table.c.kind == "kommune",
            table.c.is_active.is_(True),
            table.c.municipality_code == municipality_code,
        )
        rows = self.session.execute(
            select(
                *(table.c[name] for name in _ENTRY_FIELDS), registered.label("registered")
            ).where(or_(table.c.gln.in_(wanted), registered))
        )
        named, kommune = {}, None
        for row in rows:
            entry = DirectoryEntry.of(row)
            if entry.gln in wanted:
                named[entry.gln] = entry
            if row.registered:
                kommune = entry
        return named, kommune

    def search(
        self,
        *,
        kind: str | None = None,
        municipality_code: str | None = None,
        name_contains: str | None = None,
        after_gln: str | None = None,
        limit: int,
    ) -> list[orm.Organisation]:
        """Lists organisations in GLN order (keyset pagination after `after_gln`)."""
        query = select(orm.Organisation).order_by(orm.Organisation.gln).limit(limit)
        if kind is not None:
            query = query.where(orm.Organisation.kind == kind)
        if municipality_code is not None:
            query = query.where(orm.Organisation.municipality_code == municipality_code)
        if name_contains:
            pattern = f"%{_like_escape(name_contains.casefold())}%"
            query = query.where(orm.Organisation.search_name.like(pattern, escape="\\"))
        if after_gln is not None:
            query = query.where(orm.Organisation.gln > after_gln)
        return list(self.session.scalars(query))

    def active_kommuner(self, municipality_codes: Iterable[str]) -> list[orm.Organisation]:
        """The active kommuner registered for these kommunekoder."""
        return list(
            self.session.scalars(
                select(orm.Organisation).where(
                    orm.Organisation.kind == "kommune",
                    orm.Organisation.is_active.is_(True),
                    orm.Organisation.municipality_code.in_(list(municipality_codes)),
                )
            )
        )

    def add(self, organisation: orm.Organisation) -> None:
        """Adds a new organisation to the session."""
        self.session.add(organisation)

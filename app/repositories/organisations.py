"""SQL for the organisation directory."""

from collections.abc import Iterable

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app import orm

__all__ = ["OrganisationRepository"]


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
    ) -> tuple[dict[str, orm.Organisation], orm.Organisation | None]:
        """The organisations with these GLNs, keyed by GLN, and the active kommune registered
        for the kommunekode: what routing a plan needs, in one round trip."""
        wanted = set(glns)
        registered = and_(
            orm.Organisation.kind == "kommune",
            orm.Organisation.is_active.is_(True),
            orm.Organisation.municipality_code == municipality_code,
        )
        rows = self.session.execute(
            select(orm.Organisation, registered.label("registered")).where(
                or_(orm.Organisation.gln.in_(wanted), registered)
            )
        )
        named, kommune = {}, None
        for organisation, is_registered in rows:
            if organisation.gln in wanted:
                named[organisation.gln] = organisation
            if is_registered:
                kommune = organisation
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

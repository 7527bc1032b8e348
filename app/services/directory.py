"""The organisation directory: look up, save one entry, import a whole file, rotate a push
receiver's signing secret."""

import base64
import binascii
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app import orm
from app.domain.directory_file import LineProblem, read_directory_file
from app.domain.identifiers import check_gln
from app.domain.organisation import DeliveryChannel, Organisation, OrganisationKind
from app.domain.push_target import new_signing_secret
from app.errors import Conflict, FieldError, NotFound, ValidationFailed
from app.repositories import OrganisationRepository

__all__ = [
    "DirectoryFileRejected",
    "ImportSummary",
    "get_organisation",
    "import_directory",
    "list_organisations",
    "rotate_signing_secret",
    "save_organisation",
]


class DirectoryFileRejected(ValidationFailed):
    """The import file has problems; nothing was imported. `field` is `line N.column`."""

    def __init__(self, problems: list[LineProblem]) -> None:
        self.problems = problems
        super().__init__(
            [FieldError(f"line {p.line}.{p.column}", p.rule, p.message) for p in problems],
            detail=f"The file has {len(problems)} problem(s); nothing was imported.",
        )


@dataclass(frozen=True, slots=True)
class ImportSummary:
    created: int
    updated: int
    unchanged: int


def get_organisation(session: Session, *, gln: str) -> orm.Organisation:
    """Gets one directory entry."""
    row = OrganisationRepository(session).get(gln)
    if row is None:
        raise NotFound(f"No organisation with GLN {gln} is in the directory.")
    return row


def list_organisations(
    session: Session,
    *,
    kind: OrganisationKind | None,
    municipality_code: str | None,
    q: str | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[orm.Organisation], str | None]:
    """One page of the directory in GLN order, and the cursor of the next page (or None)."""
    rows = OrganisationRepository(session).search(
        kind=kind,
        municipality_code=municipality_code,
        name_contains=q,
        after_gln=_decode_cursor(cursor) if cursor else None,
        limit=limit + 1,
    )
    if len(rows) <= limit:
        return rows, None
    return rows[:limit], _encode_cursor(rows[limit - 1].gln)


def _encode_cursor(gln: str) -> str:
    return base64.urlsafe_b64encode(gln.encode("ascii")).decode("ascii").rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        gln = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        return check_gln(gln)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ValidationFailed(
            [FieldError("cursor", "cursor_invalid", "Use the next_cursor of the previous page.")]
        ) from None


def save_organisation(
    session: Session, organisation: Organisation, *, now: datetime
) -> tuple[orm.Organisation, bool]:
    """Creates or updates a directory entry; returns it and whether it was created."""
    _check_kommune_is_free(session, [(None, organisation)])
    repository = OrganisationRepository(session)
    row = repository.get(organisation.gln)
    if not _has_push_secret(row, organisation):
        raise ValidationFailed([FieldError("signing_secret", _NEEDS_SECRET, _NEEDS_SECRET_TEXT)])
    outcome, row = _upsert(repository, row, organisation, now=now)
    _flush_or_conflict(session)
    return row, outcome == "created"


def import_directory(session: Session, text: str, *, now: datetime) -> ImportSummary:
    """Upserts every organisation in a directory file, or none if any line is bad."""
    entries, problems = read_directory_file(text)
    if problems:
        raise DirectoryFileRejected(problems)
    _check_kommune_is_free(session, entries)
    repository = OrganisationRepository(session)
    existing = repository.get_many(org.gln for _, org in entries)
    if lacking := [
        LineProblem(line, "signing_secret", _NEEDS_SECRET, _NEEDS_SECRET_TEXT)
        for line, org in entries
        if not _has_push_secret(existing.get(org.gln), org)
    ]:
        raise DirectoryFileRejected(lacking)
    _release_moving_kommune_claims(existing, [org for _, org in entries])
    session.flush()
    outcomes = Counter(
        _upsert(repository, existing.get(org.gln), org, now=now)[0] for _, org in entries
    )
    _flush_or_conflict(session)
    return ImportSummary(
        created=outcomes["created"], updated=outcomes["updated"], unchanged=outcomes["unchanged"]
    )


def rotate_signing_secret(session: Session, *, gln: str, now: datetime) -> str:
    """Gives the organisation a new signing secret and returns it; the old one stops working
    at once. The caller shows it once and keeps it out of every log."""
    row = get_organisation(session, gln=gln)
    secret = new_signing_secret()
    row.signing_secret = secret
    row.updated_at = now
    session.flush()
    return secret


_NEEDS_SECRET = "push_needs_signing_secret"
_NEEDS_SECRET_TEXT = (
    "Push delivery needs a signing_secret: set one here, or run "
    "`sektorbro directory secret GLN` first and keep the secret it prints."
)


def _has_push_secret(row: orm.Organisation | None, organisation: Organisation) -> bool:
    """False for a push organisation that neither brings a signing secret nor has one stored.

    We never make one up on its behalf: a secret nobody was shown is of no use to the receiver,
    and pushing unsigned (or verifiable by nobody) is what the signature exists to prevent.
    """
    return (
        organisation.delivery != DeliveryChannel.PUSH
        or organisation.signing_secret is not None
        or (row is not None and row.signing_secret is not None)
    )


def _flush_or_conflict(session: Session) -> None:
    try:
        session.flush()
    except IntegrityError:
        # Another transaction saved a clashing entry at the same moment; the database's
        # constraints (primary key, one active kommune per kommunekode) let one through.
        raise Conflict(
            "Another change to the directory clashed with this one (same GLN, or a second "
            "active kommune for the kommunekode). Read the entry again and retry."
        ) from None


def _check_kommune_is_free(
    session: Session, entries: Sequence[tuple[int | None, Organisation]]
) -> None:
    """One active kommune per kommunekode: plans are routed by it (sundhedsloven §140).

    `entries` carry their file line, or None for a single save (answered with a Conflict).
    """
    wanted = {
        org.municipality_code: (line, org)
        for line, org in entries
        if org.kind == OrganisationKind.KOMMUNE and org.active and org.municipality_code
    }
    if not wanted:
        return
    incoming = {org.gln for _, org in entries}
    problems = []
    for holder in OrganisationRepository(session).active_kommuner(wanted):
        line, org = wanted[holder.municipality_code or ""]
        if holder.gln == org.gln or holder.gln in incoming:
            continue
        message = (
            f"{holder.gln} ({holder.name}) is already the active kommune for "
            f"{holder.municipality_code}; deactivate it first."
        )
        if line is None:
            raise Conflict(message)
        problems.append(LineProblem(line, "municipality_code", "kommune_taken", message))
    if problems:
        raise DirectoryFileRejected(problems)


def _kommune_claim(kind: str, is_active: bool, municipality_code: str | None) -> str | None:
    return municipality_code if kind == OrganisationKind.KOMMUNE and is_active else None


def _release_moving_kommune_claims(
    existing: dict[str, orm.Organisation], organisations: list[Organisation]
) -> None:
    """Clears the kommunekode of every stored kommune whose claim on it changes.

    The unique index on active kommuner is checked row by row as the flush writes them, in no
    order we control; a file that swaps two kommuner's codes would trip it half-way. Released
    first, the codes can then be taken in any order.
    """
    for organisation in organisations:
        row = existing.get(organisation.gln)
        if row is None:
            continue
        before = _kommune_claim(row.kind, row.is_active, row.municipality_code)
        after = _kommune_claim(
            organisation.kind, organisation.active, organisation.municipality_code
        )
        if before is not None and before != after:
            row.municipality_code = None


def _upsert(
    repository: OrganisationRepository,
    row: orm.Organisation | None,
    organisation: Organisation,
    *,
    now: datetime,
) -> tuple[str, orm.Organisation]:
    """Writes the entry onto its row (new if None): "created", "updated" or "unchanged"."""
    values = organisation.model_dump(mode="json", exclude={"gln", "active", "signing_secret"})
    values["is_active"] = organisation.active
    # Write-only: an entry without one keeps what is stored.
    if organisation.signing_secret is not None:
        values["signing_secret"] = organisation.signing_secret.get_secret_value()
    values["search_name"] = organisation.name.casefold()
    if row is None:
        row = orm.Organisation(gln=organisation.gln, created_at=now, updated_at=now, **values)
        repository.add(row)
        return "created", row
    changed = {k: v for k, v in values.items() if getattr(row, k) != v}
    if not changed:
        return "unchanged", row
    for column, value in changed.items():
        setattr(row, column, value)
    row.updated_at = now
    return "updated", row

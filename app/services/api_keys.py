"""API keys: create, revoke, and authenticate a bearer key to the calling organisation.

A key is `sb_<key_id>_<secret>`. Only its SHA-256 is stored: the secret has 256 bits of
entropy, so a fast hash is enough (as for GitHub tokens); a slow password hash would add
latency to every request for no gain.
"""

import hashlib
import secrets
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session

from app import orm
from app.errors import AuthenticationRequired, Conflict, Forbidden, NotFound
from app.repositories import ApiKeyRepository, OrganisationRepository

__all__ = [
    "Caller",
    "authenticate",
    "create_key",
    "list_keys",
    "revoke_key",
    "revoke_keys_with_label",
]


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: an organisation (by GLN) or an administrator.

    `organisation` is the row loaded with the key. Holding it also keeps it in the session's
    identity map (which holds rows weakly), so the request does not load it a second time.
    """

    key_id: str
    organisation_gln: str | None
    is_admin: bool
    organisation: orm.Organisation | None = field(default=None, compare=False, repr=False)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(
    session: Session,
    *,
    organisation_gln: str | None,
    label: str | None,
    now: datetime,
) -> tuple[orm.ApiKey, str]:
    """Creates a key for an organisation, or an admin key when `organisation_gln` is None.

    Returns the stored row and the key itself, which exists nowhere else afterwards.
    """
    if organisation_gln is not None:
        organisation = OrganisationRepository(session).get(organisation_gln)
        if organisation is None:
            raise NotFound(f"No organisation with GLN {organisation_gln} is in the directory.")
        if not organisation.is_active:
            raise Conflict(f"Organisation {organisation_gln} is inactive; activate it first.")
    key_id = secrets.token_hex(6)
    key = f"sb_{key_id}_{secrets.token_urlsafe(32)}"
    row = orm.ApiKey(
        key_id=key_id,
        key_hash=_hash(key),
        organisation_gln=organisation_gln,
        is_admin=organisation_gln is None,
        label=label,
        created_at=now,
        revoked_at=None,
    )
    ApiKeyRepository(session).add(row)
    session.flush()
    return row, key


def revoke_key(session: Session, *, key_id: str, now: datetime) -> orm.ApiKey:
    """Revokes a key; revoking a revoked key changes nothing."""
    row = ApiKeyRepository(session).get(key_id)
    if row is None:
        raise NotFound(f"No API key has the id {key_id}.")
    if row.revoked_at is None:
        row.revoked_at = now
    return row


def revoke_keys_with_label(session: Session, *, label: str, now: datetime) -> int:
    """Revokes every active key carrying `label`; returns how many."""
    rows = ApiKeyRepository(session).list_active_with_label(label)
    for row in rows:
        row.revoked_at = now
    return len(rows)


def list_keys(session: Session) -> list[orm.ApiKey]:
    """Lists every key (ids, owners and dates; never the keys themselves)."""
    return ApiKeyRepository(session).list_all()


def authenticate(session: Session, key: str | None) -> Caller:
    """Finds who holds this bearer key."""
    if not key:
        raise AuthenticationRequired(
            "Send your API key in the header 'Authorization: Bearer <key>'."
        )
    row = ApiKeyRepository(session).get_by_hash(_hash(key))
    if row is None or row.revoked_at is not None:
        raise AuthenticationRequired("The API key is unknown or has been revoked.")
    if row.organisation is not None and not row.organisation.is_active:
        raise Forbidden(
            f"The key belongs to organisation {row.organisation.gln}, which is inactive."
        )
    return Caller(
        key_id=row.key_id,
        organisation_gln=row.organisation_gln,
        is_admin=row.is_admin,
        organisation=row.organisation,
    )

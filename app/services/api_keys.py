"""API keys: create, revoke, and authenticate a bearer key to the calling organisation.

A key is `sb_<key_id>_<secret>`. Only its SHA-256 is stored: the secret has 256 bits of
entropy, so a fast hash is enough (as for GitHub tokens); a slow password hash would add
latency to every request for no gain.

Who holds a key may be remembered for a few seconds (`CallerCache`,
SEKTORBRO_KEY_CACHE_SECONDS), so that a request does not open a transaction just to learn who
is calling. A revoked key, or a key of an organisation made inactive, is therefore refused
within that time in every process, not at once.
"""

import hashlib
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from sqlalchemy.orm import Session

from app import orm
from app.errors import AuthenticationRequired, Conflict, Forbidden, NotFound
from app.repositories import ApiKeyRepository, DirectoryEntry, OrganisationRepository

__all__ = [
    "ADMIN_SCOPES",
    "Caller",
    "CallerCache",
    "Scope",
    "authenticate",
    "create_key",
    "key_digest",
    "list_keys",
    "revoke_key",
    "revoke_keys_with_label",
    "scopes_of",
]


class Scope(StrEnum):
    """What a key without an organisation may do: one job each, so that no key holds every
    power (least privilege). Only `audit` reads patient data across organisations, and each
    such read is audited."""

    DIRECTORY = "directory"  # create and change organisations
    GATEWAY = "gateway"  # the network gateway (VANS): XCTL01 and receipts on behalf of others
    AUDIT = "audit"  # patient data across organisations (the deadlines of every kommune)
    METRICS = "metrics"  # /metrics


# What `--admin` stands for: directory administration and /metrics, as the README has it.
ADMIN_SCOPES = frozenset({Scope.DIRECTORY, Scope.METRICS})


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: an organisation (by GLN, with its directory entry) or an administrator."""

    key_id: str
    organisation_gln: str | None
    is_admin: bool  # a key without an organisation; what it may do is in `scopes`
    # The directory entry as it was when the key was looked up.
    organisation: DirectoryEntry | None = field(default=None, compare=False, repr=False)
    scopes: frozenset[Scope] = field(default=frozenset(), compare=False)

    def has(self, scope: Scope) -> bool:
        """True if this key holds `scope` (an organisation's key holds none)."""
        return scope in self.scopes


class CallerCache:
    """Callers by key digest, each remembered for `ttl` seconds (0: not at all), at most
    `size` of them (the least recently used go first). Thread-safe. Only keys that
    authenticated are remembered: an unknown key costs a lookup every time."""

    def __init__(self, *, ttl: float, size: int = 10_000) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[str, tuple[float, Caller]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, digest: str) -> Caller | None:
        """The caller remembered for this digest, if it is still fresh."""
        with self._lock:
            entry = self._entries.get(digest)
            if entry is None:
                return None
            expires, caller = entry
            if time.monotonic() >= expires:
                del self._entries[digest]
                return None
            self._entries.move_to_end(digest)
            return caller

    def put(self, digest: str, caller: Caller) -> None:
        """Remembers the caller of this digest for `ttl` seconds."""
        if self.ttl <= 0:
            return
        with self._lock:
            self._entries[digest] = (time.monotonic() + self.ttl, caller)
            self._entries.move_to_end(digest)
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


def key_digest(key: str) -> str:
    """The SHA-256 of a key, as stored."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(
    session: Session,
    *,
    organisation_gln: str | None,
    label: str | None,
    now: datetime,
    scopes: Collection[Scope] = ADMIN_SCOPES,
) -> tuple[orm.ApiKey, str]:
    """Creates a key for an organisation, or, when `organisation_gln` is None, a key with
    these scopes (by default `ADMIN_SCOPES`).

    Returns the stored row and the key itself, which exists nowhere else afterwards.
    """
    if organisation_gln is None and not scopes:
        raise ValueError("a key without an organisation needs at least one scope")
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
        key_hash=key_digest(key),
        organisation_gln=organisation_gln,
        is_admin=organisation_gln is None,
        scopes="" if organisation_gln is not None else ",".join(sorted(scopes)),
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
    row = ApiKeyRepository(session).get_by_hash(key_digest(key))
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
        organisation=DirectoryEntry.of(row.organisation) if row.organisation else None,
        scopes=scopes_of(row),
    )


def scopes_of(row: orm.ApiKey) -> frozenset[Scope]:
    """The scopes stored with a key."""
    return frozenset(Scope(name) for name in row.scopes.split(",") if name)

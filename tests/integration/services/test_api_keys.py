"""API keys on both databases: issue, authenticate, revoke; only a key's SHA-256 is kept."""

import hashlib
import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app import orm
from app.errors import AuthenticationRequired, Conflict, Forbidden, NotFound
from app.services.api_keys import (
    Caller,
    authenticate,
    create_key,
    list_keys,
    revoke_key,
    revoke_keys_with_label,
)
from tests.conftest import FROZEN_NOW
from tests.factories import ODENSE_HOSPITAL, ODENSE_KOMMUNE, add_hospital, add_key, add_organisation

LATER = FROZEN_NOW + timedelta(days=1)
KEY_FORM = re.compile(r"sb_(?P<key_id>[0-9a-f]{12})_(?P<secret>[A-Za-z0-9_-]{43})")


def count_keys(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(orm.ApiKey)) or 0


def key_id_of(key: str) -> str:
    match = KEY_FORM.fullmatch(key)
    assert match is not None, key
    return match["key_id"]


def secret_of(key: str) -> str:
    match = KEY_FORM.fullmatch(key)
    assert match is not None, key
    return match["secret"]


def reloaded(session: Session, row: orm.ApiKey) -> orm.ApiKey:
    """The row as the database now holds it."""
    session.flush()
    session.refresh(row)
    return row


class TestCreateKey:
    def test_creates_a_key_for_an_organisation(self, session: Session) -> None:
        add_organisation(session)

        row, _ = create_key(session, organisation_gln=ODENSE_KOMMUNE, label="emr", now=FROZEN_NOW)

        assert (row.organisation_gln, row.is_admin, row.label) == (ODENSE_KOMMUNE, False, "emr")
        assert (row.created_at, row.revoked_at) == (FROZEN_NOW, None)

    def test_creates_an_admin_key(self, session: Session) -> None:
        row, _ = create_key(session, organisation_gln=None, label=None, now=FROZEN_NOW)

        assert (row.organisation_gln, row.is_admin, row.label) == (None, True, None)

    def test_the_key_is_sb_key_id_secret(self, session: Session) -> None:
        row, key = create_key(session, organisation_gln=None, label=None, now=FROZEN_NOW)

        match = KEY_FORM.fullmatch(key)
        assert match is not None, key
        assert match["key_id"] == row.key_id

    def test_stores_the_sha256_of_the_key(self, session: Session) -> None:
        row, key = create_key(session, organisation_gln=None, label=None, now=FROZEN_NOW)

        assert row.key_hash == hashlib.sha256(key.encode()).hexdigest()

    def test_stores_neither_the_key_nor_its_secret(self, session: Session) -> None:
        add_organisation(session)
        _, key = create_key(session, organisation_gln=ODENSE_KOMMUNE, label="x", now=FROZEN_NOW)
        secret = secret_of(key)

        stored = session.execute(text("SELECT * FROM api_keys")).all()

        cells = [str(cell) for row in stored for cell in row]
        assert len(stored) == 1
        assert not [cell for cell in cells if key in cell or secret in cell]

    def test_every_key_is_new(self, session: Session) -> None:
        first, first_key = create_key(session, organisation_gln=None, label=None, now=FROZEN_NOW)
        second, second_key = create_key(session, organisation_gln=None, label=None, now=FROZEN_NOW)

        assert first_key != second_key
        assert first.key_id != second.key_id

    def test_refuses_an_organisation_not_in_the_directory(self, session: Session) -> None:
        with pytest.raises(NotFound):
            create_key(session, organisation_gln=ODENSE_KOMMUNE, label=None, now=FROZEN_NOW)

        assert count_keys(session) == 0

    def test_refuses_an_inactive_organisation(self, session: Session) -> None:
        add_organisation(session, active=False)

        with pytest.raises(Conflict) as caught:
            create_key(session, organisation_gln=ODENSE_KOMMUNE, label=None, now=FROZEN_NOW)

        assert caught.value.status_code == 409
        assert count_keys(session) == 0


class TestAuthenticate:
    def test_an_organisation_key_identifies_its_organisation(self, session: Session) -> None:
        add_organisation(session)
        key = add_key(session, gln=ODENSE_KOMMUNE)

        caller = authenticate(session, key)

        assert caller == Caller(
            key_id=key_id_of(key), organisation_gln=ODENSE_KOMMUNE, is_admin=False
        )
        assert caller.organisation is not None
        assert caller.organisation.gln == ODENSE_KOMMUNE

    def test_an_admin_key_identifies_an_administrator(self, session: Session) -> None:
        key = add_key(session, gln=None)

        caller = authenticate(session, key)

        assert caller == Caller(key_id=key_id_of(key), organisation_gln=None, is_admin=True)

    def test_each_key_identifies_its_own_organisation(self, session: Session) -> None:
        add_organisation(session)
        add_hospital(session)
        kommune_key = add_key(session, gln=ODENSE_KOMMUNE)
        hospital_key = add_key(session, gln=ODENSE_HOSPITAL)

        assert authenticate(session, kommune_key).organisation_gln == ODENSE_KOMMUNE
        assert authenticate(session, hospital_key).organisation_gln == ODENSE_HOSPITAL

    @pytest.mark.parametrize("key", [None, ""])
    def test_requires_a_key(self, session: Session, key: str | None) -> None:
        with pytest.raises(AuthenticationRequired) as caught:
            authenticate(session, key)

        assert caught.value.status_code == 401
        assert caught.value.headers == {"WWW-Authenticate": "Bearer"}

    def test_refuses_a_key_that_was_never_issued(self, session: Session) -> None:
        add_key(session, gln=None)

        with pytest.raises(AuthenticationRequired):
            authenticate(session, "sb_0123456789ab_" + "A" * 43)

    def test_refuses_a_key_with_one_character_changed(self, session: Session) -> None:
        key = add_key(session, gln=None)
        altered = key[:-1] + ("A" if key[-1] != "A" else "B")

        with pytest.raises(AuthenticationRequired):
            authenticate(session, altered)

    def test_refuses_a_revoked_key(self, session: Session) -> None:
        key = add_key(session, gln=None)
        revoke_key(session, key_id=key_id_of(key), now=LATER)

        with pytest.raises(AuthenticationRequired):
            authenticate(session, key)

    def test_forbids_the_key_of_an_organisation_deactivated_since(self, session: Session) -> None:
        add_organisation(session)
        key = add_key(session, gln=ODENSE_KOMMUNE)
        add_organisation(session, active=False)

        with pytest.raises(Forbidden) as caught:
            authenticate(session, key)

        assert caught.value.status_code == 403


class TestRevokeKey:
    def test_records_when_the_key_was_revoked(self, session: Session) -> None:
        key = add_key(session, gln=None)

        row = revoke_key(session, key_id=key_id_of(key), now=LATER)

        assert reloaded(session, row).revoked_at == LATER

    def test_revoking_twice_keeps_the_first_time(self, session: Session) -> None:
        key = add_key(session, gln=None)
        revoke_key(session, key_id=key_id_of(key), now=LATER)

        row = revoke_key(session, key_id=key_id_of(key), now=LATER + timedelta(days=1))

        assert reloaded(session, row).revoked_at == LATER

    def test_leaves_other_keys_working(self, session: Session) -> None:
        revoked = add_key(session, gln=None)
        kept = add_key(session, gln=None)

        revoke_key(session, key_id=key_id_of(revoked), now=LATER)

        assert authenticate(session, kept).key_id == key_id_of(kept)

    def test_raises_not_found_for_an_unknown_key_id(self, session: Session) -> None:
        with pytest.raises(NotFound):
            revoke_key(session, key_id="0123456789ab", now=LATER)


class TestRevokeKeysWithLabel:
    def test_revokes_every_active_key_with_the_label(self, session: Session) -> None:
        add_organisation(session)
        demo_keys = [
            create_key(session, organisation_gln=gln, label="demo", now=FROZEN_NOW)[1]
            for gln in (None, ODENSE_KOMMUNE)
        ]

        revoked = revoke_keys_with_label(session, label="demo", now=LATER)

        assert revoked == 2
        for key in demo_keys:
            with pytest.raises(AuthenticationRequired):
                authenticate(session, key)

    def test_leaves_keys_with_another_label_or_none_alone(self, session: Session) -> None:
        create_key(session, organisation_gln=None, label="demo", now=FROZEN_NOW)
        other, _ = create_key(session, organisation_gln=None, label="ci", now=FROZEN_NOW)
        unlabelled, _ = create_key(session, organisation_gln=None, label=None, now=FROZEN_NOW)

        revoke_keys_with_label(session, label="demo", now=LATER)

        assert reloaded(session, other).revoked_at is None
        assert reloaded(session, unlabelled).revoked_at is None

    def test_neither_counts_nor_re_dates_keys_already_revoked(self, session: Session) -> None:
        old, _ = create_key(session, organisation_gln=None, label="demo", now=FROZEN_NOW)
        revoke_key(session, key_id=old.key_id, now=FROZEN_NOW)
        create_key(session, organisation_gln=None, label="demo", now=FROZEN_NOW)

        revoked = revoke_keys_with_label(session, label="demo", now=LATER)

        assert revoked == 1
        assert reloaded(session, old).revoked_at == FROZEN_NOW

    def test_revokes_nothing_when_no_key_has_the_label(self, session: Session) -> None:
        add_key(session, gln=None)

        assert revoke_keys_with_label(session, label="demo", now=LATER) == 0


class TestListKeys:
    def test_lists_every_key_newest_first(self, session: Session) -> None:
        older, _ = create_key(session, organisation_gln=None, label="old", now=FROZEN_NOW)
        newer, _ = create_key(session, organisation_gln=None, label="new", now=LATER)
        revoke_key(session, key_id=older.key_id, now=LATER)

        assert [row.key_id for row in list_keys(session)] == [newer.key_id, older.key_id]

"""Fixtures of the HTTP tests: keys, and apps with other settings."""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.clock import FixedClock
from app.config import Settings
from app.main import create_app
from app.services.api_keys import Scope
from app.state import app_state
from tests.conftest import FROZEN_NOW
from tests.factories import (
    HJALLESE_GP,
    ISHOEJ_KOMMUNE,
    ODENSE_HOSPITAL,
    ODENSE_KOMMUNE,
    OTHER_HOSPITAL,
    add_hospital,
    add_key,
    add_organisation,
    bearer,
    gp_fields,
)

BuildClient = Callable[..., TestClient]


@pytest.fixture
def admin_headers(session: Session) -> dict[str, str]:
    """The Authorization header of a fresh admin key."""
    return bearer(add_key(session, gln=None))


@pytest.fixture
def gateway_headers(session: Session) -> dict[str, str]:
    """The Authorization header of a fresh key with the scope `gateway` (VANS)."""
    return bearer(add_key(session, gln=None, scopes={Scope.GATEWAY}))


@pytest.fixture
def audit_headers(session: Session) -> dict[str, str]:
    """The Authorization header of a fresh key with the scope `audit`."""
    return bearer(add_key(session, gln=None, scopes={Scope.AUDIT}))


@pytest.fixture
def build_client(
    settings: Settings, session_factory: sessionmaker[Session]
) -> Iterator[BuildClient]:
    """Builds a client of an app with these settings (over the test database), as `client` does."""
    with ExitStack() as stack:

        def build(**overrides: Any) -> TestClient:
            app = create_app(
                Settings(database_url=settings.database_url, run_timers=False, **overrides),
                clock=FixedClock(FROZEN_NOW),
            )
            test_client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
            app_state(app).db.sessions = session_factory
            return test_client

        yield build


@pytest.fixture
def keys(session: Session) -> dict[str, dict[str, str]]:
    """Odense Universitetshospital, Odense Kommune, Lægerne i Hjallese, Ishøj Kommune and a
    second hospital, each with a key."""
    add_hospital(session)
    add_hospital(session, gln=OTHER_HOSPITAL, name="Hvidovre Hospital", identifier="1309029")
    add_organisation(session)
    add_organisation(session, **gp_fields())
    add_organisation(
        session,
        gln=ISHOEJ_KOMMUNE,
        name="Ishøj Kommune",
        municipality_code="183",
        identifier="183",
    )
    return {
        gln: bearer(add_key(session, gln=gln))
        for gln in (ODENSE_HOSPITAL, OTHER_HOSPITAL, ODENSE_KOMMUNE, HJALLESE_GP, ISHOEJ_KOMMUNE)
    }


@pytest.fixture
def hospital(keys: dict[str, dict[str, str]]) -> dict[str, str]:
    return keys[ODENSE_HOSPITAL]

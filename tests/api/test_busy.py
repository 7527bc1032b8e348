"""A database that cannot take a request in time is answered 503 with Retry-After, never 500."""

import sqlite3
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.clock import FixedClock
from app.config import Settings
from app.db import make_engine
from app.main import create_app
from app.migrate import upgrade_to_head
from tests.api.helpers import assert_problem
from tests.conftest import FROZEN_NOW
from tests.factories import (
    ODENSE_HOSPITAL,
    add_hospital,
    add_key,
    add_organisation,
    bearer,
    gp_fields,
    plan_fields,
)


def test_a_plan_that_cannot_get_sqlite_s_write_lock_is_a_503_with_retry_after(
    tmp_path: Path,
) -> None:
    database = tmp_path / "embedded.db"
    engine = make_engine(f"sqlite:///{database}")
    upgrade_to_head(engine)
    with Session(engine) as session, session.begin():
        add_hospital(session)
        add_organisation(session)
        add_organisation(session, **gp_fields())
        key = add_key(session, gln=ODENSE_HOSPITAL)
    engine.dispose()
    settings = Settings(database_url=f"sqlite:///{database}", run_timers=False, db_timeout=0.2)
    # Another process writing: it holds SQLite's write lock for longer than db_timeout.
    other_writer = sqlite3.connect(database, isolation_level=None)
    other_writer.execute("BEGIN IMMEDIATE")
    try:
        with TestClient(
            create_app(settings, clock=FixedClock(FROZEN_NOW)), raise_server_exceptions=False
        ) as client:
            response = client.post("/v1/plans", json=plan_fields(), headers=bearer(key))
    finally:
        other_writer.rollback()
        other_writer.close()

    problem = assert_problem(response, 503, "busy")
    assert response.headers["Retry-After"] == "1"
    assert "try again" in problem["detail"]

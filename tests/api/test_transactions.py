"""The request owns the transaction, and a 2xx means it is committed."""

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Connection, event
from sqlalchemy.orm import Session, sessionmaker

from app.state import app_state
from tests.factories import ODENSE_KOMMUNE, add_key, bearer, organisation_fields


def refuse_to_commit(_session: Session) -> None:
    raise RuntimeError("the disk is full")


def test_a_commit_that_fails_is_answered_500_not_2xx(
    app: FastAPI, connection: Connection, session: Session
) -> None:
    admin = bearer(add_key(session, gln=None))
    failing_commits = sessionmaker(
        bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
    )
    event.listen(failing_commits, "before_commit", refuse_to_commit)

    with TestClient(app, raise_server_exceptions=False) as client:
        app_state(app).db.sessions = failing_commits
        response = client.put(
            f"/v1/organisations/{ODENSE_KOMMUNE}", json=organisation_fields(), headers=admin
        )

    assert response.status_code == 500

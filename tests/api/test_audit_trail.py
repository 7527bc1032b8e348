"""POST /v1/audit/search: a patient's audit trail, for a key with the scope `audit` only."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import orm
from tests.api.helpers import assert_problem, post_plan
from tests.factories import ODENSE_HOSPITAL, ODENSE_KOMMUNE, plan_fields

CPR = plan_fields()["patient"]["cpr"]


def search(client: TestClient, headers: dict[str, str], **body: Any) -> Any:
    return client.post("/v1/audit/search", json={"patient_cpr": CPR, **body}, headers=headers)


def test_the_trail_names_who_sent_and_read_the_patients_plan_newest_first(
    client: TestClient, keys: dict[str, dict[str, str]], audit_headers: dict[str, str]
) -> None:
    plan = post_plan(client, keys[ODENSE_HOSPITAL]).json()
    client.get(f"/v1/plans/{plan['message_id']}", headers=keys[ODENSE_KOMMUNE])

    response = search(client, audit_headers)

    assert response.status_code == 200, response.text
    events = [(e["action"], e["actor_gln"]) for e in response.json()["items"]]
    assert events == [("plan.read", ODENSE_KOMMUNE), ("plan.submitted", ODENSE_HOSPITAL)]
    assert all(e["message_id"] == plan["message_id"] for e in response.json()["items"])


def test_reading_the_trail_is_itself_audited(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    audit_headers: dict[str, str],
    session: Session,
) -> None:
    post_plan(client, keys[ODENSE_HOSPITAL])

    search(client, audit_headers)

    actions = session.scalars(select(orm.AuditEvent.action)).all()
    assert "audit.searched" in actions


def test_the_trail_comes_in_pages(
    client: TestClient, keys: dict[str, dict[str, str]], audit_headers: dict[str, str]
) -> None:
    plan = post_plan(client, keys[ODENSE_HOSPITAL]).json()
    for _ in range(2):
        client.get(f"/v1/plans/{plan['message_id']}", headers=keys[ODENSE_KOMMUNE])

    first = search(client, audit_headers, limit=2).json()
    second = search(client, audit_headers, limit=2, cursor=first["next_cursor"]).json()

    assert [e["action"] for e in first["items"] + second["items"]] == [
        "plan.read",
        "plan.read",
        "plan.submitted",
    ]
    assert second["next_cursor"] is None


def test_an_organisations_key_may_not_read_the_trail(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    assert_problem(search(client, keys[ODENSE_KOMMUNE]), 403, "forbidden")


def test_a_malformed_cpr_number_is_a_422_naming_the_field(
    client: TestClient, audit_headers: dict[str, str]
) -> None:
    response = client.post("/v1/audit/search", json={"patient_cpr": "12345"}, headers=audit_headers)

    problem = assert_problem(response, 422, "validation_failed")
    assert {e["field"] for e in problem["errors"]} == {"patient_cpr"}
    assert "12345" not in problem["detail"]

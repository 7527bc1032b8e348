"""Searching messages with the filters in a JSON body (POST /v1/messages/search), and the
deprecated `patient_cpr` query parameter of GET /v1/messages."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import orm
from tests.api.helpers import assert_problem, post_plan, rules_by_field
from tests.factories import HJALLESE_GP, ISHOEJ_KOMMUNE, ODENSE_HOSPITAL, ODENSE_KOMMUNE

Keys = dict[str, dict[str, str]]

SEARCH = "/v1/messages/search"
SUCCESSOR_LINK = '</v1/messages/search>; rel="successor-version"'


@pytest.fixture
def plan(client: TestClient, keys: Keys) -> dict[str, Any]:
    """The reference plan (patient 251248-4916), sent to Odense Kommune and the GP."""
    response = post_plan(client, keys[ODENSE_HOSPITAL])
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def searches(session: Session) -> list[orm.AuditEvent]:
    return list(
        session.scalars(
            select(orm.AuditEvent).where(orm.AuditEvent.action == "messages.searched")
        ).all()
    )


class TestSearch:
    @pytest.mark.parametrize("cpr", ["2512484916", "251248-4916"])
    def test_finds_the_patients_messages_by_cpr(
        self, client: TestClient, keys: Keys, plan: dict[str, Any], cpr: str
    ) -> None:
        response = client.post(SEARCH, json={"patient_cpr": cpr}, headers=keys[ODENSE_KOMMUNE])

        assert response.status_code == 200, response.text
        page = response.json()
        assert [m["message_id"] for m in page["items"]] == [plan["message_id"]]
        assert page["next_cursor"] is None
        assert [d["receiver_gln"] for d in page["items"][0]["deliveries"]] == [ODENSE_KOMMUNE]

    def test_answers_as_the_get_does(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        posted = client.post(SEARCH, json={"patient_cpr": "2512484916"}, headers=keys[HJALLESE_GP])
        got = client.get("/v1/messages?patient_cpr=2512484916", headers=keys[HJALLESE_GP])

        assert posted.json() == got.json()

    @pytest.mark.parametrize(
        ("reader", "filters", "count"),
        [
            (ODENSE_KOMMUNE, {}, 1),
            (ODENSE_KOMMUNE, {"patient_cpr": "0201609995"}, 0),
            (ODENSE_KOMMUNE, {"patient_cpr": "2512484916", "direction": "sent"}, 0),
            (ODENSE_KOMMUNE, {"patient_cpr": "2512484916", "direction": "received"}, 1),
            (ODENSE_KOMMUNE, {"type": "letter"}, 0),
            (ODENSE_KOMMUNE, {"status": "available"}, 1),
            (ODENSE_KOMMUNE, {"status": "ack_overdue"}, 0),
            (ODENSE_KOMMUNE, {"since": "2026-11-23T09:00:01Z"}, 0),
            (ODENSE_HOSPITAL, {"patient_cpr": "2512484916", "direction": "sent"}, 1),
            (ISHOEJ_KOMMUNE, {"patient_cpr": "2512484916"}, 0),
        ],
    )
    def test_takes_the_filters_of_the_get(
        self,
        client: TestClient,
        keys: Keys,
        plan: dict[str, Any],
        reader: str,
        filters: dict[str, Any],
        count: int,
    ) -> None:
        response = client.post(SEARCH, json=filters, headers=keys[reader])

        assert response.status_code == 200, response.text
        assert len(response.json()["items"]) == count

    def test_pages_with_the_cursor_in_the_body(self, client: TestClient, keys: Keys) -> None:
        for i in range(3):
            post_plan(client, keys[ODENSE_HOSPITAL], letter_id=f"OUH{i}")
        search = {"patient_cpr": "2512484916", "limit": 2}

        first = client.post(SEARCH, json=search, headers=keys[ODENSE_KOMMUNE]).json()
        second = client.post(
            SEARCH, json={**search, "cursor": first["next_cursor"]}, headers=keys[ODENSE_KOMMUNE]
        ).json()

        letters = [m["letter_id"] for m in first["items"] + second["items"]]
        assert sorted(letters) == ["OUH0", "OUH1", "OUH2"]  # one clock: by message_id
        assert second["next_cursor"] is None

    def test_a_search_by_cpr_is_audited_like_the_get(
        self, client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
    ) -> None:
        client.post(SEARCH, json={"patient_cpr": "2512484916"}, headers=keys[ODENSE_KOMMUNE])
        client.get("/v1/messages?patient_cpr=2512484916", headers=keys[ODENSE_KOMMUNE])

        posted, got = searches(session)
        message = session.get(orm.Message, plan["message_id"])
        assert message is not None
        assert posted.patient_ref == got.patient_ref == message.patient_ref
        assert len(posted.patient_ref or "") == 64
        assert posted.actor_gln == got.actor_gln == ODENSE_KOMMUNE

    def test_a_search_without_cpr_is_not_audited(
        self, client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
    ) -> None:
        client.post(SEARCH, json={"type": "plan"}, headers=keys[ODENSE_KOMMUNE])

        assert searches(session) == []

    def test_an_unknown_field_is_a_422(self, client: TestClient, keys: Keys) -> None:
        response = client.post(
            SEARCH, json={"patient_cpr": "2512484916", "cpr": "x"}, headers=keys[ODENSE_KOMMUNE]
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert [e["rule"] for e in problem["errors"]] == ["extra_forbidden"]
        assert problem["errors"][0]["field"].endswith("cpr")

    def test_a_malformed_cpr_is_a_422(self, client: TestClient, keys: Keys) -> None:
        response = client.post(SEARCH, json={"patient_cpr": "12345"}, headers=keys[ODENSE_KOMMUNE])

        assert rules_by_field(assert_problem(response, 422, "validation_failed")) == {
            "patient_cpr": "cpr_format"
        }

    @pytest.mark.parametrize("limit", [0, 201])
    def test_a_limit_out_of_range_is_a_422(
        self, client: TestClient, keys: Keys, limit: int
    ) -> None:
        response = client.post(SEARCH, json={"limit": limit}, headers=keys[ODENSE_KOMMUNE])

        assert_problem(response, 422, "validation_failed")

    def test_a_body_that_is_not_json_is_a_415(self, client: TestClient, keys: Keys) -> None:
        response = client.post(
            SEARCH,
            content=b"patient_cpr=2512484916",
            headers={**keys[ODENSE_KOMMUNE], "Content-Type": "application/x-www-form-urlencoded"},
        )

        assert_problem(response, 415, "unsupported_media_type")

    def test_without_a_key_is_a_401(self, client: TestClient) -> None:
        response = client.post(SEARCH, json={"patient_cpr": "2512484916"})

        assert_problem(response, 401, "unauthenticated")

    def test_the_search_is_not_taken_for_a_message_id(self, client: TestClient, keys: Keys) -> None:
        response = client.get(SEARCH, headers=keys[ODENSE_KOMMUNE])

        assert_problem(response, 404, "not_found")


class TestDeprecatedCprQuery:
    def test_still_finds_the_patients_messages_with_a_deprecation_header(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = client.get("/v1/messages?patient_cpr=2512484916", headers=keys[ODENSE_KOMMUNE])

        assert response.status_code == 200, response.text
        assert [m["message_id"] for m in response.json()["items"]] == [plan["message_id"]]
        assert response.headers["deprecation"] == "true"
        assert response.headers["link"] == SUCCESSOR_LINK

    @pytest.mark.parametrize("query", ["", "?type=plan", "?direction=received&limit=10"])
    def test_a_list_without_cpr_has_no_deprecation_header(
        self, client: TestClient, keys: Keys, plan: dict[str, Any], query: str
    ) -> None:
        response = client.get(f"/v1/messages{query}", headers=keys[ODENSE_KOMMUNE])

        assert response.status_code == 200, response.text
        assert "deprecation" not in response.headers
        assert "link" not in response.headers

    def test_the_search_has_no_deprecation_header(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = client.post(
            SEARCH, json={"patient_cpr": "2512484916"}, headers=keys[ODENSE_KOMMUNE]
        )

        assert "deprecation" not in response.headers


class TestOpenApi:
    @pytest.fixture
    def spec(self, client: TestClient) -> dict[str, Any]:
        document: dict[str, Any] = client.get("/openapi.json").json()
        return document

    def test_the_cpr_query_parameter_is_deprecated_in_favour_of_the_post(
        self, spec: dict[str, Any]
    ) -> None:
        parameters = spec["paths"]["/v1/messages"]["get"]["parameters"]
        [cpr] = [p for p in parameters if p["name"] == "patient_cpr"]

        assert cpr["deprecated"] is True
        assert "POST /v1/messages/search" in cpr["description"]
        assert not any(p.get("deprecated") for p in parameters if p["name"] != "patient_cpr")

    def test_the_search_body_is_documented_with_an_example(self, spec: dict[str, Any]) -> None:
        operation = spec["paths"]["/v1/messages/search"]["post"]
        body = operation["requestBody"]["content"]["application/json"]["schema"]
        schema = spec["components"]["schemas"][body["$ref"].removeprefix("#/components/schemas/")]

        assert set(schema["properties"]) == {
            "direction",
            "type",
            "status",
            "patient_cpr",
            "since",
            "cursor",
            "limit",
        }
        assert schema["additionalProperties"] is False
        assert all(field.get("description") for field in schema["properties"].values())
        assert schema["examples"][0]["patient_cpr"]
        assert (
            "MessagePage"
            in operation["responses"]["200"]["content"]["application/json"]["schema"]["$ref"]
        )
        assert "application/problem+json" in operation["responses"]["422"]["content"]

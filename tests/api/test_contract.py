"""Contract gaps found by fuzzing (issue 12): what the OpenAPI document promises is what the
API answers. Every 422 a parameter can cause is documented; dates, times and booleans are
taken only in their JSON or ISO 8601 form; bytes that are not UTF-8 are the same 422 on every
JSON route; and a 405 always says which methods the resource takes."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.api.helpers import assert_problem, rules_by_field
from tests.factories import ODENSE_KOMMUNE, organisation_fields

CURSOR_ROUTES = ["/v1/organisations", "/v1/deadlines", "/v1/messages", "/v1/inbox"]
JSON_ROUTES = [
    ("PUT", f"/v1/organisations/{ODENSE_KOMMUNE}"),
    ("POST", "/v1/plans"),
    ("POST", "/v1/plans/validate"),
    ("POST", "/v1/letters"),
    ("POST", "/v1/notices"),
    ("POST", "/v1/messages/search"),
    ("POST", "/v1/inbox/no-such-delivery/ack"),
]
NOT_UTF8 = b'{"result": "\xff"}'


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


class TestCursors:
    @pytest.mark.parametrize("path", CURSOR_ROUTES)
    def test_every_route_with_a_cursor_documents_its_422(
        self, spec: dict[str, Any], path: str
    ) -> None:
        operation = spec["paths"][path]["get"]

        assert "cursor" in {parameter["name"] for parameter in operation["parameters"]}
        assert "422" in operation["responses"]

    @pytest.mark.parametrize("path", ["/v1/deadlines", "/v1/messages", "/v1/inbox"])
    def test_an_arbitrary_cursor_is_a_documented_422_naming_cursor(
        self, client: TestClient, hospital: dict[str, str], path: str
    ) -> None:
        response = client.get(f"{path}?cursor=not-a-cursor", headers=hospital)

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"cursor": "cursor_invalid"}


class TestStrictDates:
    @pytest.mark.parametrize("name", ["from", "to"])
    def test_a_number_as_a_deadline_date_is_a_422_naming_it(
        self, client: TestClient, hospital: dict[str, str], name: str
    ) -> None:
        response = client.get(f"/v1/deadlines?{name}=0", headers=hospital)

        problem = assert_problem(response, 422, "validation_failed")
        assert list(rules_by_field(problem)) == [name]

    def test_a_number_as_a_deadline_date_is_explained_as_a_date_format(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = client.get("/v1/deadlines?to=0", headers=hospital)

        problem = assert_problem(response, 422, "validation_failed")
        assert "YYYY-MM-DD" in problem["errors"][0]["message"]

    def test_an_iso_deadline_date_is_still_taken(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = client.get("/v1/deadlines?from=2024-01-01&to=2024-12-31", headers=hospital)

        assert response.status_code == 200, response.text

    def test_a_number_as_since_of_the_message_list_is_a_422_naming_since(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = client.get("/v1/messages?since=0.5", headers=hospital)

        problem = assert_problem(response, 422, "validation_failed")
        assert list(rules_by_field(problem)) == ["since"]
        assert "ISO 8601" in problem["errors"][0]["message"]

    def test_a_number_as_since_of_the_message_search_is_a_422_naming_since(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = client.post("/v1/messages/search", json={"since": 0}, headers=hospital)

        problem = assert_problem(response, 422, "validation_failed")
        assert list(rules_by_field(problem)) == ["since"]

    def test_an_iso_since_is_still_taken(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        listed = client.get("/v1/messages?since=2024-01-01T00:00:00Z", headers=hospital)
        searched = client.post(
            "/v1/messages/search", json={"since": "2024-01-01T00:00:00+01:00"}, headers=hospital
        )

        assert listed.status_code == 200, listed.text
        assert searched.status_code == 200, searched.text


class TestStrictBooleans:
    @pytest.mark.parametrize("value", [0, 1, "true"])
    def test_active_other_than_true_or_false_is_a_422_naming_active(
        self, client: TestClient, admin_headers: dict[str, str], value: object
    ) -> None:
        response = client.put(
            f"/v1/organisations/{ODENSE_KOMMUNE}",
            json=organisation_fields(active=value),
            headers=admin_headers,
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert list(rules_by_field(problem)) == ["active"]

    def test_active_false_is_still_taken(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = client.put(
            f"/v1/organisations/{ODENSE_KOMMUNE}",
            json=organisation_fields(active=False),
            headers=admin_headers,
        )

        assert response.status_code == 201, response.text
        assert response.json()["active"] is False


class TestBodiesThatAreNotUtf8:
    @pytest.mark.parametrize(("method", "path"), JSON_ROUTES)
    def test_a_body_that_is_not_utf8_is_a_422_naming_body(
        self,
        client: TestClient,
        keys: dict[str, dict[str, str]],
        admin_headers: dict[str, str],
        hospital: dict[str, str],
        method: str,
        path: str,
    ) -> None:
        headers = admin_headers if path.startswith("/v1/organisations") else hospital
        response = client.request(
            method,
            path,
            content=NOT_UTF8,
            headers=headers | {"content-type": "application/json"},
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert list(rules_by_field(problem)) == ["body"]

    def test_a_body_that_is_not_utf8_is_explained_plainly(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = client.post(
            "/v1/messages/search",
            content=NOT_UTF8,
            headers=hospital | {"content-type": "application/json"},
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert "UTF-8" in problem["errors"][0]["message"]


class TestOptions:
    def test_options_is_a_405_problem(self, client: TestClient) -> None:
        response = client.options("/v1/plans")

        assert_problem(response, 405, "method_not_allowed")

    def test_options_is_answered_with_allow(self, client: TestClient) -> None:
        response = client.options("/v1/plans")

        assert response.headers["allow"] == "POST"

    def test_a_405_outside_the_openapi_paths_still_lists_the_methods(
        self, client: TestClient
    ) -> None:
        response = client.options("/openapi.json")

        assert response.status_code == 405
        assert response.headers["allow"] == "GET, HEAD"

"""The OpenAPI document integrators build against, and the documentation pages."""

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.factories import HJALLESE_GP, ODENSE_KOMMUNE

PUT_ORGANISATION = ("/v1/organisations/{gln}", "put")
# (path, method, status) of problems that must be documented.
DOCUMENTED_PROBLEMS = [
    ("/v1/organisations", "get", "401"),
    ("/v1/organisations", "get", "422"),
    ("/v1/organisations/{gln}", "get", "401"),
    ("/v1/organisations/{gln}", "get", "404"),
    ("/v1/organisations/{gln}", "get", "422"),
    ("/v1/organisations/{gln}", "put", "401"),
    ("/v1/organisations/{gln}", "put", "403"),
    ("/v1/organisations/{gln}", "put", "409"),
    ("/v1/organisations/{gln}", "put", "413"),
    ("/v1/organisations/{gln}", "put", "415"),
    ("/v1/organisations/{gln}", "put", "422"),
    ("/metrics", "get", "401"),
    ("/metrics", "get", "403"),
    ("/readyz", "get", "503"),
]
PROBLEM_IDS = [f"{method.upper()} {path} {status}" for path, method, status in DOCUMENTED_PROBLEMS]


@pytest.fixture
def spec(client: TestClient) -> dict[str, Any]:
    response = client.get("/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def operation(spec: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    found: dict[str, Any] = spec["paths"][path][method]
    return found


class TestInfo:
    def test_the_title_is_sektorbro(self, spec: dict[str, Any]) -> None:
        assert spec["info"]["title"] == "Sektorbro"

    def test_there_is_a_version(self, spec: dict[str, Any]) -> None:
        assert isinstance(spec["info"]["version"], str)
        assert spec["info"]["version"]

    def test_the_description_explains_keys_and_errors(self, spec: dict[str, Any]) -> None:
        description = spec["info"]["description"]

        assert "Bearer" in description
        assert "application/problem+json" in description


class TestSecurity:
    def test_there_is_an_http_bearer_scheme(self, spec: dict[str, Any]) -> None:
        schemes = spec["components"]["securitySchemes"].values()

        assert {"type": "http", "scheme": "bearer"} in [
            {"type": s["type"], "scheme": s["scheme"].lower()} for s in schemes
        ]

    @pytest.mark.parametrize(
        ("path", "method"),
        [
            ("/v1/organisations", "get"),
            ("/v1/organisations/{gln}", "get"),
            ("/v1/organisations/{gln}", "put"),
            ("/metrics", "get"),
        ],
    )
    def test_a_route_needing_a_key_declares_the_bearer_scheme(
        self, spec: dict[str, Any], path: str, method: str
    ) -> None:
        schemes = spec["components"]["securitySchemes"]

        requirements = operation(spec, path, method)["security"]

        assert any(name in schemes for requirement in requirements for name in requirement)

    @pytest.mark.parametrize("path", ["/healthz", "/readyz"])
    def test_a_public_route_declares_no_security(self, spec: dict[str, Any], path: str) -> None:
        assert not operation(spec, path, "get").get("security")


class TestPutOrganisation:
    def test_the_request_body_has_examples(self, spec: dict[str, Any]) -> None:
        body = operation(spec, *PUT_ORGANISATION)["requestBody"]

        examples = body["content"]["application/json"]["examples"]

        assert examples
        assert all(example["value"]["name"] for example in examples.values())

    def test_the_kommune_example_is_odense_kommune(self, spec: dict[str, Any]) -> None:
        body = operation(spec, *PUT_ORGANISATION)["requestBody"]

        examples = body["content"]["application/json"]["examples"]

        assert examples["kommune"]["value"]["name"] == "Odense Kommune"
        assert examples["kommune"]["value"]["municipality_code"] == "461"

    @pytest.mark.parametrize(("example", "gln"), [("kommune", ODENSE_KOMMUNE), ("gp", HJALLESE_GP)])
    def test_each_example_is_accepted_by_the_api(
        self,
        client: TestClient,
        admin_headers: dict[str, str],
        spec: dict[str, Any],
        example: str,
        gln: str,
    ) -> None:
        body = operation(spec, *PUT_ORGANISATION)["requestBody"]
        value = body["content"]["application/json"]["examples"][example]["value"]

        response = client.put(f"/v1/organisations/{gln}", headers=admin_headers, json=value)

        assert response.status_code == 201, response.text

    def test_created_is_documented_as_201(self, spec: dict[str, Any]) -> None:
        assert "201" in operation(spec, *PUT_ORGANISATION)["responses"]


class TestProblemResponses:
    @pytest.mark.parametrize(("path", "method", "status"), DOCUMENTED_PROBLEMS, ids=PROBLEM_IDS)
    def test_is_documented_as_problem_json(
        self, spec: dict[str, Any], path: str, method: str, status: str
    ) -> None:
        responses = operation(spec, path, method)["responses"]

        assert "application/problem+json" in responses[status]["content"]

    def test_the_problem_schema_is_documented_under_problem_json_only(
        self, spec: dict[str, Any]
    ) -> None:
        misdocumented = [
            f"{method.upper()} {path} {status}"
            for path, method, status in DOCUMENTED_PROBLEMS
            if operation(spec, path, method)["responses"][status]["content"]
            != {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        ]

        assert misdocumented == []

    def test_the_problem_schema_names_the_rfc_9457_members(self, spec: dict[str, Any]) -> None:
        problem = spec["components"]["schemas"]["Problem"]

        assert {"type", "title", "status", "detail", "instance", "request_id", "errors"} <= set(
            problem["properties"]
        )


class TestDocumentationPages:
    @pytest.mark.parametrize("path", ["/docs", "/redoc"])
    def test_answers_html(self, client: TestClient, path: str) -> None:
        response = client.get(path)

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "Sektorbro" in response.text


class TestMessageBodies:
    @pytest.mark.parametrize(
        ("path", "schema"), [("/v1/notices", "Notice"), ("/v1/letters", "Letter")]
    )
    def test_a_body_the_route_reads_itself_is_documented_as_json(
        self, spec: dict[str, Any], path: str, schema: str
    ) -> None:
        body = operation(spec, path, "post")["requestBody"]["content"]["application/json"]

        assert body["schema"] == {"$ref": f"#/components/schemas/{schema}"}

    def test_the_notice_schema_has_every_notice_type(self, spec: dict[str, Any]) -> None:
        mapping = spec["components"]["schemas"]["Notice"]["discriminator"]["mapping"]

        assert set(mapping) == {
            "rehabilitation_need",
            "received",
            "started",
            "second_meeting",
            "postponed",
            "not_attended",
            "transferred",
            "free_choice",
            "completed",
            "cancelled",
        }

    def test_a_letter_may_be_sent_as_xdis91_xml(self, spec: dict[str, Any]) -> None:
        content = operation(spec, "/v1/letters", "post")["requestBody"]["content"]

        assert "application/xml" in content

    def test_every_reference_in_the_document_resolves(self, spec: dict[str, Any]) -> None:
        schemas = spec["components"]["schemas"]

        def references(node: Any) -> list[str]:
            if isinstance(node, dict):
                found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
                return found + [ref for value in node.values() for ref in references(value)]
            if isinstance(node, list):
                return [ref for value in node for ref in references(value)]
            return []

        missing = {
            ref
            for ref in references(spec)
            if ref.removeprefix("#/components/schemas/") not in schemas
        }
        assert missing == set()

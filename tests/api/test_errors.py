"""Every error answers application/problem+json (RFC 9457) and never quotes what was sent.

api.md "Errors": `type`, `title`, `status`, `detail` (plus `instance` and `request_id`), and
for a 422 `errors: [{field, rule, message}]` with `field` a dotted path into the JSON.
"""

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api.conftest import BuildClient
from tests.api.helpers import assert_problem, rules_by_field
from tests.factories import HJALLESE_GP, ODENSE_KOMMUNE, add_organisation, organisation_fields

ODENSE_KOMMUNE_PATH = f"/v1/organisations/{ODENSE_KOMMUNE}"
# Odense Kommune's GLN with the last digit off by one.
MISTYPED_GLN = ODENSE_KOMMUNE[:-1] + "2"
# A word that appears nowhere in Sektorbro's own texts.
MARKER = "Krumspring"
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def put_json(
    client: TestClient, headers: dict[str, str], body: Any, path: str = ODENSE_KOMMUNE_PATH
) -> Any:
    return client.put(path, headers=headers, json=body)


def body_without(*names: str) -> dict[str, Any]:
    fields = organisation_fields()
    del fields["gln"]
    for name in names:
        del fields[name]
    return fields


class TestValidationProblems:
    def test_a_gln_with_a_wrong_check_digit_in_the_path_names_the_gln(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = client.get(f"/v1/organisations/{MISTYPED_GLN}", headers=admin_headers)

        problem = assert_problem(response, 422, "validation_failed")
        assert problem["errors"][0]["field"] == "gln"
        assert problem["errors"][0]["rule"] == "gln_check_digit"

    def test_a_body_without_a_required_field_names_that_field(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put_json(client, admin_headers, body_without("name"))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"name": "missing"}

    def test_an_unknown_municipality_code_names_municipality_code(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put_json(client, admin_headers, organisation_fields(municipality_code="999"))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"municipality_code": "kommunekode_unknown"}

    def test_an_unknown_extra_field_is_named_and_forbidden(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put_json(client, admin_headers, organisation_fields(colour="blå"))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"colour": "extra_forbidden"}

    def test_an_item_of_a_list_is_named_by_a_dotted_path(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put_json(client, admin_headers, organisation_fields(accepts=["GGOP", "FAX"]))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"accepts.1": "enum"}

    def test_every_broken_rule_is_listed(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put_json(client, admin_headers, {**body_without("name"), "kind": "castle"})

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"kind": "enum", "name": "missing"}

    def test_each_field_problem_has_a_plain_message(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put_json(client, admin_headers, body_without("name"))

        problem = assert_problem(response, 422, "validation_failed")
        assert problem["errors"] == [
            {"field": "name", "rule": "missing", "message": "This field is required."}
        ]

    def test_a_body_that_is_not_json_is_named_body(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = client.put(
            ODENSE_KOMMUNE_PATH,
            headers={**admin_headers, "Content-Type": "application/json"},
            content=b'{"name": "Odense Kommune",',
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"body": "json_invalid"}

    @pytest.mark.parametrize(
        ("query", "field", "rule"),
        [
            ("kind=castle", "kind", "enum"),
            ("limit=0", "limit", "greater_than_equal"),
            ("limit=201", "limit", "less_than_equal"),
            ("limit=many", "limit", "int_parsing"),
            ("q=", "q", "string_too_short"),
            ("municipality_code=999", "municipality_code", "kommunekode_unknown"),
            ("cursor=not-a-cursor", "cursor", "cursor_invalid"),
        ],
    )
    def test_a_bad_query_parameter_is_named(
        self,
        client: TestClient,
        admin_headers: dict[str, str],
        query: str,
        field: str,
        rule: str,
    ) -> None:
        response = client.get(f"/v1/organisations?{query}", headers=admin_headers)

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {field: rule}


class TestErrorTextsNeverEchoSubmittedValues:
    """A submitted value may be a CPR number or health text; no error text quotes it."""

    @pytest.fixture
    def headers(self, admin_headers: dict[str, str]) -> dict[str, str]:
        # A fixed request id, so that a random one cannot contain the marker by chance.
        return {**admin_headers, "X-Request-ID": "echo-check"}

    @pytest.mark.parametrize(
        ("overrides", "marker"),
        [
            pytest.param({"name": MARKER * 4}, MARKER, id="name too long"),
            pytest.param({"kind": MARKER}, MARKER, id="unknown kind"),
            pytest.param({"department": f"{MARKER}\x01"}, MARKER, id="control character"),
            pytest.param({"identifier_code": MARKER}, MARKER, id="unknown identifier_code"),
            pytest.param({"identifier": MARKER}, MARKER, id="identifier of the wrong shape"),
            pytest.param({"accepts": ["GGOP", MARKER]}, MARKER, id="unknown format"),
            pytest.param({"phone": MARKER * 3}, MARKER, id="phone too long"),
            pytest.param({"active": MARKER}, MARKER, id="active not a boolean"),
            pytest.param({"gln": MARKER}, MARKER, id="gln not digits"),
            pytest.param({"colour": MARKER}, MARKER, id="value of an unknown field"),
            pytest.param(
                {"municipality_code": "0987"},
                "0987",
                id="unknown municipality_code",
            ),
        ],
    )
    def test_a_bad_body_field_is_not_quoted(
        self,
        client: TestClient,
        headers: dict[str, str],
        overrides: dict[str, Any],
        marker: str,
    ) -> None:
        response = put_json(client, headers, organisation_fields(**overrides))

        assert_problem(response, 422, "validation_failed")
        assert marker not in response.text

    @pytest.mark.parametrize(
        ("query", "marker"),
        [
            pytest.param(f"q={MARKER * 4}", MARKER, id="q too long"),
            pytest.param(f"kind={MARKER}", MARKER, id="unknown kind"),
            pytest.param(f"limit={MARKER}", MARKER, id="limit not a number"),
            pytest.param(f"cursor={MARKER}", MARKER, id="bad cursor"),
            pytest.param(
                "municipality_code=0987",
                "0987",
                id="unknown municipality_code",
            ),
        ],
    )
    def test_a_bad_query_parameter_is_not_quoted(
        self, client: TestClient, headers: dict[str, str], query: str, marker: str
    ) -> None:
        response = client.get(f"/v1/organisations?{query}", headers=headers)

        assert_problem(response, 422, "validation_failed")
        assert marker not in response.text

    def test_broken_json_is_not_quoted(self, client: TestClient, headers: dict[str, str]) -> None:
        response = client.put(
            ODENSE_KOMMUNE_PATH,
            headers={**headers, "Content-Type": "application/json"},
            content=f'{{"name": "{MARKER}'.encode(),
        )

        assert_problem(response, 422, "validation_failed")
        assert MARKER not in response.text


class TestNotFoundAndMethodNotAllowed:
    def test_an_unknown_route_is_a_404_problem(self, client: TestClient) -> None:
        response = client.get("/v1/nowhere")

        assert_problem(response, 404, "not_found")

    def test_an_organisation_not_in_the_directory_is_a_404_problem(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = client.get(f"/v1/organisations/{HJALLESE_GP}", headers=admin_headers)

        assert_problem(response, 404, "not_found")

    def test_a_method_the_resource_does_not_take_is_a_405_problem(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = client.delete(ODENSE_KOMMUNE_PATH, headers=admin_headers)

        problem = assert_problem(response, 405, "method_not_allowed")
        assert "DELETE" in problem["detail"]

    def test_a_405_lists_every_method_the_resource_takes(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = client.delete(ODENSE_KOMMUNE_PATH, headers=admin_headers)

        assert response.status_code == 405
        allowed = {method.strip() for method in response.headers["allow"].split(",")}
        assert {"GET", "PUT"} <= allowed


class TestPayloadTooLarge:
    LIMIT = 64

    @pytest.fixture
    def small_client(self, build_client: BuildClient) -> TestClient:
        return build_client(max_body_bytes=self.LIMIT)

    def test_a_declared_content_length_over_the_limit_is_refused_with_413(
        self, small_client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put_json(small_client, admin_headers, organisation_fields())

        assert int(response.request.headers["content-length"]) > self.LIMIT
        assert response.status_code == 413

    def test_a_declared_content_length_over_the_limit_is_a_413_problem(
        self, small_client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put_json(small_client, admin_headers, organisation_fields())

        problem = assert_problem(response, 413, "payload_too_large")
        assert str(self.LIMIT) in problem["detail"]

    def test_an_oversized_body_is_refused_before_it_is_parsed(
        self, small_client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = small_client.put(
            ODENSE_KOMMUNE_PATH,
            headers={**admin_headers, "Content-Type": "application/json"},
            content=b"{" * (self.LIMIT + 1),
        )

        assert response.status_code == 413

    def test_a_streamed_body_over_the_limit_is_a_413_problem(
        self, small_client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        def chunks() -> Iterator[bytes]:
            yield from [b" " * 40] * 4

        response = small_client.put(
            ODENSE_KOMMUNE_PATH,
            headers={**admin_headers, "Content-Type": "application/json"},
            content=chunks(),
        )

        assert "content-length" not in response.request.headers
        problem = assert_problem(response, 413, "payload_too_large")
        assert str(self.LIMIT) in problem["detail"]

    def test_a_body_of_exactly_the_limit_is_accepted(
        self, build_client: BuildClient, admin_headers: dict[str, str]
    ) -> None:
        body = json.dumps(organisation_fields()).encode()
        client = build_client(max_body_bytes=len(body))

        response = client.put(
            ODENSE_KOMMUNE_PATH,
            headers={**admin_headers, "Content-Type": "application/json"},
            content=body,
        )

        assert response.status_code == 201


class TestUnsupportedMediaType:
    @pytest.mark.parametrize(
        "content_type", ["text/plain", "application/xml", "application/x-www-form-urlencoded"]
    )
    def test_a_put_in_another_media_type_is_a_415_problem(
        self, client: TestClient, admin_headers: dict[str, str], content_type: str
    ) -> None:
        response = client.put(
            ODENSE_KOMMUNE_PATH,
            headers={**admin_headers, "Content-Type": content_type},
            content=json.dumps(organisation_fields()).encode(),
        )

        assert_problem(response, 415, "unsupported_media_type")

    def test_a_put_without_a_content_type_is_a_415_problem(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = client.put(
            ODENSE_KOMMUNE_PATH,
            headers=admin_headers,
            content=json.dumps(organisation_fields()).encode(),
        )

        assert "content-type" not in response.request.headers
        assert_problem(response, 415, "unsupported_media_type")

    def test_a_refused_put_stores_nothing(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        client.put(
            ODENSE_KOMMUNE_PATH,
            headers={**admin_headers, "Content-Type": "text/plain"},
            content=json.dumps(organisation_fields()).encode(),
        )

        assert client.get(ODENSE_KOMMUNE_PATH, headers=admin_headers).status_code == 404


FAKE_CPR = "0101011234"
# Kept out of the `raise` line: a logged stack quotes source lines, not values.
EXCEPTION_MESSAGE = f"no kommune found for patient {FAKE_CPR}"


def _explode() -> None:
    raise RuntimeError(EXCEPTION_MESSAGE)


def http_log_records(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [record for record in caplog.records if record.name == "sektorbro.http"]


class TestInternalErrors:
    @pytest.fixture
    def boom(self, app: FastAPI, client: TestClient) -> TestClient:
        """`client`, whose app has a route `/boom` that fails with a CPR in the message.

        The app exists before the test body runs: create_app() makes the `sektorbro` logger
        non-propagating, and pytest attaches caplog to such loggers when a test phase starts.
        """
        app.add_api_route("/boom", _explode)
        return client

    def test_an_unexpected_exception_is_a_generic_500_problem(self, boom: TestClient) -> None:
        response = boom.get("/boom")

        problem = assert_problem(response, 500, "internal")
        assert "request id" in problem["detail"]

    def test_the_500_carries_the_request_id_of_its_header(self, boom: TestClient) -> None:
        response = boom.get("/boom")

        assert response.status_code == 500
        assert response.json()["request_id"] == response.headers["x-request-id"]

    def test_the_500_does_not_reveal_the_exception(self, boom: TestClient) -> None:
        response = boom.get("/boom")

        assert response.status_code == 500
        assert FAKE_CPR not in response.text
        assert "RuntimeError" not in response.text

    def test_the_log_names_the_request_id_and_the_exception_class(
        self, boom: TestClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        response = boom.get("/boom")

        errors = [r.getMessage() for r in http_log_records(caplog) if r.levelname == "ERROR"]
        assert len(errors) == 1
        assert response.headers["x-request-id"] in errors[0]
        assert "RuntimeError" in errors[0]

    def test_the_log_leaves_out_the_exception_message(
        self, boom: TestClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        boom.get("/boom")

        log = "\n".join(caplog.handler.format(r) for r in http_log_records(caplog))
        assert "RuntimeError" in log
        assert FAKE_CPR not in log
        assert EXCEPTION_MESSAGE not in log


class TestRequestIds:
    @pytest.mark.parametrize("request_id", ["2f1c-44aa", "req.2026-11-23_0001", "a" * 64])
    def test_a_sane_caller_request_id_is_echoed(self, client: TestClient, request_id: str) -> None:
        response = client.get("/healthz", headers={"X-Request-ID": request_id})

        assert response.headers["x-request-id"] == request_id

    @pytest.mark.parametrize(
        "request_id", ["with spaces", "a" * 65, "a" * 100, "<script>", "semi;colon", ""]
    )
    def test_an_unsafe_caller_request_id_is_replaced(
        self, client: TestClient, request_id: str
    ) -> None:
        response = client.get("/healthz", headers={"X-Request-ID": request_id})

        assert response.headers["x-request-id"] != request_id
        assert SANE_REQUEST_ID.match(response.headers["x-request-id"])

    def test_a_problem_quotes_the_callers_request_id(self, client: TestClient) -> None:
        response = client.get("/v1/nowhere", headers={"X-Request-ID": "ticket-4711"})

        problem = assert_problem(response, 404, "not_found")
        assert problem["request_id"] == "ticket-4711"

    def test_every_request_without_an_id_gets_its_own(self, client: TestClient) -> None:
        first = client.get("/healthz").headers["x-request-id"]
        second = client.get("/healthz").headers["x-request-id"]

        assert SANE_REQUEST_ID.match(first)
        assert first != second

    def test_a_successful_response_carries_a_request_id_too(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)

        response = client.get(ODENSE_KOMMUNE_PATH, headers=admin_headers)

        assert response.status_code == 200
        assert SANE_REQUEST_ID.match(response.headers["x-request-id"])

"""What the API tests share: reading a problem document, and the directory entries they use."""

from typing import Any

from fastapi.testclient import TestClient
from httpx2 import Response

from tests.factories import plan_fields

__all__ = [
    "PROBLEM_JSON",
    "assert_problem",
    "post_plan",
    "rules_by_field",
    "with_patient",
]

PROBLEM_JSON = "application/problem+json"
PROBLEM_MEMBERS = {"type", "title", "status", "detail", "instance", "request_id"}


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    """Checks that `response` is an RFC 9457 problem of this status and code; returns its body."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].split(";")[0] == PROBLEM_JSON
    body: dict[str, Any] = response.json()
    assert body.keys() >= PROBLEM_MEMBERS
    assert body["type"] == f"urn:sektorbro:problem:{code}"
    assert body["status"] == status
    assert isinstance(body["title"], str)
    assert body["title"]
    assert isinstance(body["detail"], str)
    assert body["detail"]
    assert body["instance"] == response.request.url.path
    assert body["request_id"]
    assert body["request_id"] == response.headers["x-request-id"]
    return body


def rules_by_field(problem: dict[str, Any]) -> dict[str, str]:
    """The `errors` of a 422 problem as {field: rule}."""
    return {error["field"]: error["rule"] for error in problem["errors"]}


def post_plan(client: TestClient, headers: dict[str, str], **overrides: Any) -> Response:
    """POSTs the reference plan with these top-level overrides."""
    return client.post("/v1/plans", json=plan_fields(**overrides), headers=headers)


def with_patient(**changes: Any) -> dict[str, Any]:
    """The reference plan's patient with these changes."""
    patient = plan_fields()["patient"]
    patient.update(changes)
    return patient

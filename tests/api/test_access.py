"""Who may call what: every route of the OpenAPI spec, for every kind of key (least privilege).

`ACCESS` names, for each operation, the callers that may use it; every other key gets 403
before anything is read. A route added to the app without an entry here fails
`test_every_route_has_an_access_rule`, so that nobody forgets to decide who may call it.
Allowed means "not refused for who the caller is": the answer may still be 404 or 422 for the
dummy values sent here.
"""

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.services.api_keys import Scope
from tests.factories import ODENSE_KOMMUNE, add_key, add_organisation, bearer

ORGANISATION = "organisation"
CALLERS = [ORGANISATION, *(scope.value for scope in Scope)]
PUBLIC: frozenset[str] = frozenset()  # no key needed
ANY_KEY = frozenset(CALLERS)
ORGANISATIONS = frozenset({ORGANISATION})

ACCESS: dict[tuple[str, str], frozenset[str]] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/metrics"): frozenset({Scope.METRICS.value}),
    # The directory holds no patient data.
    ("GET", "/v1/organisations"): ANY_KEY,
    ("GET", "/v1/organisations/{gln}"): ANY_KEY,
    ("PUT", "/v1/organisations/{gln}"): frozenset({Scope.DIRECTORY.value}),
    ("POST", "/v1/plans"): ORGANISATIONS,
    ("POST", "/v1/plans/validate"): ORGANISATIONS,
    ("GET", "/v1/plans/{message_id}"): ORGANISATIONS,
    ("POST", "/v1/letters"): ORGANISATIONS,
    ("GET", "/v1/letters/{message_id}"): ORGANISATIONS,
    ("GET", "/v1/threads/{thread_id}"): ORGANISATIONS,
    ("POST", "/v1/notices"): ORGANISATIONS,
    # Every kommune's deadlines name their patients: only `audit` reads across organisations.
    ("GET", "/v1/deadlines"): frozenset({ORGANISATION, Scope.AUDIT.value}),
    ("GET", "/v1/messages"): ORGANISATIONS,
    ("POST", "/v1/messages/search"): ORGANISATIONS,
    ("GET", "/v1/messages/{message_id}"): ORGANISATIONS,
    ("POST", "/v1/messages/{message_id}/resend"): ORGANISATIONS,
    ("GET", "/v1/inbox"): ORGANISATIONS,
    ("GET", "/v1/inbox/{delivery_id}"): ORGANISATIONS,
    ("POST", "/v1/inbox/{delivery_id}/ack"): ORGANISATIONS,
    ("POST", "/v1/receipts"): frozenset({ORGANISATION, Scope.GATEWAY.value}),
    ("POST", "/v1/audit/search"): frozenset({Scope.AUDIT.value}),
}

# Dummy path values: well-formed, naming nothing that exists.
_PATH_VALUES = {
    "gln": ODENSE_KOMMUNE,
    "message_id": "00000000-0000-0000-0000-000000000000",
    "thread_id": "00000000-0000-0000-0000-000000000000",
    "delivery_id": "00000000-0000-0000-0000-000000000000",
}


def _operations(app: FastAPI) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, operations in app.openapi()["paths"].items()
        for method in operations
    }


def _request(client: TestClient, method: str, path: str, headers: dict[str, str]) -> Any:
    url = path.format(**_PATH_VALUES)
    if method in ("POST", "PUT"):
        content_type = "application/xml" if path == "/v1/receipts" else "application/json"
        body = b"<Emessage/>" if content_type == "application/xml" else b"{}"
        headers = {**headers, "Content-Type": content_type}
        return client.request(method, url, content=body, headers=headers)
    return client.request(method, url, headers=headers)


@pytest.fixture
def callers(session: Session) -> dict[str, dict[str, str]]:
    """A key of Odense Kommune, and a key for each scope alone."""
    add_organisation(session)
    keys = {ORGANISATION: bearer(add_key(session, gln=ODENSE_KOMMUNE))}
    for scope in Scope:
        keys[scope.value] = bearer(add_key(session, gln=None, scopes={scope}))
    return keys


def test_every_route_has_an_access_rule(app: FastAPI) -> None:
    assert _operations(app) == set(ACCESS)


@pytest.mark.parametrize(("method", "path"), sorted(ACCESS))
@pytest.mark.parametrize("caller", CALLERS)
def test_a_key_is_refused_exactly_where_it_has_no_access(
    client: TestClient,
    callers: dict[str, dict[str, str]],
    method: str,
    path: str,
    caller: str,
) -> None:
    allowed = ACCESS[(method, path)]
    response = _request(client, method, path, callers[caller])

    if allowed is PUBLIC or caller in allowed:
        assert response.status_code not in (401, 403), response.text
    else:
        assert response.status_code == 403, response.text
        assert response.json()["type"] == "urn:sektorbro:problem:forbidden"


@pytest.mark.parametrize(("method", "path"), sorted(k for k, v in ACCESS.items() if v))
def test_a_request_without_a_key_is_unauthenticated(
    client: TestClient, method: str, path: str
) -> None:
    assert _request(client, method, path, {}).status_code == 401

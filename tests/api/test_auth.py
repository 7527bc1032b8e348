"""Who may call what (api.md "Identity and access").

Every call except health, readiness and the documentation needs `Authorization: Bearer <key>`.
A missing, malformed, unknown or revoked key answers 401 with `WWW-Authenticate: Bearer`; an
organisation key on an admin-only route answers 403.
"""

import json
from dataclasses import dataclass, field
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.services.api_keys import create_key, revoke_key
from tests.api.helpers import assert_problem
from tests.conftest import FROZEN_NOW
from tests.factories import (
    HJALLESE_GP,
    ODENSE_HOSPITAL,
    ODENSE_KOMMUNE,
    add_hospital,
    add_key,
    add_organisation,
    bearer,
    gp_fields,
    organisation_fields,
)

ODENSE_KOMMUNE_PATH = f"/v1/organisations/{ODENSE_KOMMUNE}"
# Shaped like a real key, but never issued.
UNKNOWN_KEY = "sb_0123456789ab_" + "A" * 43


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    json: dict[str, Any] | None = field(default=None)

    def send(self, client: TestClient, headers: dict[str, str]) -> Any:
        return client.request(self.method, self.path, headers=headers, json=self.json)

    def __str__(self) -> str:
        return f"{self.method} {self.path.replace(ODENSE_KOMMUNE, '{gln}')}"


LIST = Call("GET", "/v1/organisations")
GET_ONE = Call("GET", ODENSE_KOMMUNE_PATH)
PUT = Call("PUT", ODENSE_KOMMUNE_PATH, organisation_fields())
METRICS = Call("GET", "/metrics")

# caller: (LIST, GET_ONE, PUT, METRICS). A PUT of the unchanged entry answers 200.
MATRIX = {
    "no header": (401, 401, 401, 401),
    "malformed header": (401, 401, 401, 401),
    "unknown key": (401, 401, 401, 401),
    "revoked key": (401, 401, 401, 401),
    "organisation key": (200, 200, 403, 403),
    "admin key": (200, 200, 200, 200),
    "key of a deactivated organisation": (403, 403, 403, 403),
}
CASES = [
    pytest.param(caller, call, status, id=f"{caller}-{call}")
    for caller, statuses in MATRIX.items()
    for call, status in zip((LIST, GET_ONE, PUT, METRICS), statuses, strict=True)
]


@pytest.fixture
def callers(session: Session) -> dict[str, dict[str, str]]:
    """The headers of each kind of caller; Odense Kommune is in the directory."""
    add_organisation(session)
    add_hospital(session)
    revoked, revoked_key = create_key(
        session, organisation_gln=ODENSE_HOSPITAL, label="test", now=FROZEN_NOW
    )
    revoke_key(session, key_id=revoked.key_id, now=FROZEN_NOW)
    add_organisation(session, **gp_fields())
    gp_key = add_key(session, gln=HJALLESE_GP)
    add_organisation(session, **gp_fields(active=False))
    session.flush()
    return {
        "no header": {},
        "malformed header": {"Authorization": "Token x"},
        "unknown key": bearer(UNKNOWN_KEY),
        "revoked key": bearer(revoked_key),
        "organisation key": bearer(add_key(session, gln=ODENSE_HOSPITAL)),
        "admin key": bearer(add_key(session, gln=None)),
        "key of a deactivated organisation": bearer(gp_key),
    }


class TestAccessMatrix:
    @pytest.mark.parametrize(("caller", "call", "status"), CASES)
    def test_each_caller_gets_the_status_the_contract_gives(
        self,
        client: TestClient,
        callers: dict[str, dict[str, str]],
        caller: str,
        call: Call,
        status: int,
    ) -> None:
        response = call.send(client, callers[caller])

        assert response.status_code == status, response.text

    @pytest.mark.parametrize(
        "caller", [caller for caller, statuses in MATRIX.items() if 401 in statuses]
    )
    def test_a_401_is_a_problem_asking_for_a_bearer_key(
        self, client: TestClient, callers: dict[str, dict[str, str]], caller: str
    ) -> None:
        response = LIST.send(client, callers[caller])

        assert_problem(response, 401, "unauthenticated")
        assert response.headers["www-authenticate"] == "Bearer"

    @pytest.mark.parametrize("call", [PUT, METRICS], ids=str)
    def test_an_admin_route_with_an_organisation_key_is_a_403_problem(
        self, client: TestClient, callers: dict[str, dict[str, str]], call: Call
    ) -> None:
        response = call.send(client, callers["organisation key"])

        assert_problem(response, 403, "forbidden")
        assert "www-authenticate" not in response.headers

    def test_a_key_of_a_deactivated_organisation_is_a_403_problem(
        self, client: TestClient, callers: dict[str, dict[str, str]]
    ) -> None:
        response = LIST.send(client, callers["key of a deactivated organisation"])

        assert_problem(response, 403, "forbidden")

    def test_put_with_an_organisation_key_changes_nothing(
        self, client: TestClient, callers: dict[str, dict[str, str]]
    ) -> None:
        renamed = Call("PUT", ODENSE_KOMMUNE_PATH, organisation_fields(name="Odense Byråd"))

        renamed.send(client, callers["organisation key"])

        entry = GET_ONE.send(client, callers["admin key"]).json()
        assert entry["name"] == "Odense Kommune"

    def test_a_key_is_not_accepted_without_the_bearer_scheme(
        self, client: TestClient, session: Session
    ) -> None:
        key = add_key(session, gln=None)

        response = client.get("/v1/organisations", headers={"Authorization": key})

        assert_problem(response, 401, "unauthenticated")

    def test_the_bearer_scheme_is_case_insensitive(
        self, client: TestClient, session: Session
    ) -> None:
        key = add_key(session, gln=None)

        response = client.get("/v1/organisations", headers={"Authorization": f"bearer {key}"})

        assert response.status_code == 200


class TestPublicRoutes:
    @pytest.mark.parametrize("path", ["/healthz", "/readyz", "/docs", "/redoc", "/openapi.json"])
    def test_needs_no_key(self, client: TestClient, path: str) -> None:
        response = client.get(path)

        assert response.status_code == 200

    @pytest.mark.parametrize("path", ["/healthz", "/readyz", "/openapi.json"])
    def test_ignores_a_wrong_key(self, client: TestClient, path: str) -> None:
        response = client.get(path, headers=bearer(UNKNOWN_KEY))

        assert response.status_code == 200


class TestTheKeyIsCheckedFirst:
    """A caller who may not call a route learns nothing about what it would have accepted."""

    def test_a_put_without_a_key_in_another_media_type_is_401(
        self, client: TestClient, callers: dict[str, dict[str, str]]
    ) -> None:
        response = client.put(
            ODENSE_KOMMUNE_PATH,
            headers={"Content-Type": "text/plain"},
            content=json.dumps(organisation_fields()).encode(),
        )

        assert_problem(response, 401, "unauthenticated")

    def test_a_put_with_an_organisation_key_in_another_media_type_is_403(
        self, client: TestClient, callers: dict[str, dict[str, str]]
    ) -> None:
        response = client.put(
            ODENSE_KOMMUNE_PATH,
            headers={**callers["organisation key"], "Content-Type": "text/plain"},
            content=json.dumps(organisation_fields()).encode(),
        )

        assert_problem(response, 403, "forbidden")

    def test_a_put_without_a_key_with_an_invalid_body_is_401(
        self, client: TestClient, callers: dict[str, dict[str, str]]
    ) -> None:
        response = client.put(ODENSE_KOMMUNE_PATH, json={"kind": "castle"})

        assert_problem(response, 401, "unauthenticated")

    def test_a_get_without_a_key_of_a_mistyped_gln_is_401(
        self, client: TestClient, callers: dict[str, dict[str, str]]
    ) -> None:
        response = client.get(f"/v1/organisations/{ODENSE_KOMMUNE[:-1]}2")

        assert_problem(response, 401, "unauthenticated")

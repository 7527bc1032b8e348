"""The organisation directory over HTTP: list, get one, create or update (api.md "Directory")."""

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session
from stdnum import ean

from app import orm
from app.services.directory import save_organisation
from tests.api.helpers import assert_problem, rules_by_field
from tests.conftest import FROZEN_NOW
from tests.factories import (
    HJALLESE_GP,
    ODENSE_HOSPITAL,
    ODENSE_KOMMUNE,
    PUSH_ENDPOINT,
    SIGNING_SECRET,
    add_hospital,
    add_key,
    add_organisation,
    bearer,
    gp_fields,
    hospital_fields,
    make_organisation,
    organisation_fields,
    push_fields,
)

EARLIER = FROZEN_NOW - timedelta(days=30)


def gln(serial: int) -> str:
    """A valid GLN in GS1 Denmark's 579 range."""
    base = f"579{serial:09d}"
    return base + ean.calc_check_digit(base)


SVENDBORG_KOMMUNE = gln(479)
NEW_KOMMUNE = gln(1)


def svendborg_fields(**overrides: Any) -> dict[str, Any]:
    return organisation_fields(
        **{
            "gln": SVENDBORG_KOMMUNE,
            "name": "Svendborg Kommune",
            "department": "Træning og Rehabilitering",
            "municipality_code": "479",
            "identifier": "479",
            "street": "Ramsherred 5",
            "postcode": "5700",
            "district": "Svendborg",
            "phone": "+4562233000",
            **overrides,
        }
    )


def path(gln: str) -> str:
    return f"/v1/organisations/{gln}"


def put(client: TestClient, headers: dict[str, str], fields: dict[str, Any]) -> Any:
    return client.put(path(fields["gln"]), headers=headers, json=fields)


def stored_secret(session: Session, gln: str) -> str | None:
    """The signing secret in the database, where the push worker reads it."""
    return session.scalar(
        select(orm.Organisation.signing_secret).where(orm.Organisation.gln == gln)
    )


def glns(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    return [item["gln"] for item in response.json()["items"]]


def as_answered(fields: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    """The entry as the API answers it after a save at FROZEN_NOW."""
    stamp = FROZEN_NOW.isoformat().replace("+00:00", "Z")
    answered = {
        "active": True,
        "created_at": stamp,
        "updated_at": stamp,
        "endpoint_url": None,
        "signing_secret_set": False,
        **fields,
        **overrides,
    }
    # Write-only: the answer says only whether one is stored.
    if answered.pop("signing_secret", None) is not None:
        answered["signing_secret_set"] = True
    return answered


class TestListing:
    @pytest.fixture
    def directory(self, session: Session) -> list[str]:
        """Two kommuner, a hospital and a GP practice; their GLNs in order."""
        add_organisation(session)
        add_organisation(session, **svendborg_fields())
        add_hospital(session)
        add_organisation(session, **gp_fields())
        return sorted([ODENSE_KOMMUNE, SVENDBORG_KOMMUNE, ODENSE_HOSPITAL, HJALLESE_GP])

    def test_lists_every_organisation_in_gln_order(
        self, client: TestClient, admin_headers: dict[str, str], directory: list[str]
    ) -> None:
        response = client.get("/v1/organisations", headers=admin_headers)

        assert glns(response) == directory
        assert response.json()["next_cursor"] is None

    def test_an_empty_directory_lists_nothing(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = client.get("/v1/organisations", headers=admin_headers)

        assert response.status_code == 200
        assert response.json() == {"items": [], "next_cursor": None}

    def test_an_item_is_the_whole_entry(
        self, client: TestClient, admin_headers: dict[str, str], directory: list[str]
    ) -> None:
        response = client.get("/v1/organisations?q=Odense Kommune", headers=admin_headers)

        assert response.json()["items"] == [as_answered(organisation_fields())]

    @pytest.mark.parametrize(
        ("kind", "expected"),
        [
            ("kommune", [ODENSE_KOMMUNE, SVENDBORG_KOMMUNE]),
            ("hospital", [ODENSE_HOSPITAL]),
            ("almen_praksis", [HJALLESE_GP]),
            ("other", []),
        ],
    )
    def test_filters_by_kind(
        self,
        client: TestClient,
        admin_headers: dict[str, str],
        directory: list[str],
        kind: str,
        expected: list[str],
    ) -> None:
        response = client.get(f"/v1/organisations?kind={kind}", headers=admin_headers)

        assert glns(response) == sorted(expected)

    @pytest.mark.parametrize(
        ("code", "expected"),
        [("461", [ODENSE_KOMMUNE]), ("0461", [ODENSE_KOMMUNE]), ("479", [SVENDBORG_KOMMUNE])],
    )
    def test_filters_by_municipality_code_with_or_without_the_leading_zero(
        self,
        client: TestClient,
        admin_headers: dict[str, str],
        directory: list[str],
        code: str,
        expected: list[str],
    ) -> None:
        response = client.get(
            "/v1/organisations", params={"municipality_code": code}, headers=admin_headers
        )

        assert glns(response) == expected

    @pytest.mark.parametrize(
        ("q", "expected"),
        [
            ("UNIVERSITETS", [ODENSE_HOSPITAL]),
            ("kommune", [ODENSE_KOMMUNE, SVENDBORG_KOMMUNE]),
            ("hjallese", [HJALLESE_GP]),
            ("Odense", [ODENSE_KOMMUNE, ODENSE_HOSPITAL]),
            ("Aalborg", []),
        ],
    )
    def test_filters_by_part_of_the_name_in_any_case(
        self,
        client: TestClient,
        admin_headers: dict[str, str],
        directory: list[str],
        q: str,
        expected: list[str],
    ) -> None:
        response = client.get("/v1/organisations", params={"q": q}, headers=admin_headers)

        assert glns(response) == sorted(expected)

    @pytest.mark.parametrize("q", ["%", "_"])
    def test_a_wildcard_in_the_name_search_is_a_plain_character(
        self, client: TestClient, admin_headers: dict[str, str], directory: list[str], q: str
    ) -> None:
        response = client.get("/v1/organisations", params={"q": q}, headers=admin_headers)

        assert glns(response) == []

    def test_filters_combine(
        self, client: TestClient, admin_headers: dict[str, str], directory: list[str]
    ) -> None:
        response = client.get(
            "/v1/organisations", params={"kind": "kommune", "q": "odense"}, headers=admin_headers
        )

        assert glns(response) == [ODENSE_KOMMUNE]

    def test_an_organisation_key_can_list_the_directory(
        self, client: TestClient, session: Session, directory: list[str]
    ) -> None:
        key = add_key(session, gln=ODENSE_HOSPITAL)

        response = client.get("/v1/organisations", headers=bearer(key))

        assert glns(response) == directory


class TestPagination:
    @pytest.fixture
    def hospitals(self, session: Session) -> list[str]:
        """Five hospital departments; their GLNs in order."""
        numbers = [gln(serial) for serial in range(10, 15)]
        for number, department in zip(numbers, "ABCDE", strict=True):
            add_hospital(session, gln=number, department=f"Afsnit {department}")
        return numbers

    def test_a_page_holds_limit_items_and_a_cursor_to_the_next(
        self, client: TestClient, admin_headers: dict[str, str], hospitals: list[str]
    ) -> None:
        response = client.get("/v1/organisations?limit=2", headers=admin_headers)

        assert glns(response) == hospitals[:2]
        assert isinstance(response.json()["next_cursor"], str)

    def test_following_the_cursors_yields_every_organisation_once(
        self, client: TestClient, admin_headers: dict[str, str], hospitals: list[str]
    ) -> None:
        seen: list[str] = []
        params: dict[str, Any] = {"limit": 2}
        for _ in range(len(hospitals)):
            response = client.get("/v1/organisations", params=params, headers=admin_headers)
            seen += glns(response)
            cursor = response.json()["next_cursor"]
            if cursor is None:
                break
            params["cursor"] = cursor

        assert seen == hospitals

    def test_a_last_page_that_is_exactly_full_has_no_cursor(
        self, client: TestClient, admin_headers: dict[str, str], hospitals: list[str]
    ) -> None:
        response = client.get(f"/v1/organisations?limit={len(hospitals)}", headers=admin_headers)

        assert glns(response) == hospitals
        assert response.json()["next_cursor"] is None

    def test_the_cursor_keeps_to_the_filters(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)
        add_hospital(session, gln=gln(999999999))
        add_hospital(session)
        params: dict[str, Any] = {"kind": "hospital", "limit": 1}

        first = client.get("/v1/organisations", params=params, headers=admin_headers)
        params["cursor"] = first.json()["next_cursor"]
        second = client.get("/v1/organisations", params=params, headers=admin_headers)

        assert glns(first) + glns(second) == sorted([ODENSE_HOSPITAL, gln(999999999)])
        assert second.json()["next_cursor"] is None


class TestGetOne:
    def test_answers_the_entry(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)

        response = client.get(path(ODENSE_KOMMUNE), headers=admin_headers)

        assert response.status_code == 200
        assert response.headers["content-type"] == "application/json"
        assert response.json() == as_answered(organisation_fields())

    def test_timestamps_are_the_time_of_the_save(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)

        entry = client.get(path(ODENSE_KOMMUNE), headers=admin_headers).json()

        assert datetime.fromisoformat(entry["created_at"]) == FROZEN_NOW
        assert datetime.fromisoformat(entry["updated_at"]) == FROZEN_NOW

    def test_an_inactive_organisation_is_answered_with_active_false(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session, active=False)

        response = client.get(path(ODENSE_KOMMUNE), headers=admin_headers)

        assert response.status_code == 200
        assert response.json()["active"] is False

    def test_a_gln_not_in_the_directory_is_a_404_problem(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)

        response = client.get(path(ODENSE_HOSPITAL), headers=admin_headers)

        assert_problem(response, 404, "not_found")


class TestPut:
    def test_a_new_gln_is_created_with_201(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put(client, admin_headers, organisation_fields())

        assert response.status_code == 201
        assert response.json() == as_answered(organisation_fields())

    def test_a_created_entry_can_be_read(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        put(client, admin_headers, hospital_fields())

        response = client.get(path(ODENSE_HOSPITAL), headers=admin_headers)

        assert response.json() == as_answered(hospital_fields())

    def test_an_existing_gln_is_updated_with_200(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)

        response = put(client, admin_headers, organisation_fields(phone="+4565511111"))

        assert response.status_code == 200
        assert response.json()["phone"] == "+4565511111"

    def test_the_new_values_are_visible_in_get(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)
        changes = {"department": "Sundhed og Omsorg", "accepts": ["XDIS91"], "street": None}

        put(client, admin_headers, organisation_fields(**changes))

        entry = client.get(path(ODENSE_KOMMUNE), headers=admin_headers).json()
        assert entry == as_answered(organisation_fields(**changes))

    def test_a_body_without_gln_takes_the_gln_of_the_path(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        fields = organisation_fields()
        del fields["gln"]

        response = client.put(path(ODENSE_KOMMUNE), headers=admin_headers, json=fields)

        assert response.status_code == 201
        assert response.json()["gln"] == ODENSE_KOMMUNE

    def test_a_body_repeating_the_gln_of_the_path_is_accepted(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = client.put(
            path(ODENSE_KOMMUNE), headers=admin_headers, json=organisation_fields()
        )

        assert response.status_code == 201

    def test_a_body_with_another_gln_than_the_path_is_a_422_gln_mismatch(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = client.put(path(NEW_KOMMUNE), headers=admin_headers, json=organisation_fields())

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"gln": "gln_mismatch"}

    def test_a_gln_mismatch_stores_nothing(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        client.put(path(NEW_KOMMUNE), headers=admin_headers, json=organisation_fields())

        for number in (NEW_KOMMUNE, ODENSE_KOMMUNE):
            assert client.get(path(number), headers=admin_headers).status_code == 404

    def test_a_second_active_kommune_for_a_municipality_is_a_409_problem(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)

        response = put(client, admin_headers, organisation_fields(gln=NEW_KOMMUNE))

        problem = assert_problem(response, 409, "conflict")
        assert ODENSE_KOMMUNE in problem["detail"]

    def test_a_refused_second_kommune_is_not_stored(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)

        put(client, admin_headers, organisation_fields(gln=NEW_KOMMUNE))

        assert client.get(path(NEW_KOMMUNE), headers=admin_headers).status_code == 404

    def test_an_inactive_second_kommune_for_a_municipality_is_accepted(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)

        response = put(client, admin_headers, organisation_fields(gln=NEW_KOMMUNE, active=False))

        assert response.status_code == 201
        assert response.json()["active"] is False

    def test_a_kommune_may_be_saved_again_over_itself(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)

        response = put(client, admin_headers, organisation_fields(name="Odense Kommune Sundhed"))

        assert response.status_code == 200

    def test_an_organisation_can_be_deactivated(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        add_organisation(session)

        put(client, admin_headers, organisation_fields(active=False))

        entry = client.get(path(ODENSE_KOMMUNE), headers=admin_headers).json()
        assert entry["active"] is False

    def test_active_is_true_unless_said_otherwise(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        fields = organisation_fields()
        fields.pop("active", None)

        response = put(client, admin_headers, fields)

        assert response.json()["active"] is True

    def test_a_four_digit_municipality_code_is_stored_with_three(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put(client, admin_headers, organisation_fields(municipality_code="0461"))

        assert response.status_code == 201
        assert response.json()["municipality_code"] == "461"

    def test_each_format_is_accepted_once_in_order(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put(
            client, admin_headers, organisation_fields(accepts=["XDIS91", "GGOP", "XDIS91"])
        )

        assert response.json()["accepts"] == ["GGOP", "XDIS91"]

    def test_json_with_a_charset_parameter_is_accepted(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = client.put(
            path(ODENSE_KOMMUNE),
            headers={**admin_headers, "Content-Type": "application/json; charset=utf-8"},
            content=json.dumps(organisation_fields()).encode(),
        )

        assert response.status_code == 201

    def test_a_created_entry_is_stamped_with_the_clock(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        entry = put(client, admin_headers, organisation_fields()).json()

        assert datetime.fromisoformat(entry["created_at"]) == FROZEN_NOW
        assert datetime.fromisoformat(entry["updated_at"]) == FROZEN_NOW

    def test_an_update_keeps_created_at_and_stamps_updated_at(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        save_organisation(session, make_organisation(), now=EARLIER)

        entry = put(client, admin_headers, organisation_fields(phone="+4565511111")).json()

        assert datetime.fromisoformat(entry["created_at"]) == EARLIER
        assert datetime.fromisoformat(entry["updated_at"]) == FROZEN_NOW

    def test_an_unchanged_entry_keeps_its_updated_at(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        save_organisation(session, make_organisation(), now=EARLIER)

        entry = put(client, admin_headers, organisation_fields()).json()

        assert datetime.fromisoformat(entry["updated_at"]) == EARLIER


class TestPushTarget:
    def test_a_push_organisation_is_saved_with_its_endpoint(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put(client, admin_headers, push_fields())

        assert response.status_code == 201
        assert response.json() == as_answered(push_fields())

    def test_get_says_a_secret_is_set_and_never_shows_it(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        put(client, admin_headers, push_fields())

        response = client.get(path(ODENSE_KOMMUNE), headers=admin_headers)

        assert response.json()["signing_secret_set"] is True
        assert "signing_secret" not in response.json()
        assert SIGNING_SECRET not in response.text

    def test_neither_put_nor_the_listing_show_the_secret(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        saved = put(client, admin_headers, push_fields())

        listing = client.get("/v1/organisations", headers=admin_headers)

        assert SIGNING_SECRET not in saved.text
        assert SIGNING_SECRET not in listing.text
        assert listing.json()["items"][0]["signing_secret_set"] is True

    def test_an_inbox_organisation_has_no_secret_set(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put(client, admin_headers, organisation_fields())

        assert response.json()["signing_secret_set"] is False

    def test_the_secret_is_stored_for_the_worker(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        put(client, admin_headers, push_fields())

        assert stored_secret(session, ODENSE_KOMMUNE) == SIGNING_SECRET

    def test_a_put_without_the_secret_keeps_the_stored_one(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        put(client, admin_headers, push_fields())
        entry = client.get(path(ODENSE_KOMMUNE), headers=admin_headers).json()
        read_only = {"created_at", "updated_at", "signing_secret_set"}
        read_back = {k: v for k, v in entry.items() if k not in read_only}

        response = put(client, admin_headers, {**read_back, "phone": "+4565511111"})

        assert response.status_code == 200
        assert response.json()["signing_secret_set"] is True
        assert stored_secret(session, ODENSE_KOMMUNE) == SIGNING_SECRET

    def test_a_put_with_a_new_secret_replaces_the_stored_one(
        self, client: TestClient, session: Session, admin_headers: dict[str, str]
    ) -> None:
        put(client, admin_headers, push_fields())
        rotated = "whsec_" + "A" * 44

        put(client, admin_headers, push_fields(signing_secret=rotated))

        assert stored_secret(session, ODENSE_KOMMUNE) == rotated

    def test_push_without_a_secret_stored_or_given_is_a_422_naming_signing_secret(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put(client, admin_headers, push_fields(signing_secret=None))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"signing_secret": "push_needs_signing_secret"}

    def test_a_refused_push_organisation_is_not_stored(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        put(client, admin_headers, push_fields(signing_secret=None))

        assert client.get(path(ODENSE_KOMMUNE), headers=admin_headers).status_code == 404

    def test_an_inbox_organisation_given_a_secret_keeps_it_for_a_later_switch_to_push(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        put(client, admin_headers, organisation_fields(signing_secret=SIGNING_SECRET))

        response = put(client, admin_headers, push_fields(signing_secret=None))

        assert response.status_code == 200
        assert response.json()["delivery"] == "push"

    def test_push_without_an_endpoint_url_is_a_422_naming_endpoint_url(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put(client, admin_headers, push_fields(endpoint_url=None))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"endpoint_url": "push_needs_endpoint_url"}

    def test_an_endpoint_url_on_an_inbox_organisation_is_a_422_naming_endpoint_url(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        response = put(client, admin_headers, organisation_fields(endpoint_url=PUSH_ENDPOINT))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"endpoint_url": "endpoint_url_needs_push"}

    @pytest.mark.parametrize(
        ("url", "rule"),
        [
            ("http://genoptraening.odense.dk/sektorbro", "endpoint_url_not_https"),
            ("http://localhost:8080/push", "endpoint_url_not_https"),
            ("ftp://genoptraening.odense.dk/in", "url_scheme"),
            ("https://user:pw@genoptraening.odense.dk/in", "endpoint_url_credentials"),
            ("https://genoptraening.odense.dk/in#top", "endpoint_url_fragment"),
            ("https://genoptraening.odense.dk/" + "a" * 2000, "endpoint_url_too_long"),
            ("genoptraening at odense", "url_parsing"),
        ],
    )
    def test_a_bad_endpoint_url_is_a_422_naming_endpoint_url_and_the_rule(
        self, client: TestClient, admin_headers: dict[str, str], url: str, rule: str
    ) -> None:
        response = put(client, admin_headers, push_fields(endpoint_url=url))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"endpoint_url": rule}
        assert problem["errors"][0]["message"]

    @pytest.mark.parametrize(
        "url", ["http://127.0.0.1:8080/push", "http://127.0.0.2/push", "http://[::1]:8080/push"]
    )
    def test_http_to_a_loopback_address_is_accepted(
        self, client: TestClient, admin_headers: dict[str, str], url: str
    ) -> None:
        response = put(client, admin_headers, push_fields(endpoint_url=url))

        assert response.status_code == 201
        assert response.json()["endpoint_url"] == url

    def test_a_badly_formed_secret_is_a_422_that_does_not_repeat_it(
        self, client: TestClient, admin_headers: dict[str, str]
    ) -> None:
        almost = SIGNING_SECRET[:-4]

        response = put(client, admin_headers, push_fields(signing_secret=almost))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"signing_secret": "signing_secret_format"}
        assert almost not in response.text

    def test_an_organisation_key_cannot_set_an_endpoint(
        self, client: TestClient, session: Session
    ) -> None:
        add_organisation(session)
        headers = bearer(add_key(session, gln=ODENSE_KOMMUNE))

        response = put(client, headers, push_fields())

        assert response.status_code == 403

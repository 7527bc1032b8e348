"""Every receiver of a plan on its own (issue 13): a copy whose format cannot carry the plan is
left out and named in the answer's warnings; only a kommune that cannot get the plan refuses
it, with a 422 naming the receiver, its format, the size and the limit."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import orm
from tests.api.helpers import assert_problem, post_plan
from tests.factories import HJALLESE_GP, ODENSE_KOMMUNE, plan_fields
from tests.unit.xml.test_render import long_texts

TOO_LONG = long_texts(total=36_000)  # as XDIS91 about 38,000 characters; GGOP carries it
FITS = long_texts(total=29_500)  # as XDIS91 31,398 characters: ten full blocks

Keys = dict[str, dict[str, str]]


def copy_warning(answer: dict[str, Any]) -> dict[str, str]:
    (warning,) = [w for w in answer["warnings"] if w["rule"] == "copy_too_long_for_xdis91"]
    return warning


class TestACopyTooLongForXdis91:
    def test_the_kommune_gets_the_plan_and_the_gp_copy_is_left_out(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, **TOO_LONG)

        assert response.status_code == 201, response.text
        deliveries = response.json()["deliveries"]
        assert [(d["receiver_gln"], d["role"], d["format"]) for d in deliveries] == [
            (ODENSE_KOMMUNE, "primary", "GGOP")
        ]

    def test_the_warning_names_the_receiver_its_format_the_size_and_the_limit(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        warning = copy_warning(post_plan(client, hospital, **TOO_LONG).json())

        assert warning["field"] == "gp.gln"
        message = warning["message"]
        assert HJALLESE_GP in message
        assert "takes only XDIS91" in message
        size = re.search(r"has (\d+) characters", message)
        assert size is not None
        assert int(size.group(1)) > 31_500
        assert "at most 31500 characters" in message
        assert "Deselect the copy" in message
        assert "correspondence letter" in message

    def test_validating_the_plan_names_the_copy_left_out_too(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = client.post("/v1/plans/validate", json=plan_fields(**TOO_LONG), headers=hospital)

        assert response.status_code == 200, response.text
        assert copy_warning(response.json())["field"] == "gp.gln"
        assert [d["receiver_gln"] for d in response.json()["documents"]] == [ODENSE_KOMMUNE]

    def test_a_plan_of_31400_characters_reaches_the_gp_in_ten_blocks(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, **FITS)

        assert response.status_code == 201, response.text
        assert {d["receiver_gln"] for d in response.json()["deliveries"]} == {
            ODENSE_KOMMUNE,
            HJALLESE_GP,
        }
        assert not [w for w in response.json()["warnings"] if "xdis91" in w["rule"]]


class TestAKommuneThatTakesOnlyXdis91:
    @pytest.fixture
    def xdis91_kommune(self, session: Session, keys: Keys) -> None:
        kommune = session.get(orm.Organisation, ODENSE_KOMMUNE)
        assert kommune is not None
        kommune.accepts = ["XDIS91"]
        session.commit()

    @pytest.mark.usefixtures("xdis91_kommune")
    def test_a_plan_too_long_for_it_is_refused_naming_receiver_format_size_and_limit(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        problem = assert_problem(post_plan(client, hospital, **TOO_LONG), 422, "validation_failed")

        (error,) = problem["errors"]
        assert (error["field"], error["rule"]) == (
            "patient.municipality_code",
            "plan_too_long_for_xdis91",
        )
        assert ODENSE_KOMMUNE in error["message"]
        assert "takes only XDIS91" in error["message"]
        assert "at most 31500 characters" in error["message"]
        assert "correspondence letter" in error["message"]

    @pytest.mark.usefixtures("xdis91_kommune")
    def test_a_plan_that_fits_reaches_it_as_xdis91(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, **FITS)

        assert response.status_code == 201, response.text
        formats = {d["receiver_gln"]: d["format"] for d in response.json()["deliveries"]}
        assert formats[ODENSE_KOMMUNE] == "XDIS91"

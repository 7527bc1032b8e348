"""Rehabilitation notices (POST /v1/notices): the kommune reports the course of a plan, the
hospital sends early notices; business status, timeline and the deadline list follow them.

The clock is frozen at 2026-11-23 (Danish time); the reference plan was discharged on
2026-11-20 with a first-contact deadline of 2026-11-27.
"""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app import orm
from tests.api.helpers import assert_problem, post_plan, rules_by_field
from tests.factories import (
    HJALLESE_GP,
    ISHOEJ_KOMMUNE,
    ODENSE_HOSPITAL,
    ODENSE_KOMMUNE,
    notice_fields,
)

Keys = dict[str, dict[str, str]]


@pytest.fixture
def plan(client: TestClient, keys: Keys) -> dict[str, Any]:
    """The reference plan, sent to Odense Kommune."""
    response = post_plan(client, keys[ODENSE_HOSPITAL])
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def notice(plan: dict[str, Any], notice_type: str, **overrides: Any) -> dict[str, Any]:
    return notice_fields(notice_type, plan_message_id=plan["message_id"], **overrides)


def post_notice(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post("/v1/notices", json=body, headers=headers)


def report(client: TestClient, keys: Keys, body: dict[str, Any], by: str = ODENSE_KOMMUNE) -> Any:
    response = post_notice(client, keys[by], body)
    assert response.status_code == 201, response.text
    return response.json()


def inbox_of(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/inbox", headers=headers).json()["items"]
    return items


def plan_view(client: TestClient, keys: Keys, plan: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/v1/plans/{plan['message_id']}", headers=keys[ODENSE_HOSPITAL])
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


class TestPlanNotices:
    def test_a_received_notice_reaches_the_hospital_as_an_xdis91_letter(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        answer = report(client, keys, notice(plan, "received"))

        [item] = [i for i in inbox_of(client, keys[ODENSE_HOSPITAL]) if i["type"] == "notice"]
        assert item["message_id"] == answer["message_id"]
        assert item["format"] == "XDIS91"
        assert item["sender_gln"] == ODENSE_KOMMUNE
        assert "<Subject>Genoptræningsplan modtaget</Subject>" in item["xml"]

    def test_a_notice_joins_the_thread_of_its_plan(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        answer = report(client, keys, notice(plan, "received"))

        assert answer["type"] == "notice"
        assert answer["thread_id"] == plan["thread_id"]

    def test_the_plan_shows_the_started_course_and_its_met_deadline(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        report(client, keys, notice(plan, "received"))
        report(client, keys, notice(plan, "started", date="2026-11-22"))

        view = plan_view(client, keys, plan)

        assert view["business_status"] == {"state": "started", "date": "2026-11-22"}
        assert view["deadline_status"]["state"] == "met"
        assert view["deadline_status"]["started_on"] == "2026-11-22"
        assert [entry["type"] for entry in view["timeline"]] == ["received", "started"]

    def test_notices_at_the_same_instant_keep_the_order_they_came_in(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        # The clock stands still: every notice is sent at the same instant.
        for notice_type, fields in (
            ("received", {}),
            ("started", {"date": "2026-11-21"}),
            ("second_meeting", {"date": "2026-11-23"}),
        ):
            report(client, keys, notice(plan, notice_type, **fields))

        view = plan_view(client, keys, plan)

        assert [e["type"] for e in view["timeline"]] == ["received", "started", "second_meeting"]
        assert view["business_status"] == {"state": "second_meeting", "date": "2026-11-23"}

    def test_tracking_shows_the_business_status_next_to_the_deliveries(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        report(client, keys, notice(plan, "received"))

        tracking = client.get(
            f"/v1/messages/{plan['message_id']}", headers=keys[ODENSE_HOSPITAL]
        ).json()

        assert tracking["business_status"]["state"] == "received"
        assert {d["status"] for d in tracking["deliveries"]} == {"available"}

    def test_a_plan_without_notices_is_sent(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        view = plan_view(client, keys, plan)

        assert view["business_status"]["state"] == "sent"
        assert view["timeline"] == []

    def test_a_second_meeting_before_the_start_is_refused(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = post_notice(
            client, keys[ODENSE_KOMMUNE], notice(plan, "second_meeting", date="2026-11-22")
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"type": "not_started"}

    def test_a_start_before_discharge_is_refused(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = post_notice(
            client, keys[ODENSE_KOMMUNE], notice(plan, "started", date="2026-11-19")
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"date": "date_before_discharge"}

    def test_a_kommune_that_did_not_receive_the_plan_cannot_report_on_it(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = post_notice(client, keys[ISHOEJ_KOMMUNE], notice(plan, "received"))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"plan_message_id": "plan_unknown"}

    def test_nothing_is_reported_after_completion(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        report(client, keys, notice(plan, "started", date="2026-11-21"))
        report(client, keys, notice(plan, "completed", date="2026-11-23"))

        response = post_notice(client, keys[ODENSE_KOMMUNE], notice(plan, "received"))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"plan_message_id": "plan_closed"}

    def test_a_refused_notice_changes_nothing(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        post_notice(client, keys[ODENSE_KOMMUNE], notice(plan, "started", date="2026-11-19"))

        assert plan_view(client, keys, plan)["timeline"] == []
        assert [i for i in inbox_of(client, keys[ODENSE_HOSPITAL]) if i["type"] == "notice"] == []

    def test_the_same_notice_again_answers_200_with_the_first(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        body = notice(plan, "received", letter_id="ODK2026112301")
        first = report(client, keys, body)

        again = post_notice(client, keys[ODENSE_KOMMUNE], body)

        assert again.status_code == 200
        assert again.json()["message_id"] == first["message_id"]
        assert len(plan_view(client, keys, plan)["timeline"]) == 1

    def test_another_notice_under_the_same_letter_id_is_a_conflict(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        report(client, keys, notice(plan, "received", letter_id="ODK2026112301"))

        response = post_notice(
            client,
            keys[ODENSE_KOMMUNE],
            notice(plan, "started", date="2026-11-22", letter_id="ODK2026112301"),
        )

        assert_problem(response, 409, "conflict")


class TestStoredPlans:
    def test_a_plan_stored_before_a_rule_was_added_still_takes_notices(
        self, client: TestClient, keys: Keys, plan: dict[str, Any], session: Session
    ) -> None:
        # A rehabilitering plan without the overall functional ability, as stored before R8.
        stored = session.get(orm.Message, plan["message_id"])
        assert stored is not None
        stored.body = stored.body | {
            "plan_type": "rehabilitering",
            "level": None,
            "function_at_discharge_extended": None,
        }
        session.commit()

        report(client, keys, notice(plan, "received"))


class TestTransfer:
    def test_the_new_kommune_gets_the_plan_in_its_inbox(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        report(client, keys, notice(plan, "transferred", to_gln=ISHOEJ_KOMMUNE))

        [item] = inbox_of(client, keys[ISHOEJ_KOMMUNE])
        assert item["message_id"] == plan["message_id"]
        assert item["type"] == "plan"

    def test_the_new_kommune_reports_and_the_old_one_may_not(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        report(client, keys, notice(plan, "transferred", to_gln=ISHOEJ_KOMMUNE))

        report(client, keys, notice(plan, "received"), by=ISHOEJ_KOMMUNE)
        response = post_notice(
            client, keys[ODENSE_KOMMUNE], notice(plan, "started", date="2026-11-23")
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"plan_message_id": "not_responsible_kommune"}

    def test_a_transfer_to_an_organisation_that_is_no_kommune_is_refused(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = post_notice(
            client, keys[ODENSE_KOMMUNE], notice(plan, "transferred", to_gln=HJALLESE_GP)
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"to_gln": "transfer_to_unknown_kommune"}


class TestEarlyNotice:
    def test_reaches_the_patients_kommune_and_the_gp(self, client: TestClient, keys: Keys) -> None:
        answer = report(client, keys, notice_fields("rehabilitation_need"), by=ODENSE_HOSPITAL)

        assert {(d["receiver_gln"], d["role"]) for d in answer["deliveries"]} == {
            (ODENSE_KOMMUNE, "primary"),
            (HJALLESE_GP, "gp_copy"),
        }
        [item] = inbox_of(client, keys[ODENSE_KOMMUNE])
        assert "Tidlig orientering om rehabiliteringsbehov" in item["xml"]

    def test_a_gp_gln_that_is_the_kommunes_own_is_one_delivery(
        self, client: TestClient, keys: Keys
    ) -> None:
        body = notice_fields("rehabilitation_need", gp_gln=ODENSE_KOMMUNE)

        answer = report(client, keys, body, by=ODENSE_HOSPITAL)

        assert [(d["receiver_gln"], d["role"]) for d in answer["deliveries"]] == [
            (ODENSE_KOMMUNE, "primary")
        ]

    def test_the_same_notice_again_is_answered_like_the_first_after_the_gp_left(
        self, client: TestClient, keys: Keys, session: Session
    ) -> None:
        body = notice_fields("rehabilitation_need", letter_id="OUHN0001")
        first = report(client, keys, body, by=ODENSE_HOSPITAL)
        gp = session.get(orm.Organisation, HJALLESE_GP)
        assert gp is not None
        gp.is_active = False
        session.commit()

        again = post_notice(client, keys[ODENSE_HOSPITAL], body)

        assert again.status_code == 200, again.text
        assert again.json()["message_id"] == first["message_id"]

    def test_comes_only_from_a_hospital(self, client: TestClient, keys: Keys) -> None:
        response = post_notice(client, keys[ODENSE_KOMMUNE], notice_fields("rehabilitation_need"))

        assert_problem(response, 403, "forbidden")

    def test_names_an_unknown_kommunekode(self, client: TestClient, keys: Keys) -> None:
        body = notice_fields("rehabilitation_need")
        body["patient"]["municipality_code"] = "101"

        response = post_notice(client, keys[ODENSE_HOSPITAL], body)

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"patient.municipality_code": "kommune_not_registered"}


class TestNoticeCharacters:
    def test_a_c1_control_character_is_refused_naming_the_field(
        self, client: TestClient, keys: Keys
    ) -> None:
        body = notice_fields("rehabilitation_need", text="Udtalt træthed\x85 efter kemoterapi.")

        response = post_notice(client, keys[ODENSE_HOSPITAL], body)

        problem = assert_problem(response, 422, "validation_failed")
        # The notice type's tag leads the path of every error pydantic finds in a notice.
        assert rules_by_field(problem) == {"rehabilitation_need.text": "c1_control_character"}

    def test_a_text_outside_latin_1_is_sent_with_a_warning_naming_the_field(
        self, client: TestClient, keys: Keys
    ) -> None:
        body = notice_fields("rehabilitation_need", text="Har brug for hjælp → rengøring.")

        answer = report(client, keys, body, by=ODENSE_HOSPITAL)

        assert [(w["field"], w["rule"]) for w in answer["warnings"]] == [
            ("text", "character_beyond_latin1")
        ]


class TestNoticeInput:
    def test_an_unknown_type_is_refused(self, client: TestClient, keys: Keys) -> None:
        response = post_notice(client, keys[ODENSE_KOMMUNE], {"type": "rescheduled"})

        assert_problem(response, 422, "validation_failed")

    def test_a_notice_is_json(self, client: TestClient, keys: Keys) -> None:
        response = client.post(
            "/v1/notices",
            content=b"<Emessage/>",
            headers=keys[ODENSE_KOMMUNE] | {"content-type": "application/xml"},
        )

        assert_problem(response, 415, "unsupported_media_type")


def post_plan_discharged(
    client: TestClient, keys: Keys, letter_id: str, discharged: str, deadline: str
) -> str:
    response = post_plan(
        client,
        keys[ODENSE_HOSPITAL],
        letter_id=letter_id,
        discharge_date=discharged,
        first_contact_deadline=deadline,
    )
    assert response.status_code == 201, response.text
    message_id: str = response.json()["message_id"]
    return message_id


def deadlines(client: TestClient, headers: dict[str, str], query: str = "") -> dict[str, Any]:
    response = client.get(f"/v1/deadlines{query}", headers=headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def states(client: TestClient, headers: dict[str, str]) -> dict[str, str]:
    return {row["message_id"]: row["state"] for row in deadlines(client, headers)["items"]}


class TestDeadlines:
    def test_a_plan_past_its_deadline_without_a_start_is_overdue(
        self, client: TestClient, keys: Keys
    ) -> None:
        late = post_plan_discharged(client, keys, "OUH1", "2026-11-10", "2026-11-17")

        assert states(client, keys[ODENSE_KOMMUNE]) == {late: "overdue"}

    def test_a_plan_two_days_from_its_deadline_is_due_soon(
        self, client: TestClient, keys: Keys
    ) -> None:
        soon = post_plan_discharged(client, keys, "OUH1", "2026-11-18", "2026-11-25")

        assert states(client, keys[ODENSE_KOMMUNE]) == {soon: "due_soon"}

    def test_a_start_before_the_deadline_meets_it(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        report(client, keys, notice(plan, "started", date="2026-11-21"))

        [row] = deadlines(client, keys[ODENSE_HOSPITAL])["items"]

        assert row["state"] == "met"
        assert row["started_on"] == "2026-11-21"
        assert row["patient_cpr"] == "2512484916"
        assert row["receiver_gln"] == ODENSE_KOMMUNE

    def test_a_postponement_by_the_citizen_moves_the_deadline(
        self, client: TestClient, keys: Keys
    ) -> None:
        soon = post_plan_discharged(client, keys, "OUH1", "2026-11-18", "2026-11-24")
        body = notice_fields("postponed", plan_message_id=soon, by="borger", new_date="2026-12-07")
        report(client, keys, body)

        [row] = deadlines(client, keys[ODENSE_KOMMUNE])["items"]

        assert row["deadline"] == "2026-12-07"
        assert row["legal_deadline"] == "2026-11-24"
        assert row["state"] == "pending"

    def test_a_transfer_gives_the_new_kommune_its_own_deadline(
        self, client: TestClient, keys: Keys
    ) -> None:
        late = post_plan_discharged(client, keys, "OUH1", "2026-11-10", "2026-11-17")
        transfer = notice_fields("transferred", plan_message_id=late, to_gln=ISHOEJ_KOMMUNE)
        report(client, keys, transfer)

        [row] = deadlines(client, keys[ISHOEJ_KOMMUNE])["items"]

        assert row["receiver_gln"] == ISHOEJ_KOMMUNE
        assert row["deadline"] == "2026-11-30"  # the day of the transfer + 7 days (R23)
        assert row["state"] == "pending"

    def test_the_list_is_filtered_by_state(self, client: TestClient, keys: Keys) -> None:
        late = post_plan_discharged(client, keys, "OUH1", "2026-11-10", "2026-11-17")
        post_plan_discharged(client, keys, "OUH2", "2026-11-18", "2026-11-25")

        rows = deadlines(client, keys[ODENSE_KOMMUNE], "?state=overdue")["items"]

        assert [row["message_id"] for row in rows] == [late]

    def test_the_list_is_filtered_by_municipality(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        assert deadlines(client, keys[ODENSE_HOSPITAL], "?municipality_code=183")["items"] == []
        assert len(deadlines(client, keys[ODENSE_HOSPITAL], "?municipality_code=461")["items"]) == 1

    def test_pages_follow_each_other_by_deadline(self, client: TestClient, keys: Keys) -> None:
        sent = [
            post_plan_discharged(client, keys, f"OUH{i}", f"2026-11-1{i}", f"2026-11-1{i + 1}")
            for i in range(3)
        ]

        first = deadlines(client, keys[ODENSE_KOMMUNE], "?limit=2")
        second = deadlines(client, keys[ODENSE_KOMMUNE], f"?limit=2&cursor={first['next_cursor']}")

        listed = [row["message_id"] for row in first["items"] + second["items"]]
        assert listed == sent
        assert second["next_cursor"] is None

    def test_others_plans_are_not_listed(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        assert deadlines(client, keys[ISHOEJ_KOMMUNE])["items"] == []

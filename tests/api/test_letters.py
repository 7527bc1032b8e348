"""Correspondence letters (POST /v1/letters, GET /v1/letters/{id}) and threads
(GET /v1/threads/{id}): JSON in, XDIS91 out, replies and corrections."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from app.state import app_state
from tests.api.helpers import assert_problem, post_plan, rules_by_field
from tests.conftest import FROZEN_NOW
from tests.factories import (
    HJALLESE_GP,
    ISHOEJ_KOMMUNE,
    ODENSE_HOSPITAL,
    ODENSE_KOMMUNE,
    add_key,
    add_organisation,
    bearer,
    gp_fields,
    make_letter,
)

Keys = dict[str, dict[str, str]]


def post_letter(client: TestClient, headers: dict[str, str], body: dict[str, Any]) -> Any:
    return client.post("/v1/letters", json=body, headers=headers)


def send(client: TestClient, keys: Keys, by: str, **overrides: Any) -> dict[str, Any]:
    response = post_letter(client, keys[by], make_letter(**overrides))
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


class TestSend:
    def test_the_receiver_gets_an_xdis91_letter(self, client: TestClient, keys: Keys) -> None:
        answer = send(client, keys, ODENSE_HOSPITAL, receiver_gln=HJALLESE_GP)

        [item] = client.get("/v1/inbox", headers=keys[HJALLESE_GP]).json()["items"]
        assert item["message_id"] == answer["message_id"]
        assert item["type"] == "letter"
        assert item["format"] == "XDIS91"
        assert "<VersionCode>XD9134L</VersionCode>" in item["xml"]

    def test_a_new_letter_starts_its_own_thread(self, client: TestClient, keys: Keys) -> None:
        answer = send(client, keys, ODENSE_HOSPITAL, receiver_gln=HJALLESE_GP)

        assert answer["thread_id"] == answer["message_id"]

    def test_the_sender_reads_the_letter_back_as_sent(self, client: TestClient, keys: Keys) -> None:
        body = make_letter(receiver_gln=HJALLESE_GP)
        answer = post_letter(client, keys[ODENSE_HOSPITAL], body).json()

        read = client.get(f"/v1/letters/{answer['message_id']}", headers=keys[ODENSE_HOSPITAL])

        assert read.status_code == 200
        assert read.json()["letter"]["subject"] == body["subject"]
        assert read.json()["letter"]["text_blocks"] == body["text_blocks"]

    def test_the_receiver_reads_the_xdis91_document(self, client: TestClient, keys: Keys) -> None:
        answer = send(client, keys, ODENSE_HOSPITAL, receiver_gln=HJALLESE_GP)

        read = client.get(
            f"/v1/letters/{answer['message_id']}",
            headers=keys[HJALLESE_GP] | {"accept": "application/xml"},
        )

        assert read.status_code == 200
        assert read.content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')

    def test_a_letter_is_not_shown_to_others(self, client: TestClient, keys: Keys) -> None:
        answer = send(client, keys, ODENSE_HOSPITAL, receiver_gln=HJALLESE_GP)

        read = client.get(f"/v1/letters/{answer['message_id']}", headers=keys[ISHOEJ_KOMMUNE])

        assert_problem(read, 404, "not_found")

    def test_an_unknown_receiver_is_named(self, client: TestClient, keys: Keys) -> None:
        response = post_letter(
            client, keys[ODENSE_HOSPITAL], make_letter(receiver_gln="5790000000005")
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"receiver_gln": "receiver_unknown"}

    def test_the_same_letter_again_answers_200_with_the_first(
        self, client: TestClient, keys: Keys
    ) -> None:
        body = make_letter(receiver_gln=HJALLESE_GP, letter_id="OUHL0001")
        first = post_letter(client, keys[ODENSE_HOSPITAL], body).json()

        again = post_letter(client, keys[ODENSE_HOSPITAL], body)

        assert again.status_code == 200
        assert again.json()["message_id"] == first["message_id"]

    def test_another_letter_under_the_same_letter_id_is_a_conflict(
        self, client: TestClient, keys: Keys
    ) -> None:
        send(client, keys, ODENSE_HOSPITAL, receiver_gln=HJALLESE_GP, letter_id="OUHL0001")

        response = post_letter(
            client,
            keys[ODENSE_HOSPITAL],
            make_letter(receiver_gln=HJALLESE_GP, letter_id="OUHL0001", subject="Noget andet"),
        )

        assert_problem(response, 409, "conflict")


class TestThreads:
    def test_a_reply_joins_the_thread_of_the_letter_it_answers(
        self, client: TestClient, keys: Keys
    ) -> None:
        question = send(client, keys, ODENSE_HOSPITAL, receiver_gln=HJALLESE_GP)

        answer = send(
            client,
            keys,
            HJALLESE_GP,
            receiver_gln=ODENSE_HOSPITAL,
            reply_to=question["message_id"],
            subject="Svar: smertebehandling",
        )

        assert answer["thread_id"] == question["thread_id"]

    def test_both_parties_read_the_thread_oldest_first(
        self, client: TestClient, keys: Keys
    ) -> None:
        question = send(client, keys, ODENSE_HOSPITAL, receiver_gln=HJALLESE_GP)
        app_state(client.app).clock.at = FROZEN_NOW + timedelta(hours=2)  # type: ignore[attr-defined]
        answer = send(
            client, keys, HJALLESE_GP, receiver_gln=ODENSE_HOSPITAL, reply_to=question["message_id"]
        )

        for party in (ODENSE_HOSPITAL, HJALLESE_GP):
            thread = client.get(f"/v1/threads/{question['thread_id']}", headers=keys[party])
            assert [m["message_id"] for m in thread.json()["messages"]] == [
                question["message_id"],
                answer["message_id"],
            ]

    def test_a_letter_answers_a_plan_in_the_plans_thread(
        self, client: TestClient, keys: Keys
    ) -> None:
        plan = post_plan(client, keys[ODENSE_HOSPITAL]).json()

        answer = send(
            client, keys, ODENSE_KOMMUNE, receiver_gln=ODENSE_HOSPITAL, reply_to=plan["message_id"]
        )

        assert answer["thread_id"] == plan["thread_id"]

    def test_only_a_received_message_can_be_answered(self, client: TestClient, keys: Keys) -> None:
        question = send(client, keys, ODENSE_HOSPITAL, receiver_gln=HJALLESE_GP)

        response = post_letter(
            client,
            keys[ISHOEJ_KOMMUNE],
            make_letter(receiver_gln=ODENSE_HOSPITAL, reply_to=question["message_id"]),
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"reply_to": "reply_to_not_received"}

    def test_a_correction_replaces_the_senders_own_letter_in_its_thread(
        self, client: TestClient, keys: Keys
    ) -> None:
        first = send(client, keys, ODENSE_HOSPITAL, receiver_gln=HJALLESE_GP)

        correction = send(
            client,
            keys,
            ODENSE_HOSPITAL,
            receiver_gln=HJALLESE_GP,
            status="rettetbrev",
            corrects=first["message_id"],
        )

        assert correction["thread_id"] == first["thread_id"]
        [item] = [
            i
            for i in client.get("/v1/inbox", headers=keys[HJALLESE_GP]).json()["items"]
            if i["message_id"] == correction["message_id"]
        ]
        assert "<StatusCode>rettetbrev</StatusCode>" in item["xml"]

    def test_only_ones_own_letter_can_be_corrected(self, client: TestClient, keys: Keys) -> None:
        first = send(client, keys, ODENSE_HOSPITAL, receiver_gln=HJALLESE_GP)

        response = post_letter(
            client,
            keys[HJALLESE_GP],
            make_letter(
                receiver_gln=ODENSE_HOSPITAL, status="rettetbrev", corrects=first["message_id"]
            ),
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"corrects": "corrects_not_own_letter"}

    def test_a_stranger_does_not_see_the_thread(self, client: TestClient, keys: Keys) -> None:
        question = send(client, keys, ODENSE_HOSPITAL, receiver_gln=HJALLESE_GP)

        response = client.get(f"/v1/threads/{question['thread_id']}", headers=keys[ISHOEJ_KOMMUNE])

        assert_problem(response, 404, "not_found")


def test_a_correction_without_corrects_is_refused(client: TestClient, keys: Keys) -> None:
    response = post_letter(
        client, keys[ODENSE_HOSPITAL], make_letter(receiver_gln=HJALLESE_GP, status="rettetbrev")
    )

    assert_problem(response, 422, "validation_failed")


MEDCOM = Path(__file__).resolve().parents[1] / "data" / "medcom"
DIS91_2 = "xdis91-XD9134L-clinicalemail-rutine-DIS91_2.xml"  # windows-1252, valid GLNs
FYS_KLINIKKEN = "5790000121526"  # its Sender (a physiotherapy clinic, ydernummer 200106)
MEDCOM_TESTCENTER = "5790000120314"  # its Receiver (ydernummer 091034)


class TestXdis91Input:
    @pytest.fixture
    def clinic(self, session: Session) -> dict[str, str]:
        """The example's parties in the directory, and the clinic's key."""
        for gln, name, identifier in (
            (FYS_KLINIKKEN, "FYS-KLINIKKEN", "200106"),
            (MEDCOM_TESTCENTER, "MedComs testcenter", "091034"),
        ):
            add_organisation(session, **gp_fields(gln=gln, name=name, identifier=identifier))
        headers = bearer(add_key(session, gln=FYS_KLINIKKEN))
        add_key(session, gln=MEDCOM_TESTCENTER)
        session.commit()
        return headers

    def test_medcoms_public_letter_is_accepted_as_posted(
        self, client: TestClient, clinic: dict[str, str]
    ) -> None:
        response = client.post(
            "/v1/letters",
            content=(MEDCOM / DIS91_2).read_bytes(),
            headers=clinic | {"content-type": "application/xml"},
        )

        assert response.status_code == 201, response.text
        answer = response.json()
        assert answer["letter_id"] == "12152000000203"
        assert [d["receiver_gln"] for d in answer["deliveries"]] == [MEDCOM_TESTCENTER]

    def test_its_text_reaches_the_receiver_unchanged(
        self, client: TestClient, clinic: dict[str, str]
    ) -> None:
        posted = client.post(
            "/v1/letters",
            content=(MEDCOM / DIS91_2).read_bytes(),
            headers=clinic | {"content-type": "application/xml"},
        ).json()

        letter = client.get(f"/v1/letters/{posted['message_id']}", headers=clinic).json()["letter"]

        assert letter["subject"] == "Undtagelsesredegørelse - fortsat individuel behandling"
        assert letter["priority"] == "rutine"
        assert letter["text_blocks"][0].startswith("Begrundelse: Patienten har godt af flere")
        assert (
            "Handicap: Svært fysisk handicappet. Diagnose: 1D.\nMed venlig hilsen"
            in (letter["text_blocks"][0])
        )

    def test_a_letter_in_another_organisations_name_is_forbidden(
        self, client: TestClient, keys: Keys, clinic: dict[str, str]
    ) -> None:
        response = client.post(
            "/v1/letters",
            content=(MEDCOM / DIS91_2).read_bytes(),
            headers=keys[ODENSE_HOSPITAL] | {"content-type": "application/xml"},
        )

        assert_problem(response, 403, "forbidden")

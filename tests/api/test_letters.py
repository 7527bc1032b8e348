"""Correspondence letters (POST /v1/letters, GET /v1/letters/{id}) and threads
(GET /v1/threads/{id}): JSON in, XDIS91 out, replies and corrections."""

import io
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session

from app.state import app_state
from app.xml import parse_xdis91
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


class TestLetterCharacters:
    def test_a_c1_control_character_is_refused_naming_the_text_block(
        self, client: TestClient, keys: Keys
    ) -> None:
        body = make_letter(text_blocks=["Kære læge,\x96 patienten har smerter."])

        response = post_letter(client, keys[ODENSE_HOSPITAL], body)

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"text_blocks.0": "c1_control_character"}

    def test_a_c1_control_character_in_the_subject_is_refused(
        self, client: TestClient, keys: Keys
    ) -> None:
        response = post_letter(
            client, keys[ODENSE_HOSPITAL], make_letter(subject="Smerter\x80 i hoften")
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"subject": "c1_control_character"}

    def test_a_text_outside_latin_1_is_sent_with_a_warning_naming_the_field(
        self, client: TestClient, keys: Keys
    ) -> None:
        answer = send(
            client, keys, ODENSE_HOSPITAL, text_blocks=["Dosis øges 10 mg → 20 mg dagligt."]
        )

        assert [(w["field"], w["rule"]) for w in answer["warnings"]] == [
            ("text_blocks.0", "character_beyond_latin1")
        ]


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

    def test_a_party_detail_the_directory_shows_otherwise_is_named_in_a_warning(
        self, client: TestClient, clinic: dict[str, str]
    ) -> None:
        # The clinic's directory entry says department "Almen Lægehjælp"; the letter "STORE TORV".
        response = client.post(
            "/v1/letters",
            content=(MEDCOM / DIS91_2).read_bytes(),
            headers=clinic | {"content-type": "application/xml"},
        )

        warnings = {w["field"]: w for w in response.json()["warnings"]}
        warning = warnings["/Emessage/ClinicalEmail/Sender/DepartmentName"]
        assert warning["rule"] == "party_detail_from_directory"
        assert "Almen Lægehjælp" in warning["message"]
        assert "/Emessage/ClinicalEmail/Sender/OrganisationName" not in warnings

    def test_a_letter_in_another_organisations_name_is_forbidden(
        self, client: TestClient, keys: Keys, clinic: dict[str, str]
    ) -> None:
        response = client.post(
            "/v1/letters",
            content=(MEDCOM / DIS91_2).read_bytes(),
            headers=keys[ODENSE_HOSPITAL] | {"content-type": "application/xml"},
        )

        assert_problem(response, 403, "forbidden")


# --- MedCom's public XDIS91 examples, end to end (issue 13) ---------------------------------

CONVERTED = "xdis91-XD9134L-clinicalemail-converted-from-ggop-example.xml"  # ISO-8859-1
KORR = "xdis91-XD9134L-clinicalemail-formatted-text-korr_x9134.xml"  # ISO-8859-1
DIS91_1 = "xdis91-XD9134L-clinicalemail-hoej-prioritet-DIS91_1.xml"  # windows-1252
# Routing identifiers must be valid (architecture.md, Known traps): the Hillerød examples'
# GLNs get their check digits, korr_x9134's CPR number a real day of the month, and the
# converter's placeholders "afsender"/"modtager" the GLNs of the parties it names.
EXAMPLES = {
    "DIS91_2": (DIS91_2, []),
    "DIS91_1": (DIS91_1, [("5790000120400", "5790000120406"), ("5790000128700", "5790000128709")]),
    "korr_x9134": (
        KORR,
        [
            ("5790000120400", "5790000120406"),
            ("5790000128700", "5790000128709"),
            ("1522824933", "1502824933"),
        ],
    ),
    "converted-from-ggop": (
        CONVERTED,
        [(">afsender<", f">{ODENSE_HOSPITAL}<"), (">modtager<", f">{ODENSE_KOMMUNE}<")],
    ),
}
# Written anew for each delivery: the envelope is the transport's, not the letter's
# (formats.md §3.2, §6).
PER_DELIVERY = {"Emessage/Envelope/Sent/Date", "Emessage/Envelope/Sent/Time"}
PER_DELIVERY_ID = "Emessage/Envelope/Identifier"
_KINDS = {
    "sygehusafdelingsnummer": "hospital",
    "ydernummer": "almen_praksis",
    "kommunenummer": "kommune",
}


def example(name: str) -> bytes:
    """MedCom's example with the corrections above, in its own encoding."""
    file, changes = EXAMPLES[name]
    body = (MEDCOM / file).read_bytes()
    encoding = etree.parse(io.BytesIO(body)).docinfo.encoding
    text = body.decode(encoding)
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode(encoding)


def leaves(document: bytes) -> dict[str, str]:
    """Every element outside Text01 by its path of local names (with [n] where a name repeats),
    and its text; Text01's content is compared as read."""
    found: dict[str, str] = {}

    def walk(element: etree._Element, path: str) -> None:
        found[path] = (element.text or "").strip()
        if etree.QName(element).localname == "Text01":
            return
        names = [etree.QName(child).localname for child in element]
        for child, name in zip(element, names, strict=True):
            seen = names[: list(element).index(child)].count(name)
            walk(child, f"{path}/{name}" + (f"[{seen + 1}]" if names.count(name) > 1 else ""))

    walk(etree.fromstring(document), "Emessage")
    return found


def party_entry(party: etree._Element) -> dict[str, Any]:
    """The directory entry of an example's Sender or Receiver, as the example describes it."""

    def text(name: str) -> str | None:
        found = party.find(f"{{*}}{name}")
        return None if found is None else found.text

    code = text("IdentifierCode")
    assert code is not None
    kind = _KINDS[code]
    return {
        "gln": text("EANIdentifier"),
        "kind": kind,
        "name": text("OrganisationName"),
        "department": text("DepartmentName"),
        "unit": text("UnitName"),
        "municipality_code": text("Identifier") if kind == "kommune" else None,
        "identifier_code": code,
        "identifier": text("Identifier"),
        "accepts": ["XDIS91"],
        "street": text("StreetName"),
        "postcode": text("PostCodeIdentifier"),
        "district": text("DistrictName"),
        "phone": text("TelephoneSubscriberIdentifier"),
    }


class TestMedcomExamples:
    @pytest.fixture(params=list(EXAMPLES))
    def posted(
        self, request: pytest.FixtureRequest, client: TestClient, session: Session
    ) -> tuple[bytes, dict[str, Any], bytes]:
        """The example posted by its sender: what was posted, the answer, and the receiver's
        document."""
        body = example(request.param)
        root = etree.fromstring(body)
        for party in ("Sender", "Receiver"):
            element = root.find(f"{{*}}ClinicalEmail/{{*}}{party}")
            assert element is not None
            add_organisation(session, **party_entry(element))
        sender = root.findtext("{*}ClinicalEmail/{*}Sender/{*}EANIdentifier")
        headers = bearer(add_key(session, gln=sender))
        session.commit()
        answer = client.post(
            "/v1/letters", content=body, headers=headers | {"content-type": "application/xml"}
        )
        assert answer.status_code == 201, answer.text
        read = client.get(
            f"/v1/letters/{answer.json()['message_id']}",
            headers=headers | {"accept": "application/xml"},
        )
        return body, answer.json(), read.content

    def test_each_example_comes_out_with_every_element_or_a_warning_naming_it(
        self, posted: tuple[bytes, dict[str, Any], bytes]
    ) -> None:
        body, answer, document = posted
        warned = {warning["field"] for warning in answer["warnings"]}
        sent, received = leaves(body), leaves(document)

        lost = {
            path
            for path, text in sent.items()
            if path not in PER_DELIVERY | {PER_DELIVERY_ID}
            and not path.endswith("/Text01")
            and received.get(path) != text
            and f"/{path}" not in warned
        }

        assert lost == set()
        assert received[PER_DELIVERY_ID] == answer["deliveries"][0]["envelope_id"]

    def test_each_examples_text_reaches_the_receiver_as_written(
        self, posted: tuple[bytes, dict[str, Any], bytes]
    ) -> None:
        body, _, document = posted

        assert parse_xdis91(document).letter.text_blocks == parse_xdis91(body).letter.text_blocks

    def test_the_senders_receipt_request_is_kept(
        self, posted: tuple[bytes, dict[str, Any], bytes]
    ) -> None:
        body, answer, document = posted
        code = parse_xdis91(body).acknowledgement_code

        assert parse_xdis91(document).acknowledgement_code == code
        assert answer["deliveries"][0]["ack_requested"] is (code == "pluspositivkvitt")

    def test_each_text01_is_passed_on_whole_also_beyond_3150_characters(
        self, posted: tuple[bytes, dict[str, Any], bytes]
    ) -> None:
        # The converted GGOP's one Text01 has 3644 characters; MedCom's schema bounds none.
        body, _, document = posted

        assert len(text01_of(document)) == len(text01_of(body))


def text01_of(document: bytes) -> list[str]:
    """The plain text of each Text01."""
    root = etree.fromstring(document)
    return ["".join(t.itertext()) for t in root.iter("{*}Text01")]

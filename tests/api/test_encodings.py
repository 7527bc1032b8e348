"""The encoding of inbound XML over HTTP (issue 12): plans, letters and receipts in an encoding
Sektorbro does not read are a 415, bytes not in the encoding they declare a 422
`encoding_mismatch`, and a correct ISO-8859-1 document is accepted as before."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from tests.api.helpers import assert_problem, rules_by_field
from tests.factories import ODENSE_HOSPITAL, add_key, add_organisation, bearer, gp_fields

Keys = dict[str, dict[str, str]]

MEDCOM = Path(__file__).resolve().parents[1] / "data" / "medcom"
DIS91_2 = MEDCOM / "xdis91-XD9134L-clinicalemail-rutine-DIS91_2.xml"  # windows-1252, æøå
GGOP = MEDCOM / "ggop-genoptraeningsplan-GGOP100-ns1.0.4-example.xml"  # UTF-8 with a BOM
RECEIPT = MEDCOM / "xctl03-XC0330Q-positive-receipt-CTL03_1.xml"  # windows-1252, ASCII
FYS_KLINIKKEN = "5790000121526"  # DIS91_2's Sender
MEDCOM_TESTCENTER = "5790000120314"  # DIS91_2's Receiver
SUBJECT = "Undtagelsesredegørelse - fortsat individuel behandling"  # DIS91_2's subject

ENDPOINTS = {"/v1/plans": GGOP, "/v1/letters": DIS91_2, "/v1/receipts": RECEIPT}


def declared_as(path: Path, declared: str, encoding: str, *, replace: str = "") -> bytes:
    """MedCom's example at `path`, declaring `declared`, as `encoding` bytes (a character
    `encoding` lacks as a character reference); `replace` ("old=new") changes its text first."""
    body = path.read_bytes()
    text = body.decode("utf-8-sig") if body.startswith(b"\xef\xbb\xbf") else body.decode("cp1252")
    head, _, rest = text.partition("?>")
    assert 'encoding="' in head
    prefix, _, after = head.partition('encoding="')
    text = f'{prefix}encoding="{declared}"{after.partition(chr(34))[2]}?>{rest}'
    if replace:
        old, new = replace.split("=")
        assert old in text
        text = text.replace(old, new)
    return text.encode(encoding, errors="xmlcharrefreplace")


def post(client: TestClient, endpoint: str, headers: dict[str, str], body: bytes) -> Any:
    return client.post(
        endpoint, content=body, headers=headers | {"content-type": "application/xml"}
    )


@pytest.fixture
def clinic(session: Session) -> Keys:
    """DIS91_2's sender and receiver in the directory, each with a key."""
    for gln, name, identifier in (
        (FYS_KLINIKKEN, "FYS-KLINIKKEN", "200106"),
        (MEDCOM_TESTCENTER, "MedComs testcenter", "091034"),
    ):
        add_organisation(session, **gp_fields(gln=gln, name=name, identifier=identifier))
    keys = {gln: bearer(add_key(session, gln=gln)) for gln in (FYS_KLINIKKEN, MEDCOM_TESTCENTER)}
    session.commit()
    return keys


def inbox(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = client.get("/v1/inbox", headers=headers).json()["items"]
    return items


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("declared", ["UTF-7", "Shift_JIS"])
def test_an_encoding_sektorbro_does_not_read_is_a_415_naming_it(
    client: TestClient, keys: Keys, endpoint: str, declared: str
) -> None:
    body = declared_as(ENDPOINTS[endpoint], declared, "utf-7" if declared == "UTF-7" else "sjis")

    problem = assert_problem(
        post(client, endpoint, keys[ODENSE_HOSPITAL], body), 415, "unsupported_media_type"
    )

    assert f"encoding {declared} " in problem["detail"]
    assert "UTF-8, UTF-16, ISO-8859-1, ISO-8859-15 and windows-1252" in problem["detail"]
    assert rules_by_field(problem) == {"/": "encoding_unsupported"}


@pytest.mark.parametrize("text", ["Åbenrå, Ærø og Søby", "Łukasz"])
def test_utf_8_bytes_declared_iso_8859_1_are_a_422_and_reach_no_inbox(
    client: TestClient, clinic: Keys, text: str
) -> None:
    body = declared_as(DIS91_2, "ISO-8859-1", "utf-8", replace=f"Begrundelse={text}")

    response = post(client, "/v1/letters", clinic[FYS_KLINIKKEN], body)

    problem = assert_problem(response, 422, "validation_failed")
    assert rules_by_field(problem) == {"/": "encoding_mismatch"}
    [error] = problem["errors"]
    assert "declares ISO-8859-1 but looks like UTF-8" in error["message"]
    assert text not in response.text
    assert inbox(client, clinic[MEDCOM_TESTCENTER]) == []


def test_a_utf_8_plan_declared_iso_8859_1_is_a_422(client: TestClient, keys: Keys) -> None:
    body = declared_as(GGOP, "ISO-8859-1", "utf-8")

    problem = assert_problem(
        post(client, "/v1/plans", keys[ODENSE_HOSPITAL], body), 422, "validation_failed"
    )

    assert rules_by_field(problem) == {"/": "encoding_mismatch"}


@pytest.mark.parametrize("endpoint", ["/v1/plans", "/v1/letters"])
def test_bytes_that_are_not_utf_8_under_a_utf_8_declaration_are_a_422(
    client: TestClient, keys: Keys, endpoint: str
) -> None:
    body = declared_as(ENDPOINTS[endpoint], "UTF-8", "iso-8859-1")  # æøå as single bytes

    problem = assert_problem(
        post(client, endpoint, keys[ODENSE_HOSPITAL], body), 422, "validation_failed"
    )

    assert rules_by_field(problem) == {"/": "encoding_mismatch"}
    [error] = problem["errors"]
    assert "declares the encoding UTF-8, but the bytes at offset" in error["message"]


def test_a_receipt_with_a_c1_control_character_is_a_422(client: TestClient, keys: Keys) -> None:
    # An en dash from windows-1252 (0x96) in a receipt declaring ISO-8859-1.
    body = declared_as(RECEIPT, "ISO-8859-1", "cp1252", replace="MEDREF01095=MEDREF\u201301095")

    problem = assert_problem(
        post(client, "/v1/receipts", keys[ODENSE_HOSPITAL], body), 422, "validation_failed"
    )

    assert rules_by_field(problem) == {"/": "encoding_mismatch"}
    assert "U+0096" in problem["errors"][0]["message"]


def test_a_correct_iso_8859_1_letter_with_danish_letters_is_accepted(
    client: TestClient, clinic: Keys
) -> None:
    body = declared_as(DIS91_2, "ISO-8859-1", "iso-8859-1")
    assert "ø".encode("iso-8859-1") in body

    response = post(client, "/v1/letters", clinic[FYS_KLINIKKEN], body)

    assert response.status_code == 201, response.text
    letter = client.get(
        f"/v1/letters/{response.json()['message_id']}", headers=clinic[FYS_KLINIKKEN]
    ).json()["letter"]
    assert letter["subject"] == SUBJECT
    [item] = inbox(client, clinic[MEDCOM_TESTCENTER])
    assert SUBJECT in item["xml"]

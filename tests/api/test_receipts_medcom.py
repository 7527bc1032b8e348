"""MedCom's three public receipt examples (XCTL01/02/03, windows-1252, byte for byte) posted
to POST /v1/receipts, after registering the organisations and deliveries they refer to."""

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from app import orm
from app.services.api_keys import Scope
from tests.conftest import FROZEN_NOW
from tests.factories import add_hospital, add_key, add_organisation, bearer

EXAMPLES = Path(__file__).parents[1] / "data" / "medcom"
ORIGINAL_SENDER = "5790000181872"
ORIGINAL_RECEIVER = "5790000120420"
ENVELOPE = "MEDREF01095"


def example(name: str) -> bytes:
    return next(EXAMPLES.glob(f"{name}-*.xml")).read_bytes()


@pytest.fixture
def medcom_parties(session: Session) -> dict[str, dict[str, str]]:
    """The two organisations of the examples, with keys, and the gateway's key (VANS)."""
    add_hospital(session, gln=ORIGINAL_SENDER, name="Eksempelsygehus", identifier="1301011")
    add_organisation(
        session,
        gln=ORIGINAL_RECEIVER,
        kind="other",
        name="Horsens Sygehus, laboratoriet",
        identifier="1301012",
        identifier_code="sygehusafdelingsnummer",
        municipality_code=None,
    )
    keys = {gln: bearer(add_key(session, gln=gln)) for gln in (ORIGINAL_SENDER, ORIGINAL_RECEIVER)}
    keys["gateway"] = bearer(add_key(session, gln=None, scopes={Scope.GATEWAY}))
    session.commit()
    return keys


def sent_letter(session: Session, letter_id: str) -> orm.Delivery:
    """A letter from the examples' sender to their receiver, sent in envelope MEDREF01095."""
    message_id = f"00000000-0000-0000-0000-{letter_id[-12:].rjust(12, '0')}"
    delivery_id = f"11111111-0000-0000-0000-{letter_id[-12:].rjust(12, '0')}"
    message = orm.Message(
        message_id=message_id,
        thread_id=message_id,
        type="letter",
        sender_gln=ORIGINAL_SENDER,
        letter_id=letter_id,
        content_hash="0" * 64,
        patient_ref="0" * 64,
        body={},
        created_at=FROZEN_NOW,
    )
    delivery = orm.Delivery(
        delivery_id=delivery_id,
        message_id=message_id,
        receiver_gln=ORIGINAL_RECEIVER,
        role="primary",
        format="XDIS91",
        envelope_id=ENVELOPE,
        status="available",
        xml=b"<x/>",
        created_at=FROZEN_NOW,
        updated_at=FROZEN_NOW,
        ack_requested=True,
        sent_at=FROZEN_NOW,
        resends=0,
        ack_overdue=False,
        receipt_message_id=None,
    )
    delivery.events = [orm.DeliveryEvent(status="available", at=FROZEN_NOW, envelope_id=ENVELOPE)]
    session.add_all([message, delivery])
    session.commit()
    return delivery


def post(client: TestClient, headers: dict[str, str], xml: bytes) -> Any:
    return client.post(
        "/v1/receipts", content=xml, headers=headers | {"Content-Type": "application/xml"}
    )


def status_of(session: Session, letter_id: str) -> tuple[str, str | None]:
    session.expire_all()
    delivery = session.scalars(
        select(orm.Delivery)
        .join(orm.Message, orm.Message.message_id == orm.Delivery.message_id)
        .where(orm.Message.letter_id == letter_id)
    ).one()
    return delivery.status, delivery.receipt_message_id


def test_medcoms_positive_receipt_acknowledges_its_letter(
    client: TestClient, session: Session, medcom_parties: dict[str, dict[str, str]]
) -> None:
    sent_letter(session, "1111FRE01095")

    response = post(client, medcom_parties[ORIGINAL_RECEIVER], example("xctl03"))

    assert response.status_code == 201, response.text
    assert response.json()["receipt"]["kind"] == "positive"
    assert status_of(session, "1111FRE01095")[0] == "acknowledged"


def test_medcoms_negative_receipt_rejects_its_letter_with_the_refuse_code(
    client: TestClient, session: Session, medcom_parties: dict[str, dict[str, str]]
) -> None:
    sent_letter(session, "1111MAN01095")

    response = post(client, medcom_parties[ORIGINAL_RECEIVER], example("xctl02"))

    assert response.status_code == 201, response.text
    assert response.json()["delivery"]["receipt"]["refuse_code"] == "problem_med_version"
    assert status_of(session, "1111MAN01095")[0] == "rejected"


def test_medcoms_vans_receipt_rejects_both_letters_of_the_envelope(
    client: TestClient, session: Session, medcom_parties: dict[str, dict[str, str]]
) -> None:
    sent_letter(session, "1111FRE01095")
    sent_letter(session, "1111MAN01095")

    response = post(client, medcom_parties["gateway"], example("xctl01"))

    assert response.status_code == 201, response.text
    fre, man = status_of(session, "1111FRE01095"), status_of(session, "1111MAN01095")
    assert (fre[0], man[0]) == ("rejected", "rejected")
    assert fre[1] == man[1] == response.json()["receipt"]["message_id"]


def test_a_vans_receipt_needs_the_gateways_key(
    client: TestClient, session: Session, medcom_parties: dict[str, dict[str, str]]
) -> None:
    sent_letter(session, "1111FRE01095")
    sent_letter(session, "1111MAN01095")

    response = post(client, medcom_parties[ORIGINAL_RECEIVER], example("xctl01"))

    assert response.status_code == 403


def test_a_receipt_for_a_letter_never_sent_names_the_letter(
    client: TestClient, medcom_parties: dict[str, dict[str, str]]
) -> None:
    response = post(client, medcom_parties[ORIGINAL_RECEIVER], example("xctl03"))

    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert error["rule"] == "receipt_reference_unknown"
    assert error["field"].endswith("/OriginalLetter[1]/OriginalLetterIdentifier")

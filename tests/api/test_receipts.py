"""Reliable messaging the MedCom way: acknowledgements and receipts, resends, duplicates
(POST /v1/inbox/{id}/ack, POST /v1/receipts, POST /v1/messages/{id}/resend)."""

from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree  # type: ignore[import-untyped]
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app import orm
from app.xml import XsdRegistry
from tests.api.helpers import assert_problem, post_plan, rules_by_field
from tests.factories import HJALLESE_GP, ODENSE_HOSPITAL, ODENSE_KOMMUNE

Keys = dict[str, dict[str, str]]
MEDCOM_2005 = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/"


@pytest.fixture
def plan(client: TestClient, keys: Keys) -> dict[str, Any]:
    """The reference plan, sent."""
    response = post_plan(client, keys[ODENSE_HOSPITAL])
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def delivery_to(plan: dict[str, Any], gln: str) -> dict[str, Any]:
    return next(d for d in plan["deliveries"] if d["receiver_gln"] == gln)


def ack(client: TestClient, keys: Keys, plan: dict[str, Any], gln: str, **answer: Any) -> Any:
    delivery_id = delivery_to(plan, gln)["delivery_id"]
    return client.post(
        f"/v1/inbox/{delivery_id}/ack", json=answer or {"result": "positive"}, headers=keys[gln]
    )


def tracking(client: TestClient, keys: Keys, plan: dict[str, Any]) -> dict[str, Any]:
    response = client.get(f"/v1/messages/{plan['message_id']}", headers=keys[ODENSE_HOSPITAL])
    body: dict[str, Any] = response.json()
    return body


def receipt_items(client: TestClient, keys: Keys) -> list[dict[str, Any]]:
    items = client.get("/v1/inbox", headers=keys[ODENSE_HOSPITAL]).json()["items"]
    return [item for item in items if item["type"] == "receipt"]


class TestPositiveAcknowledgement:
    def test_it_answers_201_with_an_xctl03_receipt_to_the_sender(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = ack(client, keys, plan, ODENSE_KOMMUNE)

        assert response.status_code == 201, response.text
        receipt = response.json()["receipt"]
        assert receipt["type"] == "receipt"
        assert receipt["kind"] == "positive"
        assert receipt["sender_gln"] == ODENSE_KOMMUNE
        assert receipt["original_letter_ids"] == [plan["letter_id"]]
        assert receipt["original_envelope_id"] == delivery_to(plan, ODENSE_KOMMUNE)["envelope_id"]
        assert [d["receiver_gln"] for d in receipt["deliveries"]] == [ODENSE_HOSPITAL]

    def test_the_delivery_becomes_acknowledged_in_tracking(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        receipt = ack(client, keys, plan, ODENSE_KOMMUNE).json()["receipt"]

        delivery = delivery_to(tracking(client, keys, plan), ODENSE_KOMMUNE)
        assert delivery["status"] == "acknowledged"
        assert delivery["receipt"]["message_id"] == receipt["message_id"]
        assert delivery["receipt"]["kind"] == "positive"
        assert [c["status"] for c in delivery["status_history"]] == ["available", "acknowledged"]

    def test_the_acknowledged_delivery_leaves_the_inbox(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        ack(client, keys, plan, ODENSE_KOMMUNE)

        assert client.get("/v1/inbox", headers=keys[ODENSE_KOMMUNE]).json()["items"] == []

    def test_the_receipt_reaches_the_senders_inbox_valid_against_medcoms_xsd(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        ack(client, keys, plan, ODENSE_KOMMUNE)

        [item] = receipt_items(client, keys)
        xml = client.get(
            f"/v1/inbox/{item['delivery_id']}",
            headers=keys[ODENSE_HOSPITAL] | {"Accept": "application/xml"},
        ).content
        assert XsdRegistry().validate("receipt", xml) == []
        root = etree.fromstring(xml)
        ns = {"m": MEDCOM_2005}
        assert root.findtext("m:Envelope/m:AcknowledgementCode", namespaces=ns) == (
            "minuspositivkvitt"
        )
        original = root.find("m:PositiveReceipt/m:OriginalEmessage", ns)
        assert original.findtext("m:OriginalSender/m:EANIdentifier", namespaces=ns) == (
            ODENSE_HOSPITAL
        )
        assert original.findtext("m:OriginalReceiver/m:EANIdentifier", namespaces=ns) == (
            ODENSE_KOMMUNE
        )
        assert (
            original.findtext("m:OriginalLetter/m:OriginalLetterIdentifier", namespaces=ns)
            == (plan["letter_id"])
        )
        assert original.findtext("m:OriginalLetter/m:OriginalVersionCode", namespaces=ns) == (
            "GGOP100"
        )

    def test_a_receipt_for_an_xdis91_copy_names_version_xd9134l(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        ack(client, keys, plan, HJALLESE_GP)

        [item] = receipt_items(client, keys)
        assert "<OriginalVersionCode>XD9134L</OriginalVersionCode>" in item["xml"]

    def test_the_same_acknowledgement_again_returns_the_same_receipt(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        first = ack(client, keys, plan, ODENSE_KOMMUNE).json()

        again = ack(client, keys, plan, ODENSE_KOMMUNE)

        assert again.status_code == 200
        assert again.json()["receipt"]["message_id"] == first["receipt"]["message_id"]
        assert len(receipt_items(client, keys)) == 1

    def test_a_contradicting_acknowledgement_is_a_conflict(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        ack(client, keys, plan, ODENSE_KOMMUNE)

        response = ack(
            client, keys, plan, ODENSE_KOMMUNE, result="negative", refuse_code="syntaksfejl"
        )

        assert_problem(response, 409, "conflict")

    def test_only_the_receiver_may_acknowledge(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        delivery_id = delivery_to(plan, ODENSE_KOMMUNE)["delivery_id"]

        response = client.post(
            f"/v1/inbox/{delivery_id}/ack",
            json={"result": "positive"},
            headers=keys[ODENSE_HOSPITAL],
        )

        assert_problem(response, 404, "not_found")


class TestNegativeAcknowledgement:
    def test_it_sends_an_xctl02_with_the_refuse_code_and_text(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = ack(
            client,
            keys,
            plan,
            ODENSE_KOMMUNE,
            result="negative",
            refuse_code="problem_med_version",
            refuse_text="Vi modtager kun GGOP.\nHilsen IT",
        )

        assert response.status_code == 201
        [item] = receipt_items(client, keys)
        assert item["format"] == "XCTL02"
        assert "<RefuseCode>problem_med_version</RefuseCode>" in item["xml"]
        assert "Vi modtager kun GGOP.<Break/>Hilsen IT" in item["xml"]

    def test_the_delivery_becomes_rejected_with_the_refuse_code(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        ack(client, keys, plan, ODENSE_KOMMUNE, result="negative", refuse_code="syntaksfejl")

        delivery = delivery_to(tracking(client, keys, plan), ODENSE_KOMMUNE)
        assert delivery["status"] == "rejected"
        assert delivery["receipt"]["refuse_code"] == "syntaksfejl"

    def test_a_negative_acknowledgement_needs_a_refuse_code(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = ack(client, keys, plan, ODENSE_KOMMUNE, result="negative")

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"refuse_code": "refuse_code_required"}

    def test_a_positive_acknowledgement_refuses_nothing(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = ack(
            client, keys, plan, ODENSE_KOMMUNE, result="positive", refuse_text="Forkert format"
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"refuse_text": "refusal_in_positive_receipt"}

    def test_an_unknown_refuse_code_is_refused(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = ack(client, keys, plan, ODENSE_KOMMUNE, result="negative", refuse_code="nej")

        assert_problem(response, 422, "validation_failed")


class TestReceiptsInTheSendersInbox:
    def test_a_receipt_is_acknowledged_without_a_receipt_of_its_own(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        ack(client, keys, plan, ODENSE_KOMMUNE)
        [item] = receipt_items(client, keys)

        response = client.post(
            f"/v1/inbox/{item['delivery_id']}/ack",
            json={"result": "positive"},
            headers=keys[ODENSE_HOSPITAL],
        )

        assert response.status_code == 200
        assert response.json()["receipt"] is None
        assert receipt_items(client, keys) == []
        assert client.get("/v1/inbox", headers=keys[ODENSE_KOMMUNE]).json()["items"] == []

    def test_a_receipt_cannot_be_refused(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        ack(client, keys, plan, ODENSE_KOMMUNE)
        [item] = receipt_items(client, keys)

        response = client.post(
            f"/v1/inbox/{item['delivery_id']}/ack",
            json={"result": "negative", "refuse_code": "syntaksfejl"},
            headers=keys[ODENSE_HOSPITAL],
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"result": "receipt_not_refusable"}


class TestDuplicates:
    def test_a_duplicate_of_an_acknowledged_plan_answers_with_the_stored_receipt(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        receipt = ack(client, keys, plan, ODENSE_KOMMUNE).json()["receipt"]

        again = post_plan(client, keys[ODENSE_HOSPITAL])

        assert again.status_code == 200
        delivery = delivery_to(again.json(), ODENSE_KOMMUNE)
        assert delivery["receipt"]["message_id"] == receipt["message_id"]

    def test_a_duplicate_never_shows_in_an_inbox_again(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        ack(client, keys, plan, ODENSE_KOMMUNE)

        post_plan(client, keys[ODENSE_HOSPITAL])

        assert client.get("/v1/inbox", headers=keys[ODENSE_KOMMUNE]).json()["items"] == []


class TestResend:
    def test_a_resend_gives_a_new_envelope_and_keeps_the_letter_id(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        before = delivery_to(plan, ODENSE_KOMMUNE)

        response = client.post(
            f"/v1/messages/{plan['message_id']}/resend", headers=keys[ODENSE_HOSPITAL]
        )

        assert response.status_code == 200, response.text
        after = delivery_to(response.json(), ODENSE_KOMMUNE)
        assert after["envelope_id"] != before["envelope_id"]
        assert after["resends"] == 1
        assert [c["envelope_id"] for c in after["status_history"]] == [
            before["envelope_id"],
            after["envelope_id"],
        ]
        [item] = client.get("/v1/inbox", headers=keys[ODENSE_KOMMUNE]).json()["items"]
        assert f"<Identifier>{after['envelope_id']}</Identifier>" in item["xml"]
        assert f"<Identifier>{plan['letter_id']}</Identifier>" in item["xml"]
        assert XsdRegistry().validate("ggop", item["xml"].encode("iso-8859-1")) == []

    def test_acknowledged_deliveries_are_not_resent(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        ack(client, keys, plan, ODENSE_KOMMUNE)

        response = client.post(
            f"/v1/messages/{plan['message_id']}/resend", headers=keys[ODENSE_HOSPITAL]
        )

        assert delivery_to(response.json(), ODENSE_KOMMUNE)["resends"] == 0
        assert delivery_to(response.json(), HJALLESE_GP)["resends"] == 1

    def test_a_third_resend_is_refused_with_the_rule(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        path = f"/v1/messages/{plan['message_id']}/resend"
        for _ in range(2):
            assert client.post(path, headers=keys[ODENSE_HOSPITAL]).status_code == 200

        response = client.post(path, headers=keys[ODENSE_HOSPITAL])

        problem = assert_problem(response, 409, "conflict")
        assert rules_by_field(problem) == {"message_id": "resend_limit"}

    def test_nothing_to_resend_when_every_delivery_has_its_receipt(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        ack(client, keys, plan, ODENSE_KOMMUNE)
        ack(client, keys, plan, HJALLESE_GP)

        response = client.post(
            f"/v1/messages/{plan['message_id']}/resend", headers=keys[ODENSE_HOSPITAL]
        )

        problem = assert_problem(response, 409, "conflict")
        assert rules_by_field(problem) == {"message_id": "nothing_to_resend"}

    def test_only_the_sender_resends(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = client.post(
            f"/v1/messages/{plan['message_id']}/resend", headers=keys[ODENSE_KOMMUNE]
        )

        assert_problem(response, 403, "forbidden")

    def test_a_late_receipt_for_the_first_envelope_still_settles_the_delivery(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        first_envelope = delivery_to(plan, ODENSE_KOMMUNE)["envelope_id"]
        client.post(f"/v1/messages/{plan['message_id']}/resend", headers=keys[ODENSE_HOSPITAL])

        response = client.post(
            "/v1/receipts",
            content=positive_receipt(first_envelope, plan["letter_id"]),
            headers=keys[ODENSE_KOMMUNE] | {"Content-Type": "application/xml"},
        )

        assert response.status_code == 201, response.text
        assert response.json()["delivery"]["status"] == "acknowledged"


def positive_receipt(envelope_id: str, letter_id: str, *, sender: str = ODENSE_KOMMUNE) -> bytes:
    """An XCTL03 as another MedCom system writes it, for a letter from Odense hospital."""
    return (
        '<?xml version="1.0" encoding="windows-1252"?>'
        f'<Emessage xmlns="{MEDCOM_2005}"><Envelope><Sent><Date>2026-11-20</Date>'
        "<Time>10:00</Time></Sent><Identifier>EXT0001</Identifier>"
        "<AcknowledgementCode>minuspositivkvitt</AcknowledgementCode></Envelope>"
        "<PositiveReceipt><Letter><Identifier>EXTBREV01</Identifier>"
        "<VersionCode>XC0330Q</VersionCode><StatisticalCode>XCTL03</StatisticalCode></Letter>"
        f"<Sender><EANIdentifier>{sender}</EANIdentifier></Sender>"
        f"<Receiver><EANIdentifier>{ODENSE_HOSPITAL}</EANIdentifier></Receiver>"
        f"<OriginalEmessage><OriginalEnvelopeIdentifier>{envelope_id}"
        "</OriginalEnvelopeIdentifier>"
        f"<OriginalSender><EANIdentifier>{ODENSE_HOSPITAL}</EANIdentifier></OriginalSender>"
        f"<OriginalReceiver><EANIdentifier>{ODENSE_KOMMUNE}</EANIdentifier></OriginalReceiver>"
        f"<OriginalLetter><OriginalLetterIdentifier>{letter_id}</OriginalLetterIdentifier>"
        "<OriginalVersionCode>GGOP100</OriginalVersionCode></OriginalLetter>"
        "</OriginalEmessage></PositiveReceipt></Emessage>"
    ).encode("cp1252")


class TestReceiptsFromOutside:
    def post(self, client: TestClient, headers: dict[str, str], xml: bytes) -> Any:
        return client.post(
            "/v1/receipts", content=xml, headers=headers | {"Content-Type": "application/xml"}
        )

    def test_a_positive_receipt_acknowledges_the_delivery(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        envelope_id = delivery_to(plan, ODENSE_KOMMUNE)["envelope_id"]

        response = self.post(
            client, keys[ODENSE_KOMMUNE], positive_receipt(envelope_id, plan["letter_id"])
        )

        assert response.status_code == 201, response.text
        delivery = delivery_to(tracking(client, keys, plan), ODENSE_KOMMUNE)
        assert delivery["status"] == "acknowledged"
        [item] = receipt_items(client, keys)
        assert item["letter_id"] == "EXTBREV01"
        assert item["xml"].startswith("<?xml version='1.0' encoding='ISO-8859-1'?>")

    def test_the_same_receipt_posted_twice_answers_200(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        xml = positive_receipt(delivery_to(plan, ODENSE_KOMMUNE)["envelope_id"], plan["letter_id"])
        first = self.post(client, keys[ODENSE_KOMMUNE], xml).json()

        again = self.post(client, keys[ODENSE_KOMMUNE], xml)

        assert again.status_code == 200
        assert again.json()["receipt"]["message_id"] == first["receipt"]["message_id"]

    def test_an_unknown_letter_is_named_in_a_422(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        envelope_id = delivery_to(plan, ODENSE_KOMMUNE)["envelope_id"]

        response = self.post(client, keys[ODENSE_KOMMUNE], positive_receipt(envelope_id, "NOPE"))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {
            "/Emessage/PositiveReceipt/OriginalEmessage/OriginalLetter[1]"
            "/OriginalLetterIdentifier": "receipt_reference_unknown"
        }

    def test_a_receipt_in_someone_elses_name_is_forbidden(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        envelope_id = delivery_to(plan, ODENSE_KOMMUNE)["envelope_id"]

        response = self.post(
            client, keys[HJALLESE_GP], positive_receipt(envelope_id, plan["letter_id"])
        )

        assert_problem(response, 403, "forbidden")

    def test_only_the_original_receiver_may_send_the_receipt(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        envelope_id = delivery_to(plan, ODENSE_KOMMUNE)["envelope_id"]
        xml = positive_receipt(envelope_id, plan["letter_id"], sender=HJALLESE_GP)

        response = self.post(client, keys[HJALLESE_GP], xml)

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem)["/Emessage/PositiveReceipt/Sender/EANIdentifier"] == (
            "receipt_sender_not_original_receiver"
        )

    def test_a_receipt_must_be_xml(
        self, client: TestClient, keys: Keys, plan: dict[str, Any]
    ) -> None:
        response = client.post("/v1/receipts", json={}, headers=keys[ODENSE_KOMMUNE])

        assert_problem(response, 415, "unsupported_media_type")


def receipt_of_receipt(kind: str, item: dict[str, Any], *, sender: str = ODENSE_HOSPITAL) -> bytes:
    """A receipt (XCTL01, XCTL02 or XCTL03) from another MedCom system for the receipt `item`
    in Odense hospital's inbox, which Odense Kommune sent."""
    element, version_code, refusal = {
        "XCTL03": ("PositiveReceipt", "XC0330Q", ""),
        "XCTL02": ("NegativeReceipt", "XC0230Q", "<RefuseCode>syntaksfejl</RefuseCode>"),
        "XCTL01": ("NegativeVansReceipt", "XC0130Q", ""),
    }[kind]
    envelope_refusal = "<RefuseCode>ukendt_lokationsnummer</RefuseCode>" if kind == "XCTL01" else ""
    return (
        '<?xml version="1.0" encoding="windows-1252"?>'
        f'<Emessage xmlns="{MEDCOM_2005}"><Envelope><Sent><Date>2026-11-20</Date>'
        "<Time>10:05</Time></Sent><Identifier>EXT0002</Identifier>"
        "<AcknowledgementCode>minuspositivkvitt</AcknowledgementCode></Envelope>"
        f"<{element}><Letter><Identifier>EXTBREV02</Identifier>"
        f"<VersionCode>{version_code}</VersionCode><StatisticalCode>{kind}</StatisticalCode>"
        f"</Letter><Sender><EANIdentifier>{sender}</EANIdentifier></Sender>"
        f"<Receiver><EANIdentifier>{ODENSE_KOMMUNE}</EANIdentifier></Receiver>"
        f"<OriginalEmessage><OriginalEnvelopeIdentifier>{item['envelope_id']}"
        "</OriginalEnvelopeIdentifier>"
        f"<OriginalSender><EANIdentifier>{ODENSE_KOMMUNE}</EANIdentifier></OriginalSender>"
        f"<OriginalReceiver><EANIdentifier>{ODENSE_HOSPITAL}</EANIdentifier></OriginalReceiver>"
        f"{envelope_refusal}<OriginalLetter><OriginalLetterIdentifier>{item['letter_id']}"
        "</OriginalLetterIdentifier><OriginalVersionCode>XC0330Q</OriginalVersionCode>"
        f"{refusal}</OriginalLetter></OriginalEmessage></{element}></Emessage>"
    ).encode("cp1252")


class TestReceiptsAboutReceipts:
    """Receipts are never receipted (formats.md §6), whoever posts the receipt."""

    @pytest.fixture
    def receipt_item(self, client: TestClient, keys: Keys, plan: dict[str, Any]) -> dict[str, Any]:
        """Odense Kommune's XCTL03 for the plan, in Odense hospital's inbox."""
        assert ack(client, keys, plan, ODENSE_KOMMUNE).status_code == 201
        [item] = receipt_items(client, keys)
        return item

    def post(self, client: TestClient, headers: dict[str, str], xml: bytes) -> Any:
        return client.post(
            "/v1/receipts", content=xml, headers=headers | {"Content-Type": "application/xml"}
        )

    def message_and_delivery_counts(self, session: Session) -> tuple[int, int]:
        session.expire_all()
        messages = session.scalar(select(func.count()).select_from(orm.Message))
        deliveries = session.scalar(select(func.count()).select_from(orm.Delivery))
        return messages or 0, deliveries or 0

    def test_a_negative_receipt_for_a_receipt_is_refused_as_not_refusable(
        self, client: TestClient, keys: Keys, session: Session, receipt_item: dict[str, Any]
    ) -> None:
        before = self.message_and_delivery_counts(session)

        response = self.post(
            client, keys[ODENSE_HOSPITAL], receipt_of_receipt("XCTL02", receipt_item)
        )

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {
            "/Emessage/NegativeReceipt/OriginalEmessage/OriginalLetter[1]"
            "/OriginalLetterIdentifier": "receipt_not_refusable"
        }
        assert self.message_and_delivery_counts(session) == before
        assert [i["delivery_id"] for i in receipt_items(client, keys)] == [
            receipt_item["delivery_id"]
        ]

    def test_a_positive_receipt_for_a_receipt_only_acknowledges_it(
        self, client: TestClient, keys: Keys, session: Session, receipt_item: dict[str, Any]
    ) -> None:
        before = self.message_and_delivery_counts(session)

        response = self.post(
            client, keys[ODENSE_HOSPITAL], receipt_of_receipt("XCTL03", receipt_item)
        )

        assert response.status_code == 200, response.text
        assert response.json()["delivery"]["delivery_id"] == receipt_item["delivery_id"]
        assert response.json()["delivery"]["status"] == "acknowledged"
        assert response.json()["receipt"] is None
        assert receipt_items(client, keys) == []
        assert client.get("/v1/inbox", headers=keys[ODENSE_KOMMUNE]).json()["items"] == []
        assert self.message_and_delivery_counts(session) == before

    def test_a_vans_receipt_for_a_receipt_only_acknowledges_it(
        self,
        client: TestClient,
        keys: Keys,
        gateway_headers: dict[str, str],
        session: Session,
        receipt_item: dict[str, Any],
    ) -> None:
        before = self.message_and_delivery_counts(session)
        xml = receipt_of_receipt("XCTL01", receipt_item, sender="DKKMDKMDNET")

        response = self.post(client, gateway_headers, xml)

        assert response.status_code == 200, response.text
        assert response.json()["delivery"]["delivery_id"] == receipt_item["delivery_id"]
        assert response.json()["delivery"]["status"] == "acknowledged"
        assert response.json()["receipt"] is None
        assert receipt_items(client, keys) == []
        assert client.get("/v1/inbox", headers=keys[ODENSE_KOMMUNE]).json()["items"] == []
        assert self.message_and_delivery_counts(session) == before

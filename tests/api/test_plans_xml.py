"""POST /v1/plans with GGOP XML: MedCom's public example goes in as XML, is kept as JSON, and
comes out to the kommune as GGOP with every element it had."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session
from stdnum import ean

from tests.api.helpers import assert_problem, rules_by_field
from tests.factories import (
    DATA,
    ODENSE_HOSPITAL,
    ODENSE_KOMMUNE,
    add_hospital,
    add_key,
    add_organisation,
    bearer,
    gp_fields,
)

EXAMPLE = DATA / "medcom" / "ggop-genoptraeningsplan-GGOP100-ns1.0.4-example.xml"
# The example's GP and CC/result receiver carry GLNs with wrong check digits (architecture.md,
# R43), and routing GLNs must be valid. The two differ only in that wrong last digit, so the GP
# gets its number with the right digit and the CC practice the next number up.
BAD_GP, BAD_CC = "5790002012274", "5790002012276"
GOOD_GP = BAD_GP[:12] + ean.calc_check_digit(BAD_GP[:12])
GOOD_CC = "579000201228" + ean.calc_check_digit("579000201228")
FORMATTING = {"Break", "Bold", "Italic", "Underline", "FixedFont", "Space", "Right", "Center"}
# A new transmission gets its own envelope (MedCom: new envelope id and send time).
NEW_PER_TRANSMISSION = {"Envelope/Sent/Date", "Envelope/Sent/Time", "Envelope/Identifier"}


def example(*, corrected: bool = True) -> bytes:
    data = EXAMPLE.read_bytes()
    if corrected:
        data = data.replace(BAD_GP.encode(), GOOD_GP.encode())
        data = data.replace(BAD_CC.encode(), GOOD_CC.encode())
    return data


@pytest.fixture
def example_parties(session: Session) -> dict[str, dict[str, str]]:
    """The directory as the example's Sender, Receiver and copy receivers describe them."""
    add_hospital(
        session,
        unit="Q",
        street="Sdr. Boulevard 29",
        district="Odense C",
        postcode="5000",
        phone="+4566131372",
    )
    add_organisation(
        session,
        name="Odense kommune",
        department="Hjemmeplejen",
        unit="Æbleblomsten",
        phone=None,
        accepts=["GGOP"],
    )
    add_organisation(
        session,
        **gp_fields(
            gln=GOOD_GP,
            name="Arta Masoumi",
            street="Slotsbryggen 18",
            district="Nykøbing Falster",
            postcode="5120",
            phone=None,
        ),
    )
    add_organisation(
        session,
        **gp_fields(
            gln=GOOD_CC,
            name="Arne Agertoft & Hanne Petersen",
            department=None,
            identifier="037974",
            street=None,
            district=None,
            postcode=None,
            phone=None,
        ),
    )
    return {gln: bearer(add_key(session, gln=gln)) for gln in (ODENSE_HOSPITAL, ODENSE_KOMMUNE)}


def post_xml(client: TestClient, headers: dict[str, str], body: bytes) -> Any:
    return client.post(
        "/v1/plans", content=body, headers=headers | {"Content-Type": "application/xml"}
    )


def content(document: bytes) -> set[tuple[str, str]]:
    """Every value of a document as (path with namespaces and positions, text); formatted text
    as its words plus the order of its formatting."""
    root = etree.fromstring(document)
    found: set[tuple[str, str]] = set()

    def walk(element: Any, path: str) -> None:
        children = [c for c in element if isinstance(c.tag, str)]
        if children and not {etree.QName(c).localname for c in children} <= FORMATTING:
            counts: dict[str, int] = {}
            for child in children:
                counts[child.tag] = counts.get(child.tag, 0) + 1
                walk(child, f"{path}/{child.tag}[{counts[child.tag]}]")
            return
        words = " ".join(" ".join(element.itertext()).split())
        layout = [etree.QName(c).localname for c in children]
        while layout and layout[-1] == "Break":
            layout.pop()  # trailing line breaks carry nothing
        found.add((path, f"{words} {layout}" if layout else words))

    walk(root, "")
    return found


def plain(path: str) -> str:
    return re.sub(r"\{[^}]*\}|\[\d+\]", "", path).strip("/").removeprefix("Emessage/")


class TestGgopIn:
    def test_the_public_example_round_trips_with_every_element_kept(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        submitted = post_xml(client, example_parties[ODENSE_HOSPITAL], example())
        assert submitted.status_code == 201, submitted.text
        delivery = next(
            d for d in submitted.json()["deliveries"] if d["receiver_gln"] == ODENSE_KOMMUNE
        )

        out = client.get(
            f"/v1/inbox/{delivery['delivery_id']}",
            headers=example_parties[ODENSE_KOMMUNE] | {"Accept": "application/xml"},
        ).content

        missing = {
            (path, text)
            for path, text in content(example()) - content(out)
            if plain(path) not in NEW_PER_TRANSMISSION
        }
        assert missing == set()

    def test_the_plan_read_from_xml_is_kept_as_json(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        message_id = post_xml(client, example_parties[ODENSE_HOSPITAL], example()).json()[
            "message_id"
        ]

        plan = client.get(
            f"/v1/plans/{message_id}", headers=example_parties[ODENSE_KOMMUNE]
        ).json()["plan"]

        assert plan["plan_type"] == "specialiseret"
        assert plan["patient"]["cpr"] == "2512484916"
        assert plan["patient"]["municipality_code"] == "461"
        assert plan["gp"] == {"deselected": False, "gln": GOOD_GP}
        assert plan["discharge_date"] == "2014-12-20"
        assert plan["diagnoses"]["primary"]["code"] == "DC189"
        assert len(plan["care_team"]) == 5

    def test_informational_eans_and_an_assumed_deadline_are_warnings(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        response = post_xml(client, example_parties[ODENSE_HOSPITAL], example())

        warnings = {(w["field"], w["rule"]) for w in response.json()["warnings"]}
        assert warnings >= {
            ("/Emessage/RehabilitationPlan/ContactCounty/EANIdentifier", "gln_length"),
            (
                "/Emessage/RehabilitationPlan/HospitalAmbulatoryControl/Location/EANIdentifier",
                "gln_check_digit",
            ),
            ("/Emessage/RehabilitationPlan/RehabilitationDeadline", "deadline_assumed"),
        }

    def test_the_example_as_published_names_the_routing_glns_with_bad_check_digits(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        response = post_xml(client, example_parties[ODENSE_HOSPITAL], example(corrected=False))

        assert rules_by_field(assert_problem(response, 422, "validation_failed")) == {
            "/Emessage/RehabilitationPlan/GPCCReceiver/CCReceiver/EANIdentifier": (
                "gln_check_digit"
            ),
            "/Emessage/RehabilitationPlan/CCReceiver[1]/EANIdentifier": "gln_check_digit",
            "/Emessage/RehabilitationPlan/FinalResult/ResultReceiver[1]/EANIdentifier": (
                "gln_check_digit"
            ),
        }

    def test_the_same_plan_as_xml_twice_is_a_duplicate(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        first = post_xml(client, example_parties[ODENSE_HOSPITAL], example()).json()

        again = post_xml(client, example_parties[ODENSE_HOSPITAL], example())

        assert again.status_code == 200
        assert again.json()["message_id"] == first["message_id"]

    def test_a_receiver_outside_the_directory_names_the_receiver_element(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        body = example().replace(b"5790000121441", b"5790000121526")

        response = post_xml(client, example_parties[ODENSE_HOSPITAL], body)

        assert rules_by_field(assert_problem(response, 422, "validation_failed")) == {
            "/Emessage/RehabilitationPlan/Receiver/EANIdentifier": "receiver_unknown"
        }

    def test_a_document_with_a_doctype_is_refused(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        body = (
            b'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>'
        )

        response = post_xml(client, example_parties[ODENSE_HOSPITAL], body)

        problem = assert_problem(response, 422, "validation_failed")
        assert set(rules_by_field(problem).values()) == {"xml_doctype_forbidden"}
        assert "root:" not in response.text

"""POST /v1/plans with GGOP XML: MedCom's public example goes in as XML, is kept as JSON, and
comes out to the kommune as GGOP with every element it had."""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy.orm import Session
from stdnum import ean

from app.xml.render import sks_icf_code
from tests.api.helpers import assert_problem, post_plan, rules_by_field
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

    def test_the_example_loses_nothing_so_its_warnings_name_no_dropped_element(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        response = post_xml(client, example_parties[ODENSE_HOSPITAL], example())

        assert response.status_code == 201, response.text
        assert {w["rule"] for w in response.json()["warnings"]} <= {
            "gln_length",
            "gln_check_digit",
            "deadline_assumed",
            "function_before_admission_missing",  # R7a: GGOP has no element for it
            "plan_after_discharge",  # R11: MedCom's example was written in 2015
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


class TestRulesForXmlInput:
    # The XML path maps into the same Plan model as JSON, so the same rules apply.

    def test_a_late_plan_is_warned_about_at_its_discharge_element(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        # The example's patient was discharged in December 2014 (R11).
        response = post_xml(client, example_parties[ODENSE_HOSPITAL], example())

        rules = {w["rule"]: w["field"] for w in response.json()["warnings"]}
        assert rules["plan_after_discharge"].startswith("/Emessage/RehabilitationPlan")

    def test_a_rehabilitering_plan_without_the_overall_functional_ability_is_refused(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        body = re.sub(
            rb"<mm104:AbilityAtDischargeExtended.*</mm104:AbilityAtDischargeExtended>",
            b"",
            example(),
            flags=re.S,
        ).replace(
            b"<TypeOfRehabilitationPlan>specialiseret<",
            b"<TypeOfRehabilitationPlan>rehabilitering<",
        )

        response = post_xml(client, example_parties[ODENSE_HOSPITAL], body)

        problem = assert_problem(response, 422, "validation_failed")
        assert "overall_function_required" in rules_by_field(problem).values()


def kommune_ggop(client: TestClient, keys: dict[str, dict[str, str]], submitted: Any) -> bytes:
    """The GGOP the kommune received for a submitted plan."""
    delivery = next(
        d for d in submitted.json()["deliveries"] if d["receiver_gln"] == ODENSE_KOMMUNE
    )
    response = client.get(
        f"/v1/inbox/{delivery['delivery_id']}",
        headers=keys[ODENSE_KOMMUNE] | {"Accept": "application/xml"},
    )
    assert response.status_code == 200, response.text
    return response.content


def stored_plan(client: TestClient, keys: dict[str, dict[str, str]], submitted: Any) -> Any:
    message_id = submitted.json()["message_id"]
    return client.get(f"/v1/plans/{message_id}", headers=keys[ODENSE_KOMMUNE]).json()["plan"]


def as_new_letter(ggop: bytes) -> bytes:
    """The document with another letter id, so that posting it is no duplicate."""
    return ggop.replace(b"<Identifier>OUH2026112001<", b"<Identifier>OUH2026112099<")


class TestOwnGgopBack:
    """The service accepts its own GGOP, and reads it back to the plan it rendered."""

    @pytest.mark.parametrize(
        "hospital_contact",
        [
            {"start": "2026-11-13T12:34:00+01:00", "expected_end_text": "Når såret er lukket"},
            {"start": "2026-11-13T12:34:00+01:00"},
            None,
        ],
        ids=["words", "no-end", "no-contact"],
    )
    def test_the_kommunes_ggop_posts_back_to_the_same_plan(
        self, client: TestClient, keys: dict[str, dict[str, str]], hospital_contact: Any
    ) -> None:
        submitted = post_plan(
            client,
            keys[ODENSE_HOSPITAL],
            hospital_contact=hospital_contact,
            receiver_gln=ODENSE_KOMMUNE,  # GGOP always names it
        )
        assert submitted.status_code == 201, submitted.text

        again = post_xml(
            client, keys[ODENSE_HOSPITAL], as_new_letter(kommune_ggop(client, keys, submitted))
        )

        assert again.status_code == 201, again.text
        first, second = stored_plan(client, keys, submitted), stored_plan(client, keys, again)
        # GGOP writes ICF codes in SKS form (R49): d450 comes back as FD450, the same code.
        first["icf"] = [icf | {"code": sks_icf_code(icf["code"])} for icf in first["icf"]]
        assert second | {"letter_id": first["letter_id"]} == first

    def test_the_discharge_date_reaches_the_kommune_with_the_words_for_the_end(
        self, client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        contact = {"start": "2026-11-13T12:34:00+01:00", "expected_end_text": "Efter aftale"}
        submitted = post_plan(client, keys[ODENSE_HOSPITAL], hospital_contact=contact)

        root = etree.fromstring(kommune_ggop(client, keys, submitted))

        found = root.findtext(".//{*}CurrentHospitalContact/{*}ExpectedEndText")
        assert found == "Udskrivelsesdato 20-11-2026: Efter aftale"

    def test_the_level_reaches_the_kommunes_ggop(
        self, client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        submitted = post_plan(client, keys[ODENSE_HOSPITAL], level="avanceret")

        root = etree.fromstring(kommune_ggop(client, keys, submitted))

        assert root.findtext(".//{*}TypeOfRehabilitationPlan") == "avanceret"


def without(document: bytes, element: bytes) -> bytes:
    """The document without the first `element` (its name with any prefix) and its content."""
    found = re.search(
        rb"\s*<(?:mm100:)?" + element + rb"\b.*?</(?:mm100:)?" + element + rb">",
        document,
        re.DOTALL,
    )
    assert found is not None
    return document[: found.start()] + document[found.end() :]


class TestGgopHeldToJsonRules:
    @pytest.mark.parametrize(
        ("element", "field"),
        [
            (b"ConsentInformed", "ConsentInformed"),
            (b"AbilityAtDischargeSummary", "AbilityAtDischargeSummary"),
            (b"ContactCounty", "ContactCounty"),
            (b"GPCCReceiver", "GPCCReceiver"),
        ],
    )
    def test_a_missing_required_element_is_named_by_its_xpath(
        self,
        client: TestClient,
        example_parties: dict[str, dict[str, str]],
        element: bytes,
        field: str,
    ) -> None:
        response = post_xml(client, example_parties[ODENSE_HOSPITAL], without(example(), element))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {f"/Emessage/RehabilitationPlan/{field}": "missing"}

    def test_a_deadline_21_days_after_discharge_without_a_reason_is_refused_as_in_json(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        body = example().replace(
            b"<RehabilitationDeadline>Fri tekst<",
            b"<RehabilitationDeadline>Kommunens f\xc3\xb8rste kontakt senest 10-01-2015.<",
        )

        response = post_xml(client, example_parties[ODENSE_HOSPITAL], body)

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {
            "/Emessage/RehabilitationPlan/RehabilitationDeadline": "deadline_reason_required"
        }

    def test_a_later_deadline_with_its_reason_after_begrundelse_is_accepted(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        body = example().replace(
            b"<RehabilitationDeadline>Fri tekst<",
            b"<RehabilitationDeadline>Tidligst 10-01-2015. Begrundelse: S\xc3\xa5ret skal hele.<",
        )

        response = post_xml(client, example_parties[ODENSE_HOSPITAL], body)

        assert response.status_code == 201, response.text

    def test_an_element_the_schema_does_not_know_is_refused(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        body = example().replace(
            b"<ConsentInformed>ja</ConsentInformed>",
            b"<ConsentInformed>ja</ConsentInformed><Extra>x</Extra>",
        )

        response = post_xml(client, example_parties[ODENSE_HOSPITAL], body)

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {
            "/Emessage/RehabilitationPlan/Extra": "xml_element_unexpected"
        }

    def test_a_schema_error_does_not_quote_the_document(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        body = example().replace(b"<Date>2014-12-13</Date>", b"<Date>2512484916</Date>")

        response = post_xml(client, example_parties[ODENSE_HOSPITAL], body)

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {
            "/Emessage/RehabilitationPlan/CurrentHospitalContact/Start/Date": "xml_schema"
        }
        assert "2512484916" not in response.text


class TestInboundDataKept:
    def test_the_senders_and_receivers_sub_units_are_kept_over_the_directorys(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        body = (
            example()
            .replace(b"<mm100:UnitName>Q<", b"<mm100:UnitName>Afsnit Q7<")
            .replace("Æbleblomsten".encode(), b"Visitationen")
        )
        submitted = post_xml(client, example_parties[ODENSE_HOSPITAL], body)
        assert submitted.status_code == 201, submitted.text

        root = etree.fromstring(kommune_ggop(client, example_parties, submitted))

        assert root.findtext(".//{*}Sender/{*}UnitName") == "Afsnit Q7"
        assert root.findtext(".//{*}Receiver/{*}UnitName") == "Visitationen"

    def test_contact_identifiers_names_suburbs_and_the_location_phone_are_kept(
        self, client: TestClient, example_parties: dict[str, dict[str, str]]
    ) -> None:
        county = (
            b"<mm100:EANIdentifier>57001231231</mm100:EANIdentifier>"
            b"<mm100:Identifier>1083</mm100:Identifier><IdentifierCode>region</IdentifierCode>"
            b"<mm100:OrganisationName>Region Syddanmark</mm100:OrganisationName>"
            b"<mm100:DepartmentName>Region \xc3\x98st</mm100:DepartmentName>"
            b"<mm100:UnitName>Visitation</mm100:UnitName>"
            b"<mm100:StreetName>Hovedvej 10</mm100:StreetName>"
            b"<mm100:SuburbName>Bolbro</mm100:SuburbName>"
        )
        body = re.sub(
            rb"<mm100:EANIdentifier>57001231231</mm100:EANIdentifier>.*?"
            rb"<mm100:StreetName>Hovedvej 10</mm100:StreetName>",
            county,
            example(),
            flags=re.DOTALL,
        ).replace(
            b"<mm100:PostCodeIdentifier>5120</mm100:PostCodeIdentifier>\n            </Location>",
            b"<mm100:PostCodeIdentifier>5120</mm100:PostCodeIdentifier>"
            b"<mm100:TelephoneSubscriberIdentifier>+4512345678</mm100:TelephoneSubscriberIdentifier>"
            b"</Location>",
        )
        submitted = post_xml(client, example_parties[ODENSE_HOSPITAL], body)
        assert submitted.status_code == 201, submitted.text

        out = kommune_ggop(client, example_parties, submitted)

        missing = {
            (path, text)
            for path, text in content(body) - content(out)
            if plain(path) not in NEW_PER_TRANSMISSION
        }
        assert missing == set()

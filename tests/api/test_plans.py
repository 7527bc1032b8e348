"""POST /v1/plans and friends: a hospital sends a genoptræningsplan; the bopælskommune gets it
as GGOP and the GP (who takes only XDIS91) as a letter; every rule answers a precise 422."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from lxml import etree
from sqlalchemy import Connection, event, select
from sqlalchemy.orm import Session

from app import orm
from app.state import app_state
from tests.api.helpers import assert_problem, post_plan, rules_by_field, with_patient
from tests.factories import (
    HJALLESE_GP,
    ISHOEJ_KOMMUNE,
    ODENSE_HOSPITAL,
    ODENSE_KOMMUNE,
    OTHER_HOSPITAL,
    add_hospital,
    plan_fields,
)

GGOP_NS = "urn:oio:medcom:municipality:1.0.4"
XDIS91_NS = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/"


class TestSubmitPlan:
    def test_the_reference_plan_is_stored_and_delivered_to_kommune_and_gp(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital)

        assert response.status_code == 201, response.text
        body = response.json()
        assert body["type"] == "plan"
        assert body["letter_id"] == "OUH2026112001"
        # Discharged 20 November, received 23 November (the frozen clock): late (R11).
        assert [w["rule"] for w in body["warnings"]] == ["plan_after_discharge"]
        deliveries = {d["receiver_gln"]: d for d in body["deliveries"]}
        assert {gln: (d["role"], d["format"], d["status"]) for gln, d in deliveries.items()} == {
            ODENSE_KOMMUNE: ("primary", "GGOP", "available"),
            HJALLESE_GP: ("gp_copy", "XDIS91", "available"),
        }

    def test_every_delivery_has_its_own_envelope_id(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        deliveries = post_plan(client, hospital).json()["deliveries"]

        envelope_ids = [d["envelope_id"] for d in deliveries]
        assert len(set(envelope_ids)) == 2
        assert all(len(e) <= 14 for e in envelope_ids)

    @pytest.mark.parametrize(
        ("plan_type", "level"),
        [("almen", "basal"), ("almen", None), ("specialiseret", None), ("rehabilitering", None)],
    )
    def test_each_plan_type_is_accepted(
        self,
        client: TestClient,
        hospital: dict[str, str],
        plan_type: str,
        level: str | None,
    ) -> None:
        response = post_plan(
            client,
            hospital,
            plan_type=plan_type,
            level=level,
            function_at_discharge_extended="Samlet funktionsevne: se nedenfor.",
        )

        assert response.status_code == 201, response.text

    def test_a_deselected_gp_gets_no_copy(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, gp={"deselected": True})

        assert [d["role"] for d in response.json()["deliveries"]] == ["primary"]

    def test_a_cc_receiver_gets_its_own_delivery(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, cc_receivers=[OTHER_HOSPITAL])

        roles = {d["receiver_gln"]: d["role"] for d in response.json()["deliveries"]}
        assert roles[OTHER_HOSPITAL] == "cc"

    def test_a_receiver_named_twice_gets_one_delivery(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, cc_receivers=[HJALLESE_GP])

        assert sorted(d["role"] for d in response.json()["deliveries"]) == ["gp_copy", "primary"]

    def test_result_receivers_are_kept_without_a_delivery(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, result_receivers=[OTHER_HOSPITAL])

        assert response.status_code == 201
        assert OTHER_HOSPITAL not in {d["receiver_gln"] for d in response.json()["deliveries"]}

    def test_an_informational_ean_with_a_bad_check_digit_is_a_warning(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        contact = plan_fields()["contact_region"] | {"ean": "5790002012272"}
        response = post_plan(client, hospital, contact_region=contact)

        assert response.status_code == 201
        warnings = [(w["field"], w["rule"]) for w in response.json()["warnings"]]
        assert ("contact_region.ean", "gln_check_digit") in warnings

    def test_the_same_plan_again_answers_200_with_the_first_message(
        self, client: TestClient, hospital: dict[str, str], session: Session
    ) -> None:
        first = post_plan(client, hospital).json()

        again = post_plan(client, hospital)

        assert again.status_code == 200
        assert again.json()["message_id"] == first["message_id"]
        assert again.json()["deliveries"] == first["deliveries"]
        assert session.scalars(select(orm.Delivery)).all().__len__() == 2

    def test_a_copy_is_answered_as_the_duplicate_even_after_the_directory_changed(
        self, client: TestClient, hospital: dict[str, str], session: Session
    ) -> None:
        first = post_plan(client, hospital).json()
        kommune = session.get(orm.Organisation, ODENSE_KOMMUNE)
        assert kommune is not None
        kommune.is_active = False
        session.commit()

        again = post_plan(client, hospital)

        assert again.status_code == 200
        assert again.json()["message_id"] == first["message_id"]

    def test_a_rejected_plan_leaves_its_letter_id_free(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        rejected = post_plan(client, hospital, cc_receivers=["5790000120314"])

        corrected = post_plan(client, hospital)

        assert rules_by_field(assert_problem(rejected, 422, "validation_failed")) == {
            "cc_receivers.0": "receiver_unknown"
        }
        assert corrected.status_code == 201

    def test_the_same_letter_id_with_other_content_is_a_conflict(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        post_plan(client, hospital)

        response = post_plan(client, hospital, patient_safety="Ingen særlige hensyn.")

        assert_problem(response, 409, "conflict")

    def test_another_sender_may_use_the_same_letter_id(
        self, client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        post_plan(client, keys[ODENSE_HOSPITAL])
        sender = plan_fields()["sender"] | {"gln": OTHER_HOSPITAL}

        response = post_plan(client, keys[OTHER_HOSPITAL], sender=sender)

        assert response.status_code == 201

    def test_a_plan_in_another_organisations_name_is_forbidden(
        self, client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        response = post_plan(client, keys[OTHER_HOSPITAL])

        assert_problem(response, 403, "forbidden")

    def test_a_kommune_cannot_send_a_plan(
        self, client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        sender = plan_fields()["sender"] | {"gln": ODENSE_KOMMUNE}

        response = post_plan(client, keys[ODENSE_KOMMUNE], sender=sender)

        assert_problem(response, 403, "forbidden")

    def test_an_admin_key_cannot_send_a_plan(
        self, client: TestClient, admin_headers: dict[str, str], keys: object
    ) -> None:
        response = post_plan(client, admin_headers)

        assert_problem(response, 403, "forbidden")

    def test_a_plan_without_a_key_is_unauthenticated(self, client: TestClient) -> None:
        assert_problem(client.post("/v1/plans", json=plan_fields()), 401, "unauthenticated")

    def test_a_body_in_another_media_type_is_refused(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = client.post(
            "/v1/plans", content=b"plan", headers=hospital | {"Content-Type": "text/plain"}
        )

        assert_problem(response, 415, "unsupported_media_type")

    def test_a_body_that_is_not_json_names_the_body(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = client.post(
            "/v1/plans", content=b"{", headers=hospital | {"Content-Type": "application/json"}
        )

        assert rules_by_field(assert_problem(response, 422, "validation_failed")) == {
            "body": "json_invalid"
        }

    def test_nothing_is_stored_when_a_plan_is_rejected(
        self, client: TestClient, hospital: dict[str, str], session: Session
    ) -> None:
        post_plan(client, hospital, consent_informed=False)

        assert session.scalars(select(orm.Message)).all() == []


REJECTIONS = [
    pytest.param(
        {"patient": with_patient(cpr="251248491")},
        "patient.cpr",
        "cpr_format",
        id="cpr with 9 digits",
    ),
    pytest.param(
        {"patient": with_patient(cpr="3102484916")},
        "patient.cpr",
        "cpr_birth_date",
        id="cpr 31 February",
    ),
    pytest.param(
        {"patient": with_patient(cpr="0101304916")},
        "patient.cpr",
        "cpr_birth_date_future",
        id="cpr born 2030",
    ),
    pytest.param(
        {"patient": with_patient(cpr=None)},
        "patient.cpr",
        "patient_identifier_required",
        id="no patient identifier",
    ),
    pytest.param(
        {"patient": with_patient(municipality_code="999")},
        "patient.municipality_code",
        "kommunekode_unknown",
        id="unknown kommunekode",
    ),
    pytest.param(
        {"patient": with_patient(municipality_code="751")},
        "patient.municipality_code",
        "kommune_not_registered",
        id="kommune not in the directory",
    ),
    pytest.param(
        {"gp": {"gln": "5790009902011"}}, "gp.gln", "gln_check_digit", id="gp gln check digit"
    ),
    pytest.param({"gp": {"gln": "579000990201"}}, "gp.gln", "gln_length", id="gp gln 12 digits"),
    pytest.param(
        {"gp": {"gln": "5790000120314"}}, "gp.gln", "receiver_unknown", id="gp not in the directory"
    ),
    pytest.param({"gp": {}}, "gp.gln", "gp_copy_or_deselected", id="gp neither named nor declined"),
    pytest.param(
        {"cc_receivers": ["5790000120314"]},
        "cc_receivers.0",
        "receiver_unknown",
        id="cc not in the directory",
    ),
    pytest.param(
        {"result_receivers": [ODENSE_HOSPITAL] * 2},
        "result_receivers",
        "receiver_listed_twice",
        id="result receiver twice",
    ),
    pytest.param(
        {"result_receivers": ["5790000120314"]},
        "result_receivers.0",
        "receiver_unknown",
        id="result receiver not in the directory",
    ),
    pytest.param(
        {"receiver_gln": ISHOEJ_KOMMUNE},
        "receiver_gln",
        "receiver_not_bopaelskommune",
        id="receiver is not the bopaelskommune",
    ),
    pytest.param(
        {"diagnoses": {"primary": {"code": "S720", "text": "Fraktur"}}},
        "diagnoses.primary.code",
        "sks_diagnosis_code",
        id="diagnosis without D",
    ),
    pytest.param(
        {"icf": [{"code": "x450", "text": "At gå"}]}, "icf.0.code", "icf_code", id="icf component x"
    ),
    pytest.param({"plan_type": "intensiv"}, "plan_type", "enum", id="unknown plan type"),
    pytest.param(
        {"plan_type": "specialiseret", "level": "basal"},
        "level",
        "level_requires_almen",
        id="level with specialiseret",
    ),
    pytest.param(
        {"consent_informed": False}, "consent_informed", "consent_required", id="no consent"
    ),
    pytest.param(
        {"function_before_admission": None},
        "function_before_admission",
        "function_before_admission_required",
        id="no earlier function",
    ),
    pytest.param(
        {"function_at_discharge": None},
        "function_at_discharge",
        "string_type",
        id="no function at discharge",
    ),
    pytest.param(
        {"rehabilitation_need": ""},
        "rehabilitation_need",
        "string_too_short",
        id="empty rehabilitation need",
    ),
    pytest.param(
        {"first_contact_deadline": "2026-11-19"},
        "first_contact_deadline",
        "deadline_before_discharge",
        id="deadline before discharge",
    ),
    pytest.param(
        {"first_contact_deadline": "2026-11-28"},
        "first_contact_deadline",
        "deadline_reason_required",
        id="deadline 8 days after discharge",
    ),
    pytest.param(
        {"letter_id": "OUH20261120011"[:14] + "X"},
        "letter_id",
        "string_too_long",
        id="letter id of 15 characters",
    ),
    pytest.param(
        {
            "sender": plan_fields()["sender"]
            | {"signed_by": {"given_name": "E", "surname": "S", "department": "D" * 36}}
        },
        "sender.signed_by.department",
        "string_too_long",
        id="department of 36",
    ),
    pytest.param(
        {"patient": with_patient(phones=[{"number": "+4523321234", "kind": "fax"}])},
        "patient.phones.0.kind",
        "enum",
        id="phone kind fax",
    ),
    pytest.param(
        {"references": [{"description": "x", "url": "ftp://example.dk"}]},
        "references.0.url",
        "string_pattern_mismatch",
        id="reference not http",
    ),
    pytest.param(
        {"patient_safety": [{"text": "Fald", "bold": "ja"}]},
        "patient_safety.0.bold",
        "bool_parsing",
        id="segment flag not a boolean",
    ),
    pytest.param({"unknown_field": 1}, "unknown_field", "extra_forbidden", id="unknown field"),
    pytest.param(
        {"plan_type": "rehabilitering", "level": None},
        "function_at_discharge_extended",
        "overall_function_required",
        id="rehabilitering without the overall functional ability (R8)",
    ),
    pytest.param(
        {"plan_type": "specialiseret", "level": None, "chosen_hospital_gln": "5790000120314"},
        "chosen_hospital_gln",
        "receiver_unknown",
        id="chosen hospital not in the directory",
    ),
    pytest.param(
        {"plan_type": "specialiseret", "level": None, "chosen_hospital_gln": ISHOEJ_KOMMUNE},
        "chosen_hospital_gln",
        "chosen_hospital_not_a_hospital",
        id="chosen hospital is a kommune",
    ),
    pytest.param(
        {"chosen_hospital_gln": OTHER_HOSPITAL},
        "chosen_hospital_gln",
        "chosen_hospital_requires_specialiseret",
        id="chosen hospital for almen",
    ),
    pytest.param(
        {
            "plan_type": "rehabilitering",
            "level": None,
            "function_at_discharge_extended": "Samlet funktionsevne.",
            "chosen_hospital_gln": OTHER_HOSPITAL,
        },
        "chosen_hospital_gln",
        "chosen_hospital_requires_specialiseret",
        id="chosen hospital for rehabilitering",
    ),
    pytest.param(
        {"health_summary": "Faldt i hjemmet\x85 indlagt"},
        "health_summary",
        "c1_control_character",
        id="C1 control in a text",
    ),
    pytest.param(
        {"patient_safety": [{"text": "Faldrisiko \x80"}]},
        "patient_safety.0.text",
        "c1_control_character",
        id="C1 control in a segment",
    ),
    pytest.param(
        {"patient": with_patient(surname="Berggren\x96")},
        "patient.surname",
        "c1_control_character",
        id="C1 control in a name",
    ),
]


class TestPlanRules:
    @pytest.mark.parametrize(("overrides", "field", "rule"), REJECTIONS)
    def test_a_broken_rule_is_a_422_naming_field_and_rule(
        self,
        client: TestClient,
        hospital: dict[str, str],
        overrides: dict[str, Any],
        field: str,
        rule: str,
    ) -> None:
        response = post_plan(client, hospital, **overrides)

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {field: rule}

    def test_a_later_deadline_with_a_reason_is_accepted(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(
            client,
            hospital,
            first_contact_deadline="2026-12-04",
            deadline_reason="Såret skal hele, før træningen kan begynde.",
        )

        assert response.status_code == 201, response.text

    def test_error_messages_do_not_repeat_the_cpr_number(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, patient=with_patient(cpr="3102484916"))

        assert "3102484916" not in response.text


class TestOverallFunctionForRehabilitering:
    # R8 (bekendtgørelse om genoptræningsplaner §2 stk. 3)

    def test_a_rehabilitering_plan_with_the_overall_functional_ability_is_accepted(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(
            client,
            hospital,
            plan_type="rehabilitering",
            level=None,
            function_at_discharge_extended="Kognitivt: nedsat hukommelse. Aktiviteter: ...",
        )

        assert response.status_code == 201, response.text

    def test_an_almen_plan_needs_no_overall_functional_ability(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, function_at_discharge_extended=None)

        assert response.status_code == 201, response.text


class TestLatePlan:
    # R11: handed over and sent no later than discharge; a later plan is a warning.

    def test_a_plan_after_the_discharge_date_is_accepted_with_a_warning(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, discharge_date="2026-11-22")

        assert response.status_code == 201, response.text
        assert [(w["field"], w["rule"]) for w in response.json()["warnings"]] == [
            ("discharge_date", "plan_after_discharge")
        ]

    def test_a_plan_on_the_discharge_date_has_no_warning(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, discharge_date="2026-11-23")

        assert response.status_code == 201, response.text
        assert response.json()["warnings"] == []

    def test_the_day_is_the_danish_calendar_day(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        # 22 November 23:30 UTC is already 23 November in Copenhagen.
        app_state(client.app).clock.at = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # type: ignore[attr-defined]

        response = post_plan(client, hospital, discharge_date="2026-11-22")

        assert [w["rule"] for w in response.json()["warnings"]] == ["plan_after_discharge"]


CHOSEN_XDIS91_HOSPITAL = "5790009903024"


def specialised(**overrides: Any) -> dict[str, Any]:
    """The reference plan as specialised training, discharged on the frozen day (no late
    warning), with these overrides."""
    return {
        "plan_type": "specialiseret",
        "level": None,
        "discharge_date": "2026-11-23",
        **overrides,
    }


class TestChosenHospital:
    # R11, R28: specialised training at a hospital: the chosen hospital gets the plan too.

    def test_the_chosen_hospital_gets_its_own_delivery_in_ggop(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, **specialised(chosen_hospital_gln=OTHER_HOSPITAL))

        assert response.status_code == 201, response.text
        deliveries = {d["receiver_gln"]: d for d in response.json()["deliveries"]}
        assert (deliveries[OTHER_HOSPITAL]["role"], deliveries[OTHER_HOSPITAL]["format"]) == (
            "chosen_hospital",
            "GGOP",
        )

    def test_a_chosen_hospital_that_takes_only_xdis91_gets_a_letter(
        self, client: TestClient, hospital: dict[str, str], session: Session
    ) -> None:
        add_hospital(
            session, gln=CHOSEN_XDIS91_HOSPITAL, name="Hospital Sønderjylland", accepts=["XDIS91"]
        )
        session.commit()

        response = post_plan(
            client, hospital, **specialised(chosen_hospital_gln=CHOSEN_XDIS91_HOSPITAL)
        )

        assert response.status_code == 201, response.text
        formats = {d["receiver_gln"]: d["format"] for d in response.json()["deliveries"]}
        assert formats[CHOSEN_XDIS91_HOSPITAL] == "XDIS91"

    def test_every_receiver_s_ggop_names_the_chosen_hospital_as_a_copy_receiver(
        self, client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        message_id = post_plan(
            client, keys[ODENSE_HOSPITAL], **specialised(chosen_hospital_gln=OTHER_HOSPITAL)
        ).json()["message_id"]

        document = client.get(
            f"/v1/plans/{message_id}",
            headers=keys[ODENSE_KOMMUNE] | {"Accept": "application/xml"},
        )

        root = etree.fromstring(document.content)
        cc = root.findall(f"{{{GGOP_NS}}}RehabilitationPlan/{{{GGOP_NS}}}CCReceiver")
        assert [e.findtext(".//{urn:oio:medcom:municipality:1.0.0}EANIdentifier") for e in cc] == [
            OTHER_HOSPITAL
        ]

    def test_tracking_lists_the_chosen_hospital(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        message_id = post_plan(
            client, hospital, **specialised(chosen_hospital_gln=OTHER_HOSPITAL)
        ).json()["message_id"]

        tracked = client.get(f"/v1/messages/{message_id}", headers=hospital).json()

        assert {d["receiver_gln"]: d["role"] for d in tracked["deliveries"]}[
            OTHER_HOSPITAL
        ] == "chosen_hospital"

    def test_the_chosen_hospital_named_as_cc_too_gets_one_delivery(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(
            client,
            hospital,
            **specialised(chosen_hospital_gln=OTHER_HOSPITAL, cc_receivers=[OTHER_HOSPITAL]),
        )

        roles = [d["role"] for d in response.json()["deliveries"]]
        assert sorted(roles) == ["chosen_hospital", "gp_copy", "primary"]

    def test_training_at_the_writing_hospital_needs_no_delivery(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, **specialised(chosen_hospital_gln=ODENSE_HOSPITAL))

        assert response.status_code == 201, response.text
        assert ODENSE_HOSPITAL not in {d["receiver_gln"] for d in response.json()["deliveries"]}

    def test_a_specialised_plan_may_leave_the_chosen_hospital_out(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(client, hospital, **specialised())

        assert response.status_code == 201, response.text
        assert response.json()["warnings"] == []

    def test_an_inactive_chosen_hospital_is_a_422(
        self, client: TestClient, hospital: dict[str, str], session: Session
    ) -> None:
        other = session.get(orm.Organisation, OTHER_HOSPITAL)
        assert other is not None
        other.is_active = False
        session.commit()

        response = post_plan(client, hospital, **specialised(chosen_hospital_gln=OTHER_HOSPITAL))

        problem = assert_problem(response, 422, "validation_failed")
        assert rules_by_field(problem) == {"chosen_hospital_gln": "receiver_inactive"}


class TestCharactersBeyondLatin1:
    def test_a_text_outside_latin_1_is_kept_with_a_warning_naming_the_field(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(
            client, hospital, discharge_date="2026-11-23", health_summary="Pris 40 € pr. gang"
        )

        assert response.status_code == 201, response.text
        assert [(w["field"], w["rule"]) for w in response.json()["warnings"]] == [
            ("health_summary", "character_beyond_latin1")
        ]

    def test_the_kommune_s_document_carries_the_character_as_a_reference(
        self, client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        message_id = post_plan(
            client, keys[ODENSE_HOSPITAL], health_summary="Pris 40 € pr. gang"
        ).json()["message_id"]

        document = client.get(
            f"/v1/plans/{message_id}",
            headers=keys[ODENSE_KOMMUNE] | {"Accept": "application/xml"},
        ).content

        assert b"&#8364;" in document
        assert "Pris 40 € pr. gang" in etree.fromstring(document).xpath("string(//*)")

    def test_a_segment_outside_latin_1_names_its_text(
        self, client: TestClient, hospital: dict[str, str]
    ) -> None:
        response = post_plan(
            client,
            hospital,
            discharge_date="2026-11-23",
            patient_safety=[{"text": "Faldrisiko ", "bold": True}, {"text": "→ rollator"}],
        )

        assert [w["field"] for w in response.json()["warnings"]] == ["patient_safety"]


class TestValidatePlan:
    def test_a_valid_plan_is_rendered_for_each_receiver_and_not_stored(
        self, client: TestClient, hospital: dict[str, str], session: Session
    ) -> None:
        response = client.post("/v1/plans/validate", json=plan_fields(), headers=hospital)

        assert response.status_code == 200, response.text
        documents = {d["receiver_gln"]: d for d in response.json()["documents"]}
        assert documents[ODENSE_KOMMUNE]["format"] == "GGOP"
        assert etree.fromstring(documents[ODENSE_KOMMUNE]["xml"].encode("iso-8859-1")).tag == (
            f"{{{GGOP_NS}}}Emessage"
        )
        assert documents[HJALLESE_GP]["format"] == "XDIS91"
        assert session.scalars(select(orm.Message)).all() == []

    def test_an_invalid_plan_is_a_422(self, client: TestClient, hospital: dict[str, str]) -> None:
        response = client.post(
            "/v1/plans/validate", json=plan_fields(consent_informed=False), headers=hospital
        )

        assert rules_by_field(assert_problem(response, 422, "validation_failed")) == {
            "consent_informed": "consent_required"
        }


class TestGetPlan:
    @pytest.mark.parametrize("reader", [ODENSE_HOSPITAL, ODENSE_KOMMUNE, HJALLESE_GP])
    def test_sender_and_receivers_read_the_plan_as_json(
        self, client: TestClient, keys: dict[str, dict[str, str]], reader: str
    ) -> None:
        message_id = post_plan(client, keys[ODENSE_HOSPITAL]).json()["message_id"]

        response = client.get(f"/v1/plans/{message_id}", headers=keys[reader])

        assert response.status_code == 200
        assert response.json()["plan"]["patient"]["cpr"] == "2512484916"
        assert response.json()["plan"]["discharge_date"] == str(date(2026, 11, 20))

    def test_an_organisation_that_is_not_a_party_gets_404(
        self, client: TestClient, keys: dict[str, dict[str, str]]
    ) -> None:
        message_id = post_plan(client, keys[ODENSE_HOSPITAL]).json()["message_id"]

        response = client.get(f"/v1/plans/{message_id}", headers=keys[ISHOEJ_KOMMUNE])

        assert_problem(response, 404, "not_found")

    @pytest.mark.parametrize(
        ("reader", "root"),
        [
            (ODENSE_KOMMUNE, f"{{{GGOP_NS}}}Emessage"),
            (HJALLESE_GP, f"{{{XDIS91_NS}}}Emessage"),
            (ODENSE_HOSPITAL, f"{{{GGOP_NS}}}Emessage"),
        ],
    )
    def test_accept_xml_gives_the_document_the_reader_received(
        self, client: TestClient, keys: dict[str, dict[str, str]], reader: str, root: str
    ) -> None:
        message_id = post_plan(client, keys[ODENSE_HOSPITAL]).json()["message_id"]

        response = client.get(
            f"/v1/plans/{message_id}", headers=keys[reader] | {"Accept": "application/xml"}
        )

        assert response.status_code == 200
        assert response.headers["content-type"].startswith("application/xml")
        assert response.content.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
        assert etree.fromstring(response.content).tag == root

    def test_reading_a_plan_is_audited_without_the_cpr_number(
        self, client: TestClient, keys: dict[str, dict[str, str]], session: Session
    ) -> None:
        message_id = post_plan(client, keys[ODENSE_HOSPITAL]).json()["message_id"]

        client.get(f"/v1/plans/{message_id}", headers=keys[ODENSE_KOMMUNE])

        events = session.scalars(
            select(orm.AuditEvent).where(orm.AuditEvent.action == "plan.read")
        ).all()
        assert [(e.actor_gln, e.message_id) for e in events] == [(ODENSE_KOMMUNE, message_id)]
        assert events[0].patient_ref is not None
        assert "2512484916" not in events[0].patient_ref


class TestStatementsOfAPlan:
    def test_a_known_caller_s_plan_costs_one_read_and_one_write_on_postgresql(
        self, client: TestClient, hospital: dict[str, str], connection: Connection, backend: str
    ) -> None:
        # The key is remembered after the first request (SEKTORBRO_KEY_CACHE_SECONDS).
        assert post_plan(client, hospital, letter_id="OUH-FIRST").status_code == 201
        statements: list[str] = []

        def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE")):
                statements.append(" ".join(statement.split()[:3]))

        event.listen(connection, "before_cursor_execute", record)
        try:
            assert post_plan(client, hospital, letter_id="OUH-SECOND").status_code == 201
        finally:
            event.remove(connection, "before_cursor_execute", record)

        # Routing reads the directory once; the message, its deliveries, their histories and
        # the audit event are one INSERT on PostgreSQL, one per table on SQLite.
        assert statements[0].startswith("SELECT organisations.gln")
        if backend == "postgresql":
            assert statements[1:] == ["WITH new_message AS"]
        else:
            assert statements[1:] == [
                "INSERT INTO messages",
                "INSERT INTO deliveries",
                "INSERT INTO delivery_events",
                "INSERT INTO audit_events",
            ]

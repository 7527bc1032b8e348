"""app/xml/hardened.py and app/xml/ggop.py: the hardened XML parse, the GGOP to Plan mapping,
and error XPaths."""

import codecs
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree
from pydantic import ValidationError
from stdnum import ean

import app.xml.hardened as hardened
from app.domain.messages import DANISH_TIME
from app.domain.plan import Plan
from app.errors import ValidationFailed
from app.xml.ggop import ParsedPlan, parse_ggop, xpath_for
from app.xml.hardened import MAX_ELEMENTS, XmlRejected, parse_xml
from app.xml.headings import BEFORE_ADMISSION_HEADING, EXTENDED_HEADING
from app.xml.render import XmlRenderer, sks_icf_code
from app.xml.validate import XsdRegistry
from tests.factories import plan_fields
from tests.unit.xml.test_render import ENVELOPE, KOMMUNE, PARTIES

EXAMPLE = (
    Path(__file__).resolve().parents[2]
    / "data"
    / "medcom"
    / "ggop-genoptraeningsplan-GGOP100-ns1.0.4-example.xml"
)
MM100 = "urn:oio:medcom:municipality:1.0.0"
MM104 = "urn:oio:medcom:municipality:1.0.4"
PLAN = "/Emessage/RehabilitationPlan"
TODAY = date(2026, 11, 23)
# The example's routing GLNs with wrong check digits (architecture.md, Known traps; R43).
BAD_GP_GLN = "5790002012274"
BAD_CC_GLN = "5790002012276"  # CCReceiver and FinalResult/ResultReceiver


def corrected(gln: str) -> str:
    """The GLN with its GS1 check digit recomputed."""
    return gln[:12] + ean.calc_check_digit(gln[:12])


def example_with(*changes: tuple[str, str]) -> bytes:
    """MedCom's example (UTF-8 with BOM) with each `old` text replaced by `new`."""
    text = EXAMPLE.read_bytes().decode("utf-8-sig")
    for old, new in changes:
        assert old in text
        text = text.replace(old, new)
    return codecs.BOM_UTF8 + text.encode()


def ggop(plan: str = "", *, letter: str = "", encoding: str = "UTF-8") -> bytes:
    """A small GGOP: a valid Letter (plus `letter`) and `plan` inside RehabilitationPlan."""
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        f'<Emessage xmlns="{MM104}" xmlns:mm100="{MM100}"><RehabilitationPlan>'
        "<Letter><Identifier>L1</Identifier><VersionCode>GGOP100</VersionCode>"
        f"<StatisticalCode>GGOP2</StatisticalCode><TypeCode>GGOP</TypeCode>{letter}</Letter>"
        f"{plan}</RehabilitationPlan></Emessage>"
    ).encode(encoding)


def text_of(content: str) -> Any:
    """What a formatted text element with this content maps to."""
    return parse_ggop(ggop(f"<PracticalInformation>{content}</PracticalInformation>")).data.get(
        "practical_information"
    )


def rejection(body: bytes) -> list[tuple[str, str]]:
    """The (field, rule) pairs the parser refuses `body` with."""
    with pytest.raises(XmlRejected) as caught:
        parse_ggop(body)
    return [(error.field, error.rule) for error in caught.value.errors]


def rules(parsed: ParsedPlan) -> list[tuple[str, str]]:
    return [(warning.field, warning.rule) for warning in parsed.warnings]


DISCHARGED_2026_11_20 = (
    "<CurrentHospitalContact><Start><Date>2026-11-13</Date><Time>12:34</Time></Start>"
    "<ExpectedEnd><Date>2026-11-20</Date><Time>13:45</Time></ExpectedEnd>"
    "</CurrentHospitalContact>"
)


# --- MedCom's public example ---------------------------------------------------------------


@pytest.fixture(scope="module")
def parsed() -> ParsedPlan:
    """The example with its routing GLNs corrected."""
    return parse_ggop(
        example_with(
            (BAD_GP_GLN, corrected(BAD_GP_GLN)),
            (BAD_CC_GLN, corrected(BAD_CC_GLN)),
        )
    )


@pytest.fixture(scope="module")
def plan(parsed: ParsedPlan) -> Plan:
    return Plan.model_validate(parsed.data, context={"today": TODAY})


def test_the_example_fails_only_on_its_routing_glns_with_bad_check_digits() -> None:
    parsed = parse_ggop(EXAMPLE.read_bytes())
    with pytest.raises(ValidationError) as caught:
        Plan.model_validate(parsed.data, context={"today": TODAY})
    located = {error["loc"]: xpath_for(parsed, error["loc"]) for error in caught.value.errors()}
    assert located == {
        ("gp", "gln"): f"{PLAN}/GPCCReceiver/CCReceiver/EANIdentifier",
        ("cc_receivers", 0): f"{PLAN}/CCReceiver[1]/EANIdentifier",
        ("result_receivers", 0): f"{PLAN}/FinalResult/ResultReceiver[1]/EANIdentifier",
    }
    assert {error["type"] for error in caught.value.errors()} == {"gln_check_digit"}


def test_the_example_with_corrected_glns_is_a_valid_plan(plan: Plan) -> None:
    assert plan.letter_id == "45249877239313"
    assert plan.sender.gln == "5790001354145"
    assert plan.receiver_gln == "5790000121441"
    assert plan.gp.gln == corrected(BAD_GP_GLN)
    assert plan.cc_receivers == plan.result_receivers == [corrected(BAD_CC_GLN)]


def test_the_example_gives_the_envelope_id_apart_from_the_plan(parsed: ParsedPlan) -> None:
    assert parsed.envelope_id == "54382645943294"
    assert "envelope_id" not in parsed.data


def test_the_example_authorisation_is_danish_time(plan: Plan) -> None:
    assert plan.authorised_at.isoformat() == "2015-03-04T09:26:00+01:00"


def test_the_example_signer_and_co_writer(plan: Plan) -> None:
    assert plan.sender.signed_by.model_dump(exclude_none=True) == {
        "given_name": "Ellinor",
        "surname": "Strøm",
        "title": "Terapeut",
        "phone": "+4566136421",
        "department": "Neurologisk Afdeling N2",
    }
    co_writer = plan.sender.co_writers[0]
    assert (co_writer.identifier, co_writer.identifier_code, co_writer.surname) == (
        "34",
        "amt",
        "Andresen",
    )


def test_the_example_patient(plan: Plan) -> None:
    patient = plan.patient
    assert (patient.cpr, patient.given_name, patient.surname) == (
        "2512484916",
        "Nancy",
        "Ann Berggren",
    )
    assert patient.municipality_code == "461"  # Receiver/Identifier, kommunenummer
    assert patient.address is not None
    assert patient.address.street == "Hindbærvej 23"
    assert patient.occupation == "Tømrer"
    assert [(phone.number, phone.kind) for phone in patient.phones] == [
        ("+4523321234", "mobil"),
        ("+4523321234", "fastnet"),
        ("+4523321234", "arbejde"),
    ]
    assert patient.email == "nancy@berggren.dk"
    assert patient.co_address is not None
    assert patient.co_address.model_dump(exclude_none=True) == {
        "given_name": "Rosa",
        "surname": "Andersen",
        "street": "Skovgård 3",
        "suburb": "Hjallese",
        "district": "Odense SØ",
        "postcode": "5220",
    }


def test_the_example_relatives(plan: Plan) -> None:
    assert [(r.relation, r.given_name, r.surname) for r in plan.relatives] == [
        ("aegtefaelle", "Irene", "Petersen"),
        ("uspec_paaroerende", "Mads", "Jensen"),
    ]
    assert [phone.kind for phone in plan.relatives[0].phones] == ["fastnet", "arbejde", "mobil"]
    assert plan.relatives[0].email == "irene_p12@gmail.com"
    assert plan.relatives[1].phones == []


def test_the_example_plan_type_consent_and_hospital_contact(plan: Plan) -> None:
    assert plan.plan_type == "specialiseret"
    assert plan.level is None
    assert plan.consent_informed is True
    assert plan.discharge_date == date(2014, 12, 20)  # the expected end of the contact
    assert plan.hospital_contact is not None
    assert plan.hospital_contact.start.isoformat() == "2014-12-13T12:34:00+01:00"


def test_the_example_informational_eans_are_kept_as_written(plan: Plan) -> None:
    assert plan.ambulatory_control is not None
    location = plan.ambulatory_control.location
    assert location is not None
    assert (location.ean, location.identifier_code, location.name) == (
        "5790002012272",
        "region",
        "Region Syddanmark",
    )
    assert plan.contact_region.ean == "57001231231"
    assert plan.contact_municipality.department == "Odder kommune"


def test_the_example_diagnoses_and_icf(plan: Plan) -> None:
    assert plan.diagnoses is not None
    assert plan.diagnoses.primary.code == "DC189"
    assert [d.code for d in plan.diagnoses.secondary] == ["DS720"]
    assert len(plan.icf) == 2
    assert plan.icf[0].code == "FB799"
    assert plan.icf[0].gradient is not None
    assert plan.icf[0].gradient.code == "FB799"


def test_the_example_journal_excerpts(plan: Plan) -> None:
    excerpts = plan.journal_excerpts
    assert len(excerpts) == 4
    assert excerpts[0].signed_by is not None
    assert excerpts[0].signed_by.title == "Prof. med."
    assert excerpts[0].date == date(2012, 3, 23)
    assert excerpts[0].text == "Fri tekst"
    assert excerpts[3].signed_by is None
    assert excerpts[3].text == (
        "Fri tekst\nSkrevet af: Alm med 1. reservelæge Bjarne Goldbæk den 27. februar 2013"
    )


def test_the_example_care_team_and_reference(plan: Plan) -> None:
    assert [member.given_name for member in plan.care_team] == [
        "Ellinor",
        "Arne",
        "Trine",
        "Vagn",
        "Ole",
    ]
    assert [(ref.description, ref.url) for ref in plan.references] == [
        ("Se de gældende anbefalinger her", "http://sundhedsstyrelsen.dk")
    ]


def test_the_example_ability_extended_keeps_its_formatting(parsed: ParsedPlan) -> None:
    segments = parsed.data["function_at_discharge_extended"]
    assert segments[:4] == [
        {"text": "8a. Kroppens funktioner og anatomi", "bold": True},
        {"text": "\n"},
        {"text": "- Mentale funktioner", "italic": True},
        {"text": "\n\n"},
    ]
    # Indentation inside the element is layout, not text.
    assert {
        "text": "- Kardiovaskulære, hæmatologiske, immunologiske og respiratoriske funktioner",
        "italic": True,
    } in segments
    assert segments[-1] == {"text": "- Holdninger", "italic": True}  # trailing Breaks dropped
    assert "function_before_admission" not in parsed.data


def test_the_example_deadline_is_assumed_seven_days_after_discharge(
    parsed: ParsedPlan, plan: Plan
) -> None:
    assert plan.first_contact_deadline == date(2014, 12, 27)
    assert plan.deadline_reason is None
    assert rules(parsed) == [(f"{PLAN}/RehabilitationDeadline", "deadline_assumed")]


def test_the_example_values_name_their_elements(parsed: ParsedPlan) -> None:
    assert parsed.paths[("patient", "cpr")] == f"{PLAN}/Patient/CivilRegistrationNumber"
    assert (
        parsed.paths[("relatives", 1, "given_name")]
        == f"{PLAN}/Relatives/Relative[2]/PersonGivenName"
    )
    assert (
        parsed.paths[("patient", "phones", 2, "kind")]
        == f"{PLAN}/Patient/TelephoneSubscriber[3]/TelephoneSubscriberCode"
    )
    assert parsed.paths[("patient", "municipality_code")] == f"{PLAN}/Receiver/Identifier"
    assert parsed.paths[("authorised_at",)] == f"{PLAN}/Letter/Authorisation"
    assert parsed.paths[("discharge_date",)] == f"{PLAN}/CurrentHospitalContact/ExpectedEnd/Date"


def test_parse_xml_drops_the_stylesheet_instruction() -> None:
    tree = parse_xml(EXAMPLE.read_bytes())
    assert tree.getroot().tag == f"{{{MM104}}}Emessage"
    assert tree.getroot().getprevious() is None


# --- Encodings (formats.md §3.3) -----------------------------------------------------------


@pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-1", "windows-1252"])
def test_the_declared_encoding_is_honoured(encoding: str) -> None:
    text = EXAMPLE.read_bytes().decode("utf-8-sig")  # UTF-8 then goes without its BOM
    body = text.replace('encoding="UTF-8"', f'encoding="{encoding}"').encode(encoding)
    assert parse_ggop(body).data == parse_ggop(EXAMPLE.read_bytes()).data


def test_windows_1252_characters_beyond_latin_1_are_read() -> None:
    text = "Pris \u2013 10 \u20ac"  # en dash and euro sign: 0x96 and 0x80, C1 controls in Latin-1
    body = ggop(f"<PracticalInformation>{text}</PracticalInformation>", encoding="windows-1252")
    assert parse_ggop(body).data["practical_information"] == text


# --- Refused bodies ------------------------------------------------------------------------


def billion_laughs() -> bytes:
    """Nine levels of ten references each: 10**9 "lol"s if the entities were expanded."""
    entities = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    return (
        f'<?xml version="1.0"?><!DOCTYPE Emessage [{"".join(entities)}]>'
        f'<Emessage xmlns="{MM104}">&lol9;</Emessage>'
    ).encode()


def xxe(system_id: str) -> bytes:
    return (
        f'<?xml version="1.0"?><!DOCTYPE Emessage [<!ENTITY xxe SYSTEM "{system_id}">]>'
        f'<Emessage xmlns="{MM104}"><RehabilitationPlan>&xxe;</RehabilitationPlan></Emessage>'
    ).encode()


def test_entity_expansion_is_refused() -> None:
    assert rejection(billion_laughs()) == [("/", "xml_doctype_forbidden")]


@pytest.mark.parametrize("system_id", ["file:///etc/passwd", "http://127.0.0.1:9/"])
def test_external_entities_are_refused(system_id: str) -> None:
    with pytest.raises(XmlRejected) as caught:
        parse_ggop(xxe(system_id))
    assert [(e.field, e.rule) for e in caught.value.errors] == [("/", "xml_doctype_forbidden")]
    assert "root:" not in str(caught.value.errors)


def test_a_doctype_without_entities_is_refused() -> None:
    body = ggop().replace(b"?><Emessage", b"?><!DOCTYPE Emessage><Emessage")
    assert rejection(body) == [("/", "xml_doctype_forbidden")]


class _Recorder(etree.Resolver):
    """Notes every external resource libxml2 asks for; lxml calls it before any load."""

    def __init__(self) -> None:
        super().__init__()
        self.asked: list[str] = []

    def resolve(self, url: str, public_id: str | None, context: object) -> None:
        self.asked.append(url)
        return None  # not found; libxml2 would then try to load it itself


@pytest.fixture
def requested() -> Iterator[list[str]]:
    """The URLs the parser of parse_xml asks for in this thread while the test runs."""
    recorder = _Recorder()
    parser = hardened._parsers.parser  # the one parse_xml uses in this thread
    parser.resolvers.add(recorder)
    yield recorder.asked
    parser.resolvers.remove(recorder)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "http://127.0.0.1:9/x.dtd"])
@pytest.mark.parametrize(
    "doctype",
    [
        '<!DOCTYPE Emessage SYSTEM "{url}">',
        '<!DOCTYPE Emessage [<!ENTITY % remote SYSTEM "{url}"> %remote;]>',
        '<!DOCTYPE Emessage [<!ENTITY remote SYSTEM "{url}">]>',
    ],
    ids=["external-dtd", "parameter-entity", "general-entity"],
)
def test_nothing_external_is_loaded(requested: list[str], doctype: str, url: str) -> None:
    body = doctype.format(url=url) + f'<Emessage xmlns="{MM104}">&remote;</Emessage>'
    with pytest.raises(XmlRejected):
        parse_ggop(body.encode())
    assert requested == []


def test_a_body_that_is_not_well_formed_is_refused_by_line_without_its_content() -> None:
    body = ggop("<Patient>\n<mm100:CivilRegistrationNumber>2512484916</Patient>")
    with pytest.raises(XmlRejected) as caught:
        parse_ggop(body)
    [error] = caught.value.errors
    assert (error.field, error.rule) == ("/", "xml_not_well_formed")
    assert "line 2" in error.message
    assert "2512484916" not in error.message
    assert "CivilRegistrationNumber" not in error.message


def test_a_rejection_is_a_validation_failure() -> None:
    with pytest.raises(ValidationFailed):
        parse_ggop(b"")


def test_more_elements_than_the_limit_are_refused() -> None:
    body = f'<Emessage xmlns="{MM104}">{"<x/>" * MAX_ELEMENTS}</Emessage>'.encode()
    assert rejection(body) == [("/", "xml_too_large")]


def test_elements_up_to_the_limit_are_parsed() -> None:
    body = f'<Emessage xmlns="{MM104}">{"<x/>" * (MAX_ELEMENTS - 1)}</Emessage>'.encode()
    assert parse_xml(body).getroot() is not None


@pytest.mark.parametrize(
    ("root", "field"),
    [
        (f'<Emessage xmlns="{MM100}"/>', "/Emessage"),
        ("<Emessage/>", "/Emessage"),
        (f'<ClinicalEmail xmlns="{MM104}"/>', "/ClinicalEmail"),
    ],
    ids=["namespace-1.0.0", "no-namespace", "other-name"],
)
def test_a_wrong_root_is_refused(root: str, field: str) -> None:
    assert rejection(root.encode()) == [(field, "ggop_root")]


def test_an_emessage_without_a_plan_is_refused() -> None:
    body = f'<Emessage xmlns="{MM104}"><Envelope xmlns="{MM100}"/></Emessage>'.encode()
    assert rejection(body) == [("/Emessage", "ggop_plan_missing")]


def test_two_plans_in_one_emessage_are_refused() -> None:
    body = ggop().replace(b"</Emessage>", b"<RehabilitationPlan/></Emessage>")
    assert rejection(body) == [("/Emessage/RehabilitationPlan[2]", "ggop_plan_repeated")]


@pytest.mark.parametrize(
    ("old", "new", "element"),
    [
        ("<VersionCode>GGOP100</VersionCode>", "<VersionCode>GGOP200</VersionCode>", "VersionCode"),
        ("<VersionCode>GGOP100</VersionCode>", "", "VersionCode"),
        ("<TypeCode>GGOP</TypeCode>", "<TypeCode>XDIS91</TypeCode>", "TypeCode"),
    ],
    ids=["other-version", "no-version", "other-type"],
)
def test_a_letter_other_than_ggop100_is_refused(old: str, new: str, element: str) -> None:
    assert rejection(example_with((old, new))) == [(f"{PLAN}/Letter/{element}", "ggop_version")]


def test_a_plan_without_a_letter_is_refused() -> None:
    body = f'<Emessage xmlns="{MM104}"><RehabilitationPlan/></Emessage>'.encode()
    assert rejection(body) == [(f"{PLAN}/Letter/VersionCode", "ggop_version")]


# --- The mapping ---------------------------------------------------------------------------


@pytest.mark.parametrize("level", ["basal", "avanceret"])
def test_a_municipal_level_is_almen_with_that_level(level: str) -> None:
    data = parse_ggop(ggop(f"<TypeOfRehabilitationPlan>{level}</TypeOfRehabilitationPlan>")).data
    assert (data["plan_type"], data["level"]) == ("almen", level)


def test_an_unknown_plan_type_goes_to_the_model_as_written() -> None:
    data = parse_ggop(ggop("<TypeOfRehabilitationPlan>ukendt</TypeOfRehabilitationPlan>")).data
    assert data["plan_type"] == "ukendt"
    assert "level" not in data


def test_consent_nej_is_false() -> None:
    parsed = parse_ggop(example_with(("<ConsentInformed>ja<", "<ConsentInformed>nej<")))
    assert parsed.data["consent_informed"] is False
    assert xpath_for(parsed, ("consent_informed",)) == f"{PLAN}/ConsentInformed"


def test_a_deselected_gp_copy_has_no_gln() -> None:
    data = parse_ggop(ggop("<GPCCReceiver><Deselected/></GPCCReceiver>")).data
    assert data["gp"] == {"deselected": True}


def test_a_receiver_that_is_no_kommune_gives_no_municipality_code() -> None:
    parsed = parse_ggop(
        example_with(("<IdentifierCode>kommunenummer<", "<IdentifierCode>lokationsnummer<"))
    )
    assert "municipality_code" not in parsed.data["patient"]
    assert xpath_for(parsed, ("patient", "municipality_code")) == f"{PLAN}/Receiver"


def test_before_admission_text_is_split_off_the_extended_ability() -> None:
    parsed = parse_ggop(
        ggop(
            "<AbilityAtDischargeExtended>"
            f"<mm100:Bold>{BEFORE_ADMISSION_HEADING}</mm100:Bold><mm100:Break/>"
            "Gik uden hjælpemidler.<mm100:Break/>Cyklede dagligt.<mm100:Break/><mm100:Break/>"
            f"<mm100:Bold>{EXTENDED_HEADING}</mm100:Bold><mm100:Break/>"
            "<mm100:Italic>Gang</mm100:Italic> med rollator."
            "</AbilityAtDischargeExtended>"
        )
    )
    assert parsed.data["function_before_admission"] == "Gik uden hjælpemidler.\nCyklede dagligt."
    assert parsed.data["function_at_discharge_extended"] == [
        {"text": "Gang", "italic": True},
        {"text": " med rollator."},
    ]
    assert parsed.paths[("function_before_admission",)] == f"{PLAN}/AbilityAtDischargeExtended"


def test_before_admission_text_without_an_extended_heading_is_all_before_admission() -> None:
    data = parse_ggop(
        ggop(
            "<AbilityAtDischargeExtended>"
            f"<mm100:Bold>{BEFORE_ADMISSION_HEADING}</mm100:Bold><mm100:Break/>Selvhjulpen."
            "</AbilityAtDischargeExtended>"
        )
    ).data
    assert data["function_before_admission"] == "Selvhjulpen."
    assert "function_at_discharge_extended" not in data


def test_contact_county_keeps_its_identifier_names_and_suburb() -> None:
    county = (
        "<ContactCounty><mm100:Identifier>1083</mm100:Identifier>"
        "<IdentifierCode>region</IdentifierCode>"
        "<mm100:OrganisationName>Region Syddanmark</mm100:OrganisationName>"
        "<mm100:DepartmentName>Visitation</mm100:DepartmentName>"
        "<mm100:UnitName>Team 2</mm100:UnitName><mm100:SuburbName>Bolbro</mm100:SuburbName>"
        "</ContactCounty>"
    )
    parsed = parse_ggop(ggop(county))
    assert parsed.data["contact_region"] == {
        "identifier": "1083",
        "identifier_code": "region",
        "name": "Region Syddanmark",
        "department": "Visitation",
        "unit": "Team 2",
        "suburb": "Bolbro",
    }
    assert parsed.warnings == []


def test_the_ambulatory_location_keeps_its_phone() -> None:
    control = (
        "<HospitalAmbulatoryControl><Location><mm100:TelephoneSubscriberIdentifier>+4566113333"
        "</mm100:TelephoneSubscriberIdentifier></Location></HospitalAmbulatoryControl>"
    )
    data = parse_ggop(ggop(control)).data
    assert data["ambulatory_control"]["location"] == {"phone": "+4566113333"}


def test_the_senders_and_receivers_sub_units_are_read(plan: Plan) -> None:
    assert (plan.sender.unit, plan.receiver_unit) == ("Q", "Æbleblomsten")


def test_no_expected_end_leaves_the_discharge_date_to_the_model_naming_expected_end() -> None:
    parsed = parse_ggop(
        ggop(
            "<CurrentHospitalContact><Start><Date>2026-11-13</Date></Start>"
            "<ExpectedEndText>Når såret er lukket</ExpectedEndText></CurrentHospitalContact>"
        )
    )
    assert "discharge_date" not in parsed.data
    assert "first_contact_deadline" not in parsed.data
    assert parsed.data["hospital_contact"] == {
        "start": "2026-11-13T00:00:00+01:00",
        "expected_end_text": "Når såret er lukket",
    }
    assert xpath_for(parsed, ("discharge_date",)) == (
        f"{PLAN}/CurrentHospitalContact/ExpectedEnd/Date"
    )


def test_an_expected_end_without_a_time_is_the_discharge_date_and_no_moment() -> None:
    data = parse_ggop(
        ggop(
            "<CurrentHospitalContact><Start><Date>2026-11-13</Date></Start>"
            "<ExpectedEnd><Date>2026-11-20</Date></ExpectedEnd></CurrentHospitalContact>"
        )
    ).data

    assert data["discharge_date"] == "2026-11-20"
    assert "expected_end" not in data["hospital_contact"]


@pytest.mark.parametrize(
    ("words", "expected_end"),
    [
        ("Udskrivelsesdato 20-11-2026: Når såret er lukket", None),
        ("Udskrivelsesdato 20-11-2026 kl. 13:45: Når såret er lukket", "2026-11-20T13:45:00+01:00"),
    ],
)
def test_sektorbros_expected_end_text_gives_the_discharge_date_and_the_words(
    words: str, expected_end: str | None
) -> None:
    data = parse_ggop(
        ggop(
            "<CurrentHospitalContact><Start><Date>2026-11-13</Date></Start>"
            f"<ExpectedEndText>{words}</ExpectedEndText></CurrentHospitalContact>"
        )
    ).data

    assert data["discharge_date"] == "2026-11-20"
    assert data["hospital_contact"].get("expected_end") == expected_end
    assert data["hospital_contact"]["expected_end_text"] == "Når såret er lukket"


def test_summer_dates_carry_the_summer_offset() -> None:
    authorisation = (
        "<Authorisation><mm100:Date>2026-06-01</mm100:Date><mm100:Time>09:26</mm100:Time>"
        "</Authorisation>"
    )
    data = parse_ggop(ggop(letter=authorisation)).data
    assert data["authorised_at"] == "2026-06-01T09:26:00+02:00"


@pytest.mark.parametrize(
    "text",
    [
        "Kontakt senest 25-11-2026.",
        "Kontakt senest 25.11.2026.",
        "Kontakt senest 25/11/2026.",
        "Kontakt senest 2026-11-25.",
        "Kontakt senest 25. november 2026.",
        "Kontakt senest 25 November 2026.",
    ],
)
def test_the_deadline_date_is_read_from_the_deadline_text(text: str) -> None:
    parsed = parse_ggop(
        ggop(f"{DISCHARGED_2026_11_20}<RehabilitationDeadline>{text}</RehabilitationDeadline>")
    )
    assert parsed.data["first_contact_deadline"] == "2026-11-25"
    assert "deadline_reason" not in parsed.data
    assert parsed.warnings == []


def test_a_deadline_beyond_seven_days_without_begrundelse_has_no_reason() -> None:
    # R21: the model then refuses it as it refuses JSON (deadline_reason_required).
    text = "Tidligst 15.12.2026, når såret er helet."
    data = parse_ggop(
        ggop(f"{DISCHARGED_2026_11_20}<RehabilitationDeadline>{text}</RehabilitationDeadline>")
    ).data
    assert data["first_contact_deadline"] == "2026-12-15"
    assert "deadline_reason" not in data
    assert data["rehabilitation_deadline"] == text


def test_the_reason_for_a_later_deadline_is_what_follows_begrundelse() -> None:
    text = "Tidligst 15.12.2026. Begrundelse: såret skal hele."
    data = parse_ggop(
        ggop(f"{DISCHARGED_2026_11_20}<RehabilitationDeadline>{text}</RehabilitationDeadline>")
    ).data
    assert (data["first_contact_deadline"], data["deadline_reason"]) == (
        "2026-12-15",
        "såret skal hele.",
    )


def test_sektorbros_deadline_sentence_is_read_as_fields_not_as_the_senders_words() -> None:
    text = (
        "Efter aftale.<mm100:Break/>Kommunens første kontakt senest 15-12-2026. "
        "Begrundelse: såret skal hele."
    )
    data = parse_ggop(
        ggop(f"{DISCHARGED_2026_11_20}<RehabilitationDeadline>{text}</RehabilitationDeadline>")
    ).data
    assert data["rehabilitation_deadline"] == "Efter aftale."
    assert (data["first_contact_deadline"], data["deadline_reason"]) == (
        "2026-12-15",
        "såret skal hele.",
    )


def test_sektorbros_deadline_sentence_alone_gives_the_discharge_date_without_hospital_contact() -> (
    None
):
    text = "Udskrivelsesdato 20-11-2026. Kommunens første kontakt senest 27-11-2026."
    data = parse_ggop(ggop(f"<RehabilitationDeadline>{text}</RehabilitationDeadline>")).data
    assert "rehabilitation_deadline" not in data
    assert (data["discharge_date"], data["first_contact_deadline"]) == ("2026-11-20", "2026-11-27")


def test_a_deadline_text_with_several_dates_takes_the_first_with_a_warning() -> None:
    parsed = parse_ggop(
        ggop(
            f"{DISCHARGED_2026_11_20}<RehabilitationDeadline>Senest 25.11.2026, "
            "kontrol 3.1.2027</RehabilitationDeadline>"
        )
    )
    assert parsed.data["first_contact_deadline"] == "2026-11-25"
    assert rules(parsed) == [(f"{PLAN}/RehabilitationDeadline", "deadline_ambiguous")]


def test_without_a_deadline_element_the_assumed_deadline_names_the_missing_element() -> None:
    parsed = parse_ggop(ggop(DISCHARGED_2026_11_20))
    assert parsed.data["first_contact_deadline"] == "2026-11-27"
    assert rules(parsed) == [(f"{PLAN}/RehabilitationDeadline", "deadline_assumed")]
    assert xpath_for(parsed, ("first_contact_deadline",)) == f"{PLAN}/RehabilitationDeadline"


def test_a_date_that_is_no_date_goes_to_the_model_as_written() -> None:
    authorisation = (
        "<Authorisation><mm100:Date>2026-13-01</mm100:Date><mm100:Time>09:26</mm100:Time>"
        "</Authorisation>"
    )
    data = parse_ggop(ggop(letter=authorisation)).data
    assert data["authorised_at"] == "2026-13-01T09:26"


def test_a_copy_receiver_without_an_ean_stays_in_the_list_for_the_model_to_name() -> None:
    parsed = parse_ggop(
        ggop("<CCReceiver><mm100:Identifier>037974</mm100:Identifier></CCReceiver>")
    )
    assert parsed.data["cc_receivers"] == [None]
    assert xpath_for(parsed, ("cc_receivers", 0)) == f"{PLAN}/CCReceiver[1]"


# --- Formatted text (formats.md §3.4) ------------------------------------------------------


def test_unformatted_text_is_a_string_with_its_whitespace_collapsed() -> None:
    assert text_of("\n   Bor i\n   stueplan.  <mm100:Break/>\n   Rollator.  ") == (
        "Bor i stueplan.\nRollator."
    )


def test_nested_formatting_sets_both_flags() -> None:
    content = "<mm100:Italic>a <mm100:Bold>b</mm100:Bold></mm100:Italic>"
    assert text_of(content) == [
        {"text": "a ", "italic": True},
        {"text": "b", "bold": True, "italic": True},
    ]


def test_space_is_a_space_and_right_and_center_are_plain_text() -> None:
    content = "<mm100:Right>a</mm100:Right><mm100:Space/><mm100:Center>b</mm100:Center>"
    assert text_of(content) == "a b"


def test_right_and_center_name_their_dropped_alignment_in_warnings() -> None:
    content = "<mm100:Right>a</mm100:Right><mm100:Center>b</mm100:Center>"
    parsed = parse_ggop(ggop(f"<PracticalInformation>{content}</PracticalInformation>"))
    assert rules(parsed) == [
        (f"{PLAN}/PracticalInformation/Right", "xml_formatting_dropped"),
        (f"{PLAN}/PracticalInformation/Center", "xml_formatting_dropped"),
    ]


def test_runs_of_spaces_inside_fixed_font_are_kept() -> None:
    content = "<mm100:FixedFont>Kol 1   Kol 2\n      Val</mm100:FixedFont>"
    assert text_of(content) == [{"text": "Kol 1   Kol 2 Val", "fixed_font": True}]


def test_spaces_written_as_space_elements_are_kept() -> None:
    content = "<mm100:Space/>a<mm100:Space/><mm100:Space/>b<mm100:Space/>"
    assert text_of(content) == " a  b "


def test_whitespace_between_elements_is_dropped() -> None:
    content = "<mm100:Bold>a</mm100:Bold> \n <mm100:Italic>b</mm100:Italic>"
    assert text_of(content) == [{"text": "a", "bold": True}, {"text": "b", "italic": True}]


def test_adjacent_runs_with_the_same_formatting_merge() -> None:
    content = "<mm100:Bold>a</mm100:Bold><mm100:Bold>b</mm100:Bold> c"
    assert text_of(content) == [{"text": "ab", "bold": True}, {"text": " c"}]


def test_an_empty_formatted_element_is_left_out() -> None:
    assert text_of(" <mm100:Break/> ") is None


def test_formatting_in_the_1_0_4_namespace_is_read_with_a_warning() -> None:
    parsed = parse_ggop(ggop("<PracticalInformation>a<Break/>b</PracticalInformation>"))
    assert parsed.data["practical_information"] == "a\nb"
    assert rules(parsed) == [(f"{PLAN}/PracticalInformation/Break", "xml_namespace_unexpected")]


def test_an_unknown_element_in_formatted_text_is_not_read() -> None:
    parsed = parse_ggop(
        ggop("<PracticalInformation>a <mm100:Blink>b</mm100:Blink> c</PracticalInformation>")
    )
    assert parsed.data["practical_information"] == "a c"
    assert rules(parsed) == [(f"{PLAN}/PracticalInformation/Blink", "xml_element_unknown")]


# --- Namespaces ----------------------------------------------------------------------------


def test_a_value_in_the_other_ggop_namespace_is_read_with_a_warning() -> None:
    parsed = parse_ggop(ggop("<Patient><PersonSurnameName>Berggren</PersonSurnameName></Patient>"))
    assert parsed.data["patient"]["surname"] == "Berggren"
    assert rules(parsed) == [(f"{PLAN}/Patient/PersonSurnameName", "xml_namespace_unexpected")]


def test_a_structure_in_the_wrong_namespace_is_not_read() -> None:
    parsed = parse_ggop(
        ggop("<mm100:Patient><mm100:PersonSurnameName>B</mm100:PersonSurnameName></mm100:Patient>")
    )
    assert "patient" not in parsed.data
    assert rules(parsed) == [(f"{PLAN}/Patient", "xml_element_unknown")]


def test_an_unknown_element_is_not_read() -> None:
    parsed = parse_ggop(ggop('<x:Extra xmlns:x="urn:example">data</x:Extra>'))
    assert rules(parsed) == [(f"{PLAN}/Extra", "xml_element_unknown")]


def test_a_second_copy_of_a_single_element_is_not_read() -> None:
    parsed = parse_ggop(
        ggop(
            "<Patient><mm100:CivilRegistrationNumber>2512484916</mm100:CivilRegistrationNumber>"
            "<mm100:CivilRegistrationNumber>0101011234</mm100:CivilRegistrationNumber></Patient>"
        )
    )
    assert parsed.data["patient"]["cpr"] == "2512484916"
    assert rules(parsed) == [(f"{PLAN}/Patient/CivilRegistrationNumber[2]", "xml_element_repeated")]


# --- xpath_for -----------------------------------------------------------------------------


def test_xpath_for_a_missing_field_names_its_own_element() -> None:
    parsed = parse_ggop(ggop("<Patient/>"))
    assert xpath_for(parsed, ("patient", "surname")) == f"{PLAN}/Patient/PersonSurnameName"


@pytest.mark.parametrize(
    ("loc", "element"),
    [
        (("consent_informed",), "ConsentInformed"),
        (("function_at_discharge",), "AbilityAtDischargeSummary"),
        (("contact_region",), "ContactCounty"),
        (("contact_municipality",), "ContactMunicipality"),
        (("gp",), "GPCCReceiver"),
    ],
)
def test_xpath_for_a_missing_required_element_names_that_element(
    loc: tuple[str, ...], element: str
) -> None:
    assert xpath_for(parse_ggop(ggop()), loc) == f"{PLAN}/{element}"


def test_xpath_for_ignores_union_tags() -> None:
    parsed = parse_ggop(EXAMPLE.read_bytes())
    loc = ("function_at_discharge_extended", "<segments>", 3, "text")
    assert xpath_for(parsed, loc) == f"{PLAN}/AbilityAtDischargeExtended"


def test_xpath_for_a_field_inside_an_absent_element_names_that_element() -> None:
    parsed = parse_ggop(ggop())
    assert xpath_for(parsed, ("contact_region", "department")) == f"{PLAN}/ContactCounty"
    assert xpath_for(parsed, ()) == PLAN


# --- JSON -> GGOP -> JSON (issue 13: the service reads its own GGOP back) ------------------

# Danish letters, markup characters, digits and date punctuation; spaces and line breaks in
# runs. Tabs and carriage returns are left out: XML has no way to keep them in a text node.
_CHARACTERS = "abcdeæøåABCÆØÅ019-./:,;&<>'\"é"
_words = st.text(alphabet=_CHARACTERS, min_size=1, max_size=8)
_gap = st.sampled_from([" ", " ", " ", "  ", "   ", "\n", "\n\n", " \n", "\n "])


@st.composite
def _plain_text(draw: st.DrawFn, max_words: int = 6) -> str:
    words = draw(st.lists(_words, min_size=1, max_size=max_words))
    text = words[0]
    for word in words[1:]:
        text += draw(_gap) + word
    return text


@st.composite
def _formatted(draw: st.DrawFn) -> Any:
    if draw(st.booleans()):
        return draw(_plain_text())
    segments = []
    for _ in range(draw(st.integers(1, 4))):
        emphasis = draw(st.sampled_from([None, "bold", "italic", "underline"]))
        segment: dict[str, Any] = {"text": draw(_gap) if draw(st.booleans()) else ""}
        segment["text"] += draw(_plain_text(3))
        if emphasis:
            segment[emphasis] = True
        if draw(st.booleans()):
            segment["fixed_font"] = True
        segments.append(segment)
    return segments


_DISCHARGE = date(2026, 11, 20)


@st.composite
def _moment(draw: st.DrawFn, day: date) -> str:
    minutes = draw(st.integers(0, 24 * 60 - 1))
    return datetime.combine(day, time(minutes // 60, minutes % 60), DANISH_TIME).isoformat()


@st.composite
def _plans(draw: st.DrawFn) -> dict[str, Any]:
    """Plans from the reference plan (tests/factories.plan_fields) with varied texts, optional
    parts and dates."""
    optional = st.none() | _formatted()
    discharge = _DISCHARGE + timedelta(days=draw(st.integers(-3, 3)))
    later = draw(st.integers(0, 30))
    fields = plan_fields(
        receiver_gln=KOMMUNE.gln,  # GGOP always names the receiver
        level=draw(st.sampled_from([None, "basal", "avanceret"])),
        discharge_date=discharge.isoformat(),
        first_contact_deadline=(discharge + timedelta(days=later)).isoformat(),
        deadline_reason=draw(_plain_text()) if later > 7 or draw(st.booleans()) else None,
        rehabilitation_deadline=draw(optional),
        information_for_patient=draw(optional),
        practical_information=draw(optional),
        patient_safety=draw(optional),
        health_summary=draw(optional),
        function_before_admission=draw(_formatted()),
        function_at_discharge=draw(_formatted()),
        function_at_discharge_extended=draw(optional),
        rehabilitation_need=draw(_formatted()),
    )
    start = draw(_moment(discharge - timedelta(days=7)))
    fields["hospital_contact"] = draw(
        st.sampled_from(
            [
                None,
                {"start": start},
                {"start": start, "expected_end": draw(_moment(discharge))},
                {"start": start, "expected_end_text": draw(_plain_text(3)).replace("\n", " ")},
            ]
        )
    )
    name = st.none() | _plain_text(2).map(lambda text: text.replace("\n", " ")[:35])
    fields["sender"]["unit"] = draw(name)
    fields["receiver_unit"] = draw(name)
    for contact in ("contact_region", "contact_municipality"):
        fields[contact] |= {"name": draw(name), "unit": draw(name), "suburb": draw(name)}
        if draw(st.booleans()):
            fields[contact] |= {"identifier": "1083", "identifier_code": "region"}
    fields["ambulatory_control"] = draw(
        st.sampled_from(
            [
                None,
                {"expected_start": draw(_moment(discharge + timedelta(days=30)))},
                {
                    "expected_start_text": "Om 6 uger",
                    "location": {"name": "OUH", "suburb": "Bolbro", "phone": "+4566113333"},
                },
            ]
        )
    )
    return fields


def _comparable(plan: Plan) -> dict[str, Any]:
    """The plan's fields, formatted text as characters with their formatting (a line break
    has none: GGOP writes Break outside the formatting), ICF codes in SKS form (R49)."""

    def text(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, str):
            chars = [(char, ()) for char in value]
        else:
            chars = [
                (char, () if char == "\n" else tuple(k for k in sorted(s) if k != "text" and s[k]))
                for s in value
                for char in s["text"]
            ]
        # The model strips a plain text; a text whose segments carry no formatting comes back
        # as a plain text, so whitespace at its ends is not content.
        while chars and chars[-1][0] in " \n":
            chars.pop()
        while chars and chars[0][0] in " \n":
            chars.pop(0)
        return chars

    data = plan.model_dump()
    for key, value in data.items():
        if isinstance(value, str | list) and key in _FORMATTED_FIELDS:
            data[key] = text(value)
    data["icf"] = [icf | {"code": sks_icf_code(icf["code"])} for icf in data["icf"]]
    return data


_FORMATTED_FIELDS = frozenset(
    {
        "rehabilitation_deadline",
        "information_for_patient",
        "practical_information",
        "patient_safety",
        "health_summary",
        "function_before_admission",
        "function_at_discharge",
        "function_at_discharge_extended",
        "rehabilitation_need",
    }
)
_RENDERER = XmlRenderer(XsdRegistry())


@settings(max_examples=50, deadline=None, derandomize=True)
@given(_plans())
def test_a_plan_rendered_as_ggop_reads_back_to_the_same_fields(fields: dict[str, Any]) -> None:
    plan = Plan.model_validate(fields, context={"today": TODAY})
    document = _RENDERER.render_ggop(plan, envelope=ENVELOPE, parties=PARTIES)

    parsed = parse_ggop(document, schemas=_RENDERER.schemas)
    again = Plan.model_validate(parsed.data, context={"today": TODAY})

    assert _comparable(again) == _comparable(plan)

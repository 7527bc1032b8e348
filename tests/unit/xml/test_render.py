"""Rendering plans as MedCom XML: GGOP shaped exactly like MedCom's public example, XDIS91
letters valid against MedCom's schema, ISO-8859-1 bytes, Danish local time, and text that
survives markup and characters outside Latin-1."""

import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from jinja2 import FileSystemLoader
from lxml import etree

from app.domain.plan import Plan, PlanType
from app.resources import resource_dir
from app.xml import XsdRegistry
from app.xml.headings import BEFORE_ADMISSION_HEADING, EXTENDED_HEADING
from app.xml.lines import Line, Run, text_lines
from app.xml.render import (
    Envelope,
    Party,
    PlanParties,
    RenderedXmlInvalid,
    XmlRenderer,
    sks_icf_code,
)
from app.xml.xdis91_layout import (
    XDIS91_CAPACITY,
    XDIS91_MAX_BLOCKS,
    XDIS91_TEXT_LIMIT,
    PlanTooLongForXdis91,
    xdis91_blocks,
    xdis91_size,
)
from tests.factories import gp_fields, hospital_fields, organisation_fields, plan_fields

DATA = Path(__file__).resolve().parents[2] / "data"
GGOP_EXAMPLE = DATA / "medcom" / "ggop-genoptraeningsplan-GGOP100-ns1.0.4-example.xml"
GOLDEN_GGOP = DATA / "golden" / "plan-almen.ggop.xml"

MM104 = "urn:oio:medcom:municipality:1.0.4"
MM100 = "urn:oio:medcom:municipality:1.0.0"
XDIS = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/"
NS = {"g": MM104, "mm100": MM100, "x": XDIS}

TODAY = date(2026, 11, 23)
ENVELOPE = Envelope(envelope_id="SB000000000001", sent_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC))


def party(fields: dict[str, Any]) -> Party:
    """A directory entry from tests/factories.py as the renderer takes it."""
    return Party(
        gln=fields["gln"],
        identifier=fields["identifier"],
        identifier_code=fields["identifier_code"],
        name=fields["name"],
        department=fields.get("department"),
        street=fields.get("street"),
        district=fields.get("district"),
        postcode=fields.get("postcode"),
        phone=fields.get("phone"),
    )


KOMMUNE = party(organisation_fields())
HOSPITAL = party(hospital_fields())
GP = party(gp_fields())
PARTIES = PlanParties(sender=HOSPITAL, receiver=KOMMUNE, gp=GP, cc=[], result_receivers=[HOSPITAL])


def make_plan(**overrides: Any) -> Plan:
    """The reference plan (plan-almen.json) with top-level overrides."""
    return Plan.model_validate(plan_fields(**overrides), context={"today": TODAY})


def deselected_gp_plan() -> tuple[Plan, PlanParties]:
    """A plan whose patient declined the GP copy, with parties to match."""
    parties = PlanParties(sender=HOSPITAL, receiver=KOMMUNE, gp=None)
    return make_plan(gp={"deselected": True}), parties


def full_plan() -> tuple[Plan, PlanParties]:
    """A plan with every optional part, and parties with copy and result receivers."""
    plan = make_plan(
        patient={
            "alternative_id": "0703921VJ5",
            "surname": "Berggren",
            "municipality_code": "461",
            "address": {"street": "Hindbærvej 23"},
            "no_phone_reason": "Hører dårligt",
            "co_address": {"given_name": "Rosa", "surname": "Andersen", "postcode": "5220"},
        },
        relatives=[
            {"relation": "uspec_paaroerende", "surname": "Jensen", "email": "mads@example.dk"}
        ],
        hospital_contact={"start": "2026-11-13T12:34:00+01:00", "expected_end_text": "Snart"},
        ambulatory_control={
            "expected_start_text": "Om 6 uger",
            "location": {"ean": "5790002012272", "identifier": "1083", "identifier_code": "region"},
        },
        icf=[{"code": "b710", "text": "Led", "gradient": {"code": "b7102", "text": "Moderat"}}],
        journal_excerpts=[{"kind": "Notat", "text": [{"text": "Se ", "underline": True}]}],
        care_team=[
            {"identifier": "34", "identifier_code": "amt", "given_name": "E", "surname": "S"}
        ],
        references=[{"description": "Se anbefalinger", "url": "https://www.sst.dk"}],
        function_at_discharge_extended=[{"text": "8a.", "bold": True}, {"text": "\n- Mentale"}],
        rehabilitation_deadline="Start efter kontrol.",
    )
    other = party(organisation_fields(gln="5790009901839", name="Ishøj Kommune"))
    parties = PlanParties(
        sender=HOSPITAL, receiver=KOMMUNE, gp=GP, cc=[other], result_receivers=[other, HOSPITAL]
    )
    return plan, parties


def parse(document: bytes) -> etree._Element:
    return etree.fromstring(document)


def one(root: etree._Element, path: str) -> etree._Element:
    """The one element at XPath `path` (prefixes g, mm100, x)."""
    found = root.xpath(path, namespaces=NS)
    assert len(found) == 1, f"{path}: {len(found)} elements"
    element: etree._Element = found[0]
    return element


def shape(element: etree._Element) -> list[tuple[str, str | None, str | None]]:
    """Mixed content as (child local name, child text, tail), with ("", text, None) first."""
    children = [(etree.QName(child).localname, child.text, child.tail) for child in element]
    return [("", element.text, None), *children]


@pytest.fixture(scope="module")
def registry() -> XsdRegistry:
    return XsdRegistry()


@pytest.fixture(scope="module")
def renderer(registry: XsdRegistry) -> XmlRenderer:
    return XmlRenderer(registry)


Render = Callable[..., bytes]


@pytest.fixture
def ggop(renderer: XmlRenderer) -> Render:
    """Renders a plan as GGOP with the reference parties and the fixed envelope."""

    def render(plan: Plan, parties: PlanParties = PARTIES, envelope: Envelope = ENVELOPE) -> bytes:
        return renderer.render_ggop(plan, envelope=envelope, parties=parties)

    return render


@pytest.fixture
def xdis91(renderer: XmlRenderer) -> Render:
    """Renders a plan as an XDIS91 letter to the GP with the reference parties."""

    def render(plan: Plan, parties: PlanParties = PARTIES, receiver: Party = GP) -> bytes:
        return renderer.render_plan_as_xdis91(
            plan, envelope=ENVELOPE, parties=parties, receiver=receiver
        )

    return render


def text01_blocks(document: bytes) -> list[etree._Element]:
    return list(parse(document).iterfind(".//x:ClinicalInformation/x:Text01", NS))


def block_text(text01: etree._Element) -> str:
    """The text of a Text01 as a reader gets it: a Break is a line break, a Space a space."""
    characters = {f"{{{XDIS}}}Break": "\n", f"{{{XDIS}}}Space": " "}

    def inner(element: etree._Element) -> str:
        children = "".join(inner(child) + (child.tail or "") for child in element)
        return characters.get(element.tag, "") + (element.text or "") + children

    return (text01.text or "") + "".join(inner(child) + (child.tail or "") for child in text01)


def block_size(text01: etree._Element) -> int:
    """Characters of text in a Text01, counting a Break or a Space as one."""
    return len(block_text(text01))


class TestRenderGgop:
    def test_the_reference_plan_is_valid_against_our_ggop_schema(
        self, ggop: Render, registry: XsdRegistry
    ) -> None:
        assert registry.validate("ggop", ggop(make_plan())) == []

    def test_a_plan_with_every_optional_part_is_valid(
        self, ggop: Render, registry: XsdRegistry
    ) -> None:
        assert registry.validate("ggop", ggop(*full_plan())) == []

    @pytest.mark.parametrize("full", [False, True], ids=["reference plan", "full plan"])
    def test_the_plan_elements_come_in_the_order_of_medcoms_example(
        self, ggop: Render, full: bool
    ) -> None:
        def children(root: etree._Element) -> list[tuple[str, str]]:
            plan = one(root, "/g:Emessage/g:RehabilitationPlan")
            names = [(etree.QName(c).namespace, etree.QName(c).localname) for c in plan]
            return [name for i, name in enumerate(names) if i == 0 or names[i - 1] != name]

        ours = children(parse(ggop(*full_plan()) if full else ggop(make_plan())))
        example = children(etree.parse(GGOP_EXAMPLE).getroot())

        assert ours == [name for name in example if name in ours]
        assert set(ours) <= set(example)

    def test_every_element_has_the_namespace_the_example_gives_it_in_the_same_place(
        self, ggop: Render
    ) -> None:
        def namespaces(root: etree._Element) -> dict[str, str]:
            """Each element's path in local names -> its namespace."""
            return {
                "/".join(
                    etree.QName(e).localname
                    for e in [*reversed([*element.iterancestors()]), element]
                ): etree.QName(element).namespace
                for element in root.iter(etree.Element)
            }

        ours = namespaces(parse(ggop(make_plan())))
        example = namespaces(etree.parse(GGOP_EXAMPLE).getroot())

        assert {path: ours[path] for path in ours if path in example} == {
            path: example[path] for path in ours if path in example
        }
        # Where the example has no such element (a receiver's phone, say), the element has a
        # namespace the example gives that name; EpisodeOfCareIdentifier is 1.0.4 like Letter.
        by_name: dict[str, set[str]] = {"EpisodeOfCareIdentifier": {MM104}}
        for path, ns in example.items():
            by_name.setdefault(path.rpartition("/")[2], set()).add(ns)
        assert [
            path
            for path in ours
            if path not in example and ours[path] not in by_name[path.rpartition("/")[2]]
        ] == []

    def test_declares_iso_8859_1(self, ggop: Render) -> None:
        assert ggop(make_plan()).startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<')

    def test_danish_letters_are_latin_1_bytes(self, ggop: Render) -> None:
        document = ggop(make_plan())

        assert "<PersonSurnameName>Strøm</PersonSurnameName>".encode("latin-1") in document
        assert b"&#248;" not in document

    def test_characters_outside_latin_1_and_markup_survive_as_references(
        self, ggop: Render
    ) -> None:
        surname = "Berggren € Ω <b>&amp; ]]>"
        fields = plan_fields()
        fields["patient"]["surname"] = surname

        document = ggop(make_plan(patient=fields["patient"]))

        assert b"Berggren &#8364; &#937; &lt;b&gt;&amp;amp; ]]&gt;" in document
        surname_element = one(parse(document), "//g:Patient/mm100:PersonSurnameName")
        assert surname_element.text == surname

    def test_the_gp_copy_names_the_gp(self, ggop: Render) -> None:
        root = parse(ggop(make_plan()))

        gln = one(root, "//g:GPCCReceiver/g:CCReceiver/mm100:EANIdentifier").text
        assert gln == GP.gln

    def test_a_deselected_gp_copy_is_written_as_deselected(self, ggop: Render) -> None:
        plan, parties = deselected_gp_plan()

        receiver = one(parse(ggop(plan, parties)), "//g:GPCCReceiver")

        assert [etree.QName(child).localname for child in receiver] == ["Deselected"]

    def test_parties_that_contradict_the_gp_choice_are_refused(self, renderer: XmlRenderer) -> None:
        plan, _ = deselected_gp_plan()

        with pytest.raises(ValueError, match=r"parties\.gp"):
            renderer.render_ggop(plan, envelope=ENVELOPE, parties=PARTIES)

    def test_copy_and_result_receivers_are_written_in_order(self, ggop: Render) -> None:
        other = party(organisation_fields(gln="5790009901839", name="Ishøj Kommune"))
        parties = PlanParties(
            sender=HOSPITAL, receiver=KOMMUNE, gp=GP, cc=[HOSPITAL, other], result_receivers=[other]
        )

        root = parse(ggop(make_plan(), parties))

        assert root.xpath(
            "/*/g:RehabilitationPlan/g:CCReceiver/mm100:EANIdentifier/text()", namespaces=NS
        ) == [
            HOSPITAL.gln,
            other.gln,
        ]
        assert root.xpath(
            "//g:FinalResult/g:ResultReceiver/mm100:EANIdentifier/text()", namespaces=NS
        ) == [other.gln]

    def test_icf_codes_are_written_in_sks_form(self, ggop: Render) -> None:
        plan = make_plan(icf=[{"code": "d450"}, {"code": "b710"}, {"code": "FB799"}])

        codes = parse(ggop(plan)).xpath("//g:ICFCode/g:Code/text()", namespaces=NS)

        assert codes == ["FD450", "FB710", "FB799"]

    def test_times_are_danish_local_time(self, ggop: Render) -> None:
        plan = make_plan(authorised_at="2026-07-01T08:26:00Z")  # summer time: UTC+2
        envelope = Envelope(envelope_id="E1", sent_at=datetime(2026, 11, 19, 23, 30, tzinfo=UTC))

        root = parse(ggop(plan, envelope=envelope))

        assert one(root, "//g:Authorisation/mm100:Time").text == "10:26"
        assert one(root, "//mm100:Envelope/mm100:Sent/mm100:Date").text == "2026-11-20"
        assert one(root, "//mm100:Envelope/mm100:Sent/mm100:Time").text == "00:30"

    def test_a_missing_rehabilitation_deadline_is_written_from_the_deadline_and_reason(
        self, ggop: Render
    ) -> None:
        plan = make_plan(first_contact_deadline="2026-12-04", deadline_reason="Såret skal hele.")

        deadline = one(parse(ggop(plan)), "//g:RehabilitationDeadline")

        assert (
            deadline.text
            == "Kommunens første kontakt senest 04-12-2026. Begrundelse: Såret skal hele."
        )

    def test_a_given_rehabilitation_deadline_is_written_as_given(self, ggop: Render) -> None:
        plan = make_plan(rehabilitation_deadline="Start efter kontrol i ambulatoriet.")

        deadline = one(parse(ggop(plan)), "//g:RehabilitationDeadline")

        assert shape(deadline) == [("", "Start efter kontrol i ambulatoriet.", None)]

    def test_the_earlier_function_opens_the_extended_ability_under_its_heading(
        self, ggop: Render
    ) -> None:
        plan = make_plan(function_before_admission="Selvhjulpen.")

        extended = one(parse(ggop(plan)), "//g:AbilityAtDischargeExtended")

        assert shape(extended) == [
            ("", None, None),
            ("Bold", BEFORE_ADMISSION_HEADING, None),
            ("Break", None, "Selvhjulpen."),
        ]

    def test_the_extended_ability_follows_the_earlier_function_under_its_own_heading(
        self, ggop: Render
    ) -> None:
        plan = make_plan(
            function_before_admission="Selvhjulpen.", function_at_discharge_extended="Går."
        )

        extended = one(parse(ggop(plan)), "//g:AbilityAtDischargeExtended")

        assert shape(extended) == [
            ("", None, None),
            ("Bold", BEFORE_ADMISSION_HEADING, None),
            ("Break", None, "Selvhjulpen."),
            ("Break", None, None),
            ("Break", None, None),
            ("Bold", EXTENDED_HEADING, None),
            ("Break", None, "Går."),
        ]

    def test_the_extended_ability_alone_is_written_as_given(self, ggop: Render) -> None:
        plan = make_plan(function_before_admission=None, function_at_discharge_extended="Går.")

        extended = one(parse(ggop(plan)), "//g:AbilityAtDischargeExtended")

        assert shape(extended) == [("", "Går.", None)]

    def test_without_either_text_there_is_no_extended_ability(self, ggop: Render) -> None:
        plan = make_plan(function_before_admission=None)

        assert parse(ggop(plan)).find(".//g:AbilityAtDischargeExtended", NS) is None

    def test_a_line_break_inside_formatting_closes_and_reopens_it(self, ggop: Render) -> None:
        plan = make_plan(
            practical_information=[
                {"text": "Vigtigt:\nring", "bold": True},
                {"text": " før kl. 12\n", "italic": True, "fixed_font": True},
            ]
        )

        text = one(parse(ggop(plan)), "//g:PracticalInformation")

        assert shape(text) == [
            ("", None, None),
            ("Bold", "Vigtigt:", None),
            ("Break", None, None),
            ("Bold", "ring", None),
            ("FixedFont", None, None),
            ("Break", None, None),
        ]
        assert shape(text[3]) == [("", None, None), ("Italic", " før kl. 12", None)]
        assert {etree.QName(e).namespace for e in text.iter() if e is not text} == {MM100}

    @pytest.mark.parametrize("plan_type", list(PlanType))
    def test_each_plan_type_is_written(self, ggop: Render, plan_type: PlanType) -> None:
        # R8: a plan for rehabilitering describes the overall functional ability.
        plan = make_plan(
            plan_type=plan_type, level=None, function_at_discharge_extended="Samlet funktionsevne."
        )

        root = parse(ggop(plan))

        assert one(root, "//g:TypeOfRehabilitationPlan").text == plan_type.value

    @pytest.mark.parametrize("level", ["basal", "avanceret"])
    def test_a_municipal_level_is_written_as_the_plan_type(self, ggop: Render, level: str) -> None:
        # R15, formats.md §4.3: KL's sub-levels of almen are values of TypeOfRehabilitationPlan.
        root = parse(ggop(make_plan(level=level)))

        assert one(root, "//g:TypeOfRehabilitationPlan").text == level

    def test_absent_optional_parts_are_left_out(self, ggop: Render) -> None:
        plan = make_plan(relatives=[], hospital_contact=None, diagnoses=None, icf=[])

        root = parse(ggop(plan))

        for name in ("Relatives", "CurrentHospitalContact", "ICD10Diagnoses", "ICFClassifications"):
            assert root.find(f".//g:{name}", NS) is None, name

    def test_the_reference_plan_matches_the_golden_file(self, ggop: Render) -> None:
        # Regenerate after an intended change: write ggop(make_plan()) to GOLDEN_GGOP as bytes.
        ours = etree.tostring(parse(ggop(make_plan())), method="c14n")
        golden = etree.tostring(etree.parse(GOLDEN_GGOP).getroot(), method="c14n")

        assert ours == golden


class TestRenderPlanAsXdis91:
    def test_the_reference_plan_is_valid_against_medcoms_schema(
        self, xdis91: Render, registry: XsdRegistry
    ) -> None:
        assert registry.validate("xdis91", xdis91(make_plan())) == []

    def test_a_plan_with_every_optional_part_is_valid(
        self, xdis91: Render, registry: XsdRegistry
    ) -> None:
        assert registry.validate("xdis91", xdis91(*full_plan())) == []

    def test_the_letter_goes_to_the_given_receiver(self, xdis91: Render) -> None:
        root = parse(xdis91(make_plan()))

        assert one(root, "//x:Receiver/x:EANIdentifier").text == GP.gln
        assert one(root, "//x:Sender/x:EANIdentifier").text == HOSPITAL.gln

    def test_the_subject_names_the_plan_type(self, xdis91: Render) -> None:
        subject = one(parse(xdis91(make_plan())), "//x:AdditionalInformation/x:Subject")

        assert subject.text == "Genoptræningsplan (almen)"

    def test_the_text_carries_every_part_of_the_plan(self, xdis91: Render) -> None:
        plan = make_plan(
            function_at_discharge_extended="Uddybet.",
            deadline_reason="Såret skal hele.",
            first_contact_deadline="2026-12-04",
            care_team=[{"given_name": "Arne", "surname": "Bævermose", "title": "Terapeut"}],
        )

        text = "".join("".join(block.itertext()) for block in text01_blocks(xdis91(plan)))

        for part in (
            plan.information_for_patient,
            plan.practical_information,
            plan.patient_safety,
            plan.health_summary,
            plan.function_before_admission,
            plan.function_at_discharge,
            plan.function_at_discharge_extended,
            plan.rehabilitation_need,
            plan.journal_excerpts[0].text,
            "Niveau: avanceret",
            "Udskrivelsesdato: 20-11-2026",
            "Kommunens første kontakt senest 04-12-2026. Begrundelse: Såret skal hele.",
            "Primær diagnose: Fraktur af lårbenshals (DS720)",
            "At gå (FD450)",
            "Irene Petersen, aegtefaelle",
            "mobil: +4523321234, nancy@example.dk",
            "Ellinor Strøm, Fysioterapeut",
            "Peter Andresen, Overlæge",
            "Spørgsmål til Regionen",
            "Region Syddanmark, Damhaven 12, 7100 Vejle",
            "Behandlende team under indlæggelse",
            "Arne Bævermose, Terapeut",
            f"Primær modtager: EAN: {KOMMUNE.gln}",
            f"Kopi til egen læge: EAN: {GP.gln}",
            "Slutstatusmodtager",
        ):
            assert isinstance(part, str)
            assert part in text, part

    def test_headings_are_bold(self, xdis91: Render) -> None:
        (block,) = text01_blocks(xdis91(make_plan()))

        headings = [bold.text for bold in block.iterfind("x:Bold", NS)]

        assert headings[:3] == ["Genoptræningsplan", "Kopimodtagere", "Underskrivere"]
        assert "Spørgsmål til Kommunen" in headings

    def test_a_deselected_gp_copy_shows_as_fravalgt(self, xdis91: Render) -> None:
        plan, parties = deselected_gp_plan()

        text = "".join(text01_blocks(xdis91(plan, parties, KOMMUNE))[0].itertext())

        assert "Kopi til egen læge: Fravalgt" in text

    def test_a_party_with_an_identifier_code_unknown_to_xdis91_is_named_by_its_gln(
        self, xdis91: Render
    ) -> None:
        region = Party(gln="5790000120314", identifier="1083", identifier_code="region", name="RSD")

        root = parse(xdis91(make_plan(), receiver=region))

        assert one(root, "//x:Receiver/x:Identifier").text == region.gln
        assert one(root, "//x:Receiver/x:IdentifierCode").text == "lokationsnummer"

    def test_a_long_plan_is_split_into_blocks_within_the_limit(self, xdis91: Render) -> None:
        long_text = " ".join(f"ord{i}" for i in range(1200))  # about 7,000 characters, one line
        plan = make_plan(health_summary=long_text, rehabilitation_need=long_text)

        blocks = text01_blocks(xdis91(plan))

        assert 4 <= len(blocks) <= XDIS91_MAX_BLOCKS
        assert all(block_size(block) <= XDIS91_TEXT_LIMIT for block in blocks)
        assert "".join(block_text(block) for block in blocks).count(long_text) == 2

    def test_a_plan_too_long_for_ten_blocks_is_refused_with_its_size_and_the_limit(
        self, xdis91: Render
    ) -> None:
        long_text = "Lang tekst. " * 800  # 9,600 characters
        plan = make_plan(
            health_summary=long_text,
            rehabilitation_need=long_text,
            function_at_discharge=long_text,
            practical_information=long_text,
        )

        with pytest.raises(PlanTooLongForXdis91) as refused:
            xdis91(plan)

        assert refused.value.blocks_needed > XDIS91_MAX_BLOCKS
        assert refused.value.limit == XDIS91_CAPACITY == 31_500
        assert refused.value.size > 4 * 9_600

    def test_a_plan_of_31400_characters_fits_ten_blocks(self, xdis91: Render) -> None:
        plan = make_plan(**long_texts(total=29_500))  # with headings and the rest: 31,398

        blocks = text01_blocks(xdis91(plan))

        sizes = [block_size(block) for block in blocks]
        assert 31_300 <= sum(sizes) <= XDIS91_CAPACITY
        assert len(blocks) == XDIS91_MAX_BLOCKS
        assert all(size <= XDIS91_TEXT_LIMIT for size in sizes)

    def test_long_one_line_texts_no_longer_leave_blocks_half_empty(self, xdis91: Render) -> None:
        # Issue 13: these texts (about 16,000 characters) took 13 blocks of sizes 781, 21,
        # 3149, 284, 70, 3149, ... and the plan was refused.
        sentence = "Patienten træner dagligt med fysioterapeut. " * 100
        plan = make_plan(
            health_summary=sentence[:4200],
            rehabilitation_need=sentence[:3200],
            function_at_discharge=sentence[:3500],
            practical_information=sentence[:3200],
        )

        sizes = [block_size(block) for block in text01_blocks(xdis91(plan))]

        assert len(sizes) == 6
        assert all(size > XDIS91_TEXT_LIMIT * 0.9 for size in sizes[:-1])

    def test_a_deadline_written_in_words_is_shown_as_written_and_nothing_more(
        self, xdis91: Render
    ) -> None:
        plan = make_plan(rehabilitation_deadline="Start efter kontrol.")

        text = "".join("".join(block.itertext()) for block in text01_blocks(xdis91(plan)))

        assert "Tidsfrist for start af genoptræningStart efter kontrol." in text
        assert "Kommunens første kontakt" not in text

    @pytest.mark.parametrize(
        "deadline",
        [
            pytest.param({"rehabilitation_deadline": "Start efter kontrol."}, id="in-words"),
            pytest.param(
                {"first_contact_deadline": "2026-12-04", "deadline_reason": "Såret skal hele."},
                id="structured",
            ),
        ],
    )
    def test_the_deadline_reads_the_same_as_in_the_kommunes_ggop(
        self, ggop: Render, xdis91: Render, deadline: dict[str, str]
    ) -> None:
        plan = make_plan(**deadline)

        in_ggop = "".join(one(parse(ggop(plan)), "//g:RehabilitationDeadline").itertext())
        text = "".join("".join(block.itertext()) for block in text01_blocks(xdis91(plan)))

        assert f"Tidsfrist for start af genoptræning{in_ggop}" in text
        assert text.count("Kommunens første kontakt") == in_ggop.count("Kommunens første kontakt")


def long_texts(total: int) -> dict[str, str]:
    """Six free texts of paragraphs of sentences, `total` characters in all."""
    sentence = "Patienten går med rollator og træner hoften dagligt, også i weekenden. "
    fields = [
        "health_summary",
        "rehabilitation_need",
        "function_at_discharge",
        "practical_information",
        "patient_safety",
        "information_for_patient",
    ]
    each = total // len(fields)
    paragraph = (sentence * 12).strip()
    texts = {}
    for name in fields:
        text = "\n".join([paragraph] * (each // (len(paragraph) + 1) + 1))
        texts[name] = text[:each].strip()
    return texts


def runs_of(lines: list[Line]) -> list[tuple[str, tuple[str, ...]]]:
    """Every character of `lines` with its formatting, in order, without the line breaks."""
    return [(char, run.tags) for line in lines for run in line for char in run.text]


class TestXdis91Blocks:
    def test_sections_that_fit_share_a_block_with_a_blank_line_between(self) -> None:
        sections = [[(Run("A", ("Bold",)),), (Run("a"),)], [(Run("B", ("Bold",)),)]]

        assert xdis91_blocks(sections, limit=8) == [
            [(Run("A", ("Bold",)),), (Run("a"),), (), (Run("B", ("Bold",)),)]
        ]

    def test_a_section_whose_first_word_does_not_fit_starts_a_new_block(self) -> None:
        sections = [[(Run("AAAA"),)], [(Run("BBBB"),)]]

        assert xdis91_blocks(sections, limit=8) == [[(Run("AAAA"),)], [(Run("BBBB"),)]]

    def test_a_section_fills_the_rest_of_a_block_and_goes_on_in_the_next(self) -> None:
        sections = [[(Run("AAAA"),)], [(Run("bb cc dd ee"),)]]

        assert xdis91_blocks(sections, limit=12) == [
            [(Run("AAAA"),), (), (Run("bb cc "),)],
            [(Run("dd ee"),)],
        ]

    def test_a_section_longer_than_a_block_is_split_between_lines(self) -> None:
        section = [(Run("aaaa"),), (Run("bbbb"),), (Run("cccc"),)]

        assert xdis91_blocks([section], limit=9) == [
            [(Run("aaaa"),), (Run("bbbb"),)],
            [(Run("cccc"),)],
        ]

    def test_a_blank_line_where_a_block_ends_is_left_to_the_block_boundary(self) -> None:
        section = [(Run("aaaa"),), (), (Run("bbbb"),)]

        assert xdis91_blocks([section], limit=5) == [[(Run("aaaa"),)], [(Run("bbbb"),)]]

    def test_a_line_longer_than_a_block_is_split_after_a_space(self) -> None:
        assert xdis91_blocks([[(Run("aaa bbb ccc"),)]], limit=8) == [
            [(Run("aaa bbb "),)],
            [(Run("ccc"),)],
        ]

    def test_a_line_is_split_after_a_sentence_when_that_leaves_little_room_unused(self) -> None:
        line = (Run("Første sætning er lang nok. To ord mere."),)  # a sentence of 28

        blocks = xdis91_blocks([[line]], limit=30)  # a tenth: 3 characters may stay unused

        assert blocks == [
            [(Run("Første sætning er lang nok. "),)],
            [(Run("To ord mere."),)],
        ]

    def test_a_line_is_split_after_a_word_when_a_sentence_end_leaves_too_much_unused(
        self,
    ) -> None:
        line = (Run("Kort. Og så en meget lang sætning uden ende"),)

        blocks = xdis91_blocks([[line]], limit=20)

        assert blocks[0] == [(Run("Kort. Og så en "),)]

    def test_a_split_keeps_each_pieces_formatting(self) -> None:
        line = (Run("aaa "), Run("bbb ccc", ("Bold",)))

        assert xdis91_blocks([[line]], limit=8) == [
            [(Run("aaa "), Run("bbb ", ("Bold",)))],
            [(Run("ccc", ("Bold",)),)],
        ]

    def test_a_word_longer_than_a_block_is_cut(self) -> None:
        assert xdis91_blocks([[(Run("abcdefghij", ("Bold",)),)]], limit=4) == [
            [(Run("abcd", ("Bold",)),)],
            [(Run("efgh", ("Bold",)),)],
            [(Run("ij", ("Bold",)),)],
        ]

    def test_blocks_are_filled_to_the_last_word_when_a_readable_layout_takes_too_many(
        self,
    ) -> None:
        # Readable, 30 % of each block would stay unused after "a." and take three blocks.
        line = (Run("Aaaaaaa. bb cc dd ee ff gg hh ii jj kk"),)

        readable = xdis91_blocks([[line]], limit=20, max_blocks=3)
        tight = xdis91_blocks([[line]], limit=20, max_blocks=2)

        assert readable[0] == [(Run("Aaaaaaa. bb cc dd "),)]
        assert [block[0][0].text for block in tight] == [
            "Aaaaaaa. bb cc dd ",
            "ee ff gg hh ii jj kk",
        ]

    @pytest.mark.parametrize("limit", [40, 97, 3150])
    def test_nothing_is_lost_or_reordered_and_no_block_exceeds_the_limit(self, limit: int) -> None:
        sections = [
            [
                (Run(f"Overskrift {n}", ("Bold",)),),
                *text_lines(long_texts(total=6 * 1_500 * n)["health_summary"]),
                (Run("fast ", ("FixedFont",)), Run("skrift. " * n, ("FixedFont", "Italic"))),
                (),
                (Run("x" * (limit + 7)),),
            ]
            for n in (1, 2, 3)
        ]

        blocks = xdis91_blocks(sections, limit=limit, max_blocks=1_000)

        assert runs_of([line for block in blocks for line in block]) == runs_of(
            [line for section in sections for line in section]
        )
        assert all(0 < xdis91_size([block]) <= limit for block in blocks)


_RUNS = st.lists(
    st.builds(
        Run,
        st.text(alphabet="ab .!\n", min_size=1, max_size=40).filter(lambda t: "\n" not in t),
        st.sampled_from([(), ("Bold",), ("FixedFont", "Italic")]),
    ),
    max_size=4,
).map(tuple)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(
    sections=st.lists(st.lists(_RUNS, min_size=1, max_size=6), max_size=6),
    limit=st.integers(min_value=1, max_value=60),
)
def test_any_text_is_laid_out_whole_in_order_within_the_limit(
    sections: list[list[Line]], limit: int
) -> None:
    blocks = xdis91_blocks(sections, limit=limit, max_blocks=10_000)

    assert runs_of([line for block in blocks for line in block]) == runs_of(
        [line for section in sections for line in section]
    )
    assert all(0 < xdis91_size([block]) <= limit for block in blocks)


class TestTextLines:
    def test_a_newline_ends_a_line(self) -> None:
        assert text_lines("a\r\nb\n\nc") == [(Run("a"),), (Run("b"),), (), (Run("c"),)]

    def test_bold_wins_where_medcom_allows_one_emphasis(self) -> None:
        # FormattedText.xsd: Bold, Italic and Underline hold no further formatting.
        plan = make_plan(practical_information=[{"text": "x", "bold": True, "italic": True}])

        assert plan.practical_information is not None
        assert text_lines(plan.practical_information) == [(Run("x", ("Bold",)),)]


@pytest.mark.parametrize(
    ("code", "sks"), [("d450", "FD450"), ("b710", "FB710"), ("e1101", "FE1101"), ("FB799", "FB799")]
)
def test_sks_icf_code(code: str, sks: str) -> None:
    assert sks_icf_code(code) == sks


class TestEnvelope:
    def test_an_envelope_id_has_at_most_14_characters(self) -> None:
        with pytest.raises(ValueError, match="1-14"):
            Envelope(envelope_id="E" * 15, sent_at=ENVELOPE.sent_at)

    def test_the_send_time_must_be_aware(self) -> None:
        with pytest.raises(ValueError, match="aware"):
            Envelope(envelope_id="E1", sent_at=datetime(2026, 11, 20, 9, 30))


class TestXmlRenderer:
    def test_templates_are_compiled_once(
        self, registry: XsdRegistry, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        loads: list[str] = []
        get_source = FileSystemLoader.get_source

        def counting(self: FileSystemLoader, environment: Any, template: str) -> Any:
            loads.append(template)
            return get_source(self, environment, template)

        monkeypatch.setattr(FileSystemLoader, "get_source", counting)
        renderer = XmlRenderer(registry)
        renderer.render_ggop(make_plan(), envelope=ENVELOPE, parties=PARTIES)
        loaded = len(loads)

        renderer.render_ggop(make_plan(), envelope=ENVELOPE, parties=PARTIES)
        renderer.render_plan_as_xdis91(make_plan(), envelope=ENVELOPE, parties=PARTIES, receiver=GP)

        assert sorted(loads) == [
            "_medcom.xml.j2",
            "ggop.xml.j2",
            "receipt.xml.j2",
            "xdis91_letter.xml.j2",
            "xdis91_plan.xml.j2",
        ]
        assert len(loads) == loaded

    def test_an_invalid_render_is_reported_with_its_issues(
        self, registry: XsdRegistry, tmp_path: Path
    ) -> None:
        templates = shutil.copytree(resource_dir("xml_templates"), tmp_path / "templates")
        ggop = templates / "ggop.xml.j2"
        ggop.write_text(ggop.read_text("utf-8").replace(">GGOP100<", ">GGOP999<"), "utf-8")

        with pytest.raises(RenderedXmlInvalid) as invalid:
            XmlRenderer(registry, templates_dir=templates).render_ggop(
                make_plan(), envelope=ENVELOPE, parties=PARTIES
            )

        assert [issue.path for issue in invalid.value.issues] == [
            "/Emessage/RehabilitationPlan/Letter/VersionCode"
        ]

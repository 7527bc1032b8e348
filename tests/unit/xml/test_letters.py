"""Correspondence letters as XDIS91 (ClinicalEmail XD9134L, formats.md §5): rendering valid
against MedCom's schema with MedCom's formatting, MedCom's public examples read into `Letter`
in their own encodings, round trips that lose neither text nor formatting, and everything
that is no readable XDIS91 letter refused with the XPath of its element."""

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from stdnum import ean

from app.domain.letters import (
    TEXT_BLOCK_LIMIT,
    EpisodeOfCareStatus,
    Letter,
    LetterStatus,
    Priority,
)
from app.domain.plan import Address, Reference
from app.domain.text import Segment, plain_text
from app.xml import (
    Envelope,
    ParsedLetter,
    Party,
    XmlRejected,
    XmlRenderer,
    XsdRegistry,
    parse_xdis91,
)
from app.xml.xdis91 import LETTER_PATH
from tests.factories import gp_fields, hospital_fields, make_letter

MEDCOM = Path(__file__).resolve().parents[2] / "data" / "medcom"
CONVERTED = "xdis91-XD9134L-clinicalemail-converted-from-ggop-example.xml"  # ISO-8859-1
KORR = "xdis91-XD9134L-clinicalemail-formatted-text-korr_x9134.xml"  # ISO-8859-1
DIS91_1 = "xdis91-XD9134L-clinicalemail-hoej-prioritet-DIS91_1.xml"  # windows-1252
DIS91_2 = "xdis91-XD9134L-clinicalemail-rutine-DIS91_2.xml"  # windows-1252
XDIS90 = "xdis90-XD9034L-administrativeemail-DIS91_3.xml"
GGOP = "ggop-genoptraeningsplan-GGOP100-ns1.0.4-example.xml"
XCTL03 = "xctl03-XC0330Q-positive-receipt-CTL03_1.xml"

XDIS = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/"
NS = {"x": XDIS}
# The Hillerød examples' GLNs have wrong check digits (architecture.md, Known traps).
HILLEROED_SENDER = "5790000120400"
HILLEROED_RECEIVER = "5790000128700"
ENVELOPE = Envelope(envelope_id="SB000000000001", sent_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC))
AUTHORISED_AT = datetime(2026, 11, 20, 8, 26, tzinfo=UTC)  # 09:26 in Denmark


def corrected(gln: str) -> str:
    """The GLN with its GS1 check digit recomputed."""
    return gln[:12] + ean.calc_check_digit(gln[:12])


def example_with(name: str, *changes: tuple[str, str]) -> bytes:
    """MedCom's example `name`, with each `old` text replaced by `new`, in its own encoding."""
    body = (MEDCOM / name).read_bytes()
    declared = re.search(rb'encoding="([^"]+)"', body)
    assert declared is not None
    encoding = declared.group(1).decode()
    text = body.decode(encoding)
    for old, new in changes:
        assert old in text, old
        text = text.replace(old, new)
    return text.encode(encoding)


def converted_in_two_blocks() -> bytes:
    """The converted GGOP example addressed to Odense Kommune, its one Text01 (longer than a
    block may be) split into two before the heading "Tidsfrist ..."."""
    return example_with(
        CONVERTED,
        (">modtager<", ">5790000121441<"),
        (
            "<xdis:Break/><xdis:Break/><xdis:Bold>Tidsfrist",
            "</xdis:Text01></xdis:ClinicalInformation><xdis:ClinicalInformation>"
            "<xdis:Text01><xdis:Bold>Tidsfrist",
        ),
    )


def with_text01(content: str) -> bytes:
    """DIS91_2 with `content` as its Text01."""
    body = (MEDCOM / DIS91_2).read_bytes().decode("cp1252")
    body = re.sub("<Text01>.*</Text01>", lambda _: f"<Text01>{content}</Text01>", body)
    return body.encode("cp1252")


def text_of(content: str) -> Any:
    """The text block a Text01 with `content` reads as."""
    return parse_xdis91(with_text01(content)).letter.text_blocks[0]


def rejection(body: bytes) -> list[tuple[str, str]]:
    """The (XPath, rule) pairs the parser refuses `body` with."""
    with pytest.raises(XmlRejected) as caught:
        parse_xdis91(body)
    return [(error.field, error.rule) for error in caught.value.errors]


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


HOSPITAL = party(hospital_fields())
GP = party(gp_fields())

# Every MedCom formatting, in the form a letter reads back from XML: segments of equal
# formatting merged, a line break without formatting, one emphasis per segment.
EVERY_FORMATTING = [
    {"text": "Vigtigt:", "bold": True},
    {"text": " ring før kl. 12, "},
    {"text": "ikke", "italic": True},
    {"text": " efter. "},
    {"text": "Faste", "underline": True},
    {"text": " fra midnat.\n"},
    {"text": "Dosis: 500 mg", "fixed_font": True},
    {"text": " "},
    {"text": "x 3", "bold": True, "fixed_font": True},
    {"text": "\n\nTak & hilsen <OUH> 5 € "},
    {"text": "Ortopædkirurgisk Afdeling", "italic": True, "fixed_font": True},
]


def full_letter(**overrides: Any) -> Letter:
    """A letter with every optional part and every formatting."""
    fields = make_letter(
        letter_id="OUHL2026112001",
        patient={
            "alternative_id": "0703921VJ5",
            "surname": "Berggren",
            "given_name": "Nancy Ann",
            "address": {
                "street": "Hindbærvej 23",
                "suburb": "Hjallese",
                "district": "Odense S",
                "postcode": "5260",
            },
            "occupation": "Tømrer",
            "episode_of_care_status": "ambulant",
        },
        priority="høj_prioritet",
        text_blocks=["Kære læge,\nPatienten har fortsat smerter.", EVERY_FORMATTING],
    )
    return Letter.model_validate(fields | overrides)


@pytest.fixture(scope="module")
def registry() -> XsdRegistry:
    return XsdRegistry()


@pytest.fixture(scope="module")
def renderer(registry: XsdRegistry) -> XmlRenderer:
    return XmlRenderer(registry)


def render(renderer: XmlRenderer, letter: Letter, **overrides: Any) -> bytes:
    """`letter` from the hospital to the GP, with the fixed envelope and authorisation."""
    arguments: dict[str, Any] = {
        "letter_id": letter.letter_id or "SB0000000001",
        "envelope": ENVELOPE,
        "sender": HOSPITAL,
        "receiver": GP,
        "authorised_at": AUTHORISED_AT,
    }
    return renderer.render_letter(letter, **(arguments | overrides))


def one(document: bytes, path: str) -> etree._Element:
    """The one element at XPath `path` (prefix x)."""
    found = etree.fromstring(document).xpath(path, namespaces=NS)
    assert len(found) == 1, f"{path}: {len(found)} elements"
    element: etree._Element = found[0]
    return element


def text01s(document: bytes) -> list[str]:
    """Each Text01's content as written, without the namespace declaration."""
    root = etree.fromstring(document)
    return [
        re.sub(
            r"^<Text01[^>]*>|</Text01>$",
            "",
            etree.tostring(text01, encoding="unicode", with_tail=False),
        )
        for text01 in root.iterfind(".//x:ClinicalInformation/x:Text01", NS)
    ]


def round_trip(renderer: XmlRenderer, parsed: ParsedLetter) -> Letter:
    """The letter of `parsed` rendered for its receiver and parsed again."""
    letter = parsed.letter
    receiver = Party(
        gln=letter.receiver_gln, identifier="291714", identifier_code="ydernummer", name="Læge"
    )
    document = render(renderer, letter, receiver=receiver, authorised_at=parsed.authorised_at)
    return parse_xdis91(document).letter


class TestRenderLetter:
    def test_a_letter_is_valid_against_medcoms_schema(
        self, renderer: XmlRenderer, registry: XsdRegistry
    ) -> None:
        document = render(renderer, Letter.model_validate(make_letter()))

        assert registry.validate("xdis91", document) == []

    def test_a_letter_with_every_optional_part_is_valid(
        self, renderer: XmlRenderer, registry: XsdRegistry
    ) -> None:
        assert registry.validate("xdis91", render(renderer, full_letter())) == []

    def test_a_letter_with_a_subject_only_has_no_clinical_information(
        self, renderer: XmlRenderer, registry: XsdRegistry
    ) -> None:
        document = render(renderer, Letter.model_validate(make_letter(text_blocks=[])))

        assert registry.validate("xdis91", document) == []
        assert text01s(document) == []

    def test_a_letter_without_a_subject_still_states_its_priority(
        self, renderer: XmlRenderer
    ) -> None:
        document = render(renderer, Letter.model_validate(make_letter(subject=None)))

        additional = one(document, "//x:AdditionalInformation")
        assert [etree.QName(child).localname for child in additional] == ["Priority"]

    def test_each_text_block_is_one_text01(self, renderer: XmlRenderer) -> None:
        document = render(renderer, Letter.model_validate(make_letter()))

        assert text01s(document) == [
            "Kære læge,<Break/>Patienten har fortsat smerter i venstre hofte efter udskrivelsen.",
            "Venlig hilsen<Break/>Ellinor Strøm, fysioterapeut",
        ]

    def test_every_formatting_is_written_as_medcom_writes_it(self, renderer: XmlRenderer) -> None:
        # FormattedText.xsd: FixedFont may hold Bold, Italic or Underline, not the reverse.
        assert text01s(render(renderer, full_letter()))[1] == (
            "<Bold>Vigtigt:</Bold> ring før kl. 12, <Italic>ikke</Italic> efter. "
            "<Underline>Faste</Underline> fra midnat.<Break/>"
            "<FixedFont>Dosis: 500 mg</FixedFont> <FixedFont><Bold>x 3</Bold></FixedFont>"
            "<Break/><Break/>Tak &amp; hilsen &lt;OUH&gt; 5 € "
            "<FixedFont><Italic>Ortopædkirurgisk Afdeling</Italic></FixedFont>"
        )

    def test_a_line_break_inside_formatting_closes_and_reopens_it(
        self, renderer: XmlRenderer
    ) -> None:
        letter = full_letter(text_blocks=[[{"text": "Linje 1\nLinje 2", "underline": True}]])

        assert text01s(render(renderer, letter)) == [
            "<Underline>Linje 1</Underline><Break/><Underline>Linje 2</Underline>"
        ]

    def test_the_letter_part_says_xdis91_with_the_given_ids_and_status(
        self, renderer: XmlRenderer
    ) -> None:
        correction = full_letter(
            status="rettetbrev", corrects="0f8e6d52-3c1a-4b7e-9a55-2d4c8b1e7f30"
        )
        document = render(renderer, correction)

        letter = one(document, "//x:ClinicalEmail/x:Letter")
        assert [
            (etree.QName(child).localname, child.text) for child in letter if len(child) == 0
        ] == [
            ("Identifier", "OUHL2026112001"),
            ("VersionCode", "XD9134L"),
            ("StatisticalCode", "XDIS91"),
            ("TypeCode", "XDIS91"),
            ("StatusCode", "rettetbrev"),
            ("EpisodeOfCareIdentifier", "EOC-4202360-88311"),
        ]

    def test_the_authorisation_is_danish_local_time(self, renderer: XmlRenderer) -> None:
        document = render(renderer, full_letter())

        assert one(document, "//x:Authorisation/x:Date").text == "2026-11-20"
        assert one(document, "//x:Authorisation/x:Time").text == "09:26"

    def test_a_given_statistical_code_is_written(self, renderer: XmlRenderer) -> None:
        document = render(renderer, full_letter(), statistical_code="GGOP2")

        assert one(document, "//x:Letter/x:StatisticalCode").text == "GGOP2"

    def test_the_priority_is_latin_1_text_not_a_character_reference(
        self, renderer: XmlRenderer
    ) -> None:
        # A production receiver matches "høj_prioritet" literally (formats.md §5).
        document = render(renderer, full_letter())

        assert document.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>')
        assert "<Priority>høj_prioritet</Priority>".encode("iso-8859-1") in document

    def test_the_patient_is_written_with_its_status(self, renderer: XmlRenderer) -> None:
        patient = one(render(renderer, full_letter()), "//x:Patient")

        assert [(etree.QName(child).localname, child.text) for child in patient] == [
            ("AlternativeIdentifier", "0703921VJ5"),
            ("PersonSurnameName", "Berggren"),
            ("PersonGivenName", "Nancy Ann"),
            ("StreetName", "Hindbærvej 23"),
            ("SuburbName", "Hjallese"),
            ("DistrictName", "Odense S"),
            ("PostCodeIdentifier", "5260"),
            ("OccupancyText", "Tømrer"),
            ("EpisodeOfCareStatusCode", "ambulant"),
        ]

    def test_the_parties_are_the_directorys(self, renderer: XmlRenderer) -> None:
        document = render(renderer, full_letter())

        assert one(document, "//x:Sender/x:EANIdentifier").text == HOSPITAL.gln
        assert one(document, "//x:Sender/x:OrganisationName").text == HOSPITAL.name
        assert one(document, "//x:Receiver/x:EANIdentifier").text == GP.gln
        assert one(document, "//x:Receiver/x:IdentifierCode").text == "ydernummer"

    def test_the_references_are_written_with_their_urls(self, renderer: XmlRenderer) -> None:
        reference = one(render(renderer, full_letter()), "//x:Reference")

        assert [child.text for child in reference] == [
            "Vejledning om smertebehandling",
            "https://www.sst.dk",
        ]

    def test_a_letter_id_other_than_the_letters_own_is_refused(self, renderer: XmlRenderer) -> None:
        with pytest.raises(ValueError, match="letter_id"):
            render(renderer, full_letter(), letter_id="ANDET")

    def test_a_receiver_other_than_the_letters_is_refused(self, renderer: XmlRenderer) -> None:
        with pytest.raises(ValueError, match="receiver"):
            render(renderer, full_letter(), receiver=HOSPITAL)

    def test_the_senders_speciality_is_written_after_its_phone(self, renderer: XmlRenderer) -> None:
        document = render(renderer, full_letter(), sender_speciality="ortopaedisk_kirurgi_sygehus")

        sender = one(document, "//x:Sender")
        assert [etree.QName(child).localname for child in sender][-2:] == [
            "TelephoneSubscriberIdentifier",
            "MedicalSpecialityCode",
        ]
        assert sender[-1].text == "ortopaedisk_kirurgi_sygehus"

    def test_a_minuspositivkvitt_envelope_is_written_as_such(self, renderer: XmlRenderer) -> None:
        envelope = Envelope(
            envelope_id="SB000000000001",
            sent_at=ENVELOPE.sent_at,
            acknowledgement_code="minuspositivkvitt",
        )

        document = render(renderer, full_letter(), envelope=envelope)

        assert one(document, "//x:AcknowledgementCode").text == "minuspositivkvitt"

    def test_a_naive_authorisation_time_is_refused(self, renderer: XmlRenderer) -> None:
        with pytest.raises(ValueError, match="aware"):
            render(renderer, full_letter(), authorised_at=datetime(2026, 11, 20, 9, 26))


class TestRoundTrip:
    def test_a_letter_with_every_formatting_reads_back_unchanged(
        self, renderer: XmlRenderer
    ) -> None:
        letter = full_letter()

        assert parse_xdis91(render(renderer, letter)).letter == letter

    def test_the_document_around_the_letter_reads_back(self, renderer: XmlRenderer) -> None:
        parsed = parse_xdis91(render(renderer, full_letter(), statistical_code="GGOP2"))

        assert parsed.sender_gln == HOSPITAL.gln
        assert parsed.statistical_code == "GGOP2"
        assert parsed.authorised_at == AUTHORISED_AT
        assert parsed.envelope_id == ENVELOPE.envelope_id
        assert parsed.acknowledgement_code == "pluspositivkvitt"
        assert parsed.warnings == []

    def test_a_utf_8_document_reads_like_its_latin_1_original(self, renderer: XmlRenderer) -> None:
        latin1 = render(renderer, full_letter())
        utf8 = (
            latin1.decode("iso-8859-1")
            .replace('encoding="ISO-8859-1"', 'encoding="UTF-8"')
            .encode("utf-8")
        )

        assert parse_xdis91(utf8).letter == full_letter()

    @pytest.mark.parametrize(
        "body",
        [
            pytest.param(example_with(DIS91_2), id="DIS91_2"),
            pytest.param(
                example_with(DIS91_1, (HILLEROED_RECEIVER, corrected(HILLEROED_RECEIVER))),
                id="DIS91_1",
            ),
            pytest.param(
                example_with(
                    KORR,
                    (HILLEROED_RECEIVER, corrected(HILLEROED_RECEIVER)),
                    ("1522824933", "1502824933"),
                ),
                id="korr_x9134",
            ),
            pytest.param(converted_in_two_blocks(), id="converted-from-ggop"),
        ],
    )
    def test_each_public_example_survives_render_and_parse(
        self, renderer: XmlRenderer, body: bytes
    ) -> None:
        parsed = parse_xdis91(body)

        assert round_trip(renderer, parsed) == parsed.letter


class TestPublicExamples:
    def test_dis91_2_is_a_routine_letter_from_a_physiotherapist(self) -> None:
        parsed = parse_xdis91((MEDCOM / DIS91_2).read_bytes())

        letter = parsed.letter
        assert (letter.letter_id, letter.receiver_gln, letter.priority, letter.subject) == (
            "12152000000203",
            "5790000120314",
            Priority.RUTINE,
            "Undtagelsesredegørelse - fortsat individuel behandling",
        )
        assert letter.episode_of_care_id == "65528acda12c4d85b7016f4b12eec2bc"
        assert letter.status is LetterStatus.NYTBREV
        assert (parsed.sender_gln, parsed.statistical_code, parsed.warnings) == (
            "5790000121526",
            "XDIS91",
            [],
        )
        assert parsed.authorised_at.isoformat() == "2014-01-15T12:02:00+01:00"
        assert (parsed.envelope_id, parsed.acknowledgement_code) == (
            "12152000000202",
            "minuspositivkvitt",
        )

    def test_dis91_2_patient_in_windows_1252(self) -> None:
        patient = parse_xdis91((MEDCOM / DIS91_2).read_bytes()).letter.patient

        assert (patient.cpr, patient.given_name, patient.surname) == (
            "2512484916",
            "Nancy Ann",
            "Berggren",
        )
        assert patient.address == Address(
            street="Park Allé 48", district="Hillerød", postcode="3400"
        )
        assert patient.episode_of_care_status is EpisodeOfCareStatus.INAKTIV

    def test_dis91_2_text_has_a_line_for_each_break(self) -> None:
        letter = parse_xdis91((MEDCOM / DIS91_2).read_bytes()).letter

        assert letter.text_blocks == [
            "Begrundelse: Patienten har godt af flere behandlinger, der anmodes derfor om "
            "undtagelsesredegørelse med tilsagn om fortsat individuel behandling.\n"
            "Oprindelig henvisningsdato: 14.11.2013.\n"
            "Speciale der henvises til: 4: Undtagelsesvis fortsat individuel behandling ud over "
            "20 behandlinger pr. henvisningsperiode.\n"
            "Handicap: Svært fysisk handicappet. Diagnose: 1D.\n"
            "Med venlig hilsen\n"
            "Fysioterapeut K. Ryggesen\n"
            "15.01.2014"
        ]

    def test_dis91_1_is_refused_for_its_receivers_check_digit(self) -> None:
        assert rejection((MEDCOM / DIS91_1).read_bytes()) == [
            (f"{LETTER_PATH}/Receiver/EANIdentifier", "gln_check_digit")
        ]

    def test_dis91_1_with_a_corrected_receiver_is_urgent(self) -> None:
        body = example_with(DIS91_1, (HILLEROED_RECEIVER, corrected(HILLEROED_RECEIVER)))

        parsed = parse_xdis91(body)

        letter = parsed.letter
        assert (letter.priority, letter.subject) == (Priority.HOEJ_PRIORITET, "Forundersøgelse")
        assert (letter.patient.cpr, letter.patient.given_name, letter.patient.surname) == (
            "1502824933",
            "Knut Odvar",
            "Mosebryggersen",
        )
        assert letter.text_blocks == [
            "Afdeling A har modtaget en henvisning på ovenstående patient.\n"
            "Forinden der foretages visitation, bedes følgende undersøgelser foretaget:\n"
            "Røntgen af hofte i to planer.\n"
            "Blodtryksresultat\n"
            "Sænkningsresultat\n"
            "\n"
            'Resultaterne bedes fremsendt som et "korrespondancebrev".\n'
            "\n"
            "Venlig hilsen\n"
            "overlæge K. Petersen\n"
            "15.01.1999"
        ]

    def test_a_sender_ean_with_a_bad_check_digit_is_a_warning(self) -> None:
        body = example_with(DIS91_1, (HILLEROED_RECEIVER, corrected(HILLEROED_RECEIVER)))

        parsed = parse_xdis91(body)

        assert parsed.sender_gln == HILLEROED_SENDER
        assert [(w.field, w.rule) for w in parsed.warnings] == [
            (f"{LETTER_PATH}/Sender/EANIdentifier", "gln_check_digit")
        ]

    def test_korr_x9134_is_refused_for_its_receiver_and_its_cpr_number(self) -> None:
        assert rejection((MEDCOM / KORR).read_bytes()) == [
            (f"{LETTER_PATH}/Receiver/EANIdentifier", "gln_check_digit"),
            (f"{LETTER_PATH}/Patient/CivilRegistrationNumber", "cpr_birth_date"),
        ]

    def test_korr_x9134_fixed_font_in_iso_8859_1(self) -> None:
        body = example_with(
            KORR,
            (HILLEROED_RECEIVER, corrected(HILLEROED_RECEIVER)),
            ("1522824933", "1502824933"),
        )

        (block,) = parse_xdis91(body).letter.text_blocks

        # Breaks inside FixedFont are plain line breaks; the indentation space after a Break
        # is layout.
        assert block == [
            Segment(text="Hej\n\n\n\n\n\n"),
            Segment(text="Hej, jeg er fast bredde", fixed_font=True),
            Segment(
                text="\nAfdeling A har modtaget en henvisning på ovenstående patient.\n"
                "Forinden der foretages visitation, bedes følgende undersøgelser foretaget:\n"
                "Røntgen af hofte i to planer.\nBlodtryksresultat\nSænkningsresultat\n\n"
                "Resultaterne "
            ),
            Segment(text="bedes", fixed_font=True),
            Segment(
                text='\n\nfremsendt som et "korrespondancebrev".\n\nVenlig hilsen\n'
                "overlæge K. Petersen\n15.01.1999"
            ),
        ]

    def test_the_converted_ggop_is_refused_only_for_its_placeholder_receiver(self) -> None:
        # Its EANs are the stylesheet's placeholders "afsender" and "modtager".
        assert rejection((MEDCOM / CONVERTED).read_bytes()) == [
            (f"{LETTER_PATH}/Receiver/EANIdentifier", "gln_format")
        ]

    def test_the_converted_ggops_text01_of_3644_characters_is_read_as_written(self) -> None:
        # MedCom's schema bounds no Text01; the 3150 limit is for letters we lay out.
        body = example_with(CONVERTED, (">modtager<", ">5790000121441<"))

        (block,) = parse_xdis91(body).letter.text_blocks

        assert len(plain_text(block)) > TEXT_BLOCK_LIMIT
        assert block[0] == Segment(text="Kopimodtagere", bold=True)

    def test_korr_x9134_keeps_the_senders_speciality_and_the_named_doctor(self) -> None:
        body = example_with(
            KORR,
            (HILLEROED_RECEIVER, corrected(HILLEROED_RECEIVER)),
            ("1522824933", "1502824933"),
        )

        parsed = parse_xdis91(body)

        assert (parsed.sender_speciality, parsed.receiver_unit) == (
            "kirurgi_sygehus",
            "Else Nielsen",
        )
        assert parsed.authorised_at.isoformat() == "1998-12-13T12:02:00+01:00"
        assert parsed.acknowledgement_code == "minuspositivkvitt"

    def test_the_converted_ggop_in_two_blocks_reads_with_its_bold_headings(self) -> None:
        parsed = parse_xdis91(converted_in_two_blocks())

        letter = parsed.letter
        assert (letter.subject, letter.priority, parsed.statistical_code) == (
            "Genoptræningsplan (specialiseret)",
            Priority.RUTINE,
            "GGOP2",
        )
        assert letter.patient.occupation == "Tømrer"
        assert letter.references == [
            Reference(
                description="Se de gældende anbefalinger her", url="http://sundhedsstyrelsen.dk"
            )
        ]
        first, second = letter.text_blocks
        assert first[:2] == [
            Segment(text="Kopimodtagere", bold=True),
            Segment(
                text="\nKopi til egen læge: EAN: 5790002012274, ydernummer: 024015, Arta "
                "Masoumi, Almen Lægehjælp, Slotsbryggen 18, 5120 Nykøbing Falster\n"
                "EAN: 5790002012276, ydernummer: 037974, Arne Agertoft & Hanne Petersen\n\n"
            ),
        ]
        assert second[0] == Segment(text="Tidsfrist for start af genoptræning", bold=True)
        # The stylesheet's placeholder "afsender" is no GLN; the sender is only informative.
        assert (parsed.sender_gln, [(w.field, w.rule) for w in parsed.warnings]) == (
            "afsender",
            [(f"{LETTER_PATH}/Sender/EANIdentifier", "gln_format")],
        )

    def test_the_xdis90_example_is_refused_as_another_generation(self) -> None:
        with pytest.raises(XmlRejected) as caught:
            parse_xdis91((MEDCOM / XDIS90).read_bytes())

        (error,) = caught.value.errors
        assert (error.field, error.rule) == ("/Emessage", "xdis91_namespace")
        assert "2009/08/01" in error.message


class TestRefusals:
    def test_a_doctype_with_an_entity_is_refused(self) -> None:
        body = example_with(
            DIS91_2,
            ("?>\n<Emessage", '?>\n<!DOCTYPE Emessage [<!ENTITY e "Berggren">]>\n<Emessage'),
            ("<PersonSurnameName>Berggren", "<PersonSurnameName>&e;"),
        )

        assert rejection(body) == [("/", "xml_doctype_forbidden")]

    def test_a_missing_cpr_number_names_its_element(self) -> None:
        body = example_with(
            DIS91_2, ("<CivilRegistrationNumber>2512484916</CivilRegistrationNumber>", "")
        )

        assert rejection(body) == [
            (f"{LETTER_PATH}/Patient/CivilRegistrationNumber", "patient_identifier_required")
        ]

    def test_a_missing_surname_names_its_element(self) -> None:
        body = example_with(DIS91_2, ("<PersonSurnameName>Berggren</PersonSurnameName>", ""))

        assert rejection(body) == [(f"{LETTER_PATH}/Patient/PersonSurnameName", "missing")]

    def test_a_missing_receiver_names_its_ean(self) -> None:
        body = re.sub(
            b"<Receiver>.*</Receiver>", b"", (MEDCOM / DIS91_2).read_bytes(), flags=re.DOTALL
        )

        assert rejection(body) == [(f"{LETTER_PATH}/Receiver/EANIdentifier", "missing")]

    @pytest.mark.parametrize(
        ("element", "path"),
        [
            ("<Identifier>12152000000203</Identifier>", f"{LETTER_PATH}/Letter/Identifier"),
            ("<StatisticalCode>XDIS91</StatisticalCode>", f"{LETTER_PATH}/Letter/StatisticalCode"),
            ("<StatusCode>nytbrev</StatusCode>", f"{LETTER_PATH}/Letter/StatusCode"),
            ("<Time>12:02</Time>", f"{LETTER_PATH}/Letter/Authorisation/Time"),
            ("<Identifier>12152000000202</Identifier>", "/Emessage/Envelope/Identifier"),
            (
                "<EpisodeOfCareStatusCode>inaktiv</EpisodeOfCareStatusCode>",
                f"{LETTER_PATH}/Patient/EpisodeOfCareStatusCode",
            ),
            ("<EANIdentifier>5790000121526</EANIdentifier>", f"{LETTER_PATH}/Sender/EANIdentifier"),
        ],
    )
    def test_a_missing_element_medcom_requires_names_its_xpath(
        self, element: str, path: str
    ) -> None:
        assert rejection(example_with(DIS91_2, (element, ""))) == [(path, "missing")]

    def test_all_problems_are_reported_at_once(self) -> None:
        body = example_with(
            DIS91_2,
            ("<StatisticalCode>XDIS91</StatisticalCode>", ""),
            ("<PersonSurnameName>Berggren</PersonSurnameName>", ""),
        )

        assert rejection(body) == [
            (f"{LETTER_PATH}/Letter/StatisticalCode", "missing"),
            (f"{LETTER_PATH}/Patient/PersonSurnameName", "missing"),
        ]

    def test_another_version_is_refused(self) -> None:
        body = example_with(DIS91_2, ("<VersionCode>XD9134L<", "<VersionCode>XD9133L<"))

        assert rejection(body) == [(f"{LETTER_PATH}/Letter/VersionCode", "xdis91_version")]

    def test_a_document_in_no_namespace_is_refused(self) -> None:
        body = example_with(DIS91_2, (f' xmlns="{XDIS}"', ""))

        assert rejection(body) == [("/Emessage", "xdis91_namespace")]

    def test_a_receipt_is_refused_as_another_generation(self) -> None:
        assert rejection((MEDCOM / XCTL03).read_bytes()) == [("/Emessage", "xdis91_namespace")]

    def test_a_genoptraeningsplan_is_refused_as_ggop(self) -> None:
        with pytest.raises(XmlRejected) as caught:
            parse_xdis91((MEDCOM / GGOP).read_bytes())

        (error,) = caught.value.errors
        assert (error.rule, "GGOP" in error.message) == ("xdis91_namespace", True)

    def test_another_root_element_is_refused(self) -> None:
        body = f'<?xml version="1.0"?><ClinicalEmail xmlns="{XDIS}"/>'.encode()

        assert rejection(body) == [("/ClinicalEmail", "xdis91_root")]

    def test_an_emessage_without_a_letter_is_refused(self) -> None:
        body = re.sub(
            b"<ClinicalEmail>.*</ClinicalEmail>",
            b"",
            (MEDCOM / DIS91_2).read_bytes(),
            flags=re.DOTALL,
        )

        assert rejection(body) == [("/Emessage", "not_xdis91")]

    def test_two_letters_in_one_emessage_are_refused(self) -> None:
        body = (MEDCOM / DIS91_2).read_bytes()
        letter = re.search(b"<ClinicalEmail>.*</ClinicalEmail>", body, flags=re.DOTALL)
        assert letter is not None

        assert rejection(body.replace(b"</Emessage>", letter.group() + b"</Emessage>")) == [
            ("/Emessage/ClinicalEmail[2]", "xdis91_letter_repeated")
        ]

    def test_a_rettetbrev_is_refused_as_it_cannot_name_what_it_corrects(self) -> None:
        body = example_with(DIS91_2, (">nytbrev<", ">rettetbrev<"))

        assert rejection(body) == [
            (f"{LETTER_PATH}/Letter/StatusCode", "correction_needs_corrects")
        ]

    def test_a_reference_to_a_binary_letter_is_refused(self) -> None:
        reference = (
            "<Reference><RefDescription>Røntgenbillede</RefDescription><BIN>"
            "<ObjectIdentifier>B1</ObjectIdentifier><ObjectCode>billede</ObjectCode>"
            "<ObjectExtensionCode>jpeg</ObjectExtensionCode>"
            "<OriginalObjectSize>1024</OriginalObjectSize></BIN></Reference>"
        )
        body = example_with(DIS91_2, ("</ClinicalEmail>", f"{reference}</ClinicalEmail>"))

        assert rejection(body) == [
            (f"{LETTER_PATH}/Reference[1]/BIN", "reference_unsupported"),
            (f"{LETTER_PATH}/Reference[1]/URL", "missing"),
        ]

    def test_an_authorisation_time_not_written_hh_mm_is_refused(self) -> None:
        body = example_with(DIS91_2, ("<Time>12:02</Time>", "<Time>12.02</Time>"))

        assert rejection(body) == [(f"{LETTER_PATH}/Letter/Authorisation", "date_time_format")]

    def test_an_unknown_acknowledgement_code_is_refused(self) -> None:
        body = example_with(DIS91_2, (">minuspositivkvitt<", ">kvittering<"))

        assert rejection(body) == [
            ("/Emessage/Envelope/AcknowledgementCode", "acknowledgement_code")
        ]

    def test_an_unknown_medical_speciality_is_left_out_with_a_warning(self) -> None:
        body = example_with(
            KORR,
            (HILLEROED_RECEIVER, corrected(HILLEROED_RECEIVER)),
            ("1522824933", "1502824933"),
            (">kirurgi_sygehus<", ">kirurgi<"),
        )

        parsed = parse_xdis91(body)

        assert parsed.sender_speciality is None
        assert (f"{LETTER_PATH}/Sender/MedicalSpecialityCode", "medical_speciality_unknown") in [
            (w.field, w.rule) for w in parsed.warnings
        ]

    def test_a_receiver_unit_name_longer_than_medcom_allows_is_left_out_with_a_warning(
        self,
    ) -> None:
        body = example_with(
            KORR,
            (HILLEROED_RECEIVER, corrected(HILLEROED_RECEIVER)),
            ("1522824933", "1502824933"),
            (">Else Nielsen<", f">{'Else Nielsen ' * 3}<"),
        )

        parsed = parse_xdis91(body)

        assert parsed.receiver_unit is None
        assert (f"{LETTER_PATH}/Receiver/UnitName", "unit_name_too_long") in [
            (w.field, w.rule) for w in parsed.warnings
        ]


class TestFormattedText:
    def test_a_break_is_a_line_break(self) -> None:
        assert text_of("a<Break/>b") == "a\nb"

    def test_each_formatting_sets_its_flag(self) -> None:
        assert text_of(
            "<Bold>b</Bold><Italic>i</Italic><Underline>u</Underline><FixedFont>f</FixedFont>"
        ) == [
            Segment(text="b", bold=True),
            Segment(text="i", italic=True),
            Segment(text="u", underline=True),
            Segment(text="f", fixed_font=True),
        ]

    def test_an_emphasis_inside_fixed_font_sets_both_flags(self) -> None:
        assert text_of("<FixedFont><Underline>u</Underline></FixedFont>") == [
            Segment(text="u", underline=True, fixed_font=True)
        ]

    def test_a_break_inside_formatting_is_a_plain_line_break(self) -> None:
        assert text_of("<Bold>a<Break/>b</Bold>") == [
            Segment(text="a", bold=True),
            Segment(text="\n"),
            Segment(text="b", bold=True),
        ]

    def test_a_space_element_is_a_space(self) -> None:
        assert text_of("a<Space/><Space/>b") == "a  b"

    def test_a_space_between_two_formatted_runs_is_kept(self) -> None:
        assert text_of("<Bold>a</Bold> <Italic>b</Italic>") == [
            Segment(text="a", bold=True),
            Segment(text=" "),
            Segment(text="b", italic=True),
        ]

    def test_indentation_around_breaks_is_layout(self) -> None:
        assert text_of("\n    a<Break/>\n    b   c\n  ") == "a\nb c"

    def test_right_and_center_are_read_as_plain_text(self) -> None:
        assert text_of("<Right>r</Right> <Center>c</Center>") == "r c"

    def test_an_unknown_element_in_text_is_not_read_and_warned_about(self) -> None:
        parsed = parse_xdis91(with_text01("a<Strong>b</Strong>c"))

        assert parsed.letter.text_blocks == ["ac"]
        assert [(w.field, w.rule) for w in parsed.warnings] == [
            (f"{LETTER_PATH}/ClinicalInformation[1]/Text01/Strong", "xml_element_unknown")
        ]

    def test_an_empty_text01_is_left_out_with_a_warning(self) -> None:
        parsed = parse_xdis91(with_text01("<Break/> "))

        assert parsed.letter.text_blocks == []
        assert [(w.field, w.rule) for w in parsed.warnings] == [
            (f"{LETTER_PATH}/ClinicalInformation[1]/Text01", "text_empty")
        ]


class TestReading:
    def test_an_unknown_element_is_not_read_and_warned_about(self) -> None:
        body = example_with(DIS91_2, ("</Patient>", "<Telefon>12345678</Telefon></Patient>"))

        parsed = parse_xdis91(body)

        assert [(w.field, w.rule) for w in parsed.warnings] == [
            (f"{LETTER_PATH}/Patient/Telefon", "xml_element_unknown")
        ]

    def test_without_a_priority_a_letter_is_routine(self) -> None:
        body = example_with(DIS91_2, ("<Priority>rutine</Priority>", ""))

        assert parse_xdis91(body).letter.priority is Priority.RUTINE

    def test_a_field_is_located_at_its_element(self) -> None:
        parsed = parse_xdis91((MEDCOM / DIS91_2).read_bytes())

        assert parsed.locate("receiver_gln") == f"{LETTER_PATH}/Receiver/EANIdentifier"
        assert parsed.locate("patient.cpr") == f"{LETTER_PATH}/Patient/CivilRegistrationNumber"
        assert parsed.locate("text_blocks.0") == f"{LETTER_PATH}/ClinicalInformation[1]/Text01"

    def test_a_field_xdis91_lacks_is_located_at_the_letter(self) -> None:
        parsed = parse_xdis91((MEDCOM / DIS91_2).read_bytes())

        assert parsed.locate("reply_to") == LETTER_PATH

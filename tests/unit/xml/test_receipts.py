"""MedCom OIOXML receipts (XCTL01/02/03, formats.md §6): MedCom's public examples read into
`Receipt`, receipts rendered exactly like those examples and valid against MedCom's XSD, and
everything that is not a receipt refused by rule."""

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lxml import etree

from app.domain.receipts import Receipt, ReceiptKind, ReceiptLetter, RefuseCode
from app.xml import (
    Envelope,
    SchemaName,
    XmlIssue,
    XmlRejected,
    XmlRenderer,
    XsdRegistry,
    parse_receipt,
)

MEDCOM = Path(__file__).resolve().parents[2] / "data" / "medcom"
XCTL01 = "xctl01-XC0130Q-negative-vans-receipt-CTL01_1.xml"
XCTL02 = "xctl02-XC0230Q-negative-receipt-CTL02_1.xml"
XCTL03 = "xctl03-XC0330Q-positive-receipt-CTL03_1.xml"
GGOP_EXAMPLE = "ggop-genoptraeningsplan-GGOP100-ns1.0.4-example.xml"
XDIS91_EXAMPLE = "xdis91-XD9134L-clinicalemail-rutine-DIS91_2.xml"
NS = {"r": "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/"}

# The envelope of all three MedCom examples: 1999-11-11 18:50 Danish time, no receipt asked.
EXAMPLE_ENVELOPE = Envelope(
    envelope_id="KuvertNr1234",
    sent_at=datetime(1999, 11, 11, 18, 50, tzinfo=ZoneInfo("Europe/Copenhagen")),
    acknowledgement_code="minuspositivkvitt",
)
ENVELOPE = Envelope(
    envelope_id="SB000000000042",
    sent_at=datetime(2026, 11, 23, 9, 0, tzinfo=UTC),
    acknowledgement_code="minuspositivkvitt",
)

# What MedCom's examples say, field by field.
EXAMPLE_RECEIPTS = {
    XCTL01: Receipt(
        kind=ReceiptKind.VANS_NEGATIVE,
        letter_id="BrevNr5678",
        sender="DKKMDKMDNET",  # the VANS operator, not a GLN
        receiver="5790000181872",
        original_envelope_id="MEDREF01095",
        original_sender="5790000181872",
        original_receiver="5790000120420",
        original_letters=(
            ReceiptLetter(letter_id="1111FRE01095", version_code="H0130R"),
            ReceiptLetter(letter_id="1111MAN01095", version_code="H0130R"),
        ),
        refuse_code=RefuseCode.UKENDT_LOKATIONSNUMMER,
        refuse_text=(
            "EDI-kuvert afsendt 11/11 1999 kl 18.46 har ikke kunnet modtages. \n"
            "Modtagerlokationsnummer har ikke kunnet identificeres.\n"
        ),
    ),
    XCTL02: Receipt(
        kind=ReceiptKind.NEGATIVE,
        letter_id="BrevNr5678",
        sender="5790000120420",
        receiver="5790000181872",
        original_envelope_id="MEDREF01095",
        original_sender="5790000181872",
        original_receiver="5790000120420",
        original_letters=(
            ReceiptLetter(
                letter_id="1111MAN01095",
                version_code="H0130R",
                refuse_code=RefuseCode.PROBLEM_MED_VERSION,
                refuse_text=(
                    "EDI-brev med nummeret 1111MAN01095, afsendt 11/11 1999 kl 18.46 har ikke "
                    "kunnet modtages. Horsens Sygehus, laboratoriet kan ikke modtage "
                    "sygehushenvisninger. \nMed venlig hilsen\n IT-Hotline. Horsens Sygehus."
                    "Telefon 86345678.\n"
                ),
            ),
        ),
    ),
    XCTL03: Receipt(
        kind=ReceiptKind.POSITIVE,
        letter_id="BrevNr5678",
        sender="5790000120420",
        receiver="5790000181872",
        original_envelope_id="MEDREF01095",
        original_sender="5790000181872",
        original_receiver="5790000120420",
        original_letters=(ReceiptLetter(letter_id="1111FRE01095", version_code="H0130R"),),
    ),
}
EXAMPLES = sorted(EXAMPLE_RECEIPTS)

POSITIVE = EXAMPLE_RECEIPTS[XCTL03]
NEGATIVE = Receipt(
    kind=ReceiptKind.NEGATIVE,
    letter_id="SB000000000043",
    sender="5790000121441",
    receiver="5790001354145",
    original_envelope_id="54382645943294",
    original_sender="5790001354145",
    original_receiver="5790000121441",
    original_letters=(
        ReceiptLetter(
            letter_id="45249877239313",
            version_code="GGOP100",
            refuse_code=RefuseCode.PROBLEM_MED_VERSION,
            refuse_text="Vi modtager kun XD9134L.\nMed venlig hilsen\nKommunen",
        ),
        ReceiptLetter(letter_id="45249877239314", version_code="XD9134L"),
    ),
    refuse_code=RefuseCode.IKKE_SPECIFICERET,
    refuse_text="Kuverten er afvist.",
)


def example(name: str) -> bytes:
    """MedCom's example as published: ASCII bytes declared windows-1252."""
    return (MEDCOM / name).read_bytes()


def example_with(name: str, old: str, new: str) -> bytes:
    """MedCom's example with the one occurrence of `old` replaced by `new`."""
    body = example(name)
    assert body.count(old.encode()) == 1, f"{old!r} is not in {name} exactly once"
    return body.replace(old.encode(), new.encode())


def declared_as(text: str, encoding: str) -> bytes:
    """A document (text declaring windows-1252, as MedCom's examples do) as `encoding` bytes."""
    declaration = 'encoding="windows-1252"'
    assert text.count(declaration) == 1
    return text.replace(declaration, f'encoding="{encoding}"').encode(encoding)


def reencoded(body: bytes, encoding: str) -> bytes:
    """A windows-1252 document declared and encoded as `encoding`."""
    return declared_as(body.decode("windows-1252"), encoding)


def rejection(body: bytes, registry: XsdRegistry) -> list[tuple[str, str]]:
    """The (element path, rule) pairs `parse_receipt` refuses `body` with."""
    with pytest.raises(XmlRejected) as caught:
        parse_receipt(body, schemas=registry)
    return [(error.field, error.rule) for error in caught.value.errors]


def c14n_without_layout(document: bytes) -> bytes:
    """The document's C14N with whitespace-only text between elements left out."""
    parser = etree.XMLParser(remove_blank_text=True)
    return bytes(etree.tostring(etree.fromstring(document, parser), method="c14n"))


@pytest.fixture(scope="module")
def registry() -> XsdRegistry:
    return XsdRegistry()


@pytest.fixture(scope="module")
def renderer(registry: XsdRegistry) -> XmlRenderer:
    return XmlRenderer(registry)


class TestParseReceipt:
    @pytest.mark.parametrize("name", EXAMPLES)
    def test_a_public_example_reads_as_published(self, registry: XsdRegistry, name: str) -> None:
        assert parse_receipt(example(name), schemas=registry) == EXAMPLE_RECEIPTS[name]

    def test_the_callers_registry_checks_the_schema(self) -> None:
        asked: list[str] = []

        class Recording(XsdRegistry):
            def validate(self, name: SchemaName, document: Any) -> list[XmlIssue]:
                asked.append(name)
                return super().validate(name, document)

        schemas = Recording()
        assert parse_receipt(example(XCTL03), schemas=schemas) == EXAMPLE_RECEIPTS[XCTL03]
        with pytest.raises(XmlRejected):
            parse_receipt(example_with(XCTL03, "XC0330Q", "XC0230Q"), schemas=schemas)
        assert asked == ["receipt", "receipt"]

    @pytest.mark.parametrize("name", EXAMPLES)
    def test_the_public_examples_are_declared_windows_1252(self, name: str) -> None:
        assert example(name).startswith(b'<?xml version="1.0" encoding="windows-1252"?>')

    @pytest.mark.parametrize("encoding", ["UTF-8", "ISO-8859-1"])
    @pytest.mark.parametrize("name", EXAMPLES)
    def test_a_public_example_re_encoded_reads_the_same(
        self, registry: XsdRegistry, name: str, encoding: str
    ) -> None:
        body = reencoded(example(name), encoding)
        assert parse_receipt(body, schemas=registry) == EXAMPLE_RECEIPTS[name]

    @pytest.mark.parametrize(
        ("encoding", "text"),
        [("windows-1252", "Ærø: 5 €"), ("ISO-8859-1", "Ærø ½"), ("UTF-8", "Ærø: 5 € Ω")],
    )
    def test_refuse_text_is_read_in_the_declared_encoding(
        self, registry: XsdRegistry, encoding: str, text: str
    ) -> None:
        published = example(XCTL02).decode("windows-1252")
        body = declared_as(published.replace("Horsens Sygehus, lab", f"{text}, lab"), encoding)

        letter = parse_receipt(body, schemas=registry).original_letters[0]

        assert letter.refuse_text is not None
        assert letter.refuse_text.startswith(
            f"EDI-brev med nummeret 1111MAN01095, afsendt 11/11 1999 kl 18.46 har ikke kunnet "
            f"modtages. {text}, laboratoriet"
        )

    def test_break_in_refuse_text_is_a_newline_and_nothing_is_stripped(
        self, registry: XsdRegistry
    ) -> None:
        body = example_with(
            XCTL01,
            "<RefuseText>EDI-kuvert afsendt 11/11 1999 kl 18.46 har ikke kunnet modtages. "
            "<Break/>Modtagerlokationsnummer har ikke kunnet identificeres.<Break/></RefuseText>",
            "<RefuseText><Break/>  To  mellemrum <Break/><Break/> </RefuseText>",
        )
        assert parse_receipt(body, schemas=registry).refuse_text == "\n  To  mellemrum \n\n "

    def test_space_in_refuse_text_is_a_space(self, registry: XsdRegistry) -> None:
        body = example_with(XCTL01, "modtages. <Break/>", "modtages.<Space/><Space/><Break/>")
        refuse_text = parse_receipt(body, schemas=registry).refuse_text
        assert refuse_text is not None
        assert refuse_text.startswith("EDI-kuvert afsendt 11/11 1999 kl 18.46 har ikke kunnet ")
        assert "modtages.  \nModtager" in refuse_text

    def test_a_negative_receipt_without_any_refuse_code_is_read(
        self, registry: XsdRegistry
    ) -> None:
        # MedCom's XSD allows it; the service decides whether such a receipt may be applied.
        body = example_with(XCTL02, "<RefuseCode>problem_med_version</RefuseCode>", "")

        receipt = parse_receipt(body, schemas=registry)

        assert receipt.kind is ReceiptKind.NEGATIVE
        assert receipt.refuse_code is None
        assert [letter.refuse_code for letter in receipt.original_letters] == [None]

    def test_the_refuse_codes_are_those_of_medcoms_schema(self) -> None:
        schema = etree.parse(
            MEDCOM.parents[2] / "schemas" / "medcom" / "2005-08-07" / "NegativeReceipt.xsd"
        )
        enumerations = schema.xpath(
            "//xs:element[@name='RefuseCode']//xs:enumeration/@value",
            namespaces={"xs": "http://www.w3.org/2001/XMLSchema"},
        )
        assert [code.value for code in RefuseCode] * 2 == enumerations


class TestParseReceiptRejects:
    def test_a_doctype(self, registry: XsdRegistry) -> None:
        body = example_with(XCTL03, "<Emessage", "<!DOCTYPE Emessage><Emessage")
        assert rejection(body, registry) == [("/", "xml_doctype_forbidden")]

    def test_malformed_xml(self, registry: XsdRegistry) -> None:
        body = example(XCTL03).replace(b"</Emessage>", b"")
        assert rejection(body, registry) == [("/", "xml_not_well_formed")]

    def test_a_ggop(self, registry: XsdRegistry) -> None:
        assert rejection(example(GGOP_EXAMPLE), registry) == [("/Emessage", "not_a_receipt")]

    def test_an_xdis91(self, registry: XsdRegistry) -> None:
        assert rejection(example(XDIS91_EXAMPLE), registry) == [("/Emessage", "not_a_receipt")]

    def test_a_2005_emessage_holding_another_letter(self, registry: XsdRegistry) -> None:
        body = example(XCTL03).replace(b"PositiveReceipt", b"ClinicalEmail")
        assert rejection(body, registry) == [("/Emessage/ClinicalEmail", "not_a_receipt")]

    def test_an_emessage_holding_only_an_envelope(self, registry: XsdRegistry) -> None:
        body = example_with(XCTL03, "</Envelope>", "</Envelope></Emessage>").split(b"</Emessage>")[
            0
        ]
        assert rejection(body + b"</Emessage>", registry) == [("/Emessage", "not_a_receipt")]

    def test_a_root_that_is_no_emessage(self, registry: XsdRegistry) -> None:
        body = example(XCTL03).replace(b"Emessage", b"Message")
        assert rejection(body, registry) == [("/Message", "not_a_receipt")]

    def test_two_receipts_in_one_emessage(self, registry: XsdRegistry) -> None:
        body = example(XCTL03)
        receipt = body[body.index(b"<PositiveReceipt>") : body.index(b"</Emessage>")]
        twice = body.replace(receipt, receipt * 2)
        assert rejection(twice, registry) == [("/Emessage/PositiveReceipt[2]", "receipt_repeated")]

    def test_a_refuse_code_outside_medcoms_list_without_echoing_it(
        self, registry: XsdRegistry
    ) -> None:
        body = example_with(XCTL02, "problem_med_version", "hemmelig_vaerdi")

        with pytest.raises(XmlRejected) as caught:
            parse_receipt(body, schemas=registry)

        [error] = caught.value.errors
        assert (error.field, error.rule) == (
            "/Emessage/NegativeReceipt/OriginalEmessage/OriginalLetter/RefuseCode",
            "receipt_schema",
        )
        assert "hemmelig_vaerdi" not in error.message
        assert "'problem_med_modtagerID'" in error.message  # the allowed values are named

    def test_a_refusal_in_a_positive_receipt(self, registry: XsdRegistry) -> None:
        # MedCom PositiveReceipt.xsd has no RefuseCode.
        body = example_with(
            XCTL03, "</OriginalReceiver>", "</OriginalReceiver><RefuseCode>syntaksfejl</RefuseCode>"
        )
        assert rejection(body, registry) == [
            ("/Emessage/PositiveReceipt/OriginalEmessage/RefuseCode", "receipt_schema")
        ]

    def test_the_version_code_of_another_receipt_kind(self, registry: XsdRegistry) -> None:
        body = example_with(XCTL03, "XC0330Q", "XC0230Q")
        assert rejection(body, registry) == [
            ("/Emessage/PositiveReceipt/Letter/VersionCode", "receipt_schema")
        ]


class TestRenderReceipt:
    @pytest.mark.parametrize("name", EXAMPLES)
    def test_a_public_examples_receipt_renders_as_the_example(
        self, renderer: XmlRenderer, name: str
    ) -> None:
        ours = renderer.render_receipt(EXAMPLE_RECEIPTS[name], envelope=EXAMPLE_ENVELOPE)
        # Exact C14N cannot match: MedCom's examples are one line, ours are indented, and
        # C14N keeps whitespace between elements. Both are compared without that layout; the
        # text inside RefuseText (mixed content) is never whitespace-only here, so it is kept.
        # The encodings differ too (windows-1252 vs ISO-8859-1), which C14N hides.
        assert c14n_without_layout(ours) == c14n_without_layout(example(name))

    @pytest.mark.parametrize("receipt", [POSITIVE, NEGATIVE], ids=["positive", "negative"])
    def test_is_valid_against_medcoms_schema(
        self, renderer: XmlRenderer, registry: XsdRegistry, receipt: Receipt
    ) -> None:
        assert (
            registry.validate("receipt", renderer.render_receipt(receipt, envelope=ENVELOPE)) == []
        )

    @pytest.mark.parametrize(
        "receipt",
        [POSITIVE, NEGATIVE, EXAMPLE_RECEIPTS[XCTL01]],
        ids=["positive", "negative", "vans-negative"],
    )
    def test_reads_back_as_the_same_receipt(
        self, renderer: XmlRenderer, registry: XsdRegistry, receipt: Receipt
    ) -> None:
        document = renderer.render_receipt(receipt, envelope=ENVELOPE)
        assert parse_receipt(document, schemas=registry) == receipt

    def test_declares_iso_8859_1_and_asks_for_no_receipt(self, renderer: XmlRenderer) -> None:
        document = renderer.render_receipt(NEGATIVE, envelope=ENVELOPE)

        assert document.startswith(b'<?xml version="1.0" encoding="ISO-8859-1"?>\n<')
        assert etree.fromstring(document).findtext(
            "r:Envelope/r:AcknowledgementCode", namespaces=NS
        ) == ("minuspositivkvitt")

    def test_sent_is_danish_local_time(self, renderer: XmlRenderer) -> None:
        summer_night = replace(ENVELOPE, sent_at=datetime(2026, 7, 1, 22, 30, tzinfo=UTC))

        sent = etree.fromstring(renderer.render_receipt(POSITIVE, envelope=summer_night)).find(
            "r:Envelope/r:Sent", NS
        )

        assert [sent.findtext("r:Date", namespaces=NS), sent.findtext("r:Time", namespaces=NS)] == [
            "2026-07-02",
            "00:30",
        ]

    def test_refuse_text_escapes_markup_and_references_characters_outside_latin_1(
        self, renderer: XmlRenderer, registry: XsdRegistry
    ) -> None:
        text = "a < b & c: æøå koster 5 €"
        receipt = replace(NEGATIVE, refuse_text=text)

        document = renderer.render_receipt(receipt, envelope=ENVELOPE)

        assert (
            "<RefuseText>a &lt; b &amp; c: æøå koster 5 &#8364;</RefuseText>".encode("latin-1")
            in document
        )
        assert parse_receipt(document, schemas=registry).refuse_text == text

    def test_newlines_in_refuse_text_become_breaks_on_one_line(self, renderer: XmlRenderer) -> None:
        receipt = replace(NEGATIVE, refuse_text="Linje 1\nLinje 2\r\n\nLinje 4\n")

        document = renderer.render_receipt(receipt, envelope=ENVELOPE)

        assert (
            b"<RefuseText>Linje 1<Break/>Linje 2<Break/><Break/>Linje 4<Break/></RefuseText>"
            in document
        )

    def test_an_envelope_asking_for_a_receipt_cannot_be_used(self, renderer: XmlRenderer) -> None:
        # formats.md §6: receipts are not receipted.
        asking = replace(ENVELOPE, acknowledgement_code="pluspositivkvitt")
        with pytest.raises(ValueError, match="minuspositivkvitt"):
            renderer.render_receipt(POSITIVE, envelope=asking)

    def test_a_receipt_for_the_envelope_alone_has_no_original_letter(
        self, renderer: XmlRenderer, registry: XsdRegistry
    ) -> None:
        receipt = replace(NEGATIVE, original_letters=())

        document = renderer.render_receipt(receipt, envelope=ENVELOPE)

        assert etree.fromstring(document).find(".//r:OriginalLetter", NS) is None
        assert parse_receipt(document, schemas=registry) == receipt

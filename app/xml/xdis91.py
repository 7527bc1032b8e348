"""Inbound XDIS91 correspondence letters (MedCom ClinicalEmail XD9134L, namespace 2006/07/01)
read into a validated `Letter`.

Three steps (formats.md §3, §5):
- `parse_xml` (hardened.py) parses the untrusted bytes: the declared encoding if it is
  one Sektorbro reads and the bytes are in it (`check_encoding`: UTF-8, UTF-16, ISO-8859-1,
  ISO-8859-15, windows-1252), no DOCTYPE, no entities, no network, bounded size.
- The document must be an XDIS91 letter: an Emessage in MedCom's 2006/07/01 namespace holding
  one ClinicalEmail with VersionCode XD9134L and TypeCode XDIS91. Anything else is refused as a
  whole, naming what it is where that is known (another MedCom generation, a GGOP).
- The elements are mapped onto `Letter`'s JSON fields, recording the XPath of each, and the
  result is validated with `Letter.model_validate`. Every broken rule, and every element MedCom
  requires that is missing, is reported in one `XmlRejected` naming its element.

Not read on purpose: the envelope's Sent time and identifier (each delivery gets its own
envelope, formats.md §3.2), and the Sender's and Receiver's names and addresses (Sektorbro's
directory is their source, as for plans; they are kept in `ParsedLetter` so that the service
warns where the directory shows one otherwise). Kept for the receiver's copy: Letter/Authorisation
(when the letter was signed), the envelope's AcknowledgementCode, the Sender's
MedicalSpecialityCode and the Receiver's UnitName (often the named doctor), each where MedCom's
value list or length allows it, else named in a warning. The Sender's EAN only tells who claims
to send; the service compares it with the caller, so a bad check digit there is a warning. An
element XDIS91 does not have at its place gives the warning `xml_element_unknown` and is not
read; the strict check is MedCom's XSD (`XsdRegistry`, "xdis91").

Text01 has no length limit in MedCom's schema, so a letter's blocks are validated `AS_WRITTEN`:
the 3150-character limit of the letters Sektorbro lays out from JSON does not apply.

Formatted text (FormattedText.xsd, formats.md §3.4): Break is a line break, Space a space, Bold,
Italic, Underline and FixedFont set a segment's flags, Right and Center are read as plain text.
A line break carries no formatting, as render.py writes it (formatted_text closes the
formatting before each Break). Whitespace in text nodes is layout (MedCom's converted GGOP
example indents inside Text01): a run of it reads as one space, and none at the ends of a
line. A letter's text therefore survives rendering and parsing unless it has several spaces in
a row or spaces at the ends of its lines.

XDIS91 has no place for `reply_to` or `corrects`: a letter read from XML answers nothing, and a
rettetbrev is refused, since the XML does not say which letter it replaces.

The elements are read with the shared reader (reading.py), as GGOP's are (ggop.py).

Imports only app.domain, app.errors and the xml layer (architecture.md).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, NamedTuple

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

from app.domain.identifiers import check_gln
from app.domain.letters import AS_WRITTEN, MEDICAL_SPECIALITY_CODES, Letter
from app.domain.messages import DANISH_TIME
from app.errors import FieldError, field_errors
from app.xml.ggop import MM100, MM104
from app.xml.hardened import XmlRejected, parse_xml, rejected
from app.xml.reading import (
    FLAGS,
    XML_SPACE,
    Children,
    Element,
    FormattedValue,
    Loc,
    TextRun,
    Value,
    children_of,
    formatted_value,
    nth,
    split_tag,
    text_of,
    tidy_runs,
    trim_breaks,
)

__all__ = ["LETTER_PATH", "XDIS91_NAMESPACE", "ParsedLetter", "Written", "parse_xdis91"]

XDIS91_NAMESPACE = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/"
LETTER_PATH = "/Emessage/ClinicalEmail"

# What other Emessage namespaces are (formats.md §3.1), so that a refusal can say so.
_OTHER_GENERATIONS = {
    "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/": (
        "MedCom's 2005/08/07 generation (receipts and older letter versions)"
    ),
    "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2009/08/01/": (
        "MedCom's 2009/08/01 generation (e.g. XDIS90 AdministrativeEmail)"
    ),
    MM100: "GGOP, a genoptræningsplan (POST /v1/plans takes it)",
    MM104: "GGOP, a genoptræningsplan (POST /v1/plans takes it)",
}
_EXPECTED = (
    f"An XDIS91 letter is an Emessage in namespace {XDIS91_NAMESPACE} holding one "
    "ClinicalEmail of version XD9134L."
)
# EMessage.xsd: Sent is a date and an hh:mm time, in Danish local time (formats.md §3.2).
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_TIME = re.compile(r"([01][0-9]|2[0-3]):[0-5][0-9]")
_ACKNOWLEDGEMENT_CODES = frozenset({"pluspositivkvitt", "minuspositivkvitt"})
# GeneralTypes.xsd String_1_35: OrganisationName, DepartmentName, UnitName, ...
_NAME_LENGTH = 35
_STATISTICAL_CODE_LENGTH = 8  # LetterType.xsd String_1_8
# The formatting elements that are characters rather than flags (FormattedText.xsd).
_CHARACTERS = frozenset({"Break", "Space"})

# --- What XDIS91 holds where (formats.md §5; schemas/medcom/2006-07-01/ClinicalEmail.xsd) ----

# Each element allowed at a place, and the JSON field (dotted, below the parent's) its text goes
# to; None: read by code, or not read.
_Fields = Mapping[str, str | None]

_ENVELOPE: _Fields = {"Sent": None, "Identifier": None, "AcknowledgementCode": None}
_CLINICAL_EMAIL: _Fields = dict.fromkeys(
    (
        "Letter",
        "Sender",
        "Receiver",
        "Patient",
        "AdditionalInformation",
        "ClinicalInformation",
        "Reference",
    )
)
_REPEATING = frozenset({"ClinicalInformation", "Reference"})
_LETTER: _Fields = {
    "Identifier": "letter_id",
    "VersionCode": None,
    "StatisticalCode": None,
    "Authorisation": None,
    "TypeCode": None,
    "StatusCode": None,
    "EpisodeOfCareIdentifier": "episode_of_care_id",
}
_AUTHORISATION: _Fields = {"Date": None, "Time": None}
_PARTY_DETAILS = (
    "Identifier",
    "IdentifierCode",
    "OrganisationName",
    "DepartmentName",
    "UnitName",
    "StreetName",
    "SuburbName",
    "DistrictName",
    "PostCodeIdentifier",
)
# SenderNoContactType; ReceiverType has neither phone nor speciality.
_SENDER: _Fields = dict.fromkeys(
    ("EANIdentifier", *_PARTY_DETAILS, "TelephoneSubscriberIdentifier", "MedicalSpecialityCode")
)
_RECEIVER: _Fields = {"EANIdentifier": "receiver_gln", **dict.fromkeys(_PARTY_DETAILS)}
_PATIENT: _Fields = {
    "CivilRegistrationNumber": "cpr",
    "AlternativeIdentifier": "alternative_id",
    "PersonSurnameName": "surname",
    "PersonGivenName": "given_name",
    "StreetName": "address.street",
    "SuburbName": "address.suburb",
    "DistrictName": "address.district",
    "PostCodeIdentifier": "address.postcode",
    "OccupancyText": "occupation",
    "EpisodeOfCareStatusCode": "episode_of_care_status",
}
_ADDITIONAL_INFORMATION: _Fields = {"Priority": "priority", "Subject": "subject"}
_CLINICAL_INFORMATION: _Fields = {"Text01": None}
# Reference.xsd: a description and one of URL, SUP and BIN; only URL is supported.
_REFERENCE: _Fields = {"RefDescription": "description", "URL": "url", "SUP": None, "BIN": None}


class Written(NamedTuple):
    """A value as the letter wrote it, and the XPath of its element."""

    text: str
    path: str


@dataclass(frozen=True)
class ParsedLetter:
    """An XDIS91 letter read and validated, with what else its document says. Its letter id
    and receiver are `letter.letter_id` and `letter.receiver_gln`."""

    letter: Letter
    sender_gln: str  # Sender/EANIdentifier as written; may fail the GLN check (a warning)
    statistical_code: str  # Letter/StatisticalCode, e.g. XDIS91 or GGOP2
    authorised_at: datetime  # Letter/Authorisation, Danish local time
    envelope_id: str  # Envelope/Identifier, the kuvertnummer (formats.md §3.2)
    acknowledgement_code: str  # pluspositivkvitt (a receipt is wanted) or minuspositivkvitt
    sender_speciality: str | None  # Sender/MedicalSpecialityCode, as MedCom's list spells it
    receiver_unit: str | None  # Receiver/UnitName, e.g. the doctor the letter is addressed to
    # The Sender's and Receiver's other details by element name (OrganisationName, ...), as
    # written: the directory replaces them, and the service names where it differs.
    sender_details: Mapping[str, Written]
    receiver_details: Mapping[str, Written]
    warnings: list[FieldError]  # non-fatal remarks, `field` an XPath
    paths: Mapping[Loc, str]  # JSON location -> XPath of its element, local names only

    def locate(self, field: str) -> str:
        """The XPath of the element behind a dotted field (`patient.cpr`), or of its parent."""
        return _xpath(self.paths, tuple(int(p) if p.isdigit() else p for p in field.split(".")))


def parse_xdis91(body: bytes) -> ParsedLetter:
    """Reads an XDIS91 letter (XD9134L); XmlRejected names each broken rule's element."""
    root = parse_xml(body).getroot()
    namespace, name = split_tag(root.tag)
    if (namespace, name) != (XDIS91_NAMESPACE, "Emessage"):
        raise _wrong_root(namespace, name)
    envelope, letter = _envelope_and_letter(root)
    reader = _Reader()
    envelope_id, acknowledgement_code = reader.envelope(envelope)
    sender_gln, statistical_code, authorised_at = reader.clinical_email(letter)
    try:
        parsed = Letter.model_validate(reader.data, context=AS_WRITTEN)
    except ValidationError as error:
        invalid = field_errors(error.errors(include_url=False), reader.xpath)
        raise XmlRejected([*reader.errors, *invalid]) from None
    if reader.errors:
        raise XmlRejected(reader.errors)
    # Each of these is required, and reader.errors names a missing one.
    assert envelope_id is not None
    assert acknowledgement_code is not None
    assert sender_gln is not None
    assert statistical_code is not None
    assert authorised_at is not None
    return ParsedLetter(
        letter=parsed,
        sender_gln=sender_gln,
        statistical_code=statistical_code,
        authorised_at=authorised_at,
        envelope_id=envelope_id,
        acknowledgement_code=acknowledgement_code,
        sender_speciality=reader.sender_speciality,
        receiver_unit=reader.receiver_unit,
        sender_details=reader.sender_details,
        receiver_details=reader.receiver_details,
        warnings=reader.warnings,
        paths=reader.paths,
    )


def _wrong_root(namespace: str | None, name: str) -> XmlRejected:
    if name != "Emessage":
        return rejected(f"/{name}", "xdis91_root", _EXPECTED)
    # A namespace we do not know is not echoed: the body is the caller's.
    known = _OTHER_GENERATIONS.get(namespace or "")
    message = _EXPECTED if known is None else f"This Emessage is {known}, not XDIS91. {_EXPECTED}"
    return rejected("/Emessage", "xdis91_namespace", message)


def _envelope_and_letter(root: Any) -> tuple[Element | None, Element]:
    """The Envelope (if any) and the one ClinicalEmail of an XDIS91 Emessage."""
    envelope = None
    letters: list[Element] = []
    for child, namespace, name, position in children_of(root):
        path = nth(f"/Emessage/{name}", position)
        if namespace != XDIS91_NAMESPACE:
            raise rejected(path, "not_xdis91", _EXPECTED)
        if name == "Envelope" and envelope is None:
            envelope = Element(child, path)
        elif name == "ClinicalEmail":
            letters.append(Element(child, path))
        elif name != "Local_Elements":  # EMessage.xsd: a sender's own extensions, not read
            # Another letter of the 2006/07/01 generation (e.g. BookingConfirmation).
            raise rejected(path, "not_xdis91", _EXPECTED)
    if not letters:
        raise rejected("/Emessage", "not_xdis91", _EXPECTED)
    if len(letters) > 1:
        # EMessage.xsd allows several letters; every MedCom example has one (formats.md §3.2).
        raise rejected(
            letters[1].path, "xdis91_letter_repeated", "Sektorbro takes one letter per Emessage."
        )
    return envelope, letters[0]._replace(path=LETTER_PATH)


def _xpath(paths: Mapping[Loc, str], loc: Loc) -> str:
    for end in range(len(loc), 0, -1):
        if (path := paths.get(loc[:end])) is not None:
            return path
    return LETTER_PATH


class _Reader:
    """Collects `Letter`'s JSON data, the XPath of every value, the errors and the warnings."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.paths: dict[Loc, str] = {
            ("patient",): f"{LETTER_PATH}/Patient",
            ("status",): f"{LETTER_PATH}/Letter/StatusCode",
            ("corrects",): f"{LETTER_PATH}/Letter/StatusCode",
            ("text_blocks",): f"{LETTER_PATH}/ClinicalInformation",
            ("references",): f"{LETTER_PATH}/Reference",
        }
        self.errors: list[FieldError] = []
        self.warnings: list[FieldError] = []
        self.sender_speciality: str | None = None
        self.receiver_unit: str | None = None
        self.sender_details: dict[str, Written] = {}
        self.receiver_details: dict[str, Written] = {}

    def xpath(self, loc: Loc) -> str:
        """The XPath of the element behind a JSON location, or of its nearest parent."""
        return _xpath(self.paths, loc)

    def put(self, loc: Loc, value: Any, path: str) -> None:
        """Sets `value` at `loc`, making the objects on the way; a list item is appended."""
        node: Any = self.data
        for part in loc[:-1]:
            node = node[part] if isinstance(part, int) else node.setdefault(part, {})
        if isinstance(node, list):
            node.append(value)
        else:
            node[loc[-1]] = value
        self.paths[loc] = path

    def warn(self, path: str, rule: str, message: str) -> None:
        self.warnings.append(FieldError(path, rule, message))

    def children(self, parent: Element, fields: _Fields, loc: Loc = ()) -> Children:
        """The children of `parent` that `fields` names; mapped text goes below `loc`."""
        for name, key in fields.items():
            if key is not None:  # so that a missing element is named where it belongs
                self.paths.setdefault((*loc, *key.split(".")), f"{parent.path}/{name}")
        found: dict[str, list[Element]] = {}
        for child, namespace, name, position in children_of(parent.element):
            base = f"{parent.path}/{name}"
            if namespace != XDIS91_NAMESPACE or name not in fields:
                self.warn(
                    nth(base, position),
                    "xml_element_unknown",
                    "XDIS91 has no such element here; it was not read.",
                )
                continue
            repeats = name in _REPEATING
            if name in found and not repeats:
                self.warn(
                    nth(base, position),
                    "xml_element_repeated",
                    "This element occurs once here; only its first copy was read.",
                )
                continue
            # List items carry their [n], so that each names its own element.
            element = Element(child, f"{base}[{position}]" if repeats else base)
            found.setdefault(name, []).append(element)
            key = fields[name]
            if key is not None and (text := text_of(child)):
                self.put((*loc, *key.split(".")), text, element.path)
        return Children(found)

    def missing(self, path: str) -> None:
        """Records that an element MedCom requires is not there."""
        self.errors.append(
            FieldError(path, "missing", "MedCom's XDIS91 requires this element, with content.")
        )

    def required(self, kids: Children, parent: Element, name: str) -> Value | None:
        """The text of an element MedCom requires; its absence is an error."""
        value = kids.text(name)
        if value is None:
            self.missing(f"{parent.path}/{name}")
        return value

    # The envelope and the letter

    def envelope(self, envelope: Element | None) -> tuple[str | None, str | None]:
        """Envelope: the envelope id and the acknowledgement code."""
        if envelope is None:
            self.missing("/Emessage/Envelope")
            return None, None
        kids = self.children(envelope, _ENVELOPE)
        identifier = self.required(kids, envelope, "Identifier")
        code = self.required(kids, envelope, "AcknowledgementCode")
        if code is not None and code.text not in _ACKNOWLEDGEMENT_CODES:
            self.errors.append(
                FieldError(
                    code.path,
                    "acknowledgement_code",
                    "MedCom's AcknowledgementCode is pluspositivkvitt (a receipt is wanted) or "
                    "minuspositivkvitt.",
                )
            )
            code = None
        return (identifier.text if identifier else None), (code.text if code else None)

    def clinical_email(self, email: Element) -> tuple[str | None, str | None, datetime | None]:
        """ClinicalEmail onto `Letter`; answers the sender's EAN, statistical code and
        authorisation time."""
        kids = self.children(email, _CLINICAL_EMAIL)
        letter = kids.one("Letter")
        if letter is None:
            raise _wrong_version([f"{email.path}/Letter/VersionCode"])
        statistical_code, authorised_at = self.letter(letter)
        sender_gln = None
        if (sender := kids.one("Sender")) is not None:
            sender_gln = self.sender(sender)
        else:
            self.missing(f"{email.path}/Sender/EANIdentifier")
        if (receiver := kids.one("Receiver")) is not None:
            self.receiver(receiver)
        else:
            self.paths[("receiver_gln",)] = f"{email.path}/Receiver/EANIdentifier"
        if (patient := kids.one("Patient")) is not None:
            self.data["patient"] = {}
            patient_kids = self.children(patient, _PATIENT, ("patient",))
            self.required(patient_kids, patient, "EpisodeOfCareStatusCode")
        if (additional := kids.one("AdditionalInformation")) is not None:
            self.children(additional, _ADDITIONAL_INFORMATION)
        self.text_blocks(kids.all("ClinicalInformation"))
        self.references(kids.all("Reference"))
        return sender_gln, statistical_code, authorised_at

    def letter(self, letter: Element) -> tuple[str | None, datetime | None]:
        """Letter: refuses any version but XD9134L; answers the statistical code and the
        authorisation time."""
        kids = self.children(letter, _LETTER)
        wrong = [
            found.path if found else f"{letter.path}/{name}"
            for name, expected in (("VersionCode", "XD9134L"), ("TypeCode", "XDIS91"))
            if (found := kids.text(name)) is None or found.text != expected
        ]
        if wrong:
            raise _wrong_version(wrong)
        self.required(kids, letter, "Identifier")
        statistical_code = self.required(kids, letter, "StatisticalCode")
        if statistical_code is not None and len(statistical_code.text) > _STATISTICAL_CODE_LENGTH:
            # LetterType.xsd String_1_8; the receiver's copy keeps the code.
            self.errors.append(
                FieldError(
                    statistical_code.path,
                    "string_too_long",
                    f"MedCom's StatisticalCode holds at most {_STATISTICAL_CODE_LENGTH} "
                    "characters.",
                )
            )
            statistical_code = None
        if (status := self.required(kids, letter, "StatusCode")) is not None:
            if status.text == "rettetbrev":
                self.errors.append(
                    FieldError(
                        status.path,
                        "correction_needs_corrects",
                        "XDIS91 does not say which letter a rettetbrev replaces; send a "
                        "correction as JSON, naming the letter it replaces in `corrects`.",
                    )
                )
            else:
                self.put(("status",), status.text, status.path)
        authorised_at = None
        if (authorisation := kids.one("Authorisation")) is not None:
            authorised_at = self.moment(authorisation)
        else:
            self.missing(f"{letter.path}/Authorisation")
        return (statistical_code.text if statistical_code else None), authorised_at

    def moment(self, element: Element) -> datetime | None:
        """A MedCom {Date, Time} element as a Danish local time."""
        kids = self.children(element, _AUTHORISATION)
        day, clock = self.required(kids, element, "Date"), self.required(kids, element, "Time")
        if day is None or clock is None:
            return None
        if not (_DATE.fullmatch(day.text) and _TIME.fullmatch(clock.text)):
            self.errors.append(
                FieldError(
                    element.path,
                    "date_time_format",
                    "MedCom writes a date as YYYY-MM-DD and a time as hh:mm.",
                )
            )
            return None
        try:
            moment = datetime.combine(date.fromisoformat(day.text), time.fromisoformat(clock.text))
        except ValueError:
            self.errors.append(FieldError(day.path, "date_invalid", "This date does not exist."))
            return None
        return moment.replace(tzinfo=DANISH_TIME)

    def sender(self, sender: Element) -> str | None:
        """Sender: its EAN, which names who claims to send (a bad GLN is only a warning), and
        its medical speciality, kept for the receiver."""
        kids = self.children(sender, _SENDER)
        self.sender_details = _details(kids, (*_PARTY_DETAILS, "TelephoneSubscriberIdentifier"))
        if (speciality := kids.text("MedicalSpecialityCode")) is not None:
            # Text is read stripped; MedCom's list spells one code with a trailing space.
            code = next(
                (
                    c
                    for c in (speciality.text, f"{speciality.text} ")
                    if c in MEDICAL_SPECIALITY_CODES
                ),
                None,
            )
            if code is None:
                self.warn(
                    speciality.path,
                    "medical_speciality_unknown",
                    "MedCom's MedicalSpecialityCode list (ValueLists.xsd) has no such code, so "
                    "the receiver's copy cannot carry it; it was left out.",
                )
            self.sender_speciality = code
        ean = self.required(kids, sender, "EANIdentifier")
        if ean is None:
            return None
        try:
            check_gln(ean.text)
        except PydanticCustomError as error:
            self.warn(ean.path, error.type, error.message())
        return ean.text

    def receiver(self, receiver: Element) -> None:
        """Receiver: its EAN (onto `Letter`) and its UnitName, kept for the receiver's copy;
        the rest comes from the directory."""
        kids = self.children(receiver, _RECEIVER)
        self.receiver_details = _details(kids, _PARTY_DETAILS)
        unit = kids.text("UnitName")
        if unit is None:
            return
        if len(unit.text) > _NAME_LENGTH:
            self.warn(
                unit.path,
                "unit_name_too_long",
                f"MedCom's UnitName holds at most {_NAME_LENGTH} characters (GeneralTypes.xsd); "
                "it was left out of the receiver's copy.",
            )
            return
        self.receiver_unit = unit.text

    def text_blocks(self, blocks: list[Element]) -> None:
        """ClinicalInformation/Text01, each a text block; empty ones are left out."""
        self.data["text_blocks"] = []
        for block in blocks:
            text01 = self.children(block, _CLINICAL_INFORMATION).one("Text01")
            if text01 is None:
                self.missing(f"{block.path}/Text01")
                continue
            text = self.formatted(text01)
            if text is None:
                self.warn(text01.path, "text_empty", "This text block is empty; it was left out.")
                continue
            self.put(("text_blocks", len(self.data["text_blocks"])), text, text01.path)

    def references(self, references: list[Element]) -> None:
        """Reference elements with a URL; Sektorbro carries no other kind."""
        self.data["references"] = []
        for index, reference in enumerate(references):
            self.data["references"].append({})
            kids = self.children(reference, _REFERENCE, ("references", index))
            self.paths[("references", index)] = reference.path
            for kind in ("SUP", "BIN"):
                if (other := kids.one(kind)) is not None:
                    self.errors.append(
                        FieldError(
                            other.path,
                            "reference_unsupported",
                            "Sektorbro carries references with a URL; references to a binary "
                            "letter (BIN) or to SUP are not supported.",
                        )
                    )

    # Formatted text

    def formatted(self, element: Element) -> FormattedValue | None:
        """MedCom formatted text as a str, or as segments when any of it is formatted."""
        return formatted_value(trim_breaks(tidy_runs(self._runs(element, frozenset()))))

    def _runs(self, parent: Element, flags: frozenset[str]) -> list[TextRun]:
        runs = _layout_runs(parent.element.text, flags)
        for child, namespace, name, position in children_of(parent.element):
            path = nth(f"{parent.path}/{name}", position)
            if namespace != XDIS91_NAMESPACE or (name not in FLAGS and name not in _CHARACTERS):
                self.warn(path, "xml_element_unknown", "This is no MedCom formatting; not read.")
            elif name == "Break":
                # No formatting on a line break: render.py closes it before each Break.
                runs.append(TextRun("\n", frozenset(), soft=False))
            elif name == "Space":
                runs.append(TextRun(" ", flags, soft=False))
            else:
                flag = FLAGS[name]
                runs.extend(self._runs(Element(child, path), flags | {flag} if flag else flags))
            runs.extend(_layout_runs(child.tail, flags))
        return runs


def _details(kids: Children, names: tuple[str, ...]) -> dict[str, Written]:
    return {name: Written(*value) for name in names if (value := kids.text(name)) is not None}


def _layout_runs(text: str | None, flags: frozenset[str]) -> list[TextRun]:
    # A run of XML whitespace is one space, also between two formatted runs ("<Bold>a</Bold>
    # <Italic>b</Italic>"); tidy_runs drops it at the ends of a line.
    return [TextRun(XML_SPACE.sub(" ", text), flags)] if text else []


def _wrong_version(paths: list[str]) -> XmlRejected:
    return XmlRejected(
        [
            FieldError(
                path,
                "xdis91_version",
                "Sektorbro reads XDIS91 letters of version XD9134L: VersionCode XD9134L with "
                "TypeCode XDIS91.",
            )
            for path in paths
        ]
    )

"""Inbound GGOP (MedCom genoptræningsplan, OIOXML 1.0.4) read into the JSON shape of `Plan`.

Three steps:
- `parse_xml` (hardened.py) parses the untrusted bytes: the declared encoding if it is one
  Sektorbro reads and the bytes are in it (`check_encoding`), no DOCTYPE, no entities, no
  network, bounded size.
- `parse_ggop` validates the document against the GGOP schema when given the registry (the
  service always gives it: XML is held to the schema before mapping, issue 13; `schema_errors`
  names a missing required element by its own XPath, rule `missing`), then maps GGOP's elements
  (formats.md §4.2) onto `Plan`'s fields with the shared reader (reading.py). For every JSON
  location it fills, and for each it could have filled, it records the XPath of the element,
  so that a pydantic error names the element (`xpath_for`). A missing or bad value is left for
  `Plan.model_validate` to report, with the rule codes JSON gets. Only a body that is no GGOP
  at all raises `XmlRejected`.
- The deadline: `read_deadline_text` reads RehabilitationDeadline as JSON's fields (R10, R21).

Namespaces (formats.md §4.1). Elements are matched by namespace and local name as MedCom's
example writes them, with one leniency. An element that holds a value (text or formatted text,
no children of its own) is also read from the other GGOP namespace (1.0.0 or 1.0.4), with the
warning `xml_namespace_unexpected`. The example itself writes one name in both namespaces
(PersonGivenName, IdentifierCode and Date/Time are 1.0.4 in some places and 1.0.0 in others),
and MedCom's schema is not public. An element with children must be in its own namespace. Any
other element is not read and gives the warning `xml_element_unknown`: an unknown name, a
structure in the wrong namespace, or a foreign namespace. A second copy of an element that occurs
once gives `xml_element_repeated`, and only the first copy is read. If a required field is lost
this way, the model reports it as `missing`. These leniencies apply only without the schema
check, which refuses all of them first (`xml_element_unexpected`, `xml_schema`).

Left out on purpose: the envelope's Sent and AcknowledgementCode, and the names and addresses of
the sender, receiver and copy receivers (Sektorbro's directory is their source; R28), except the
sender's and receiver's sub-unit (UnitName), which are the sender's to name. Also left out:
diagnosis and ICF TypeCode (fixed values). Read without a field of their own, with the warning
`xml_formatting_dropped`: the alignment of Right and Center (Segment has none).

Imports only app.domain, app.errors, app.resources and the xml layer's hardened parser,
shared reader, headings and validate (architecture.md).
"""

import functools
import itertools
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Literal, NamedTuple

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

from app.domain.messages import DANISH_MONTHS, DANISH_TIME
from app.domain.plan import START_WITHIN_DAYS
from app.errors import FieldError
from app.resources import resource_dir
from app.xml.hardened import XmlRejected, parse_xml, rejected, safe_parser
from app.xml.headings import BEFORE_ADMISSION_HEADING, EXTENDED_HEADING
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
from app.xml.validate import XmlIssue, XsdRegistry

__all__ = [
    "MM100",
    "MM104",
    "PLAN_PATH",
    "DeadlineText",
    "ParsedPlan",
    "parse_ggop",
    "read_deadline_text",
    "schema_errors",
    "xpath_for",
]

MM100 = "urn:oio:medcom:municipality:1.0.0"
MM104 = "urn:oio:medcom:municipality:1.0.4"
PLAN_PATH = "/Emessage/RehabilitationPlan"

# GGOP's dates and times are Danish local time (R23 compares dates in Europe/Copenhagen).


@dataclass(frozen=True)
class ParsedPlan:
    """A GGOP read into `Plan`'s JSON shape, with the element behind every value."""

    data: dict[str, Any]  # for Plan.model_validate
    paths: dict[Loc, str]  # JSON location -> XPath of its element, local names only
    envelope_id: str | None  # Envelope/Identifier, the kuvertnummer (formats.md §3.2)
    warnings: list[FieldError]  # non-fatal remarks, `field` an XPath


def xpath_for(parsed: ParsedPlan, loc: Loc) -> str:
    """The XPath of the element behind a pydantic error location, or of its nearest parent."""
    # Union tags such as `<text>` (app/domain/text.py) are not part of the JSON path.
    parts = tuple(part for part in loc if not _is_union_tag(part))
    for end in range(len(parts), 0, -1):
        if (path := parsed.paths.get(parts[:end])) is not None:
            return path
    return PLAN_PATH


# --- What GGOP holds where (formats.md §4.2; schemas/ggop/municipality-1.0.4.xsd) -----------


class _Child(NamedTuple):
    """An element GGOP allows at a place, and where its content goes in the JSON."""

    namespace: str
    kind: Literal["value", "text", "group"]  # plain text, formatted text, or children
    key: tuple[str, ...] | None = None  # JSON location below the parent's; None: read by code
    repeats: bool = False


def _value(namespace: str, key: str | None = None) -> _Child:
    return _Child(namespace, "value", _dotted(key))


def _text(namespace: str, key: str | None = None) -> _Child:
    return _Child(namespace, "text", _dotted(key))


def _dotted(key: str | None) -> tuple[str, ...] | None:
    return None if key is None else tuple(key.split("."))


def _group(namespace: str, *, repeats: bool = False) -> _Child:
    return _Child(namespace, "group", repeats=repeats)


_Spec = Mapping[str, _Child]

_EMESSAGE: _Spec = {
    "Envelope": _group(MM100),
    "RehabilitationPlan": _group(MM104, repeats=True),
}
_ENVELOPE: _Spec = {
    "Sent": _group(MM100),
    "Identifier": _value(MM100),
    "AcknowledgementCode": _value(MM100),
}
_PLAN: _Spec = {
    "Letter": _group(MM104),
    "Sender": _group(MM104),
    "Receiver": _group(MM104),
    "GPCCReceiver": _group(MM104),
    "CCReceiver": _group(MM104, repeats=True),
    "Patient": _group(MM104),
    "Relatives": _group(MM104),
    "TypeOfRehabilitationPlan": _value(MM104),
    "InformationForPatientAndRelatives": _text(MM104, "information_for_patient"),
    "ConsentInformed": _value(MM104),
    "PracticalInformation": _text(MM104, "practical_information"),
    "PatientSafetyAspects": _text(MM104, "patient_safety"),
    "RehabilitationDeadline": _text(MM104, "rehabilitation_deadline"),
    "CurrentHospitalContact": _group(MM104),
    "HospitalAmbulatoryControl": _group(MM104),
    "PatientHealthSummary": _text(MM100, "health_summary"),
    "AbilityAtDischargeSummary": _text(MM104, "function_at_discharge"),
    "AbilityAtDischargeExtended": _text(MM104),
    "RehabilitationNeedAndPotential": _text(MM104, "rehabilitation_need"),
    "ICD10Diagnoses": _group(MM104),
    "ICFClassifications": _group(MM104),
    "JournalExcerpt": _group(MM104, repeats=True),
    "ContactCounty": _group(MM104),
    "ContactMunicipality": _group(MM104),
    "HealthCareTeam": _group(MM104),
    "FinalResult": _group(MM104),
    "Reference": _group(MM104, repeats=True),
}
_LETTER: _Spec = {
    "Identifier": _value(MM104, "letter_id"),
    "VersionCode": _value(MM104),
    "StatisticalCode": _value(MM104, "statistical_code"),
    "Authorisation": _group(MM104),
    "TypeCode": _value(MM104),
    "EpisodeOfCareIdentifier": _value(MM104, "episode_of_care_id"),
}
# Authorisation holds mm100 Date/Time; Start, ExpectedEnd and ExpectedStart hold 1.0.4 ones.
_AUTHORISATION: _Spec = {"Date": _value(MM100), "Time": _value(MM100)}
_DATE_TIME: _Spec = {"Date": _value(MM104), "Time": _value(MM104)}

_ORGANISATION_DETAILS: _Spec = {
    "OrganisationName": _value(MM100),
    "DepartmentName": _value(MM100),
    "UnitName": _value(MM100),
    "StreetName": _value(MM100),
    "SuburbName": _value(MM100),
    "DistrictName": _value(MM100),
    "PostCodeIdentifier": _value(MM100),
    "TelephoneSubscriberIdentifier": _value(MM100),
}
# Receiver, copy receivers and result receivers: only the EAN is read, by code.
_PARTY: _Spec = {
    "EANIdentifier": _value(MM100),
    "Identifier": _value(MM100),
    "IdentifierCode": _value(MM104),
    **_ORGANISATION_DETAILS,
}
_SENDER: _Spec = {
    **_PARTY,
    "EANIdentifier": _value(MM100, "gln"),
    "UnitName": _value(MM100, "unit"),
    "SignedBy": _group(MM104),
    "CoWriter": _group(MM104, repeats=True),
}
# A health professional's names are 1.0.4, the patient's are mm100 (formats.md §4.1).
_SIGNED_BY: _Spec = {
    "PersonGivenName": _value(MM104, "given_name"),
    "PersonSurnameName": _value(MM104, "surname"),
    "PersonTitle": _value(MM104, "title"),
    "TelephoneSubscriberIdentifier": _value(MM100, "phone"),
    "DepartmentName": _value(MM100, "department"),
}
# CoWriter and HealthCareTeam/Member use mm100:IdentifierCode, unlike the parties.
_TEAM_MEMBER: _Spec = {
    "Identifier": _value(MM100, "identifier"),
    "IdentifierCode": _value(MM100, "identifier_code"),
    **_SIGNED_BY,
}
# The kommune's sub-unit is the sender's to choose; the rest of the Receiver is the directory's.
_RECEIVER: _Spec = {**_PARTY, "UnitName": _value(MM100, "receiver_unit")}
_GP_COPY: _Spec = {"CCReceiver": _group(MM104), "Deselected": _value(MM104)}

_ADDRESS: _Spec = {
    "StreetName": _value(MM100, "address.street"),
    "SuburbName": _value(MM100, "address.suburb"),
    "DistrictName": _value(MM100, "address.district"),
    "PostCodeIdentifier": _value(MM100, "address.postcode"),
}
_PATIENT: _Spec = {
    "CivilRegistrationNumber": _value(MM100, "cpr"),
    "AlternativeIdentifier": _value(MM100, "alternative_id"),
    "PersonSurnameName": _value(MM100, "surname"),
    "PersonGivenName": _value(MM100, "given_name"),
    **_ADDRESS,
    "Occupation": _value(MM100, "occupation"),
    "TelephoneSubscriber": _group(MM104, repeats=True),
    "NoTelephoneReason": _value(MM104, "no_phone_reason"),
    "EmailAddressIdentifier": _value(MM104, "email"),
    "CoAddress": _group(MM104),
}
_PHONE: _Spec = {
    "TelephoneSubscriberIdentifier": _value(MM100, "number"),
    "TelephoneSubscriberCode": _value(MM104, "kind"),
}
_CO_ADDRESS: _Spec = {
    "PersonSurnameName": _value(MM100, "surname"),
    "PersonGivenName": _value(MM100, "given_name"),
    "StreetName": _value(MM100, "street"),
    "SuburbName": _value(MM100, "suburb"),
    "DistrictName": _value(MM100, "district"),
    "PostCodeIdentifier": _value(MM100, "postcode"),
}
_RELATIVES: _Spec = {"Relative": _group(MM104, repeats=True)}
_RELATIVE: _Spec = {
    "RelationCode": _value(MM100, "relation"),
    "PersonSurnameName": _value(MM100, "surname"),
    "PersonGivenName": _value(MM100, "given_name"),
    **_ADDRESS,
    "TelephoneSubscriber": _group(MM104, repeats=True),
    "EmailAddressIdentifier": _value(MM104, "email"),
}

_HOSPITAL_CONTACT: _Spec = {
    "Start": _group(MM104),
    "ExpectedEnd": _group(MM104),
    "ExpectedEndText": _value(MM104),  # read by code: it may carry the discharge date
}
_AMBULATORY_CONTROL: _Spec = {
    "ExpectedStart": _group(MM104),
    "ExpectedStartText": _value(MM104, "expected_start_text"),
    "Location": _group(MM104),
}
# HospitalAmbulatoryControl/Location, ContactCounty and ContactMunicipality: every field kept
# (app.domain.plan.AmbulatoryLocation, ContactAddress).
_LOCATION: _Spec = {
    "EANIdentifier": _value(MM100, "ean"),
    "Identifier": _value(MM100, "identifier"),
    "IdentifierCode": _value(MM104, "identifier_code"),
    "OrganisationName": _value(MM100, "name"),
    "DepartmentName": _value(MM100, "department"),
    "UnitName": _value(MM100, "unit"),
    "StreetName": _value(MM100, "street"),
    "SuburbName": _value(MM100, "suburb"),
    "DistrictName": _value(MM100, "district"),
    "PostCodeIdentifier": _value(MM100, "postcode"),
    "TelephoneSubscriberIdentifier": _value(MM100, "phone"),
}
_CONTACT: _Spec = _LOCATION

_DIAGNOSES: _Spec = {"ICD10Diagnose": _group(MM104)}
_DIAGNOSE: _Spec = {
    "PrimaryDiagnosis": _group(MM104),
    "SecondaryDiagnosis": _group(MM104, repeats=True),
}
# A diagnosis, an ICFCode and an ICFGradient: Code, TypeCode (ICD10kode/ICFKode), Text.
_CODED: _Spec = {
    "Code": _value(MM104, "code"),
    "TypeCode": _value(MM104),
    "Text": _value(MM104, "text"),
}
_ICF_LIST: _Spec = {"ICFClassification": _group(MM104, repeats=True)}
_ICF: _Spec = {"ICFCode": _group(MM104), "ICFGradient": _group(MM104)}

_JOURNAL_EXCERPT: _Spec = {
    "TypeOfExcerpt": _value(MM104, "kind"),
    "Signer": _group(MM104),
    "Comment": _text(MM104, "text"),
}
_SIGNER: _Spec = {"SignedBy": _group(MM104), "Date": _value(MM104, "date")}
_TEAM: _Spec = {"Member": _group(MM104, repeats=True)}
_FINAL_RESULT: _Spec = {"ResultReceiver": _group(MM104, repeats=True)}
_REFERENCE: _Spec = {
    "RefDescription": _value(MM104, "description"),
    "URL": _value(MM104, "url"),
}

# MedCom's formatted text (formats.md §3.4): mm100 elements, even inside 1.0.4 text elements.
_FORMATTING_ELEMENT = _value(MM100)
_CHARACTERS = {"Break": "\n", "Space": " "}
_GGOP_NAMESPACES = frozenset({MM100, MM104})

# Where the model's required values come from when the document lacks them (xpath_for).
_REQUIRED_ELEMENTS: tuple[tuple[Loc, str], ...] = (
    (("authorised_at",), "Letter/Authorisation"),
    (("sender",), "Sender"),
    (("sender", "signed_by"), "Sender/SignedBy"),
    (("receiver_gln",), "Receiver/EANIdentifier"),
    (("patient",), "Patient"),
    (("patient", "municipality_code"), "Receiver/Identifier"),
    (("gp",), "GPCCReceiver"),
    (("gp", "gln"), "GPCCReceiver/CCReceiver/EANIdentifier"),
    (("plan_type",), "TypeOfRehabilitationPlan"),
    (("consent_informed",), "ConsentInformed"),
    (("hospital_contact", "start"), "CurrentHospitalContact/Start"),
    (("function_at_discharge",), "AbilityAtDischargeSummary"),
    (("rehabilitation_need",), "RehabilitationNeedAndPotential"),
    (("diagnoses", "primary"), "ICD10Diagnoses/ICD10Diagnose/PrimaryDiagnosis"),
    (("contact_region",), "ContactCounty"),
    (("contact_municipality",), "ContactMunicipality"),
)

_PLAN_TYPE_LEVELS = frozenset({"basal", "avanceret"})
_CONSENT = {"ja": True, "nej": False}


class _Reader:
    """Collects the JSON data, the XPath of every value, and the warnings."""

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}
        self.paths: dict[Loc, str] = {}
        self.warnings: list[FieldError] = []

    def put(self, loc: Loc, value: Any, path: str) -> None:
        """Sets `value` at `loc`, making the objects and lists on the way."""
        node, last = self._container(loc)
        if isinstance(last, int) and last == len(node):
            node.append(value)
        else:
            node[last] = value
        self.paths[loc] = path

    def open(self, loc: Loc, path: str) -> None:
        """Makes the object at `loc` exist, so that the model names what it lacks."""
        node, last = self._container(loc)
        if isinstance(last, int):
            if last == len(node):
                node.append({})
        else:
            node.setdefault(last, {})
        self.paths.setdefault(loc, path)

    def _container(self, loc: Loc) -> tuple[Any, str | int]:
        node: Any = self.data
        for part, following in itertools.pairwise(loc):
            empty: Any = [] if isinstance(following, int) else {}
            if isinstance(part, int):
                if part == len(node):
                    node.append(empty)
                node = node[part]
            else:
                node = node.setdefault(part, empty)
        return node, loc[-1]

    def warn(self, path: str, rule: str, message: str) -> None:
        """Adds a non-fatal remark about the element at `path`."""
        self.warnings.append(FieldError(path, rule, message))

    def children(self, parent: Element, spec: _Spec, loc: Loc = ()) -> Children:
        """The children of `parent` that `spec` allows; their mapped content goes below `loc`."""
        if loc:
            self.open(loc, parent.path)
        found: dict[str, list[Element]] = {}
        for child, namespace, name, position in children_of(parent.element):
            base = f"{parent.path}/{name}"
            located = nth(base, position)  # for warnings
            expected = spec.get(name)
            if expected is None:
                self.warn(
                    located, "xml_element_unknown", "GGOP has no such element here; not read."
                )
                continue
            if not self._namespace_accepted(expected, namespace, located):
                continue
            if name in found and not expected.repeats:
                self.warn(
                    located,
                    "xml_element_repeated",
                    "This element occurs once here; only its first copy was read.",
                )
                continue
            # List items carry their [n], so that each names its own element.
            path = f"{base}[{position}]" if expected.repeats else base
            element = Element(child, path)
            found.setdefault(name, []).append(element)
            if expected.key is not None:
                value = self.formatted(element) if expected.kind == "text" else text_of(child)
                if value:
                    self.put((*loc, *expected.key), value, path)
        # A value the element lacks is named by the child it would come from (issue 13).
        for name, expected in spec.items():
            if expected.key is not None:
                self.paths.setdefault((*loc, *expected.key), f"{parent.path}/{name}")
        return Children(found)

    def _namespace_accepted(self, expected: _Child, namespace: str | None, path: str) -> bool:
        if namespace == expected.namespace:
            return True
        if expected.kind == "group" or namespace not in _GGOP_NAMESPACES:
            self.warn(
                path,
                "xml_element_unknown",
                f"GGOP has this element in namespace {expected.namespace}; it was not read.",
            )
            return False
        self.warn(
            path,
            "xml_namespace_unexpected",
            f"GGOP has this element in namespace {expected.namespace}; it was read all the same.",
        )
        return True

    # Formatted text

    def formatted(self, element: Element) -> FormattedValue | None:
        """MedCom formatted text as a str, or as segments when any of it is formatted."""
        return formatted_value(trim_breaks(tidy_runs(self._runs(element, frozenset()))))

    def _runs(self, parent: Element, flags: frozenset[str]) -> list[TextRun]:
        runs = _soft_runs(parent.element.text, flags)
        for child, namespace, name, position in children_of(parent.element):
            path = nth(f"{parent.path}/{name}", position)
            if name not in _CHARACTERS and name not in FLAGS:
                self.warn(path, "xml_element_unknown", "This is no MedCom formatting; not read.")
            elif self._namespace_accepted(_FORMATTING_ELEMENT, namespace, path):
                if name in _CHARACTERS:
                    runs.append(TextRun(_CHARACTERS[name], flags, soft=False))
                else:
                    flag = FLAGS[name]
                    if flag is None:
                        self.warn(
                            path,
                            "xml_formatting_dropped",
                            "Sektorbro keeps no text alignment: this text is kept, but no "
                            "longer centred or right-aligned.",
                        )
                    inner = flags | {flag} if flag else flags
                    runs.extend(self._runs(Element(child, path), inner))
            runs.extend(_soft_runs(child.tail, flags))
        return runs

    # The plan

    def plan(self, plan: Element) -> None:
        """Maps a RehabilitationPlan onto `Plan`'s fields."""
        kids = self.children(plan, _PLAN)
        if (letter := kids.one("Letter")) is not None:
            self.letter(letter)
        else:
            raise _wrong_version([f"{plan.path}/Letter/VersionCode"])
        if (sender := kids.one("Sender")) is not None:
            self.sender(sender)
        if (patient := kids.one("Patient")) is not None:
            self.patient(patient)
        if (receiver := kids.one("Receiver")) is not None:
            self.receiver(receiver)
        if (gp := kids.one("GPCCReceiver")) is not None:
            self.gp_copy(gp)
        self.glns(("cc_receivers",), kids.all("CCReceiver"), f"{plan.path}/CCReceiver")
        if (relatives := kids.one("Relatives")) is not None:
            self.relatives(relatives)
        if (plan_type := kids.text("TypeOfRehabilitationPlan")) is not None:
            if plan_type.text in _PLAN_TYPE_LEVELS:
                # R15: basal and avanceret are the kommune's sub-levels of almen.
                self.put(("plan_type",), "almen", plan_type.path)
                self.put(("level",), plan_type.text, plan_type.path)
            else:
                self.put(("plan_type",), plan_type.text, plan_type.path)
        if (consent := kids.text("ConsentInformed")) is not None:
            # R12; any other value goes through for the model to refuse as no yes/no.
            self.put(("consent_informed",), _CONSENT.get(consent.text, consent.text), consent.path)
        if (contact := kids.one("CurrentHospitalContact")) is not None:
            self.hospital_contact(contact)
        if (control := kids.one("HospitalAmbulatoryControl")) is not None:
            self.ambulatory_control(control)
        if (extended := kids.one("AbilityAtDischargeExtended")) is not None:
            self.ability_extended(extended)
        if (diagnoses := kids.one("ICD10Diagnoses")) is not None:
            self.diagnoses(diagnoses)
        if (icf := kids.one("ICFClassifications")) is not None:
            self.icf(icf)
        excerpts = kids.all("JournalExcerpt")
        self.list_path(("journal_excerpts",), excerpts, f"{plan.path}/JournalExcerpt")
        for index, excerpt in enumerate(excerpts):
            self.journal_excerpt(excerpt, ("journal_excerpts", index))
        if (region := kids.one("ContactCounty")) is not None:
            self.children(region, _CONTACT, ("contact_region",))
        if (municipality := kids.one("ContactMunicipality")) is not None:
            self.children(municipality, _CONTACT, ("contact_municipality",))
        if (team := kids.one("HealthCareTeam")) is not None:
            members = self.children(team, _TEAM).all("Member")
            self.list_path(("care_team",), members, team.path)
            for index, member in enumerate(members):
                self.children(member, _TEAM_MEMBER, ("care_team", index))
        if (final := kids.one("FinalResult")) is not None:
            receivers = self.children(final, _FINAL_RESULT).all("ResultReceiver")
            self.glns(("result_receivers",), receivers, final.path)
        references = kids.all("Reference")
        self.list_path(("references",), references, f"{plan.path}/Reference")
        for index, reference in enumerate(references):
            self.children(reference, _REFERENCE, ("references", index))
        self.first_contact_deadline(kids.one("RehabilitationDeadline"))
        # A required part that is missing is named by its own element, not by the plan.
        for loc, name in _REQUIRED_ELEMENTS:
            self.paths.setdefault(loc, f"{plan.path}/{name}")

    def list_path(self, loc: Loc, elements: list[Element], path: str) -> None:
        """Names the element of a JSON list: its container, or an XPath selecting all items."""
        if elements:
            self.paths[loc] = path

    def letter(self, letter: Element) -> None:
        """Letter: ids, statistical code, authorisation; refuses any GGOP other than GGOP100."""
        kids = self.children(letter, _LETTER)
        wrong = [
            found.path if found else f"{letter.path}/{name}"
            for name, expected in (("VersionCode", "GGOP100"), ("TypeCode", "GGOP"))
            if (found := kids.text(name)) is None or found.text != expected
        ]
        if wrong:
            raise _wrong_version(wrong)
        if (authorisation := kids.one("Authorisation")) is not None:
            _, moment = self.moment(authorisation, _AUTHORISATION)
            if moment is not None:
                self.put(("authorised_at",), moment, authorisation.path)

    def sender(self, sender: Element) -> None:
        """Sender: GLN, signer, co-writers; name and address come from the directory."""
        kids = self.children(sender, _SENDER, ("sender",))
        if (signed_by := kids.one("SignedBy")) is not None:
            self.children(signed_by, _SIGNED_BY, ("sender", "signed_by"))
        co_writers = kids.all("CoWriter")
        self.list_path(("sender", "co_writers"), co_writers, f"{sender.path}/CoWriter")
        for index, co_writer in enumerate(co_writers):
            self.children(co_writer, _TEAM_MEMBER, ("sender", "co_writers", index))

    def receiver(self, receiver: Element) -> None:
        """Receiver: the kommune's GLN and sub-unit, and its kommunenummer as the patient's
        (R28)."""
        kids = self.children(receiver, _RECEIVER)
        if (ean := kids.text("EANIdentifier")) is not None:
            self.put(("receiver_gln",), ean.text, ean.path)
        if "patient" not in self.data:
            return
        # GGOP has no kommunekode on the patient: the receiver is the bopælskommune.
        code, number = kids.text("IdentifierCode"), kids.text("Identifier")
        if code is not None and code.text == "kommunenummer" and number is not None:
            self.put(("patient", "municipality_code"), number.text, number.path)
        else:
            self.paths[("patient", "municipality_code")] = receiver.path

    def gp_copy(self, gp: Element) -> None:
        """GPCCReceiver: the GP's GLN, or Deselected when the patient declined the copy (R12)."""
        kids = self.children(gp, _GP_COPY, ("gp",))
        if (copy := kids.one("CCReceiver")) is not None:
            ean = self.children(copy, _PARTY).text("EANIdentifier")
            if ean is not None:
                self.put(("gp", "gln"), ean.text, ean.path)
            else:
                self.paths[("gp", "gln")] = copy.path
        if (deselected := kids.one("Deselected")) is not None:
            self.put(("gp", "deselected"), True, deselected.path)

    def glns(self, loc: Loc, parties: list[Element], path: str) -> None:
        """The EANs of routing parties as a list of GLNs."""
        self.list_path(loc, parties, path)
        for index, party in enumerate(parties):
            ean = self.children(party, _PARTY).text("EANIdentifier")
            # A party without an EAN stays in the list, so the model names it.
            self.put((*loc, index), ean.text if ean else None, ean.path if ean else party.path)

    def patient(self, patient: Element) -> None:
        """Patient: identity, address, phones, e-mail, c/o address."""
        kids = self.children(patient, _PATIENT, ("patient",))
        self.phones(("patient", "phones"), kids.all("TelephoneSubscriber"), patient.path)
        if (co_address := kids.one("CoAddress")) is not None:
            self.children(co_address, _CO_ADDRESS, ("patient", "co_address"))

    def phones(self, loc: Loc, phones: list[Element], owner: str) -> None:
        """TelephoneSubscriber elements as phones."""
        self.list_path(loc, phones, f"{owner}/TelephoneSubscriber")
        for index, phone in enumerate(phones):
            self.children(phone, _PHONE, (*loc, index))

    def relatives(self, relatives: Element) -> None:
        """Relatives/Relative elements."""
        items = self.children(relatives, _RELATIVES).all("Relative")
        self.list_path(("relatives",), items, relatives.path)
        for index, relative in enumerate(items):
            kids = self.children(relative, _RELATIVE, ("relatives", index))
            self.phones(
                ("relatives", index, "phones"), kids.all("TelephoneSubscriber"), relative.path
            )

    def moment(self, element: Element, spec: _Spec) -> tuple[Value | None, str | None]:
        """A {Date, Time} element's Date, and the two as a Danish datetime (None without Date)."""
        kids = self.children(element, spec)
        day = kids.text("Date")
        if day is None:
            return None, None
        clock = kids.text("Time")
        return day, _danish_datetime(day.text, clock.text if clock else None)

    def hospital_contact(self, contact: Element) -> None:
        """CurrentHospitalContact; its expected end is the discharge (GGOP has no other).

        An ExpectedEnd without a Time is a discharge date and no moment. An ExpectedEndText in
        Sektorbro's form (render.py `hospital_end`) carries the discharge date and time before
        the sender's words: "Udskrivelsesdato 20-11-2026 kl. 13:45: Snart".
        """
        kids = self.children(contact, _HOSPITAL_CONTACT, ("hospital_contact",))
        if (start := kids.one("Start")) is not None:
            _, moment = self.moment(start, _DATE_TIME)
            if moment is not None:
                self.put(("hospital_contact", "start"), moment, start.path)
        self.paths[("discharge_date",)] = f"{contact.path}/ExpectedEnd/Date"
        if (end := kids.one("ExpectedEnd")) is not None:
            end_kids = self.children(end, _DATE_TIME)
            day, clock = end_kids.text("Date"), end_kids.text("Time")
            if day is not None:
                self.put(("discharge_date",), day.text, day.path)
                if clock is not None:
                    moment = _danish_datetime(day.text, clock.text)
                    self.put(("hospital_contact", "expected_end"), moment, end.path)
        if (words := kids.text("ExpectedEndText")) is not None:
            loc = ("hospital_contact", "expected_end_text")
            found = _DISCHARGE_IN_WORDS.fullmatch(words.text)
            if found is None or _dk_iso_date(found["date"]) is None:
                self.put(loc, words.text, words.path)
                return
            self.put(("discharge_date",), _dk_iso_date(found["date"]), words.path)
            if found["time"]:
                moment = _danish_datetime(_dk_iso_date(found["date"]) or "", found["time"])
                self.put(("hospital_contact", "expected_end"), moment, words.path)
            self.put(loc, found["words"], words.path)

    def ambulatory_control(self, control: Element) -> None:
        """HospitalAmbulatoryControl: expected start and location."""
        kids = self.children(control, _AMBULATORY_CONTROL, ("ambulatory_control",))
        if (start := kids.one("ExpectedStart")) is not None:
            _, moment = self.moment(start, _DATE_TIME)
            if moment is not None:
                self.put(("ambulatory_control", "expected_start"), moment, start.path)
        if (location := kids.one("Location")) is not None:
            self.children(location, _LOCATION, ("ambulatory_control", "location"))

    def ability_extended(self, extended: Element) -> None:
        """AbilityAtDischargeExtended, split where Sektorbro wrote the earlier ability into it."""
        runs = tidy_runs(self._runs(extended, frozenset()))
        parts = _split_before_admission(runs)
        if parts is None:
            texts = {"function_at_discharge_extended": runs}
        else:
            texts = {
                "function_before_admission": parts[0],
                "function_at_discharge_extended": parts[1],
            }
        for key, part in texts.items():
            value = formatted_value(trim_breaks(part))
            if value is not None:
                self.put((key,), value, extended.path)

    def diagnoses(self, diagnoses: Element) -> None:
        """ICD10Diagnoses/ICD10Diagnose: one primary and any secondary diagnoses (R48)."""
        inner = self.children(diagnoses, _DIAGNOSES, ("diagnoses",)).one("ICD10Diagnose")
        if inner is None:
            return
        kids = self.children(inner, _DIAGNOSE)
        if (primary := kids.one("PrimaryDiagnosis")) is not None:
            self.children(primary, _CODED, ("diagnoses", "primary"))
        secondary = kids.all("SecondaryDiagnosis")
        self.list_path(("diagnoses", "secondary"), secondary, f"{inner.path}/SecondaryDiagnosis")
        for index, diagnosis in enumerate(secondary):
            self.children(diagnosis, _CODED, ("diagnoses", "secondary", index))

    def icf(self, classifications: Element) -> None:
        """ICFClassifications: codes as written, e.g. SKS form FB799 (R49)."""
        items = self.children(classifications, _ICF_LIST).all("ICFClassification")
        self.list_path(("icf",), items, classifications.path)
        for index, item in enumerate(items):
            kids = self.children(item, _ICF, ("icf", index))
            if (code := kids.one("ICFCode")) is not None:
                self.children(code, _CODED, ("icf", index))
            if (gradient := kids.one("ICFGradient")) is not None:
                self.children(gradient, _CODED, ("icf", index, "gradient"))

    def journal_excerpt(self, excerpt: Element, loc: Loc) -> None:
        """JournalExcerpt: kind, signer and date, comment."""
        kids = self.children(excerpt, _JOURNAL_EXCERPT, loc)
        if (signer := kids.one("Signer")) is not None:
            signed_by = self.children(signer, _SIGNER, loc).one("SignedBy")
            if signed_by is not None:
                self.children(signed_by, _SIGNED_BY, (*loc, "signed_by"))

    def first_contact_deadline(self, deadline: Element | None) -> None:
        """The first-contact deadline and its reason from RehabilitationDeadline's free text
        (R10, R19, R21, R23), read as `read_deadline_text` says. Sektorbro's own sentence is
        not the sender's words: it is taken off `rehabilitation_deadline`."""
        path = deadline.path if deadline is not None else f"{PLAN_PATH}/RehabilitationDeadline"
        self.paths[("first_contact_deadline",)] = path
        self.paths[("deadline_reason",)] = path
        value = self.data.get("rehabilitation_deadline")
        text = _plain(value)
        reading = read_deadline_text(text)
        if reading.words_end < len(text):
            words = _cut(value, reading.words_end)
            if words is None:
                del self.data["rehabilitation_deadline"]
            else:
                self.data["rehabilitation_deadline"] = words
        if reading.discharge is not None and "discharge_date" not in self.data:
            self.put(("discharge_date",), reading.discharge.isoformat(), path)
        if reading.reason is not None:
            self.put(("deadline_reason",), reading.reason, path)
        discharge = _iso_date(self.data.get("discharge_date"))
        if reading.deadline is not None:
            # A deadline later than 7 days without a reason goes to the model, which refuses
            # it exactly as in JSON (deadline_reason_required; R21).
            self.put(("first_contact_deadline",), reading.deadline.isoformat(), path)
            if len(set(reading.dates)) > 1:
                self.warn(
                    path,
                    "deadline_ambiguous",
                    "The text names several dates; the first was taken as the deadline.",
                )
        elif discharge is not None:
            latest = discharge + timedelta(days=START_WITHIN_DAYS)
            self.put(("first_contact_deadline",), latest.isoformat(), path)
            self.warn(
                path,
                "deadline_assumed",
                "The text names no date; the deadline was taken as 7 days after discharge.",
            )


def _wrong_version(paths: list[str]) -> XmlRejected:
    return XmlRejected(
        [
            FieldError(
                path,
                "ggop_version",
                "Sektorbro reads GGOP100: VersionCode GGOP100 with TypeCode GGOP.",
            )
            for path in paths
        ]
    )


def parse_ggop(body: bytes, *, schemas: XsdRegistry | None = None) -> ParsedPlan:
    """Reads a GGOP body into `Plan`'s JSON shape; XmlRejected if it is no GGOP at all or,
    given `schemas`, if it is not valid against the GGOP schema (checked before mapping, so
    that XML is held to the schema as JSON is held to the model)."""
    root = parse_xml(body).getroot()
    namespace, name = split_tag(root.tag)
    if (namespace, name) != (MM104, "Emessage"):
        raise rejected(
            f"/{name}",
            "ggop_root",
            f"A GGOP's root element is Emessage in namespace {MM104}.",
        )
    if schemas is not None and (issues := schemas.validate("ggop", root)):
        raise XmlRejected(schema_errors(root, issues))
    reader = _Reader()
    message = reader.children(Element(root, "/Emessage"), _EMESSAGE)
    plans = message.all("RehabilitationPlan")
    if not plans:
        raise rejected(
            "/Emessage", "ggop_plan_missing", "The Emessage holds no RehabilitationPlan."
        )
    if len(plans) > 1:
        raise rejected(
            plans[1].path,
            "ggop_plan_repeated",
            "Sektorbro takes one RehabilitationPlan per Emessage.",
        )
    envelope_id = None
    if (envelope := message.one("Envelope")) is not None:
        found = reader.children(envelope, _ENVELOPE).text("Identifier")
        envelope_id = found.text if found else None
    reader.plan(plans[0]._replace(path=PLAN_PATH))
    return ParsedPlan(reader.data, reader.paths, envelope_id, reader.warnings)


# --- Helpers -------------------------------------------------------------------------------


def _is_union_tag(part: str | int) -> bool:
    return isinstance(part, str) and part.startswith("<") and part.endswith(">")


# XML 1.0 §2.3 S: no-break spaces and other Unicode spaces are content.
_XML_WHITESPACE = " \t\r\n"


# Two or more spaces between other characters of a line: in FixedFont, columns.
_FIXED_SPACES = re.compile(r"(?<![ \t\r\n]) {2,}(?![ \t\r\n])")


def _soft_runs(text: str | None, flags: frozenset[str]) -> list[TextRun]:
    # Whitespace in MedCom text nodes is layout: line breaks are Break, spaces may be Space.
    if not text or not text.strip(_XML_WHITESPACE):
        return []
    if "fixed_font" not in flags:
        return [TextRun(XML_SPACE.sub(" ", text), flags)]
    # MedCom FixedFont is text set in columns (a table in characters): a run of spaces inside a
    # line is content and is kept; whitespace next to a line break is still layout.
    runs: list[TextRun] = []
    position = 0
    for match in _FIXED_SPACES.finditer(text):
        if match.start() > position:
            runs.append(TextRun(XML_SPACE.sub(" ", text[position : match.start()]), flags))
        runs.append(TextRun(match.group(), flags, soft=False))
        position = match.end()
    if position < len(text):
        runs.append(TextRun(XML_SPACE.sub(" ", text[position:]), flags))
    return runs


def _split_before_admission(runs: list[TextRun]) -> tuple[list[TextRun], list[TextRun]] | None:
    """Sektorbro's own layout (render.py): heading, earlier ability, heading, extended text."""
    if not runs or not _is_heading(runs[0], BEFORE_ADMISSION_HEADING):
        return None
    rest = runs[1:]
    for index, run in enumerate(rest):
        if _is_heading(run, EXTENDED_HEADING):
            return rest[:index], rest[index + 1 :]
    return rest, []


def _is_heading(run: TextRun, heading: str) -> bool:
    return run.text == heading and "bold" in run.flags


def _plain(value: FormattedValue | None) -> str:
    if value is None or isinstance(value, str):
        return value or ""
    return "".join(segment["text"] for segment in value)


def _danish_datetime(day: str, clock: str | None) -> str:
    """Date and time as Danish local time in ISO 8601 with offset; as written if no date."""
    try:
        moment = datetime.combine(date.fromisoformat(day), time.fromisoformat(clock or "00:00"))
    except ValueError:
        return f"{day}T{clock}" if clock else day  # for the model to report
    return moment.replace(tzinfo=DANISH_TIME).isoformat()


def _iso_date(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


_MONTHS = {name: number for number, name in enumerate(DANISH_MONTHS, start=1)}
# 2026-11-27, 27-11-2026, 27.11.2026, 27/11/2026, 27. november 2026.
_DATE = re.compile(
    r"(?<![0-9])(?:"
    r"(?P<iso_year>[0-9]{4})-(?P<iso_month>[0-9]{2})-(?P<iso_day>[0-9]{2})"
    r"|(?P<day>[0-9]{1,2})(?P<sep>[-./])(?P<month>[0-9]{1,2})(?P=sep)(?P<year>[0-9]{4})"
    r"|(?P<dk_day>[0-9]{1,2})\.?\s+(?P<dk_month>" + "|".join(_MONTHS) + r")\s+(?P<dk_year>[0-9]{4})"
    r")(?![0-9])",
    re.IGNORECASE,
)


def _dates_in(text: str) -> list[date]:
    """The real calendar dates written in `text`, in order."""
    found = []
    for match in _DATE.finditer(text):
        if match["iso_year"]:
            parts = (match["iso_year"], match["iso_month"], match["iso_day"])
        elif match["year"]:
            parts = (match["year"], match["month"], match["day"])
        else:
            parts = (match["dk_year"], str(_MONTHS[match["dk_month"].lower()]), match["dk_day"])
        try:
            found.append(date(*map(int, parts)))
        except ValueError:
            continue  # 31.02.2026 is no date
    return found


# --- The deadline in words (R10, R21) ----------------------------------------------------------

_DK_DATE = r"[0-9]{2}-[0-9]{2}-[0-9]{4}"
# Sektorbro's deadline sentence (render.py `deadline_sentence`, `deadline_lines`), the last
# line(s) of a RehabilitationDeadline: the discharge date only when GGOP has no other place.
_DEADLINE_SENTENCE = re.compile(
    rf"(?:Udskrivelsesdato (?P<discharge>{_DK_DATE})\. )?"
    rf"Kommunens første kontakt senest (?P<deadline>{_DK_DATE})\."
    r"(?: Begrundelse: (?P<reason>.+))?",
    re.DOTALL,
)
_SENTENCE_START = re.compile(r"(?:\A|(?<=\n))(?:Udskrivelsesdato|Kommunens første kontakt)")
# In the sender's own words, the reason for a later deadline follows "Begrundelse:" (R21).
_REASON = re.compile(r"begrundelse:\s*(?P<reason>\S.*)", re.DOTALL | re.IGNORECASE)
# CurrentHospitalContact/ExpectedEndText in Sektorbro's form (render.py `hospital_end`).
_DISCHARGE_IN_WORDS = re.compile(
    rf"Udskrivelsesdato (?P<date>{_DK_DATE})(?: kl\. (?P<time>[0-9]{{2}}:[0-9]{{2}}))?: "
    r"(?P<words>\S.*)",
    re.DOTALL,
)


@dataclass(frozen=True)
class DeadlineText:
    """What the text of a RehabilitationDeadline says."""

    words_end: int  # the sender's words are text[:words_end]; Sektorbro's sentence follows
    dates: list[date]  # the dates that name the deadline, the first being it
    reason: str | None  # why the deadline is later than 7 days after discharge (R21)
    discharge: date | None  # the discharge date, when Sektorbro's sentence gives it

    @property
    def deadline(self) -> date | None:
        """The deadline the text names, if any."""
        return self.dates[0] if self.dates else None


def read_deadline_text(text: str) -> DeadlineText:
    """Reads a deadline text as JSON's fields: the deadline, its reason, the discharge date.

    Sektorbro's own sentence at the end of the text ("Kommunens første kontakt senest
    27-11-2026. Begrundelse: …") gives them exactly. Otherwise the first date written is the
    deadline, and the reason is what follows "Begrundelse:"; a text without it gives no reason,
    so that a deadline later than 7 days gets the same 422 as in JSON (R21).
    """
    for start in reversed([m.start() for m in _SENTENCE_START.finditer(text)]):
        found = _DEADLINE_SENTENCE.fullmatch(text, start)
        if found is None:
            continue
        deadline = _dk_date(found["deadline"])
        discharge = _dk_date(found["discharge"]) if found["discharge"] else None
        if deadline is None or (found["discharge"] and discharge is None):
            continue
        return DeadlineText(max(start - 1, 0), [deadline], found["reason"], discharge)
    reason = _REASON.search(text)
    return DeadlineText(len(text), _dates_in(text), reason["reason"] if reason else None, None)


def _dk_date(text: str) -> date | None:
    day, month, year = text.split("-")
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _dk_iso_date(text: str) -> str | None:
    found = _dk_date(text)
    return None if found is None else found.isoformat()


def _cut(value: FormattedValue | None, end: int) -> FormattedValue | None:
    """The first `end` characters of a formatted value, without line breaks at its end."""
    if value is None:
        return None
    if isinstance(value, str):
        return value[:end].rstrip("\n") or None
    kept: list[dict[str, Any]] = []
    for segment in value:
        if end <= 0:
            break
        kept.append({**segment, "text": segment["text"][:end]})
        end -= len(segment["text"])
    while kept and not kept[-1]["text"].rstrip("\n"):
        kept.pop()
    if not kept:
        return None
    kept[-1]["text"] = kept[-1]["text"].rstrip("\n")
    if not any(key != "text" for segment in kept for key in segment):
        return "".join(segment["text"] for segment in kept)
    return kept


# --- Schema errors as problems ----------------------------------------------------------------

_XS = "{http://www.w3.org/2001/XMLSchema}"
# libxml2: "Element '{ns}X': This element is not expected. Expected is ( {ns}Y )." or
# "Element '{ns}X': Missing child element(s). Expected is one of ( {ns}Y, {ns}Z )."
_EXPECTED = re.compile(r"Expected is (?:one of )?\( (?P<names>[^)]*) \)")
_NOT_EXPECTED = "This element is not expected."
_MISSING_CHILD = "Missing child element(s)."


def schema_errors(root: Any, issues: list[XmlIssue]) -> list[FieldError]:
    """The GGOP schema's verdict as problems, each naming an element by its XPath.

    A required element that is missing is named itself (`…/ConsentInformed`, rule `missing`,
    as JSON names a missing field), not the element libxml2 stumbled on. Messages keep no
    value from the document (it may hold a CPR number): only element and type names."""
    errors: list[FieldError] = []
    for issue in issues:
        expected = _EXPECTED.search(issue.message)
        missing = None
        if expected is not None and (
            _MISSING_CHILD in issue.message or _NOT_EXPECTED in issue.message
        ):
            names = [split_tag(n.strip())[1] for n in expected["names"].split(",")]
            missing = _missing_name(root, issue, names)
        if missing is not None:
            errors.append(
                FieldError(missing, "missing", "GGOP requires this element here (schemas/ggop).")
            )
        elif _NOT_EXPECTED in issue.message:
            errors.append(
                FieldError(
                    issue.path or "/",
                    "xml_element_unexpected",
                    "GGOP has no such element here (schemas/ggop)"
                    + (f"; expected: {_names(expected['names'])}." if expected else "."),
                )
            )
        else:
            errors.append(FieldError(issue.path or "/", "xml_schema", _without_values(issue)))
    return errors


def _missing_name(root: Any, issue: XmlIssue, names: list[str]) -> str | None:
    """The XPath of the required element an issue says is missing, if it says so."""
    if not names or names[-1] not in _required_names():
        return None
    # "Missing child element(s)" is reported at the parent; "not expected" at a sibling.
    parent = issue.path if _MISSING_CHILD in issue.message else issue.path.rpartition("/")[0]
    if not parent:
        return None
    element = _element_at(root, parent)
    if element is not None and any(split_tag(c.tag)[1] == names[-1] for c in element):
        return None  # it is there, only out of place
    return f"{_plain_path(parent)}/{names[-1]}"


def _element_at(root: Any, path: str) -> Any:
    element = None
    candidates = [root]
    for step in path.strip("/").split("/"):
        name, _, rest = step.partition("[")
        position = int(rest.rstrip("]")) if rest else 1
        namesakes = [c for c in candidates if split_tag(c.tag)[1] == name]
        if len(namesakes) < position:
            return None
        element = namesakes[position - 1]
        candidates = list(element)
    return element


def _plain_path(path: str) -> str:
    # The plan's own elements are named as the mapping names them (one plan per Emessage).
    return path.replace("/Emessage/RehabilitationPlan[1]", PLAN_PATH)


@functools.cache
def _required_names() -> frozenset[str]:
    """The local names the GGOP schema requires wherever they occur: not optional, not one of a
    choice, and not inside an optional group."""
    names: set[str] = set()
    folder = resource_dir("schemas") / "ggop"
    for file in ("municipality-1.0.4.xsd", "municipality-1.0.0.xsd"):
        schema = etree.parse(str(folder / file), safe_parser())
        for element in schema.iter(f"{_XS}element"):
            optional = element.get("minOccurs") == "0"
            for ancestor in element.iterancestors():
                if ancestor.tag in (f"{_XS}complexType", f"{_XS}group", f"{_XS}schema"):
                    break
                if ancestor.tag == f"{_XS}choice" or ancestor.get("minOccurs") == "0":
                    optional = True
            name = element.get("name") or element.get("ref", "").rpartition(":")[2]
            if name and not optional and element.getparent().tag != f"{_XS}schema":
                names.add(name)
    return frozenset(names)


def _names(names: str) -> str:
    return ", ".join(split_tag(n.strip())[1] for n in names.split(","))


def _without_values(issue: XmlIssue) -> str:
    message = re.sub(r"'\{[^}]*\}([^']*)'", r"'\1'", issue.message)  # names without namespaces
    message = re.sub(r"[Tt]he value '[^']*'", "The value", message)
    message = re.sub(r": '[^']*' is not", ": the value is not", message)
    message = re.sub(r"\[facet '([^']*)'\] The value '[^']*'", r"[facet '\1'] The value", message)
    return message.strip()

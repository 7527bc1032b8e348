"""Domain model -> MedCom XML bytes: a plan as GGOP, or as an XDIS91 letter for a receiver that
only takes XDIS91 (formats.md §4, §4.5, §5), correspondence letters as XDIS91 (formats.md §5),
and receipts as XCTL01/02/03 (formats.md §6).

XML comes only from the Jinja2 templates in `xml_templates/` (conventions.md 7); this module
prepares what is awkward in a template (local times, ICF in SKS form, formatted text as lines of
runs from lines.py, the plan as XDIS91 text, cut into blocks by xdis91_layout.py), renders,
encodes as ISO-8859-1 and validates every document against its XSD before returning it. An
invalid render is a Sektorbro bug (`RenderedXmlInvalid`): the domain models carry the XSDs'
limits, so caller input never fails.

Imports only `app.domain`, `app.resources` and the xml layer (documents, ggop, hardened,
headings, lines, validate, xdis91_layout); never services, repositories or FastAPI.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup, escape

from app.domain.letters import Letter
from app.domain.messages import DANISH_TIME
from app.domain.plan import (
    START_WITHIN_DAYS,
    Address,
    AmbulatoryLocation,
    ContactAddress,
    IcfClassification,
    Phone,
    Plan,
    Signer,
    TeamMember,
)
from app.domain.receipts import Receipt
from app.domain.text import Segment
from app.resources import resource_dir
from app.xml.documents import envelope_of, latin1_bytes
from app.xml.ggop import read_deadline_text
from app.xml.hardened import parse_xml
from app.xml.headings import BEFORE_ADMISSION_HEADING, EXTENDED_HEADING
from app.xml.lines import Line, Run, text_lines
from app.xml.validate import SchemaName, XmlIssue, XsdRegistry
from app.xml.xdis91_layout import (
    XDIS91_MAX_BLOCKS,
    PlanTooLongForXdis91,
    xdis91_blocks,
    xdis91_size,
)

__all__ = [
    "Envelope",
    "Party",
    "PlanParties",
    "RenderedXmlInvalid",
    "XmlRenderer",
    "deadline_sentence",
    "sks_icf_code",
]

# MedCom Date/Time elements are Danish local time (formats.md §3.2).

# MedCom 2006 IdentifierCodeType (ValueLists.xsd); GGOP and our directory add "region".
_XDIS91_IDENTIFIER_CODES = frozenset(
    {"sygehusafdelingsnummer", "ydernummer", "lokationsnummer", "kommunenummer", "amt", "sorkode"}
)


class RenderedXmlInvalid(Exception):
    """A rendered document failed its XSD: a bug in Sektorbro, not in the caller's input."""

    def __init__(self, schema: SchemaName, issues: list[XmlIssue]) -> None:
        self.schema = schema
        self.issues = issues
        # Paths only: libxml2's messages quote the offending value, which may be a CPR number,
        # and this message ends up in logs.
        paths = ", ".join(sorted({issue.path for issue in issues}))
        super().__init__(f"Rendered {schema} XML is invalid at {paths}")


@dataclass(frozen=True)
class Party:
    """A directory organisation as MedCom's Sender, Receiver and CCReceiver show it."""

    gln: str
    identifier: str
    identifier_code: str
    name: str
    department: str | None = None
    unit: str | None = None
    street: str | None = None
    suburb: str | None = None
    district: str | None = None
    postcode: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class Envelope:
    """The OIOXML envelope of one document: its own id, send time and receipt request."""

    envelope_id: str
    sent_at: datetime
    acknowledgement_code: Literal["pluspositivkvitt", "minuspositivkvitt"] = "pluspositivkvitt"

    def __post_init__(self) -> None:
        # MedCom EMessage.xsd: Envelope/Identifier is 1-14 characters; Sent is local time,
        # which needs an aware datetime to compute.
        if not 1 <= len(self.envelope_id) <= 14:
            raise ValueError("envelope_id must have 1-14 characters")
        if self.sent_at.utcoffset() is None:
            raise ValueError("sent_at must be timezone-aware")


@dataclass(frozen=True)
class PlanParties:
    """The organisations a plan names, looked up in the directory by the caller."""

    sender: Party
    receiver: Party  # the primary receiver: the patient's kommune
    gp: Party | None  # None when the patient deselected the GP copy
    cc: list[Party] = field(default_factory=list)
    result_receivers: list[Party] = field(default_factory=list)


def formatted_text(lines: Sequence[Line], prefix: str = "", *, hard_spaces: bool = True) -> Markup:
    """MedCom formatted text (FormattedText.xsd) for a template: lines separated by
    `<Break/>`, each run wrapped in its formatting elements (so a line break inside a
    formatted segment closes them, breaks and reopens them). `prefix` is the namespace prefix
    of the formatting elements with its colon ("mm100:" in GGOP, "" in XDIS91). Mixed
    content: no whitespace of its own.

    A MedCom reader takes the whitespace of a text node as layout (app/xml/reading.py does): it
    drops spaces at the ends of a line and reads a run of spaces as one. Those spaces are
    written as `<Space/>`, so that every receiver reads the text exactly as written, a
    fixed-font table keeps its columns, and Sektorbro reads its own documents back unchanged
    (issue 13). `hard_spaces=False` writes every space as text, as MedCom's receipt examples
    write a RefuseText (tests/unit/xml/test_receipts.py renders them back byte for byte).

    Python rather than a Jinja2 macro: the macro's three nested loops per run were the largest
    single cost of rendering a plan (bench/README.md). The text passes through one escaping
    function, markupsafe's `escape`, the one autoescape uses; the tags are our own constants.
    tests/unit/xml/test_golden.py proves the output byte for byte.
    """
    parts: list[str] = []
    for index, line in enumerate(lines):
        if index:
            parts.append(f"<{prefix}Break/>")
        hard = _hard_spaces(line) if hard_spaces else set()
        offset = 0
        for run in line:
            parts.extend(f"<{prefix}{tag}>" for tag in run.tags)
            start = 0
            for position in range(len(run.text)) if hard else ():
                if offset + position in hard:
                    parts.append(escape(run.text[start:position]))
                    parts.append(f"<{prefix}Space/>")
                    start = position + 1
            parts.append(escape(run.text[start:]))
            parts.extend(f"</{prefix}{tag}>" for tag in reversed(run.tags))
            offset += len(run.text)
    return Markup("".join(parts))


def _hard_spaces(line: Line) -> set[int]:
    """The positions in `line` of the spaces a reader would drop: at its ends, or next to
    another space."""
    text = "".join(run.text for run in line)
    if not text or ("  " not in text and text[0] != " " and text[-1] != " "):
        return set()  # the usual line
    last = len(text) - 1
    return {
        index
        for index, char in enumerate(text)
        if char == " " and (index in (0, last) or text[index - 1] == " " or text[index + 1] == " ")
    }


def local_date(moment: datetime) -> str:
    """The Danish calendar date of `moment`, as xs:date."""
    return moment.astimezone(DANISH_TIME).date().isoformat()


def local_time(moment: datetime) -> str:
    """The Danish wall-clock time of `moment`, as MedCom's hh:mm."""
    return moment.astimezone(DANISH_TIME).strftime("%H:%M")


def sks_icf_code(code: str) -> str:
    """An ICF code in the SKS form GGOP writes: `d450` -> `FD450`, `FB799` unchanged (R49)."""
    return code if code.startswith("F") else "F" + code.upper()


def _bold(text: str) -> Line:
    return (Run(text, ("Bold",)),)


def _dk_date(day: date) -> str:
    return f"{day:%d-%m-%Y}"


def _dk_moment(moment: datetime) -> str:
    local = moment.astimezone(DANISH_TIME)
    return f"{_dk_date(local.date())} kl. {local:%H:%M}"


def deadline_sentence(plan: Plan) -> str:
    """The kommune's first-contact deadline and its reason as one Danish sentence (R21)."""
    sentence = f"Kommunens første kontakt senest {_dk_date(plan.first_contact_deadline)}."
    if plan.deadline_reason:
        sentence += f" Begrundelse: {plan.deadline_reason}"
    return sentence


def _deadline_lines(plan: Plan) -> list[Line]:
    """GGOP's RehabilitationDeadline (free text): the sender's words, followed by the
    structured deadline (`deadline_sentence`) unless the words already say exactly that as
    app/xml/ggop.py `read_deadline_text` reads them. So nothing the sender did not write is
    added, and Sektorbro reads its own GGOP back to the same fields (issue 13).

    GGOP has no other place for the discharge date when there is no CurrentHospitalContact, so
    the sentence then opens with it."""
    sentence = deadline_sentence(plan)
    if plan.hospital_contact is None:
        sentence = f"Udskrivelsesdato {_dk_date(plan.discharge_date)}. {sentence}"
    words = plan.rehabilitation_deadline
    if words is None:
        return text_lines(sentence)
    if plan.hospital_contact is not None:
        text = words if isinstance(words, str) else "".join(s.text for s in words)
        said = read_deadline_text(text)
        latest = plan.discharge_date + timedelta(days=START_WITHIN_DAYS)
        if said.words_end == len(text) and (said.deadline or latest, said.reason) == (
            plan.first_contact_deadline,
            plan.deadline_reason,
        ):
            return text_lines(words)
    return [*text_lines(words), *text_lines(sentence)]


@dataclass(frozen=True)
class HospitalEnd:
    """GGOP CurrentHospitalContact's end: ExpectedEnd {Date, Time?}, or ExpectedEndText."""

    date: str
    time: str | None = None
    text: str | None = None


def hospital_end(plan: Plan) -> HospitalEnd:
    """The end of the hospital contact as GGOP carries it. GGOP has one date for it, the
    discharge (R1, R23: the 7 days run from it), so ExpectedEnd's Date is `discharge_date`,
    with the time of `expected_end` when that falls on the same day. Words for the end
    (`expected_end_text`) go in ExpectedEndText, which the schema allows instead of ExpectedEnd,
    after the date: "Udskrivelsesdato 20-11-2026 kl. 13:45: Snart" (app/xml/ggop.py reads it
    back)."""
    contact = plan.hospital_contact
    day = plan.discharge_date
    moment = None if contact is None else contact.expected_end
    clock = None
    if moment is not None and moment.astimezone(DANISH_TIME).date() == day:
        clock = local_time(moment)
    words = None if contact is None else contact.expected_end_text
    if words is None:
        return HospitalEnd(day.isoformat(), clock)
    at = f" kl. {clock}" if clock else ""
    return HospitalEnd(day.isoformat(), text=f"Udskrivelsesdato {_dk_date(day)}{at}: {words}")


def _ability_extended_lines(plan: Plan) -> list[Line] | None:
    # R7a: GGOP has no element for the earlier functional ability; it goes first in
    # AbilityAtDischargeExtended, under a heading that app/xml/ggop.py splits on.
    before, extended = plan.function_before_admission, plan.function_at_discharge_extended
    if before is None:
        return None if extended is None else text_lines(extended)
    lines = [_bold(BEFORE_ADMISSION_HEADING), *text_lines(before)]
    if extended is not None:
        lines += [(), _bold(EXTENDED_HEADING), *text_lines(extended)]
    return lines


# ---------------------------------------------------------------------------------------------
# XDIS91: the whole plan as readable Danish text (formats.md §4.5; headings as MedCom's public
# GGOP2XDIS91 stylesheet writes them, where it has the element)


def _join(*parts: str | None, sep: str = ", ") -> str:
    return sep.join(part for part in parts if part)


def _if(value: object, text: str) -> str | None:
    return text if value else None


def _postal(postcode: str | None, district: str | None) -> str:
    return _join(postcode, district, sep=" ")


def _address_text(address: Address | None) -> str:
    if address is None:
        return ""
    return _join(address.street, address.suburb, _postal(address.postcode, address.district))


def _party_text(party: Party) -> str:
    return _join(
        f"EAN: {party.gln}",
        f"{party.identifier_code}: {party.identifier}",
        party.name,
        party.department,
        party.unit,
        party.street,
        party.suburb,
        _postal(party.postcode, party.district),
        party.phone,
    )


def _location_text(location: AmbulatoryLocation) -> str:
    return _join(
        _if(location.ean, f"EAN: {location.ean}"),
        _join(location.identifier_code, location.identifier, sep=": "),
        location.name,
        location.department,
        location.unit,
        location.street,
        location.suburb,
        _postal(location.postcode, location.district),
    )


def _contact_text(contact: ContactAddress) -> str:
    return _join(
        _if(contact.ean, f"EAN: {contact.ean}"),
        contact.department,
        contact.street,
        _postal(contact.postcode, contact.district),
        contact.phone,
    )


def _person_text(person: Signer) -> str:
    identifier = None
    if isinstance(person, TeamMember) and person.identifier:
        identifier = _join(person.identifier_code, person.identifier, sep=": ")
    return _join(
        _join(person.given_name, person.surname, sep=" "),
        person.title,
        person.department,
        identifier,
        person.phone,
    )


def _phones_text(phones: Sequence[Phone], email: str | None) -> str:
    return _join(*(f"{phone.kind}: {phone.number}" for phone in phones), email)


def _moment_text(moment: datetime | None, text: str | None) -> list[str]:
    # The model allows both a time and words; GGOP carries one of them, the letter shows both.
    texts = [] if moment is None else [_dk_moment(moment)]
    return texts if text is None else [*texts, text]


def _icf_text(icf: IcfClassification) -> str:
    text = _join(icf.text, f"({sks_icf_code(icf.code)})", sep=" ")
    if icf.gradient is not None:
        gradient = _join(icf.gradient.text, f"({sks_icf_code(icf.gradient.code)})", sep=" ")
        text += f", gradient: {gradient}"
    return text


def _plain(*texts: str | None) -> list[Line]:
    return [line for text in texts if text for line in text_lines(text)]


def _xdis91_sections(plan: Plan, parties: PlanParties) -> list[list[Line]]:
    """Every part of the plan as sections of lines, each opening with its heading in bold."""
    sections: list[list[Line]] = []

    def add(heading: str, body: list[Line]) -> None:
        if body:
            sections.append([_bold(heading), *body])

    def add_text(heading: str, text: str | list[Segment] | None) -> None:
        if text is not None:
            add(heading, text_lines(text))

    patient = plan.patient
    add(
        "Genoptræningsplan",
        _plain(
            f"Type: {plan.plan_type}",
            # R15: GGOP writes the municipal level as its TypeOfRehabilitationPlan.
            _if(plan.level, f"Niveau: {plan.level}"),
            f"Udskrivelsesdato: {_dk_date(plan.discharge_date)}",
            f"Kommunekode (bopælskommune): {patient.municipality_code}",
        ),
    )
    gp = "Fravalgt" if parties.gp is None else _party_text(parties.gp)
    add(
        "Kopimodtagere",
        _plain(
            f"Primær modtager: {_party_text(parties.receiver)}",
            f"Kopi til egen læge: {gp}",
            *map(_party_text, parties.cc),
        ),
    )
    add(
        "Underskrivere",
        _plain(*map(_person_text, [plan.sender.signed_by, *plan.sender.co_writers])),
    )
    co = patient.co_address
    co_name = None if co is None else _join(co.given_name, co.surname, sep=" ")
    add(
        "Yderligere patientoplysninger",
        _plain(
            _phones_text(patient.phones, patient.email),
            _if(patient.no_phone_reason, f"Ingen telefon: {patient.no_phone_reason}"),
            None if co is None else f"c/o adresse: {_join(co_name, _address_text(co))}",
            f"Informeret samtykke: {'ja' if plan.consent_informed else 'nej'}",
        ),
    )
    add(
        "Pårørende",
        _plain(
            *(
                text
                for relative in plan.relatives
                for text in (
                    _join(
                        _join(relative.given_name, relative.surname, sep=" "),
                        relative.relation,
                        _address_text(relative.address),
                    ),
                    _phones_text(relative.phones, relative.email),
                )
            )
        ),
    )
    add_text("Information om behandling til patient og pårørende", plan.information_for_patient)
    add_text("Praktiske oplysninger", plan.practical_information)
    add_text("Patientsikkerhedsmæssige forhold", plan.patient_safety)
    # The deadline exactly as GGOP's RehabilitationDeadline carries it (_deadline_lines): the
    # sender's words, or without them the structured deadline. Every receiver reads the same;
    # a date the hospital did not write appears in no copy (issue 13, faithful copies).
    add("Tidsfrist for start af genoptræning", _deadline_lines(plan))
    if (stay := plan.hospital_contact) is not None:
        end = _moment_text(stay.expected_end, stay.expected_end_text)
        add(
            "Aktuel sygehuskontakt",
            _plain(
                f"Start: {_dk_moment(stay.start)}", *(f"Forventet afslutning: {e}" for e in end)
            ),
        )
    if (control := plan.ambulatory_control) is not None:
        start = _moment_text(control.expected_start, control.expected_start_text)
        location = control.location
        add(
            "Aftaler om kontrol og opfølgning",
            _plain(
                *(f"Dato for kontrol: {s}" for s in start),
                None if location is None else _location_text(location),
            ),
        )
    add_text(
        "Helbredsforhold inkl. beskrivelse af behandlingsforløb - Sammenfatning",
        plan.health_summary,
    )
    add_text(BEFORE_ADMISSION_HEADING, plan.function_before_admission)
    add_text(
        "Helbredsrelateret funktionsevne på udskrivningstidspunktet - Sammenfatning",
        plan.function_at_discharge,
    )
    add_text(
        "Udvidet beskrivelse af helbredsrelateret funktionsevne på udskrivningstidspunktet",
        plan.function_at_discharge_extended,
    )
    add_text("Patientens genoptræningsbehov og potentiale", plan.rehabilitation_need)
    if (diagnoses := plan.diagnoses) is not None:
        add(
            "Diagnoser",
            _plain(
                f"Primær diagnose: {diagnoses.primary.text} ({diagnoses.primary.code})",
                *(f"Sekundær diagnose: {d.text} ({d.code})" for d in diagnoses.secondary),
            ),
        )
    add("ICF-koder", _plain(*map(_icf_text, plan.icf)))
    for excerpt in plan.journal_excerpts:
        signed = _join(
            None if excerpt.date is None else _dk_date(excerpt.date),
            None if excerpt.signed_by is None else _person_text(excerpt.signed_by),
        )
        add(f"Uddrag fra journal: {excerpt.kind}", [*_plain(signed), *text_lines(excerpt.text)])
    add("Spørgsmål til Regionen", _plain(_contact_text(plan.contact_region)))
    add("Spørgsmål til Kommunen", _plain(_contact_text(plan.contact_municipality)))
    add("Behandlende team under indlæggelse", _plain(*map(_person_text, plan.care_team)))
    add("Slutstatusmodtager", _plain(*map(_party_text, parties.result_receivers)))
    return sections


def _xdis91_party(party: Party) -> Party:
    # MedCom 2006 has no IdentifierCode "region": name such a party by its location number.
    if party.identifier_code in _XDIS91_IDENTIFIER_CODES:
        return party
    return replace(party, identifier=party.gln, identifier_code="lokationsnummer")


# ---------------------------------------------------------------------------------------------


def _check_gp(plan: Plan, parties: PlanParties) -> None:
    if plan.gp.deselected != (parties.gp is None):
        raise ValueError("parties.gp must be None exactly when the plan deselects the GP copy")


class XmlRenderer:
    """Renders plans and receipts as MedCom XML; built once per application, thread-safe."""

    def __init__(self, registry: XsdRegistry, *, templates_dir: Path | None = None) -> None:
        self._registry = registry
        self._env = Environment(
            loader=FileSystemLoader(templates_dir or resource_dir("xml_templates")),
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            auto_reload=False,  # templates are compiled once, at startup
        )
        self._env.filters.update(
            lines=text_lines, local_date=local_date, local_time=local_time, sks_icf=sks_icf_code
        )
        self._env.globals["formatted"] = formatted_text
        self._ggop: Template = self._env.get_template("ggop.xml.j2")
        self._xdis91_plan: Template = self._env.get_template("xdis91_plan.xml.j2")
        self._xdis91_letter: Template = self._env.get_template("xdis91_letter.xml.j2")
        self._receipt: Template = self._env.get_template("receipt.xml.j2")
        # Imported by the XDIS91 templates when they first render; compiled now instead.
        self._env.get_template("_medcom.xml.j2")

    @property
    def schemas(self) -> XsdRegistry:
        """The XSDs every document is checked against, also inbound ones."""
        return self._registry

    def render_ggop(self, plan: Plan, *, envelope: Envelope, parties: PlanParties) -> bytes:
        """The plan as a GGOP document (GGOP100, namespace 1.0.4), validated."""
        _check_gp(plan, parties)
        # The sender's sub-units are its own to name; the directory's are the default.
        sender = parties.sender
        if plan.sender.unit:
            sender = replace(sender, unit=plan.sender.unit)
        receiver = parties.receiver
        if plan.receiver_unit and plan.receiver_gln == receiver.gln:
            receiver = replace(receiver, unit=plan.receiver_unit)
        text = self._ggop.render(
            plan=plan,
            envelope=envelope,
            parties=replace(parties, sender=sender, receiver=receiver),
            deadline=_deadline_lines(plan),
            ability_extended=_ability_extended_lines(plan),
            hospital_end=hospital_end(plan),
        )
        return self._finish("ggop", text)

    def render_plan_as_xdis91(
        self, plan: Plan, *, envelope: Envelope, parties: PlanParties, receiver: Party
    ) -> bytes:
        """The plan as an XDIS91 letter (XD9134L) to `receiver`, validated.

        XDIS91 has no copy receiver, so every receiver gets a letter of its own (formats.md §5).
        """
        _check_gp(plan, parties)
        sections = _xdis91_sections(plan, parties)
        blocks = xdis91_blocks(sections)
        if len(blocks) > XDIS91_MAX_BLOCKS:
            raise PlanTooLongForXdis91(size=xdis91_size(sections), blocks_needed=len(blocks))
        text = self._xdis91_plan.render(
            plan=plan,
            envelope=envelope,
            sender=_xdis91_party(parties.sender),
            receiver=_xdis91_party(receiver),
            blocks=blocks,
        )
        return self._finish("xdis91", text)

    def render_letter(
        self,
        letter: Letter,
        *,
        letter_id: str,
        envelope: Envelope,
        sender: Party,
        receiver: Party,
        authorised_at: datetime,
        statistical_code: str = "XDIS91",
        sender_speciality: str | None = None,
    ) -> bytes:
        """The letter as an XDIS91 ClinicalEmail (XD9134L) from `sender` to `receiver`,
        validated. Each text block becomes one ClinicalInformation/Text01. `authorised_at` is
        when the letter was signed and `sender_speciality` the Sender's MedicalSpecialityCode,
        both as an inbound XDIS91 letter gives them."""
        if letter.letter_id not in (None, letter_id):
            raise ValueError("letter_id must be the letter's own when it has one")
        if receiver.gln != letter.receiver_gln:
            raise ValueError("receiver must be the organisation the letter names")
        if authorised_at.utcoffset() is None:
            raise ValueError("authorised_at must be timezone-aware")
        text = self._xdis91_letter.render(
            letter=letter,
            letter_id=letter_id,
            statistical_code=statistical_code,
            authorised_at=authorised_at,
            envelope=envelope,
            sender=_xdis91_party(sender),
            sender_speciality=sender_speciality,
            receiver=_xdis91_party(receiver),
            blocks=[text_lines(block) for block in letter.text_blocks],
        )
        return self._finish("xdis91", text)

    def render_receipt(self, receipt: Receipt, *, envelope: Envelope) -> bytes:
        """The receipt as a MedCom XCTL01/02/03 document (namespace 2005/08/07), validated."""
        # formats.md §6: receipts are not receipted. Every MedCom receipt example says
        # minuspositivkvitt, and a receipt asking for one would start an endless exchange.
        if envelope.acknowledgement_code != "minuspositivkvitt":
            raise ValueError("a receipt's envelope must say minuspositivkvitt")
        return self._finish("receipt", self._receipt.render(receipt=receipt, envelope=envelope))

    def reenvelope(self, document: bytes, *, envelope: Envelope, schema: SchemaName) -> bytes:
        """`document`, an OIOXML Emessage we rendered, with `envelope`'s id, send time and
        receipt request, in ISO-8859-1, validated against `schema`.

        MedCom (formats.md §6): a resend keeps the letter and its letter id and gets a new
        envelope id and send time. The stored document is re-enveloped, not rendered again,
        so the receiver gets the same letter even if the directory changed meanwhile.
        """
        tree = parse_xml(document, trusted=True)  # ours: its encoding is not checked again
        old = envelope_of(tree)
        for path, value in (
            ("{*}Sent/{*}Date", local_date(envelope.sent_at)),
            ("{*}Sent/{*}Time", local_time(envelope.sent_at)),
            ("{*}Identifier", envelope.envelope_id),
            ("{*}AcknowledgementCode", envelope.acknowledgement_code),
        ):
            element = old.find(path)
            if element is None:
                raise ValueError(f"the Envelope has no {path.replace('{*}', '')}")
            element.text = value
        data = latin1_bytes(tree)
        issues = self._registry.validate(schema, data)
        if issues:
            raise RenderedXmlInvalid(schema, issues)
        return data

    def _finish(self, schema: SchemaName, text: str) -> bytes:
        # MedCom convention: ISO-8859-1. Autoescape has already escaped markup, and characters
        # outside Latin-1 can only come from data, which the templates put in text content, so
        # a character reference never lands in a tag name.
        data = text.encode("iso-8859-1", errors="xmlcharrefreplace")
        issues = self._registry.validate(schema, data)
        if issues:
            raise RenderedXmlInvalid(schema, issues)
        return data

"""Domain model -> MedCom XML bytes: a plan as GGOP, or as an XDIS91 letter for a receiver that
only takes XDIS91 (formats.md §4, §4.5, §5), correspondence letters as XDIS91 (formats.md §5),
and receipts as XCTL01/02/03 (formats.md §6).

XML comes only from the Jinja2 templates in `xml_templates/` (conventions.md 7); this module
prepares what is awkward in a template (local times, ICF in SKS form, formatted text as lines of
runs, the XDIS91 text and its blocks), renders, encodes as ISO-8859-1 and validates every
document against its XSD before returning it. An invalid render is a Sektorbro bug
(`RenderedXmlInvalid`): the domain models carry the XSDs' limits, so caller input never fails.

Imports only `app.domain`, `app.resources`, `app.xml.headings` and `app.xml.validate`; never
services, repositories or FastAPI.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Template
from markupsafe import Markup, escape

from app.domain.letters import MAX_TEXT_BLOCKS, TEXT_BLOCK_LIMIT, Letter
from app.domain.messages import DANISH_TIME
from app.domain.plan import (
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
from app.xml.headings import BEFORE_ADMISSION_HEADING, EXTENDED_HEADING
from app.xml.parse import parse_xml
from app.xml.validate import SchemaName, XmlIssue, XsdRegistry

__all__ = [
    "BEFORE_ADMISSION_HEADING",
    "EXTENDED_HEADING",
    "XDIS91_MAX_BLOCKS",
    "XDIS91_TEXT_LIMIT",
    "Envelope",
    "Line",
    "Party",
    "PlanParties",
    "PlanTooLongForXdis91",
    "RenderedXmlInvalid",
    "Run",
    "XmlRenderer",
    "deadline_sentence",
    "sks_icf_code",
    "text_lines",
    "xdis91_blocks",
]

# MedCom Date/Time elements are Danish local time (formats.md §3.2).

# MedCom publishes no limit for Text01 (FormattedText.xsd is unbounded); one production
# implementation writes at most 10 blocks of 3150 characters (formats.md §5, 9 EDIFACT FTX
# segments of 350), and ClinicalEmail.xsd allows 10 ClinicalInformation. A Break counts as one.
# A correspondence letter's text blocks keep the same limits (app/domain/letters.py).
XDIS91_TEXT_LIMIT = TEXT_BLOCK_LIMIT
XDIS91_MAX_BLOCKS = MAX_TEXT_BLOCKS

# MedCom 2006 IdentifierCodeType (ValueLists.xsd); GGOP and our directory add "region".
_XDIS91_IDENTIFIER_CODES = frozenset(
    {"sygehusafdelingsnummer", "ydernummer", "lokationsnummer", "kommunenummer", "amt", "sorkode"}
)
_NEWLINE = re.compile(r"\r\n?|\n")


class RenderedXmlInvalid(Exception):
    """A rendered document failed its XSD: a bug in Sektorbro, not in the caller's input."""

    def __init__(self, schema: SchemaName, issues: list[XmlIssue]) -> None:
        self.schema = schema
        self.issues = issues
        # Paths only: libxml2's messages quote the offending value, which may be a CPR number,
        # and this message ends up in logs.
        paths = ", ".join(sorted({issue.path for issue in issues}))
        super().__init__(f"Rendered {schema} XML is invalid at {paths}")


class PlanTooLongForXdis91(Exception):
    """The plan's text needs more ClinicalInformation blocks than XDIS91 allows."""

    def __init__(self, blocks_needed: int) -> None:
        self.blocks_needed = blocks_needed
        super().__init__(
            f"As an XDIS91 letter the plan needs {blocks_needed} text blocks of at most "
            f"{XDIS91_TEXT_LIMIT} characters; XDIS91 allows {XDIS91_MAX_BLOCKS}."
        )


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


@dataclass(frozen=True, slots=True)
class Run:
    """Text with one formatting, as the MedCom elements around it (outermost first)."""

    text: str
    tags: tuple[str, ...] = ()


# A line of formatted text; lines are separated by <Break/>. An empty line is a blank line.
Line = tuple[Run, ...]


def formatted_text(lines: Sequence[Line], prefix: str = "") -> Markup:
    """MedCom formatted text (FormattedText.xsd) for a template: lines separated by
    `<Break/>`, each run wrapped in its formatting elements (so a line break inside a
    formatted segment closes them, breaks and reopens them). `prefix` is the namespace prefix
    of the formatting elements with its colon ("mm100:" in GGOP, "" in XDIS91). Mixed
    content: no whitespace of its own.

    Python rather than a Jinja2 macro: the macro's three nested loops per run were the largest
    single cost of rendering a plan (bench/README.md). The text passes through one escaping
    function, markupsafe's `escape`, the one autoescape uses; the tags are our own constants.
    tests/unit/xml/test_golden.py proves the output byte for byte what the macro wrote.
    """
    parts: list[str] = []
    for index, line in enumerate(lines):
        if index:
            parts.append(f"<{prefix}Break/>")
        for run in line:
            parts.extend(f"<{prefix}{tag}>" for tag in run.tags)
            parts.append(escape(run.text))
            parts.extend(f"</{prefix}{tag}>" for tag in reversed(run.tags))
    return Markup("".join(parts))


def local_date(moment: datetime) -> str:
    """The Danish calendar date of `moment`, as xs:date."""
    return moment.astimezone(DANISH_TIME).date().isoformat()


def local_time(moment: datetime) -> str:
    """The Danish wall-clock time of `moment`, as MedCom's hh:mm."""
    return moment.astimezone(DANISH_TIME).strftime("%H:%M")


def sks_icf_code(code: str) -> str:
    """An ICF code in the SKS form GGOP writes: `d450` -> `FD450`, `FB799` unchanged (R49)."""
    return code if code.startswith("F") else "F" + code.upper()


def _emphasis(segment: Segment) -> tuple[str, ...]:
    # MedCom FormattedText.xsd: FixedFont may hold Bold, Italic or Underline, and those hold
    # only text, Break and Space. A run therefore carries at most one of the three.
    tags = ("FixedFont",) if segment.fixed_font else ()
    for flag, tag in ((segment.bold, "Bold"), (segment.italic, "Italic")):
        if flag:
            return (*tags, tag)
    return (*tags, "Underline") if segment.underline else tags


def text_lines(text: str | Sequence[Segment]) -> list[Line]:
    """`text` as lines of runs; a newline, also inside a formatted segment, ends a line."""
    pieces = [(text, ())] if isinstance(text, str) else [(s.text, _emphasis(s)) for s in text]
    lines: list[list[Run]] = [[]]
    for piece, tags in pieces:
        for index, part in enumerate(_NEWLINE.split(piece)):
            if index:
                lines.append([])
            if part:
                lines[-1].append(Run(part, tags))
    return [tuple(line) for line in lines]


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
    # GGOP RehabilitationDeadline is free text: the sender's words, or the structured deadline.
    if plan.rehabilitation_deadline is not None:
        return text_lines(plan.rehabilitation_deadline)
    return text_lines(deadline_sentence(plan))


def _ability_extended_lines(plan: Plan) -> list[Line] | None:
    # R7a: GGOP has no element for the earlier functional ability; it goes first in
    # AbilityAtDischargeExtended, under a heading that app/xml/parse.py splits on.
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
            _if(plan.level, f"Niveau: {plan.level}"),  # R15: not in GGOP, so shown here
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
    # The structured deadline is always shown, also when the sender wrote the deadline in words.
    given = [] if plan.rehabilitation_deadline is None else _deadline_lines(plan)
    add("Tidsfrist for start af genoptræning", [*given, *text_lines(deadline_sentence(plan))])
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


def _size(lines: Sequence[Line]) -> int:
    # Characters of text, plus one for each Break between lines.
    return sum(len(run.text) for line in lines for run in line) + max(len(lines) - 1, 0)


def _split_line(line: Line, limit: int) -> list[Line]:
    """`line` cut into pieces of at most `limit` characters, after a space where there is one."""
    if _size([line]) <= limit:
        return [line]
    pieces: list[Line] = []
    piece: list[Run] = []
    room = limit
    for run in line:
        text = run.text
        while len(text) > room:
            cut = text.rfind(" ", 0, room) + 1  # the space stays at the end of the piece
            if not cut and piece:  # no space here: end the piece where the last run ended
                pieces.append(tuple(piece))
                piece, room = [], limit
                continue
            cut = cut or room  # a word longer than a block is cut where the block ends
            pieces.append((*piece, Run(text[:cut], run.tags)))
            piece, room, text = [], limit, text[cut:]
        if text:
            piece.append(Run(text, run.tags))
            room -= len(text)
    if piece:
        pieces.append(tuple(piece))
    return pieces


def xdis91_blocks(
    sections: Sequence[Sequence[Line]], limit: int = XDIS91_TEXT_LIMIT
) -> list[list[Line]]:
    """`sections` in blocks of at most `limit` characters, cut between sections where possible."""
    blocks: list[list[Line]] = []
    current: list[Line] = []
    size = 0

    def append(lines: Sequence[Line], *, blank_before: bool) -> bool:
        nonlocal size
        added = _size(lines)
        if not current:
            if added > limit:
                return False
            current.extend(lines)
            size = added
            return True
        gap = 2 if blank_before else 1  # one Break ends the line, a second leaves a blank line
        if size + gap + added > limit:
            return False
        current.extend([(), *lines] if blank_before else lines)
        size += gap + added
        return True

    def new_block() -> None:
        nonlocal size
        if current:
            blocks.append(current.copy())
            current.clear()
            size = 0

    for section in sections:
        if append(section, blank_before=True):
            continue
        new_block()
        if append(section, blank_before=True):
            continue
        # A section longer than a block: cut between its lines, and a too long line at spaces.
        for line in section:
            for piece in _split_line(line, limit):
                if not append([piece], blank_before=False):
                    new_block()
                    append([piece], blank_before=False)
    new_block()
    return blocks


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

    def render_ggop(self, plan: Plan, *, envelope: Envelope, parties: PlanParties) -> bytes:
        """The plan as a GGOP document (GGOP100, namespace 1.0.4), validated."""
        _check_gp(plan, parties)
        text = self._ggop.render(
            plan=plan,
            envelope=envelope,
            parties=parties,
            deadline=_deadline_lines(plan),
            ability_extended=_ability_extended_lines(plan),
        )
        return self._finish("ggop", text)

    def render_plan_as_xdis91(
        self, plan: Plan, *, envelope: Envelope, parties: PlanParties, receiver: Party
    ) -> bytes:
        """The plan as an XDIS91 letter (XD9134L) to `receiver`, validated.

        XDIS91 has no copy receiver, so every receiver gets a letter of its own (formats.md §5).
        """
        _check_gp(plan, parties)
        blocks = xdis91_blocks(_xdis91_sections(plan, parties))
        if len(blocks) > XDIS91_MAX_BLOCKS:
            raise PlanTooLongForXdis91(len(blocks))
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
    ) -> bytes:
        """The letter as an XDIS91 ClinicalEmail (XD9134L) from `sender` to `receiver`,
        validated. Each text block becomes one ClinicalInformation/Text01."""
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

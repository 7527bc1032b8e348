"""Correspondence letters (MedCom XDIS91, *korrespondancebrev*): read one from JSON or XDIS91
XML, check its thread, render it for its receiver and store it with its delivery, all in the
caller's transaction.

Any organisation may write to any organisation in the directory that takes XDIS91, in its own
name. A letter may answer a message the caller received (`reply_to`) or correct a letter the
caller sent (`status: rettetbrev` with `corrects`, MedCom's StatusCode); either joins the
thread of that message.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app import orm
from app.domain.letters import Letter, LetterStatus
from app.domain.messages import (
    DeliveryRole,
    MessageType,
    content_hash,
    new_envelope_id,
    new_letter_id,
    patient_reference,
)
from app.domain.organisation import MessageFormat
from app.domain.rules import text_warnings
from app.errors import FieldError, Forbidden, NotFound, ValidationFailed, field_errors, located
from app.repositories import DirectoryEntry, MessageRepository
from app.services import audit
from app.services.context import RequestContext
from app.services.deliveries import Submission, first_copy, first_transmission, new_message
from app.services.messages import TrackedMessage, is_party, tracked
from app.services.routing import party_of, route_letter
from app.xml import Envelope, Party, Written, XmlRenderer, parse_xdis91

__all__ = [
    "LetterInput",
    "get_letter",
    "get_thread",
    "read_letter_json",
    "read_letter_xml",
    "submit_letter",
]


@dataclass(frozen=True, slots=True)
class LetterInput:
    """A letter read from the body, who the body says sent it (XML names its Sender), the
    remarks made while reading it, and how to name a field in the caller's notation; for an
    XDIS91 letter also what its receiver's copy keeps beyond `Letter`."""

    letter: Letter
    sender_gln: str | None
    warnings: list[FieldError]
    locate: Callable[[str], str]
    # Letter/Authorisation: when the sender signed the letter (None: now, on receipt).
    authorised_at: datetime | None = None
    # MedCom EMessage.xsd: pluspositivkvitt asks the receiver for a positive receipt,
    # minuspositivkvitt does not (formats.md §3.2); the sender's choice is passed on.
    acknowledgement_code: Literal["pluspositivkvitt", "minuspositivkvitt"] = "pluspositivkvitt"
    # Letter/StatisticalCode: XDIS91, or e.g. GGOP2 for a plan MedCom's GGOP2XDIS91 converted.
    statistical_code: str = "XDIS91"
    sender_speciality: str | None = None  # Sender/MedicalSpecialityCode
    receiver_unit: str | None = None  # Receiver/UnitName, e.g. the named doctor
    # The Sender's and Receiver's other details as written (the directory replaces them).
    sender_details: Mapping[str, Written] = field(default_factory=dict)
    receiver_details: Mapping[str, Written] = field(default_factory=dict)


def read_letter_json(body: bytes) -> LetterInput:
    """Reads a JSON letter; a 422 names every broken rule by its dotted path."""
    try:
        letter = Letter.model_validate_json(body)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc.errors(include_url=False))) from None
    warnings = [FieldError(w.field, w.rule, w.message) for w in text_warnings(letter)]
    return LetterInput(letter, sender_gln=None, warnings=warnings, locate=lambda field: field)


def read_letter_xml(body: bytes) -> LetterInput:
    """Reads an XDIS91 letter (app/xml/parse.py check_encoding: the declared encoding must be
    one we accept and true); a 422 names the XPath of each broken
    element."""
    parsed = parse_xdis91(body)
    return LetterInput(
        parsed.letter,
        sender_gln=parsed.sender_gln,
        warnings=list(parsed.warnings)
        + [
            FieldError(parsed.locate(w.field), w.rule, w.message)
            for w in text_warnings(parsed.letter)
        ],
        locate=parsed.locate,
        authorised_at=parsed.authorised_at,
        acknowledgement_code=(
            "minuspositivkvitt"
            if parsed.acknowledgement_code == "minuspositivkvitt"
            else "pluspositivkvitt"
        ),
        sender_speciality=parsed.sender_speciality,
        receiver_unit=parsed.receiver_unit,
        statistical_code=parsed.statistical_code,
        sender_details=parsed.sender_details,
        receiver_details=parsed.receiver_details,
    )


def submit_letter(
    session: Session, ctx: RequestContext, renderer: XmlRenderer, *, letter_input: LetterInput
) -> Submission:
    """Stores and delivers a letter, or answers the first copy of a duplicate (MedCom rule)."""
    letter = letter_input.letter
    sender = _sender(ctx, letter_input)
    letter_id = letter.letter_id or new_letter_id()
    body = letter.model_dump(mode="json") | {"letter_id": letter_id}
    digest = content_hash(body)
    repository = MessageRepository(session)
    with located(letter_input.locate):
        thread_id = _thread_of(session, ctx, letter)
        message = _message_row(ctx, letter, letter_id, body, digest, thread_id)
        # As for plans: the unique (sender, letter id) decides between copies, first.
        if not repository.add_if_new(message):
            existing = repository.get_by_letter(sender_gln=sender.gln, letter_id=letter_id)
            assert existing is not None
            return first_copy(
                existing,
                type=MessageType.LETTER,
                digest=digest,
                resubmit="A changed letter needs a new letter_id, or a correction (status "
                "rettetbrev).",
                warnings=letter_input.warnings,
            )
        receiver = route_letter(session, field="receiver_gln", gln=letter.receiver_gln)
    envelope = Envelope(
        envelope_id=new_envelope_id(),
        sent_at=ctx.now,
        acknowledgement_code=letter_input.acknowledgement_code,
    )
    receiver_party = party_of(receiver)
    if letter_input.receiver_unit is not None:
        # The sender addressed a unit or a named doctor within the receiving organisation.
        receiver_party = replace(receiver_party, unit=letter_input.receiver_unit)
    sender_party = party_of(sender)
    xml = renderer.render_letter(
        letter,
        letter_id=letter_id,
        envelope=envelope,
        sender=sender_party,
        receiver=receiver_party,
        authorised_at=letter_input.authorised_at or ctx.now,
        sender_speciality=letter_input.sender_speciality,
        statistical_code=letter_input.statistical_code,
    )
    message.deliveries = [
        first_transmission(
            message_id=message.message_id,
            receiver_gln=receiver.gln,
            role=DeliveryRole.PRIMARY,
            format=MessageFormat.XDIS91,
            envelope_id=envelope.envelope_id,
            ack_requested=envelope.acknowledgement_code == "pluspositivkvitt",
            xml=xml,
            now=ctx.now,
        )
    ]
    repository.add_deliveries(message.deliveries)
    audit.record(session, ctx, "letter.submitted", messages=[message])
    replaced = [
        *_directory_warnings(letter_input.sender_details, sender_party),
        *_directory_warnings(letter_input.receiver_details, receiver_party),
    ]
    return Submission(message, created=True, warnings=[*letter_input.warnings, *replaced])


def _directory_warnings(written: Mapping[str, Written], party: Party) -> list[FieldError]:
    """A warning for each detail an XDIS91 letter gives its Sender or Receiver that the
    receiver's copy shows otherwise: the directory is the source of both, as for plans, so
    that a letter cannot pass itself off as another department."""
    shown = {
        "Identifier": party.identifier,
        "IdentifierCode": party.identifier_code,
        "OrganisationName": party.name,
        "DepartmentName": party.department,
        "UnitName": party.unit,
        "StreetName": party.street,
        "SuburbName": party.suburb,
        "DistrictName": party.district,
        "PostCodeIdentifier": party.postcode,
        "TelephoneSubscriberIdentifier": party.phone,
    }
    return [
        FieldError(
            value.path,
            "party_detail_from_directory",
            f"The receiver's copy shows this as Sektorbro's directory has it "
            f"({shown[name] or 'left out'}), not as written here.",
        )
        for name, value in written.items()
        if shown.get(name) != value.text
    ]


def get_letter(session: Session, ctx: RequestContext, *, message_id: str) -> orm.Message:
    """A letter the caller sent or received; reading it is audited."""
    message = MessageRepository(session).get(message_id)
    if (
        message is None
        or message.type != MessageType.LETTER
        or not is_party(message, ctx.caller.organisation_gln)
    ):
        raise NotFound("No letter with this message_id is visible to you.")
    audit.record(session, ctx, "letter.read", messages=[message])
    return message


def get_thread(session: Session, ctx: RequestContext, *, thread_id: str) -> list[TrackedMessage]:
    """The messages of a thread that the caller sent or received, oldest first; reading them
    is audited. Receipts are transport, not conversation, and are not part of a thread."""
    gln = ctx.caller.organisation_gln
    messages = [
        message
        for message in MessageRepository(session).in_thread(thread_id)
        if message.type != MessageType.RECEIPT and is_party(message, gln)
    ]
    if not messages:
        raise NotFound("No thread with this thread_id is visible to you.")
    audit.record(session, ctx, "thread.read", messages=messages)
    return [tracked(message, ctx) for message in messages]


def _sender(ctx: RequestContext, letter_input: LetterInput) -> DirectoryEntry:
    sender = ctx.caller.organisation
    if sender is None:
        raise Forbidden("Letters are sent with an organisation's key, not an admin key.")
    if letter_input.sender_gln is not None and letter_input.sender_gln != sender.gln:
        raise Forbidden(
            "A letter may only be sent in the caller's own name: its Sender must be the GLN "
            "of the key's organisation."
        )
    return sender


def _thread_of(session: Session, ctx: RequestContext, letter: Letter) -> str | None:
    """The thread the letter joins (None: it starts its own), or a 422 when it answers or
    corrects a message it may not."""
    repository = MessageRepository(session)
    gln = ctx.caller.organisation_gln
    if letter.reply_to is not None:
        answered = repository.get(letter.reply_to)
        if answered is None or not any(d.receiver_gln == gln for d in answered.deliveries):
            raise ValidationFailed(
                [
                    FieldError(
                        "reply_to",
                        "reply_to_not_received",
                        "A letter answers a message you received; no such message_id is in "
                        "your messages.",
                    )
                ]
            )
        return answered.thread_id
    if letter.status == LetterStatus.RETTETBREV and letter.corrects is not None:
        corrected = repository.get(letter.corrects)
        if corrected is None or corrected.type != MessageType.LETTER or corrected.sender_gln != gln:
            raise ValidationFailed(
                [
                    FieldError(
                        "corrects",
                        "corrects_not_own_letter",
                        "A correction (rettetbrev) replaces a letter you sent; no such letter "
                        "is among your messages.",
                    )
                ]
            )
        if corrected.deliveries[0].receiver_gln != letter.receiver_gln:
            raise ValidationFailed(
                [
                    FieldError(
                        "receiver_gln",
                        "correction_to_other_receiver",
                        "A correction goes to the receiver of the letter it corrects.",
                    )
                ]
            )
        return corrected.thread_id
    return None


def _message_row(
    ctx: RequestContext,
    letter: Letter,
    letter_id: str,
    body: dict[str, object],
    digest: str,
    thread_id: str | None,
) -> orm.Message:
    sender = ctx.caller.organisation
    assert sender is not None
    return new_message(
        type=MessageType.LETTER,
        sender_gln=sender.gln,
        letter_id=letter_id,
        body=body,
        digest=digest,
        patient_ref=patient_reference(
            ctx.patient_key, cpr=letter.patient.cpr, alternative_id=letter.patient.alternative_id
        ),
        now=ctx.now,
        thread_id=thread_id,
    )

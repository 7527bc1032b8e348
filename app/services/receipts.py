"""Receipts (kvitteringer, MedCom XCTL01/02/03; formats.md §6): a receiver's acknowledgement
of a delivery, and receipts from other MedCom systems posted to us.

Either way a receipt is a message of type `receipt` from the original receiver to the
original sender, delivered to the sender's inbox. It settles the deliveries it names:
positive → `acknowledged`, negative → `rejected`. MedCom's rules kept here:
- a receipt is sent by the original receiver, and names the original envelope and letter;
- a negative receipt gives one of MedCom's five refuse codes;
- a letter is acknowledged once: the same acknowledgement again gets the same receipt, a
  contradicting one is refused (duplicates are acknowledged exactly like the first copy);
- receipts are never receipted (`minuspositivkvitt`).
"""

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from app import orm
from app.domain.messages import (
    UNACKNOWLEDGED,
    DeliveryRole,
    DeliveryStatus,
    MessageType,
    content_hash,
    new_envelope_id,
    new_letter_id,
)
from app.domain.organisation import MessageFormat
from app.domain.receipts import Receipt, ReceiptKind, ReceiptLetter, RefuseCode
from app.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from app.repositories import AuditEventRow, DeliveryRepository, MessageRepository
from app.services import audit
from app.services.api_keys import Scope
from app.services.context import RequestContext
from app.services.deliveries import first_transmission, new_message
from app.xml import Envelope, XmlRenderer, XsdRegistry, envelope_id_of, in_latin1, parse_receipt

__all__ = ["ReceiptInput", "ReceiptOutcome", "accept_receipt", "acknowledge", "read_receipt_xml"]

# The letter's VersionCode as a receipt names it (OriginalVersionCode, formats.md §4.1, §5).
_VERSION_CODES = {MessageFormat.GGOP: "GGOP100", MessageFormat.XDIS91: "XD9134L"}


@dataclass(frozen=True, slots=True)
class ReceiptOutcome:
    """The delivery after the acknowledgement, the receipt that settled it (None for the
    acknowledgement of a receipt, which sends nothing), and whether this call created it."""

    delivery: orm.Delivery
    receipt: orm.Message | None
    created: bool


def acknowledge(
    session: Session,
    ctx: RequestContext,
    renderer: XmlRenderer,
    *,
    delivery_id: str,
    kind: ReceiptKind,
    refuse_code: RefuseCode | None,
    refuse_text: str | None,
) -> ReceiptOutcome:
    """The caller, the delivery's receiver, acknowledges it: an XCTL03 (positive) or XCTL02
    (negative) receipt goes to the sender's inbox."""
    delivery = DeliveryRepository(session).get_for_update(delivery_id)
    if delivery is None or delivery.receiver_gln != ctx.caller.organisation_gln:
        raise NotFound("No delivery with this delivery_id is in your inbox.")
    if kind == ReceiptKind.NEGATIVE and refuse_code is None:
        raise ValidationFailed(
            [
                FieldError(
                    "refuse_code",
                    "refuse_code_required",
                    "A negative receipt names one of MedCom's refuse codes.",
                )
            ]
        )
    if kind == ReceiptKind.POSITIVE:
        # MedCom PositiveReceipt.xsd has no RefuseCode or RefuseText: nothing was refused.
        refusals = {"refuse_code": refuse_code, "refuse_text": refuse_text}
        if given := [field for field, value in refusals.items() if value is not None]:
            raise ValidationFailed(
                [
                    FieldError(
                        field,
                        "refusal_in_positive_receipt",
                        "A positive receipt (XCTL03) refuses nothing: leave this out, or "
                        "answer negative.",
                    )
                    for field in given
                ]
            )
    if delivery.message.type == MessageType.RECEIPT:
        return _settle_received_receipt(ctx, delivery, kind)
    if delivery.receipt is not None:
        return ReceiptOutcome(delivery, _same_answer(delivery, kind, refuse_code), created=False)
    _check_open(delivery)

    message = delivery.message
    receipt = Receipt(
        kind=kind,
        letter_id=new_letter_id(),
        sender=delivery.receiver_gln,
        receiver=message.sender_gln,
        original_envelope_id=delivery.envelope_id,
        original_sender=message.sender_gln,
        original_receiver=delivery.receiver_gln,
        original_letters=(
            ReceiptLetter(
                letter_id=message.letter_id,
                version_code=_VERSION_CODES[MessageFormat(delivery.format)],
                refuse_code=refuse_code,
                refuse_text=refuse_text,
            ),
        ),
    )
    envelope = Envelope(
        envelope_id=new_envelope_id(), sent_at=ctx.now, acknowledgement_code="minuspositivkvitt"
    )
    xml = renderer.render_receipt(receipt, envelope=envelope)
    events = audit.events(ctx, "delivery.acknowledged", deliveries=[(message, delivery)])
    stored = _store(
        session, ctx, receipt, xml, envelope.envelope_id, about=[delivery], audit_events=events
    )
    return ReceiptOutcome(delivery, stored, created=True)


@dataclass(frozen=True, slots=True)
class ReceiptInput:
    """A receipt read from a posted document, the document's envelope id, and the document in
    ISO-8859-1 as the original sender's inbox keeps it."""

    receipt: Receipt
    envelope_id: str
    xml: bytes


def read_receipt_xml(body: bytes, *, schemas: XsdRegistry) -> ReceiptInput:
    """Reads a posted MedCom receipt, valid against MedCom's receipt XSD in `schemas` (the
    application's registry); a 422 names the element and the rule."""
    receipt = parse_receipt(body, schemas=schemas)
    return ReceiptInput(receipt, envelope_id_of(body), in_latin1(body))


def accept_receipt(
    session: Session, ctx: RequestContext, *, receipt: Receipt, envelope_id: str, xml: bytes
) -> ReceiptOutcome:
    """A receipt from another MedCom system or the VANS network, applied to the deliveries it
    names by (original envelope id, original letter id, EANs) and passed on, as posted, to the
    original sender's inbox."""
    _check_poster(ctx, receipt)
    errors = _business_rule_errors(receipt)
    if errors:
        raise ValidationFailed(errors)
    deliveries = _named_deliveries(session, receipt)
    received_receipts = [d for d in deliveries if d.message.type == MessageType.RECEIPT]
    if received_receipts:
        _settle_named_receipts(ctx, receipt, received_receipts)
        deliveries = [d for d in deliveries if d.message.type != MessageType.RECEIPT]
        if not deliveries:
            # Only receipts named: they are settled, and nothing is stored or passed on.
            return ReceiptOutcome(received_receipts[0], None, created=False)

    existing = MessageRepository(session).get_by_letter(
        sender_gln=receipt.original_receiver, letter_id=receipt.letter_id
    )
    if existing is not None:
        # The same receipt posted again (MedCom: a duplicate is answered like the first).
        if existing.content_hash != content_hash(receipt.as_body()):
            raise Conflict(
                "A different receipt with this letter id from this sender was already "
                "received. A new receipt needs a new letter id."
            )
        return ReceiptOutcome(deliveries[0], existing, created=False)
    for delivery in deliveries:
        if delivery.receipt is not None:
            _same_answer(delivery, receipt.kind, receipt.refusal_of(delivery.message.letter_id)[0])
        else:
            _check_open(delivery)
    open_deliveries = [d for d in deliveries if d.receipt is None]
    if not open_deliveries:
        # Every delivery it names was already answered the same way: nothing new to pass on.
        return ReceiptOutcome(deliveries[0], deliveries[0].receipt, created=False)
    events = audit.events(ctx, "receipt.received", deliveries=[(d.message, d) for d in deliveries])
    stored = _store(
        session, ctx, receipt, xml, envelope_id, about=open_deliveries, audit_events=events
    )
    return ReceiptOutcome(deliveries[0], stored, created=True)


def _check_poster(ctx: RequestContext, receipt: Receipt) -> None:
    caller = ctx.caller
    if caller.has(Scope.GATEWAY):
        # The network gateway posts receipts on the receivers' behalf; the audit events of
        # the request name the gateway's key as the actor.
        return
    if receipt.kind == ReceiptKind.VANS_NEGATIVE:
        raise Forbidden(
            "XCTL01 receipts come from the VANS network; post them with a key with the scope "
            "'gateway'."
        )
    if receipt.sender != caller.organisation_gln:
        raise Forbidden(
            "A receipt may only be sent in the caller's own name: its Sender must be the GLN "
            "of the key's organisation."
        )


def _business_rule_errors(receipt: Receipt) -> list[FieldError]:
    root = f"/Emessage/{receipt.kind.element}"
    errors = []
    if receipt.kind != ReceiptKind.VANS_NEGATIVE and receipt.sender != receipt.original_receiver:
        errors.append(
            FieldError(
                f"{root}/Sender/EANIdentifier",
                "receipt_sender_not_original_receiver",
                "Only the receiver of the original letter may send a receipt for it.",
            )
        )
    if receipt.receiver != receipt.original_sender:
        errors.append(
            FieldError(
                f"{root}/Receiver/EANIdentifier",
                "receipt_receiver_not_original_sender",
                "A receipt goes to the sender of the original letter.",
            )
        )
    refuse_codes = [receipt.refuse_code] + [
        letter.refuse_code for letter in receipt.original_letters
    ]
    if receipt.kind != ReceiptKind.POSITIVE and not any(refuse_codes):
        errors.append(
            FieldError(
                f"{root}/OriginalEmessage/RefuseCode",
                "refuse_code_required",
                "A negative receipt names one of MedCom's refuse codes, for the envelope or "
                "for each letter.",
            )
        )
    return errors


def _named_deliveries(session: Session, receipt: Receipt) -> list[orm.Delivery]:
    """The deliveries the receipt names, or a 422 naming each reference that is unknown."""
    repository = DeliveryRepository(session)
    original = f"/Emessage/{receipt.kind.element}/OriginalEmessage"

    def transmitted(letter_id: str | None) -> list[orm.Delivery]:
        return repository.transmitted(
            envelope_id=receipt.original_envelope_id,
            sender_gln=receipt.original_sender,
            receiver_gln=receipt.original_receiver,
            letter_id=letter_id,
        )

    if not receipt.original_letters:
        # No letters listed: the receipt is for the whole envelope.
        found = transmitted(None)
        if found:
            return found
        raise ValidationFailed(
            [
                FieldError(
                    f"{original}/OriginalEnvelopeIdentifier",
                    "receipt_reference_unknown",
                    "No delivery from OriginalSender to OriginalReceiver was sent in this "
                    "envelope.",
                )
            ]
        )
    deliveries, errors = [], []
    for number, letter in enumerate(receipt.original_letters, start=1):
        found = transmitted(letter.letter_id)
        if found:
            deliveries.extend(found)
        else:
            errors.append(
                FieldError(
                    f"{original}/OriginalLetter[{number}]/OriginalLetterIdentifier",
                    "receipt_reference_unknown",
                    "No letter with this id was sent from OriginalSender to OriginalReceiver "
                    "in the envelope OriginalEnvelopeIdentifier.",
                )
            )
    if errors:
        raise ValidationFailed(errors)
    return deliveries


def _settle_named_receipts(
    ctx: RequestContext, receipt: Receipt, received_receipts: list[orm.Delivery]
) -> None:
    """Receipts are never receipted (formats.md §6): a posted receipt that names receipts
    only takes them out of the inbox, like acknowledging them there; it cannot refuse them."""
    if receipt.kind == ReceiptKind.NEGATIVE:
        raise ValidationFailed(_not_refusable_errors(receipt, received_receipts))
    for delivery in received_receipts:
        # An XCTL01 too: the VANS network's report on a receipt is not answered either, and
        # the receipt is settled as acknowledged, as a positive receipt settles it.
        _settle_received_receipt(ctx, delivery, ReceiptKind.POSITIVE)


def _not_refusable_errors(
    receipt: Receipt, received_receipts: list[orm.Delivery]
) -> list[FieldError]:
    """A FieldError for each reference of the posted receipt that names a receipt."""
    original = f"/Emessage/{receipt.kind.element}/OriginalEmessage"
    message = (
        "This original letter is a receipt, and a receipt is never answered with a receipt "
        "(MedCom, formats.md §6): it cannot be refused. Send no receipt for it, or a positive "
        "one to take it out of the receiver's inbox."
    )
    if not receipt.original_letters:
        return [
            FieldError(f"{original}/OriginalEnvelopeIdentifier", "receipt_not_refusable", message)
        ]
    receipt_letter_ids = {d.message.letter_id for d in received_receipts}
    return [
        FieldError(
            f"{original}/OriginalLetter[{number}]/OriginalLetterIdentifier",
            "receipt_not_refusable",
            message,
        )
        for number, letter in enumerate(receipt.original_letters, start=1)
        if letter.letter_id in receipt_letter_ids
    ]


def _check_open(delivery: orm.Delivery) -> None:
    if delivery.status not in UNACKNOWLEDGED:
        raise Conflict(
            f"The delivery is {delivery.status}; only a delivery that is available or "
            "fetched can be acknowledged."
        )


def _same_answer(
    delivery: orm.Delivery, kind: ReceiptKind, refuse_code: RefuseCode | None
) -> orm.Message:
    """The delivery's receipt, if it answers the same way; a 409 if it contradicts."""
    receipt = delivery.receipt
    assert receipt is not None
    earlier = Receipt.from_body(receipt.body)
    earlier_kind = earlier.kind
    earlier_code, _ = earlier.refusal_of(delivery.message.letter_id)
    same = (earlier_kind == ReceiptKind.POSITIVE) == (kind == ReceiptKind.POSITIVE)
    if not same or (kind != ReceiptKind.POSITIVE and refuse_code != earlier_code):
        raise Conflict(
            f"This delivery was already answered with a {earlier_kind.value} receipt"
            + (f" ({earlier_code})" if earlier_code else "")
            + ". MedCom: a letter is acknowledged once, and every copy exactly like the first."
        )
    return receipt


def _settle_received_receipt(
    ctx: RequestContext, delivery: orm.Delivery, kind: ReceiptKind
) -> ReceiptOutcome:
    # Receipts are never receipted (formats.md §6): acknowledging one only takes it out of
    # the inbox, and it cannot be refused.
    if kind != ReceiptKind.POSITIVE:
        raise ValidationFailed(
            [
                FieldError(
                    "result",
                    "receipt_not_refusable",
                    "A receipt is never answered with a receipt; acknowledge it as positive "
                    "to take it out of your inbox.",
                )
            ]
        )
    if delivery.status != DeliveryStatus.ACKNOWLEDGED:
        _set_status(ctx, delivery, DeliveryStatus.ACKNOWLEDGED)
    return ReceiptOutcome(delivery, None, created=False)


def _store(
    session: Session,
    ctx: RequestContext,
    receipt: Receipt,
    xml: bytes,
    envelope_id: str,
    *,
    about: list[orm.Delivery],
    audit_events: Sequence[AuditEventRow],
) -> orm.Message:
    """Stores the receipt as a message to the original sender's inbox, with the request's
    audit events, and settles `about`."""
    body = receipt.as_body()
    message = new_message(
        type=MessageType.RECEIPT,
        # For XCTL01 the Sender is a VANS operator, not an organisation of the directory; the
        # receipt is filed under the receiver it speaks for, and `body` keeps who issued it.
        sender_gln=receipt.original_receiver,
        letter_id=receipt.letter_id,
        body=body,
        # Filed with the patient's messages, so a CPR search finds the receipts too.
        patient_ref=about[0].message.patient_ref,
        now=ctx.now,
    )
    # Receipts are never receipted (minuspositivkvitt).
    delivery = first_transmission(
        message_id=message.message_id,
        receiver_gln=receipt.original_sender,
        role=DeliveryRole.PRIMARY,
        format=receipt.kind.statistical_code,
        envelope_id=envelope_id,
        ack_requested=False,
        xml=xml,
        now=ctx.now,
    )
    message.deliveries = [delivery]
    if not MessageRepository(session).add_delivered(message, message.deliveries, audit_events):
        raise Conflict(
            "A receipt with this letter id from this sender was received at the same time."
        )
    settled = (
        DeliveryStatus.ACKNOWLEDGED
        if receipt.kind == ReceiptKind.POSITIVE
        else DeliveryStatus.REJECTED
    )
    for original_delivery in about:
        original_delivery.receipt_message_id = message.message_id
        original_delivery.receipt = message
        original_delivery.ack_overdue = False
        _set_status(ctx, original_delivery, settled)
    return message


def _set_status(ctx: RequestContext, delivery: orm.Delivery, status: DeliveryStatus) -> None:
    delivery.status = status
    delivery.updated_at = ctx.now
    delivery.events.append(orm.DeliveryEvent(status=status, at=ctx.now))

"""New rows: a message as Sektorbro takes it in, and a delivery of it to one receiver in its
first transmission; and the answer to a submission, new or a duplicate."""

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from app import orm
from app.domain.messages import DeliveryStatus, MessageType, content_hash
from app.errors import Conflict, FieldError

__all__ = ["Submission", "first_copy", "first_transmission", "new_message"]

logger = logging.getLogger("sektorbro.submissions")


@dataclass(frozen=True, slots=True)
class Submission:
    """A submitted plan, letter or notice: stored now (`created`), or the first copy of it."""

    message: orm.Message
    created: bool
    warnings: list[FieldError]


def first_copy(
    existing: orm.Message,
    *,
    type: MessageType,
    digest: str,
    resubmit: str,
    warnings: list[FieldError],
) -> Submission:
    """The answer to a message whose sender already used its letter id (MedCom's duplicate
    rule): the first copy if the content is the same, else a 409 that says what to do instead
    (`resubmit`)."""
    if existing.type != type or existing.content_hash != digest:
        raise Conflict(
            f"This sender already sent a different message with this letter_id. {resubmit}"
        )
    logger.info("duplicate %s %s answered with the first copy", type, existing.message_id)
    return Submission(existing, created=False, warnings=warnings)


def new_message(
    *,
    type: MessageType,
    sender_gln: str,
    letter_id: str,
    body: dict[str, Any],
    patient_ref: str,
    now: datetime,
    thread_id: str | None = None,
    plan_message_id: str | None = None,
    digest: str | None = None,
) -> orm.Message:
    """A message row (not yet inserted) that starts its own thread unless given one; the plan
    columns are left empty (plans fill them in). `digest` defaults to the body's hash."""
    message_id = str(uuid.uuid4())
    return orm.Message(
        message_id=message_id,
        thread_id=thread_id or message_id,
        type=type,
        sender_gln=sender_gln,
        letter_id=letter_id,
        content_hash=digest or content_hash(body),
        patient_ref=patient_ref,
        body=body,
        created_at=now,
        plan_type=None,
        municipality_code=None,
        discharge_date=None,
        first_contact_deadline=None,
        deadline=None,
        started_on=None,
        closed_on=None,
        transferred_to=None,
        plan_message_id=plan_message_id,
    )


def first_transmission(
    *,
    message_id: str,
    receiver_gln: str,
    role: str,
    format: str,
    envelope_id: str,
    ack_requested: bool,
    xml: bytes,
    now: datetime,
) -> orm.Delivery:
    """A delivery in the receiver's inbox (there once the transaction commits), with the
    transmission as the first entry of its history."""
    delivery = orm.Delivery(
        delivery_id=str(uuid.uuid4()),
        message_id=message_id,
        receiver_gln=receiver_gln,
        role=role,
        format=format,
        envelope_id=envelope_id,
        status=DeliveryStatus.AVAILABLE,
        xml=xml,
        created_at=now,
        updated_at=now,
        ack_requested=ack_requested,
        sent_at=now,
        resends=0,
        ack_overdue=False,
        receipt_message_id=None,
    )
    delivery.events = [
        orm.DeliveryEvent(
            delivery_id=delivery.delivery_id,
            status=DeliveryStatus.AVAILABLE,
            at=now,
            envelope_id=envelope_id,
        )
    ]
    return delivery

"""A new delivery: one message to one receiver, in its first transmission."""

import uuid
from datetime import datetime

from app import orm
from app.domain.messages import DeliveryStatus

__all__ = ["first_transmission"]


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

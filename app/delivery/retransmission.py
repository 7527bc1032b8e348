"""Retransmitting a delivery whose receipt has not come: the same letter and letter id in a
new envelope (new envelope id and send time), back in the receiver's inbox.

MedCom (formats.md §6, domain.md): every transmission stays in the delivery's history, so a
late receipt for an earlier envelope still finds its delivery; the receiver sees the same
delivery again, never a second one. Used by the acknowledgement timers (ack_timers.py) and by
the sender's resend (app/services/transmissions.py). The caller's transaction holds the
delivery; nothing here commits.
"""

from datetime import datetime

from app import orm
from app.domain.messages import DeliveryStatus, new_envelope_id
from app.domain.organisation import MessageFormat
from app.xml import Envelope, SchemaName, XmlRenderer

__all__ = ["retransmit"]

_SCHEMAS: dict[MessageFormat, SchemaName] = {
    MessageFormat.GGOP: "ggop",
    MessageFormat.XDIS91: "xdis91",
}


def retransmit(renderer: XmlRenderer, delivery: orm.Delivery, *, now: datetime) -> None:
    """Puts `delivery` in a new envelope sent at `now`, counts the resend and makes it
    available to its receiver again."""
    # A resend asks for a receipt exactly when the first sending did (formats.md §3.2): a
    # letter its sender sent minuspositivkvitt stays so.
    envelope = Envelope(
        envelope_id=new_envelope_id(),
        sent_at=now,
        acknowledgement_code="pluspositivkvitt" if delivery.ack_requested else "minuspositivkvitt",
    )
    schema = _SCHEMAS[MessageFormat(delivery.format)]
    delivery.xml = renderer.reenvelope(delivery.xml, envelope=envelope, schema=schema)
    delivery.envelope_id = envelope.envelope_id
    delivery.sent_at = now
    delivery.resends += 1
    delivery.ack_overdue = False
    # Back in the receiver's inbox as it was first delivered, also if it had been fetched.
    delivery.status = DeliveryStatus.AVAILABLE
    delivery.updated_at = now
    delivery.events.append(
        orm.DeliveryEvent(status=DeliveryStatus.AVAILABLE, at=now, envelope_id=envelope.envelope_id)
    )

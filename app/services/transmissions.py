"""Transmissions: resending deliveries whose receipt has not come, by hand or by the
acknowledgement timer.

MedCom (formats.md §6, domain.md): with no receipt after 30 minutes (SEKTORBRO_ACK_TIMEOUT)
the sender may resend, at most twice (SEKTORBRO_MAX_RESENDS). A resend keeps the letter and its
letter id and gets a new envelope id and send time; every transmission stays in the
delivery's history, so a late receipt for an earlier envelope still finds its delivery. The
receiver sees the same delivery again in its inbox, never a second one.
"""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from app import orm
from app.domain.messages import ACK_OVERDUE, UNACKNOWLEDGED, DeliveryStatus, new_envelope_id
from app.domain.organisation import MessageFormat
from app.errors import Conflict, FieldError, Forbidden, NotFound
from app.repositories import DeliveryRepository, MessageRepository
from app.services import audit
from app.services.context import RequestContext
from app.services.messages import is_party
from app.xml import Envelope, SchemaName, XmlRenderer

__all__ = ["TimerRun", "evaluate_ack_timers", "resend_message"]

logger = logging.getLogger("sektorbro.transmissions")

_SCHEMAS: dict[MessageFormat, SchemaName] = {
    MessageFormat.GGOP: "ggop",
    MessageFormat.XDIS91: "xdis91",
}

# How many deliveries one timer transaction handles; the next run takes the rest.
TIMER_BATCH = 500


@dataclass(frozen=True, slots=True)
class TimerRun:
    flagged: int
    resent: int


def resend_message(
    session: Session,
    ctx: RequestContext,
    renderer: XmlRenderer,
    *,
    message_id: str,
    max_resends: int,
) -> orm.Message:
    """The sender resends every delivery of a message that still awaits its receipt."""
    message = MessageRepository(session).get(message_id)
    gln = ctx.caller.organisation_gln
    if message is None or not is_party(message, gln):
        raise NotFound("No message with this message_id is visible to you.")
    if message.sender_gln != gln:
        raise Forbidden("Only the sender of a message resends it.")
    waiting = [
        delivery
        for delivery in DeliveryRepository(session).of_message_for_update(message_id)
        if delivery.ack_requested and delivery.status in UNACKNOWLEDGED
    ]
    if not waiting:
        raise Conflict(
            "Nothing to resend: every delivery of this message has its receipt or asked for none.",
            errors=[
                FieldError(
                    "message_id", "nothing_to_resend", "No delivery is waiting for a receipt."
                )
            ],
        )
    spent = [d for d in waiting if d.resends >= max_resends]
    if spent:
        limit = f"MedCom allows at most {max_resends} resends of a letter"
        raise Conflict(
            f"{limit}; the delivery to {', '.join(d.receiver_gln for d in spent)} has had "
            "them all.",
            errors=[FieldError("message_id", "resend_limit", f"{limit}.")],
        )
    for delivery in waiting:
        _retransmit(renderer, delivery, now=ctx.now)
    audit.record(session, ctx, "message.resent", messages=[message])
    return message


def evaluate_ack_timers(
    session: Session,
    renderer: XmlRenderer,
    *,
    now: datetime,
    ack_timeout: timedelta,
    auto_resend: bool,
    max_resends: int,
) -> TimerRun:
    """Flags deliveries whose receipt is overdue, or resends them while resends are left and
    automatic resending is on. Handles at most TIMER_BATCH deliveries; call again while it
    returns a full batch."""
    due = DeliveryRepository(session).awaiting_receipt(
        sent_before=now - ack_timeout, limit=TIMER_BATCH
    )
    flagged = resent = 0
    for delivery in due:
        delivery.events.append(orm.DeliveryEvent(status=ACK_OVERDUE, at=now))
        if auto_resend and delivery.resends < max_resends:
            _retransmit(renderer, delivery, now=now)
            resent += 1
        else:
            delivery.ack_overdue = True
            delivery.updated_at = now
            flagged += 1
    if due:
        logger.info("ack timers: %d flagged overdue, %d resent", flagged, resent)
    return TimerRun(flagged=flagged, resent=resent)


def _retransmit(renderer: XmlRenderer, delivery: orm.Delivery, *, now: datetime) -> None:
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

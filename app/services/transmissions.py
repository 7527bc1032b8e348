"""Transmissions: the sender resends the deliveries of a message whose receipt has not come
(POST /v1/messages/{message_id}/resend).

MedCom (formats.md §6, domain.md): with no receipt after 30 minutes (SEKTORBRO_ACK_TIMEOUT)
the sender may resend, at most twice (SEKTORBRO_MAX_RESENDS). A resend keeps the letter and its
letter id and gets a new envelope id and send time (app/delivery/retransmission.py). The
acknowledgement timers, which flag or resend overdue deliveries on their own, run outside the
request path in app/delivery/ack_timers.py.
"""

from sqlalchemy.orm import Session

from app import orm
from app.delivery.retransmission import retransmit
from app.domain.messages import UNACKNOWLEDGED
from app.errors import Conflict, FieldError, Forbidden, NotFound
from app.repositories import DeliveryRepository, MessageRepository
from app.services import audit
from app.services.context import RequestContext
from app.services.messages import is_party
from app.xml import XmlRenderer

__all__ = ["resend_message"]


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
        retransmit(renderer, delivery, now=ctx.now)
    audit.record(session, ctx, "message.resent", messages=[message])
    return message

"""Tracking: a message and its deliveries as the caller may see them, and the caller's list.

Only the parties see a message: its sender sees every delivery, a receiver only its own.
Anyone else gets the same 404 as for a message that does not exist (api.md).
"""

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import cache

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from app import orm
from app.domain.identifiers import Cpr
from app.domain.messages import MessageType, patient_reference
from app.errors import NotFound, ValidationFailed, field_errors
from app.repositories import MessageRepository
from app.services import audit
from app.services.context import RequestContext
from app.services.courses import PlanStatus, plan_status
from app.services.cursors import decode_keyset, encode_keyset

__all__ = [
    "Direction",
    "TrackedMessage",
    "checked_cpr",
    "get_message",
    "is_party",
    "list_messages",
    "tracked",
]


class Direction(StrEnum):
    SENT = "sent"
    RECEIVED = "received"


@dataclass(frozen=True, slots=True)
class TrackedMessage:
    message: orm.Message
    deliveries: list[orm.Delivery]
    # Plans read one at a time: their course, from the kommune's notices.
    course: PlanStatus | None = None


def is_party(message: orm.Message, gln: str | None) -> bool:
    """True if `gln` sent the message or receives one of its deliveries."""
    return gln is not None and (
        message.sender_gln == gln or any(d.receiver_gln == gln for d in message.deliveries)
    )


def get_message(session: Session, ctx: RequestContext, *, message_id: str) -> TrackedMessage:
    """One message with the deliveries the caller may see; reading it is audited."""
    message = MessageRepository(session).get(message_id)
    if message is None or not is_party(message, ctx.caller.organisation_gln):
        raise NotFound("No message with this message_id is visible to you.")
    audit.record(session, ctx, "message.read", messages=[message])
    if message.type == MessageType.PLAN:
        seen = tracked(message, ctx)
        return TrackedMessage(seen.message, seen.deliveries, plan_status(session, ctx, message))
    return tracked(message, ctx)


def list_messages(
    session: Session,
    ctx: RequestContext,
    *,
    direction: Direction | None,
    type: MessageType | None,
    status: str | None,
    patient_cpr: str | None,
    since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[TrackedMessage], str | None]:
    """The caller's messages, newest first, and the cursor of the next page (or None)."""
    gln = ctx.caller.organisation_gln
    if gln is None:
        return [], None
    patient_ref = None
    if patient_cpr is not None:
        cpr = checked_cpr(patient_cpr, ctx)
        patient_ref = patient_reference(ctx.patient_key, cpr=cpr, alternative_id=None)
        # A search by CPR number reads who exchanged messages about the patient.
        audit.record(session, ctx, "messages.searched", patient_ref=patient_ref)
    rows = MessageRepository(session).list_for(
        gln,
        sent=direction in (None, Direction.SENT),
        received=direction in (None, Direction.RECEIVED),
        type=type,
        delivery_status=status,
        patient_ref=patient_ref,
        since=since,
        before=decode_keyset(cursor) if cursor else None,
        limit=limit + 1,
    )
    page = [tracked(message, ctx) for message in rows[:limit]]
    if len(rows) <= limit:
        return page, None
    last = rows[limit - 1]
    return page, encode_keyset(last.created_at, last.message_id)


def tracked(message: orm.Message, ctx: RequestContext) -> TrackedMessage:
    """The message with the deliveries the caller may see: all for its sender, else its own."""
    gln = ctx.caller.organisation_gln
    if message.sender_gln == gln:
        return TrackedMessage(message, list(message.deliveries))
    return TrackedMessage(message, [d for d in message.deliveries if d.receiver_gln == gln])


@cache
def _cpr_adapter() -> TypeAdapter[str]:
    return TypeAdapter(Cpr)


def checked_cpr(value: str, ctx: RequestContext) -> str:
    """A searched-for CPR number, checked as a plan's is; a 422 names `patient_cpr`."""
    try:
        return _cpr_adapter().validate_python(value, context={"today": ctx.today})
    except ValidationError as exc:
        raise ValidationFailed(
            field_errors(exc.errors(include_url=False), lambda _loc: "patient_cpr")
        ) from None

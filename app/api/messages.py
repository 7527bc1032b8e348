"""Routes for tracking: one message and its deliveries, and the caller's messages."""

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from app.api.payloads import MessageOut, MessagePage, problem_responses
from app.deps import ContextDep, DatabaseDep, SettingsDep, XmlDep, in_thread
from app.domain.messages import DeliveryStatus, MessageType
from app.services import messages, transmissions
from app.services.messages import Direction

__all__ = ["router"]

router = APIRouter(prefix="/v1/messages", tags=["messages"])


@router.get(
    "",
    response_model=MessagePage,
    summary="List your messages",
    responses=problem_responses(401, 422),
)
@in_thread
def list_messages(
    ctx: ContextDep,
    db: DatabaseDep,
    direction: Annotated[Direction | None, Query(description="Sent or received only.")] = None,
    type: Annotated[MessageType | None, Query(description="Only this message type.")] = None,
    status: Annotated[
        DeliveryStatus | Literal["ack_overdue"] | None,
        Query(
            description="Only messages with a delivery (of yours, if received) in this status, "
            "or flagged `ack_overdue`: a receipt was asked for and has not come in time."
        ),
    ] = None,
    patient_cpr: Annotated[
        str | None,
        Query(
            description="Only this patient's messages. The search is audited; the number is "
            "never logged."
        ),
    ] = None,
    since: Annotated[datetime | None, Query(description="Created at or after.")] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    """Messages the caller sent or received, newest first."""
    with db.transaction() as session:
        page, next_cursor = messages.list_messages(
            session,
            ctx,
            direction=direction,
            type=type,
            status=status,
            patient_cpr=patient_cpr,
            since=since,
            cursor=cursor,
            limit=limit,
        )
    return MessagePage(
        items=[MessageOut.of(t.message, t.deliveries) for t in page], next_cursor=next_cursor
    )


@router.get(
    "/{message_id}",
    response_model=MessageOut,
    summary="Track a message",
    responses=problem_responses(401, 404),
)
@in_thread
def get_message(message_id: str, ctx: ContextDep, db: DatabaseDep) -> MessageOut:
    """The message and its deliveries with their status history; for a plan also its
    business status, start deadline and the timeline of the kommune's notices."""
    with db.transaction() as session:
        tracked = messages.get_message(session, ctx, message_id=message_id)
    return MessageOut.of(tracked.message, tracked.deliveries).with_course(tracked.course)


@router.post(
    "/{message_id}/resend",
    response_model=MessageOut,
    summary="Resend what has no receipt yet",
    responses=problem_responses(401, 403, 404, 409),
)
@in_thread
def resend_message(
    message_id: str, ctx: ContextDep, db: DatabaseDep, renderer: XmlDep, settings: SettingsDep
) -> MessageOut:
    """Resends every delivery still waiting for its receipt, with a new envelope id and send
    time and the same letter id (MedCom). Each transmission stays in the delivery's
    `status_history`. More than SEKTORBRO_MAX_RESENDS resends of a delivery: 409
    (`resend_limit`)."""
    with db.transaction() as session:
        message = transmissions.resend_message(
            session, ctx, renderer, message_id=message_id, max_resends=settings.max_resends
        )
    return MessageOut.of(message, list(message.deliveries))

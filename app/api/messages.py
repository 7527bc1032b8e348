"""Routes for tracking: one message and its deliveries, and the caller's messages."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response

from app.api.payloads import MessageOut, MessagePage, MessageSearch, problem_responses
from app.db import Database
from app.deps import DatabaseDep, JsonBody, OrganisationContextDep, SettingsDep, XmlDep, in_thread
from app.domain.iso import IsoDateTime
from app.domain.messages import DeliveryStatus, MessageType
from app.services import messages, transmissions
from app.services.context import RequestContext
from app.services.messages import Direction

__all__ = ["router"]

router = APIRouter(prefix="/v1/messages", tags=["messages"])

SEARCH_PATH = "/v1/messages/search"


@router.get(
    "",
    response_model=MessagePage,
    summary="List your messages",
    responses=problem_responses(401, 403, 422),
)
@in_thread
def list_messages(
    ctx: OrganisationContextDep,
    db: DatabaseDep,
    response: Response,
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
            deprecated=True,
            description="Deprecated: use `POST /v1/messages/search` with `patient_cpr` in the "
            "body; a URL is logged by every proxy on the way. Only this patient's messages. "
            "The search is audited; the number is never logged by Sektorbro.",
        ),
    ] = None,
    since: Annotated[IsoDateTime | None, Query(description="Created at or after.")] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> MessagePage:
    """Messages the caller sent or received, newest first. To search by CPR number, use
    `POST /v1/messages/search`: `patient_cpr` here is deprecated, and a request using it is
    answered with `Deprecation: true` and a `Link` to its successor."""
    if patient_cpr is not None:
        response.headers["Deprecation"] = "true"
        response.headers["Link"] = f'<{SEARCH_PATH}>; rel="successor-version"'
    return _page(
        db,
        ctx,
        MessageSearch.model_construct(
            direction=direction,
            type=type,
            status=status,
            patient_cpr=patient_cpr,
            since=since,
            cursor=cursor,
            limit=limit,
        ),
    )


@router.post(
    "/search",
    response_model=MessagePage,
    summary="Search your messages",
    responses=problem_responses(401, 403, 413, 415, 422),
)
@in_thread
def search_messages(
    ctx: OrganisationContextDep, _json: JsonBody, search: MessageSearch, db: DatabaseDep
) -> MessagePage:
    """The filters of `GET /v1/messages` in a JSON body, so that a CPR number stays out of
    URLs: messages the caller sent or received, newest first. A search by `patient_cpr` is
    audited; pass `next_cursor` as `cursor` (with the same filters) for the next page."""
    return _page(db, ctx, search)


def _page(db: Database, ctx: RequestContext, search: MessageSearch) -> MessagePage:
    with db.transaction() as session:
        page, next_cursor = messages.list_messages(
            session,
            ctx,
            direction=search.direction,
            type=search.type,
            status=search.status,
            patient_cpr=search.patient_cpr,
            since=search.since,
            cursor=search.cursor,
            limit=search.limit,
        )
    return MessagePage(
        items=[MessageOut.of(t.message, t.deliveries) for t in page], next_cursor=next_cursor
    )


@router.get(
    "/{message_id}",
    response_model=MessageOut,
    summary="Track a message",
    responses=problem_responses(401, 403, 404),
)
@in_thread
def get_message(message_id: str, ctx: OrganisationContextDep, db: DatabaseDep) -> MessageOut:
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
    message_id: str,
    ctx: OrganisationContextDep,
    db: DatabaseDep,
    renderer: XmlDep,
    settings: SettingsDep,
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

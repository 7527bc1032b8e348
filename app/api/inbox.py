"""Routes of the receiver's inbox: poll, fetch one delivery, acknowledge it."""

import asyncio
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response, status
from fastapi.concurrency import run_in_threadpool

from app.api.payloads import (
    AckIn,
    AckOut,
    DeliveryOut,
    InboxItem,
    InboxPage,
    ReceiptOut,
    problem_responses,
)
from app.db import Database
from app.deps import (
    DatabaseDep,
    JsonBody,
    OrganisationContextDep,
    WakeupsDep,
    XmlDep,
    in_thread,
    wants_xml,
)
from app.repositories import InboxEntry
from app.services import inbox, receipts
from app.services.context import RequestContext

__all__ = ["router"]

router = APIRouter(prefix="/v1/inbox", tags=["inbox"])


@router.get(
    "",
    response_model=InboxPage,
    summary="Poll your inbox",
    responses=problem_responses(401, 403, 422),
)
async def list_inbox(
    ctx: OrganisationContextDep,
    db: DatabaseDep,
    wakeups: WakeupsDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    wait: Annotated[
        float,
        Query(ge=0, le=30, description="Seconds to wait for a delivery when there is none."),
    ] = 0,
) -> InboxPage:
    """Deliveries not yet acknowledged, oldest first, with the XML inline. Polling again
    returns the same deliveries until they are acknowledged (at-least-once).

    With `wait`, an empty inbox answers as soon as a delivery arrives, or empty after `wait`
    seconds. A waiting poll holds no thread and no database connection."""
    gln = ctx.caller.organisation_gln
    if gln is None:
        return InboxPage(items=[], next_cursor=None)  # an admin key has no inbox
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait
    # Subscribed before the first look, so that a delivery committed in between wakes it.
    with wakeups.subscription(gln) as doorbell:
        page, next_cursor = await run_in_threadpool(_page, db, ctx, cursor, limit)
        while not page and (remaining := deadline - loop.time()) > 0:
            woken = await doorbell.wait(wakeups.recheck_after(remaining))
            if woken or await run_in_threadpool(_has_entries, db, ctx, cursor):
                page, next_cursor = await run_in_threadpool(_page, db, ctx, cursor, limit)
    return InboxPage(items=[InboxItem.of(d) for d in page], next_cursor=next_cursor)


def _page(
    db: Database, ctx: RequestContext, cursor: str | None, limit: int
) -> tuple[list[InboxEntry], str | None]:
    with db.transaction() as session:
        return inbox.list_inbox(session, ctx, cursor=cursor, limit=limit)


def _has_entries(db: Database, ctx: RequestContext, cursor: str | None) -> bool:
    # Read-only: on SQLite, the re-checks of many waiting polls take no write lock.
    with db.transaction(read_only=True) as session:
        return inbox.has_entries(session, ctx, cursor=cursor)


@router.get(
    "/{delivery_id}",
    response_model=InboxItem,
    summary="Fetch one delivery",
    responses={
        200: {
            "content": {"application/xml": {"schema": {"type": "string"}}},
            "description": "The delivery; with `Accept: application/xml` the MedCom document "
            "byte for byte (ISO-8859-1).",
        },
        **problem_responses(401, 403, 404),
    },
)
@in_thread
def fetch_delivery(
    delivery_id: str, request: Request, ctx: OrganisationContextDep, db: DatabaseDep
) -> InboxItem | Response:
    """One delivery of the caller's; marks it `fetched`."""
    with db.transaction() as session:
        delivery = inbox.fetch_delivery(session, ctx, delivery_id=delivery_id)
    if wants_xml(request):
        return Response(delivery.xml, media_type="application/xml; charset=ISO-8859-1")
    return InboxItem.of(delivery)


@router.post(
    "/{delivery_id}/ack",
    response_model=AckOut,
    status_code=status.HTTP_201_CREATED,
    summary="Acknowledge a delivery",
    responses={
        200: {"model": AckOut, "description": "Acknowledged before in the same way."},
        **problem_responses(401, 403, 404, 409, 413, 415, 422),
    },
)
@in_thread
def acknowledge(
    delivery_id: str,
    ctx: OrganisationContextDep,
    _json: JsonBody,
    ack: AckIn,
    response: Response,
    db: DatabaseDep,
    renderer: XmlDep,
) -> AckOut:
    """Answers a delivery with a MedCom receipt to its sender's inbox: `positive` an XCTL03,
    `negative` an XCTL02 with one of MedCom's refuse codes. The delivery becomes `acknowledged`
    or `rejected` and leaves your inbox. The same answer again returns the same receipt (200);
    a contradicting one is a 409. A receipt in your inbox is acknowledged `positive` to take it
    out; it is never answered with a receipt of its own."""
    with db.transaction() as session:
        outcome = receipts.acknowledge(
            session,
            ctx,
            renderer,
            delivery_id=delivery_id,
            kind=ack.kind,
            refuse_code=ack.refuse_code,
            refuse_text=ack.refuse_text,
        )
    if not outcome.created:
        response.status_code = status.HTTP_200_OK
    delivery = outcome.delivery
    return AckOut(
        delivery=DeliveryOut.of(delivery, delivery.message.letter_id),
        receipt=ReceiptOut.of_receipt(outcome.receipt) if outcome.receipt else None,
    )

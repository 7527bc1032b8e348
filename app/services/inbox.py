"""The receiver's inbox: deliveries not yet acknowledged, oldest first (at-least-once).

Polling returns the same deliveries until they are acknowledged; fetching one marks it
`fetched`. Every delivery handed out is audited, since it carries the patient's data. Waiting
for a delivery (long polling) is the route's business: it holds no transaction while it waits
(app/api/inbox.py).
"""

from sqlalchemy.orm import Session

from app import orm
from app.domain.messages import DeliveryStatus
from app.errors import NotFound
from app.repositories import DeliveryRepository, InboxEntry
from app.services import audit
from app.services.context import RequestContext
from app.services.cursors import decode_keyset, encode_keyset

__all__ = ["fetch_delivery", "has_entries", "list_inbox"]


def list_inbox(
    session: Session, ctx: RequestContext, *, cursor: str | None, limit: int
) -> tuple[list[InboxEntry], str | None]:
    """A page of the caller's unacknowledged deliveries and the next cursor (or None)."""
    gln = ctx.caller.organisation_gln
    if gln is None:
        return [], None
    after = decode_keyset(cursor) if cursor else None
    rows = DeliveryRepository(session).inbox(gln, after=after, limit=limit + 1)
    page = rows[:limit]
    if page:
        # An entry carries the ids of its message and of its delivery alike.
        audit.record(session, ctx, "inbox.listed", deliveries=[(entry, entry) for entry in page])
    if len(rows) <= limit:
        return page, None
    last = page[-1]
    return page, encode_keyset(last.created_at, last.delivery_id)


def has_entries(session: Session, ctx: RequestContext, *, cursor: str | None) -> bool:
    """True if a page after `cursor` would not be empty; reads no patient data (no audit)."""
    gln = ctx.caller.organisation_gln
    if gln is None:
        return False
    after = decode_keyset(cursor) if cursor else None
    return DeliveryRepository(session).has_inbox_entries(gln, after=after)


def fetch_delivery(session: Session, ctx: RequestContext, *, delivery_id: str) -> InboxEntry:
    """One of the caller's deliveries; an available one becomes `fetched`."""
    delivery = DeliveryRepository(session).get(delivery_id)
    if delivery is None or delivery.receiver_gln != ctx.caller.organisation_gln:
        raise NotFound("No delivery with this delivery_id is in your inbox.")
    if delivery.status == DeliveryStatus.AVAILABLE:
        delivery.status = DeliveryStatus.FETCHED
        delivery.updated_at = ctx.now
        delivery.events.append(orm.DeliveryEvent(status=DeliveryStatus.FETCHED, at=ctx.now))
    audit.record(session, ctx, "delivery.fetched", deliveries=[(delivery.message, delivery)])
    return InboxEntry.of(delivery)

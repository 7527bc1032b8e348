"""The legal start deadline of every plan a caller sent or received (sundhedsloven §140 stk. 4,
R19-R23): which are overdue, due soon or met, from the deadline in force that the kommune's
notices keep on the plan (app/services/notices.py)."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from app import orm
from app.domain.deadlines import DUE_SOON_DAYS, DeadlineState, deadline_state
from app.domain.messages import DeliveryRole
from app.errors import Forbidden
from app.repositories import MessageRepository
from app.services import audit
from app.services.api_keys import Scope
from app.services.context import RequestContext
from app.services.cursors import decode_date_keyset, encode_date_keyset

__all__ = ["DeadlineRow", "list_deadlines"]


@dataclass(frozen=True, slots=True)
class DeadlineRow:
    plan: orm.Message
    state: DeadlineState
    # The kommune whose deadline it is: the bopælskommune, or the one it was transferred to.
    kommune_gln: str


def list_deadlines(
    session: Session,
    ctx: RequestContext,
    *,
    state: DeadlineState | None,
    municipality_code: str | None,
    deadline_from: date | None,
    deadline_to: date | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[DeadlineRow], str | None]:
    """A page of plans by deadline in force (earliest first) and the next cursor (or None);
    an organisation sees the plans it sent or received, a key with the scope `audit` every
    organisation's. Each row names the patient, so the read is audited."""
    caller = ctx.caller
    if caller.organisation_gln is None and not caller.has(Scope.AUDIT):
        # Least privilege: only `audit` reads patient data across organisations.
        raise Forbidden(
            "Every organisation's deadlines name their patients: this needs an organisation's "
            "key (its own plans) or a key with the scope 'audit'."
        )
    plans = MessageRepository(session).deadlines(
        ctx.caller.organisation_gln,
        state=state,
        today=ctx.today,
        due_soon_days=DUE_SOON_DAYS,
        municipality_code=municipality_code,
        deadline_from=deadline_from,
        deadline_to=deadline_to,
        after=decode_date_keyset(cursor) if cursor else None,
        limit=limit + 1,
    )
    page = plans[:limit]
    if page:
        audit.record(session, ctx, "deadlines.listed", messages=page)
    rows = [_row(plan, ctx.today) for plan in page]
    if len(plans) <= limit:
        return rows, None
    last = page[-1]
    assert last.deadline is not None
    return rows, encode_date_keyset(last.deadline, last.message_id)


def _row(plan: orm.Message, today: date) -> DeadlineRow:
    assert plan.deadline is not None
    # Until a transfer the plan has one primary receiver, its bopælskommune.
    bopaelskommune = next(d.receiver_gln for d in plan.deliveries if d.role == DeliveryRole.PRIMARY)
    return DeadlineRow(
        plan=plan,
        state=deadline_state(plan.deadline, plan.started_on, plan.closed_on, today, DUE_SOON_DAYS),
        kommune_gln=plan.transferred_to or bopaelskommune,
    )

"""A plan's course as the kommune's notices tell it: its timeline, business status and start
deadline (app/domain/deadlines.py), for tracking (`GET /v1/plans/{id}`, `GET /v1/messages/{id}`)
and for checking the next notice."""

from dataclasses import dataclass
from functools import cache

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from app import orm
from app.domain.deadlines import BusinessStatus, DeadlineView, business_status, deadline
from app.domain.messages import DeliveryRole
from app.domain.notices import NoticeRecord, NoticeType, PlanFacts, PlanNotice
from app.domain.plan import PlanType
from app.repositories import MessageRepository
from app.services.context import RequestContext

__all__ = ["PlanCourse", "PlanStatus", "plan_course", "plan_status"]


@dataclass(frozen=True, slots=True)
class PlanCourse:
    """A plan's facts and its notices so far (oldest first), stored and as records."""

    facts: PlanFacts
    notices: list[orm.Message]
    records: list[NoticeRecord]


@dataclass(frozen=True, slots=True)
class PlanStatus:
    business_status: BusinessStatus
    deadline: DeadlineView
    timeline: list[orm.Message]  # the notices, oldest first


def plan_course(session: Session, plan: orm.Message) -> PlanCourse:
    """The plan's facts and its notices so far."""
    notices = MessageRepository(session).notices_of(plan.message_id)
    records = [
        NoticeRecord.from_notice(
            _plan_notice().validate_python(notice.body),
            sender_gln=notice.sender_gln,
            created_at=notice.created_at,
        )
        for notice in notices
    ]
    return PlanCourse(_facts(plan, records), notices, records)


def plan_status(session: Session, ctx: RequestContext, plan: orm.Message) -> PlanStatus:
    """Where the plan's course stands today."""
    course = plan_course(session, plan)
    return PlanStatus(
        business_status=business_status(course.facts, course.records),
        deadline=deadline(course.facts, course.records, today=ctx.today),
        timeline=course.notices,
    )


def _facts(plan: orm.Message, records: list[NoticeRecord]) -> PlanFacts:
    assert plan.discharge_date is not None
    assert plan.plan_type is not None
    # The kommune the plan was sent to: its primary receiver not reached by a transfer (a
    # transfer delivers the plan to the new kommune as its primary receiver too, R30).
    transferred_to = {r.to_gln for r in records if r.type is NoticeType.TRANSFERRED}
    return PlanFacts(
        message_id=plan.message_id,
        sent_at=plan.created_at,
        discharge_date=plan.discharge_date,
        first_contact_deadline=plan.first_contact_deadline,
        plan_type=PlanType(plan.plan_type),
        receiver_glns=tuple(
            d.receiver_gln
            for d in plan.deliveries
            if d.role == DeliveryRole.PRIMARY and d.receiver_gln not in transferred_to
        ),
        sender_gln=plan.sender_gln,
    )


@cache
def _plan_notice() -> TypeAdapter[PlanNotice]:
    return TypeAdapter(PlanNotice)

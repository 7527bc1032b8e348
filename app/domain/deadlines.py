"""Where a genoptræningsplan stands: its business status (the latest notice about it) and its
legal start deadline (sundhedsloven §140 stk. 4; R19-R23).

Pure functions of the plan, its notices and `today` (a Danish date, R23); imports nothing from
`app` outside `app.domain`.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum

from app.domain.messages import DANISH_TIME
from app.domain.notices import (
    CLOSING,
    NoticeRecord,
    NoticeType,
    PlanFacts,
    PostponedBy,
    responsible_glns,
    timeline,
)
from app.domain.plan import START_WITHIN_DAYS

__all__ = [
    "DUE_SOON_DAYS",
    "BusinessStatus",
    "DeadlineState",
    "DeadlineView",
    "PlanState",
    "business_status",
    "deadline",
    "deadline_state",
    "legal_deadline",
]

# A plan not yet started is `due_soon` when this many days or fewer are left.
DUE_SOON_DAYS = 2


class PlanState(StrEnum):
    """A plan's business status: `sent` until the kommune reports, then its latest notice."""

    SENT = "sent"
    RECEIVED = "received"
    STARTED = "started"
    SECOND_MEETING = "second_meeting"
    POSTPONED = "postponed"
    NOT_ATTENDED = "not_attended"
    TRANSFERRED = "transferred"
    FREE_CHOICE = "free_choice"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True, slots=True)
class BusinessStatus:
    state: PlanState
    date: datetime.date  # the day the state refers to (NoticeRecord.event_date)


def business_status(plan: PlanFacts, history: Sequence[NoticeRecord]) -> BusinessStatus:
    """The plan's latest state and its date.

    The latest notice to come in, not the one with the latest date: received, postponed and
    transferred carry no date of their own to order by. The notice rules keep this meaningful:
    `received` can only come first and nothing comes after `completed` or `cancelled`.
    """
    records = timeline(history)
    if not records:
        return BusinessStatus(PlanState.SENT, plan.sent_at.astimezone(DANISH_TIME).date())
    latest = records[-1]
    return BusinessStatus(PlanState(latest.type.value), latest.event_date)


class DeadlineState(StrEnum):
    """Where a plan stands against its start deadline on a given day.

    api.md names `overdue`, `due_soon` and `met`; `pending` and `closed` cover the plans that
    are none of those, so that every plan has a state.
    """

    PENDING = "pending"  # not started, more than `due_soon_days` left
    DUE_SOON = "due_soon"  # not started, the deadline is today or within `due_soon_days`
    OVERDUE = "overdue"  # not started and the deadline has passed, or started after it
    MET = "met"  # started on or before the deadline
    CLOSED = "closed"  # cancelled without a start, on or before the deadline


@dataclass(frozen=True, slots=True)
class DeadlineView:
    legal_deadline: datetime.date  # from the plan alone (R23)
    deadline: datetime.date  # in force: moved by postponements and a transfer
    state: DeadlineState
    started_on: datetime.date | None  # the first meeting of the current kommune's course
    # Who postponed, when a postponement set the deadline in force (R23: a reason, not a breach).
    postponed_by: PostponedBy | None
    responsible_glns: tuple[str, ...]  # the kommune(s) whose deadline it is


def legal_deadline(plan: PlanFacts) -> datetime.date:
    """The latest day for the kommune's first meeting with the citizen, from the plan (R23).

    The plan's own first-contact deadline if it gives one; plan intake has checked that a date
    later than discharge + 7 days comes with a professional reason (R21). Otherwise 7 calendar
    days after discharge, the discharge day being day 0 (R19, R23).
    """
    if plan.first_contact_deadline is not None:
        return plan.first_contact_deadline
    return plan.discharge_date + timedelta(days=START_WITHIN_DAYS)


def deadline(
    plan: PlanFacts,
    history: Sequence[NoticeRecord],
    *,
    today: datetime.date,
    due_soon_days: int = DUE_SOON_DAYS,
) -> DeadlineView:
    """The plan's start deadline in force and where the plan stands against it on `today`."""
    legal = legal_deadline(plan)
    in_force, postponed_by = legal, None
    started_on: datetime.date | None = None
    closed_on: datetime.date | None = None
    for record in timeline(history):
        if record.type is NoticeType.TRANSFERRED:
            # The receiving kommune gets the plan only now, so it cannot be held to a deadline
            # that runs out sooner than if the plan had reached it as a new one (R23 applied
            # from the transfer); it also inherits a later deadline already in force. Its own
            # course starts: a start by the transferring kommune does not count for it.
            from_transfer = record.reported_on + timedelta(days=START_WITHIN_DAYS)
            if from_transfer > in_force:
                in_force, postponed_by = from_transfer, None
            started_on = None
        elif (
            record.type is NoticeType.POSTPONED
            and record.new_date is not None
            and started_on is None
            and record.reported_on <= in_force
            and record.new_date > in_force
        ):
            # R22: a start the citizen postpones is not a missed deadline; the kommune now has
            # until the agreed new date. A professional postponement moves it the same way: the
            # new date is the agreed start in both cases. Only a postponement reported while
            # the deadline was still running counts, so that a late plan cannot be cleared
            # after the fact. Postponements after the start concern later meetings.
            in_force, postponed_by = record.new_date, record.postponed_by
        elif record.type is NoticeType.STARTED and started_on is None:
            started_on = record.date
        elif record.type in CLOSING:
            closed_on = record.reported_on
    return DeadlineView(
        legal_deadline=legal,
        deadline=in_force,
        state=deadline_state(in_force, started_on, closed_on, today, due_soon_days),
        started_on=started_on,
        postponed_by=postponed_by,
        responsible_glns=responsible_glns(plan, history),
    )


def deadline_state(
    in_force: datetime.date,
    started_on: datetime.date | None,
    closed_on: datetime.date | None,
    today: datetime.date,
    due_soon_days: int,
) -> DeadlineState:
    """Where a plan stands on `today`, from its deadline in force, its first meeting and the
    day its course closed. app/repositories/messages.py selects by state with the same
    conditions in SQL; change both together."""
    if started_on is not None:
        # R20, R23: met when the first meeting is on or before the deadline. A late start
        # stays `overdue`: the deadline was missed, and `started_on` tells it from a plan
        # still waiting.
        return DeadlineState.MET if started_on <= in_force else DeadlineState.OVERDUE
    if closed_on is not None:
        # Cancelled before any start: no breach if it came while the deadline was running.
        return DeadlineState.CLOSED if closed_on <= in_force else DeadlineState.OVERDUE
    if today > in_force:
        return DeadlineState.OVERDUE
    if (in_force - today).days <= due_soon_days:
        return DeadlineState.DUE_SOON
    return DeadlineState.PENDING

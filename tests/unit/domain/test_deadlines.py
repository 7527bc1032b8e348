"""Where a plan stands: its business status from the kommune's notices, and its legal start
deadline (R19-R23) with the moves a postponement or a transfer makes."""

from datetime import UTC, date, datetime
from typing import Any

import pytest

from app.domain.deadlines import (
    BusinessStatus,
    DeadlineState,
    DeadlineView,
    PlanState,
    business_status,
    deadline,
    legal_deadline,
)
from app.domain.notices import NoticeRecord, PostponedBy
from tests.factories import (
    DISCHARGE,
    ISHOEJ_KOMMUNE,
    ODENSE_KOMMUNE,
    notice_record,
    plan_facts,
)

PLAN_DEADLINE = date(2026, 11, 27)  # the reference plan's first_contact_deadline
RECEIVED = notice_record("received")  # 21 November


def view(history: list[NoticeRecord], *, today: date, **plan: Any) -> DeadlineView:
    return deadline(plan_facts(**plan), history, today=today)


def started_on(day: date) -> NoticeRecord:
    return notice_record("started", on=day, date=day.isoformat())


def postponed(by: str, *, to: date, on: date) -> NoticeRecord:
    return notice_record("postponed", on=on, by=by, new_date=to.isoformat())


class TestLegalDeadline:
    def test_the_plans_own_first_contact_deadline_applies(self) -> None:
        assert legal_deadline(plan_facts(first_contact_deadline=date(2026, 11, 24))) == date(
            2026, 11, 24
        )

    def test_without_one_it_is_seven_calendar_days_after_discharge(self) -> None:
        # R19, R23: the discharge day is day 0; weekends count (27 November 2026 is a Friday).
        assert legal_deadline(plan_facts(first_contact_deadline=None)) == date(2026, 11, 27)

    def test_a_justified_later_start_in_the_plan_applies(self) -> None:
        # R21: the plan says the training must wait, e.g. for a wound to heal.
        later = date(2026, 12, 11)
        assert legal_deadline(plan_facts(first_contact_deadline=later)) == later


class TestBusinessStatus:
    def test_a_plan_without_notices_is_sent_on_the_danish_day_it_came_in(self) -> None:
        late_evening = datetime(2026, 11, 20, 23, 30, tzinfo=UTC)  # 00:30 on 21 November
        assert business_status(plan_facts(sent_at=late_evening), []) == BusinessStatus(
            PlanState.SENT, date(2026, 11, 21)
        )

    @pytest.mark.parametrize(
        ("path", "state", "day"),
        [
            (["received"], PlanState.RECEIVED, date(2026, 11, 21)),
            (["received", "started"], PlanState.STARTED, date(2026, 11, 25)),
            (["started", "second_meeting"], PlanState.SECOND_MEETING, date(2026, 12, 2)),
            (["received", "postponed"], PlanState.POSTPONED, date(2026, 12, 3)),
            (["started", "not_attended"], PlanState.NOT_ATTENDED, date(2026, 12, 8)),
            (["received", "transferred"], PlanState.TRANSFERRED, date(2026, 12, 9)),
            (["received", "free_choice"], PlanState.FREE_CHOICE, date(2026, 12, 10)),
            (["started", "completed"], PlanState.COMPLETED, date(2026, 12, 18)),
            (["received", "cancelled"], PlanState.CANCELLED, date(2026, 12, 18)),
        ],
    )
    def test_the_status_is_the_latest_notice_with_its_date(
        self, path: list[str], state: PlanState, day: date
    ) -> None:
        history = [notice_record(notice_type) for notice_type in path]
        assert business_status(plan_facts(), history) == BusinessStatus(state, day)

    def test_a_postponement_is_dated_the_day_it_came_in_not_its_new_date(self) -> None:
        history = [postponed("borger", to=date(2026, 12, 7), on=date(2026, 11, 24))]
        assert business_status(plan_facts(), history).date == date(2026, 11, 24)

    def test_the_latest_notice_to_come_in_wins_whatever_its_date(self) -> None:
        # A missed appointment reported after the postponement that followed it.
        history = [
            started_on(date(2026, 11, 25)),
            postponed("borger", to=date(2026, 12, 7), on=date(2026, 12, 3)),
            notice_record("not_attended", on=date(2026, 12, 4), date="2026-12-01"),
        ]
        assert business_status(plan_facts(), history) == BusinessStatus(
            PlanState.NOT_ATTENDED, date(2026, 12, 1)
        )

    def test_the_order_the_service_passes_does_not_matter(self) -> None:
        history = [notice_record("started"), RECEIVED]
        assert business_status(plan_facts(), history).state is PlanState.STARTED


class TestDeadlineState:
    def test_not_started_with_more_than_two_days_left_is_pending(self) -> None:
        assert view([RECEIVED], today=date(2026, 11, 24)).state is DeadlineState.PENDING

    def test_not_started_with_two_days_left_is_due_soon(self) -> None:
        assert view([RECEIVED], today=date(2026, 11, 25)).state is DeadlineState.DUE_SOON

    def test_not_started_on_the_deadline_itself_is_due_soon(self) -> None:
        assert view([RECEIVED], today=PLAN_DEADLINE).state is DeadlineState.DUE_SOON

    def test_not_started_the_day_after_the_deadline_is_overdue(self) -> None:
        overdue = view([RECEIVED], today=date(2026, 11, 28))
        assert (overdue.state, overdue.started_on) == (DeadlineState.OVERDUE, None)

    def test_due_soon_can_mean_more_days(self) -> None:
        state = deadline(plan_facts(), [], today=date(2026, 11, 22), due_soon_days=5).state
        assert state is DeadlineState.DUE_SOON

    def test_a_plan_without_notices_has_a_deadline_too(self) -> None:
        assert view([], today=date(2026, 11, 28)).state is DeadlineState.OVERDUE

    def test_a_start_on_the_deadline_meets_it(self) -> None:
        met = view([RECEIVED, started_on(PLAN_DEADLINE)], today=date(2026, 12, 20))
        assert (met.state, met.started_on) == (DeadlineState.MET, PLAN_DEADLINE)

    def test_a_start_after_the_deadline_is_overdue_with_its_start_date(self) -> None:
        late = view([RECEIVED, started_on(date(2026, 11, 28))], today=date(2026, 12, 20))
        assert (late.state, late.started_on) == (DeadlineState.OVERDUE, date(2026, 11, 28))

    def test_only_the_first_start_counts(self) -> None:
        history = [started_on(date(2026, 11, 25)), notice_record("completed")]
        assert view(history, today=date(2026, 12, 20)).started_on == date(2026, 11, 25)

    def test_a_plan_cancelled_before_its_deadline_is_closed(self) -> None:
        history = [RECEIVED, notice_record("cancelled", on=date(2026, 11, 23))]
        assert view(history, today=date(2026, 12, 20)).state is DeadlineState.CLOSED

    def test_a_plan_cancelled_after_its_deadline_without_a_start_is_overdue(self) -> None:
        history = [RECEIVED, notice_record("cancelled", on=date(2026, 11, 30))]
        assert view(history, today=date(2026, 12, 20)).state is DeadlineState.OVERDUE

    def test_a_free_choice_does_not_move_the_deadline(self) -> None:
        history = [RECEIVED, notice_record("free_choice", on=date(2026, 11, 26))]
        moved = view(history, today=date(2026, 11, 30))
        assert (moved.deadline, moved.state) == (PLAN_DEADLINE, DeadlineState.OVERDUE)


class TestPostponement:
    @pytest.mark.parametrize("by", ["borger", "faglig"])
    def test_a_postponement_moves_the_deadline_to_its_new_date(self, by: str) -> None:
        history = [RECEIVED, postponed(by, to=date(2026, 12, 7), on=date(2026, 11, 24))]
        moved = view(history, today=date(2026, 11, 30))
        assert (moved.legal_deadline, moved.deadline, moved.postponed_by, moved.state) == (
            PLAN_DEADLINE,
            date(2026, 12, 7),
            PostponedBy(by),
            DeadlineState.PENDING,
        )

    def test_a_start_by_the_citizens_new_date_meets_the_deadline(self) -> None:
        history = [
            RECEIVED,
            postponed("borger", to=date(2026, 12, 7), on=date(2026, 11, 24)),
            started_on(date(2026, 12, 7)),
        ]
        assert view(history, today=date(2026, 12, 20)).state is DeadlineState.MET

    def test_a_postponement_within_the_deadline_does_not_bring_it_forward(self) -> None:
        history = [RECEIVED, postponed("borger", to=date(2026, 11, 25), on=date(2026, 11, 23))]
        kept = view(history, today=date(2026, 11, 24))
        assert (kept.deadline, kept.postponed_by) == (PLAN_DEADLINE, None)

    def test_a_postponement_reported_after_the_deadline_does_not_clear_it(self) -> None:
        history = [RECEIVED, postponed("borger", to=date(2026, 12, 7), on=date(2026, 11, 28))]
        late = view(history, today=date(2026, 11, 30))
        assert (late.deadline, late.state) == (PLAN_DEADLINE, DeadlineState.OVERDUE)

    def test_a_postponement_after_the_start_concerns_later_meetings(self) -> None:
        history = [
            started_on(date(2026, 11, 25)),
            postponed("faglig", to=date(2026, 12, 14), on=date(2026, 11, 26)),
        ]
        assert view(history, today=date(2026, 12, 20)).deadline == PLAN_DEADLINE

    def test_the_latest_postponement_in_time_sets_the_deadline(self) -> None:
        history = [
            postponed("faglig", to=date(2026, 12, 1), on=date(2026, 11, 24)),
            postponed("borger", to=date(2026, 12, 10), on=date(2026, 11, 30)),
        ]
        moved = view(history, today=date(2026, 12, 2))
        assert (moved.deadline, moved.postponed_by) == (date(2026, 12, 10), PostponedBy.BORGER)


class TestTransfer:
    def test_the_receiving_kommune_has_seven_days_from_the_transfer(self) -> None:
        history = [RECEIVED, notice_record("transferred", on=date(2026, 11, 25))]
        moved = view(history, today=date(2026, 11, 28))
        assert (moved.deadline, moved.responsible_glns, moved.state) == (
            date(2026, 12, 2),
            (ISHOEJ_KOMMUNE,),
            DeadlineState.PENDING,
        )

    def test_the_receiving_kommune_keeps_a_later_deadline_in_force(self) -> None:
        # R21: the plan itself says the start must wait until mid-December.
        history = [notice_record("transferred", on=date(2026, 11, 21))]
        kept = view(history, today=date(2026, 11, 30), first_contact_deadline=date(2026, 12, 14))
        assert kept.deadline == date(2026, 12, 14)

    def test_the_receiving_kommune_keeps_the_citizens_postponement(self) -> None:
        history = [
            postponed("borger", to=date(2026, 12, 14), on=date(2026, 11, 22)),
            notice_record("transferred", on=date(2026, 11, 25)),
        ]
        kept = view(history, today=date(2026, 11, 30))
        assert (kept.deadline, kept.postponed_by) == (date(2026, 12, 14), PostponedBy.BORGER)

    def test_a_start_by_the_transferring_kommune_does_not_count_for_the_receiving_one(
        self,
    ) -> None:
        history = [
            started_on(date(2026, 11, 23)),
            notice_record("transferred", on=date(2026, 11, 25)),
        ]
        moved = view(history, today=date(2026, 12, 3))
        assert (moved.started_on, moved.state) == (None, DeadlineState.OVERDUE)

    def test_the_receiving_kommunes_own_start_meets_its_deadline(self) -> None:
        history = [
            notice_record("transferred", on=date(2026, 11, 25)),
            notice_record(
                "started", on=date(2026, 12, 1), sender_gln=ISHOEJ_KOMMUNE, date="2026-12-01"
            ),
        ]
        assert view(history, today=date(2026, 12, 20)).state is DeadlineState.MET

    def test_before_any_transfer_the_plans_kommune_is_responsible(self) -> None:
        assert view([RECEIVED], today=DISCHARGE).responsible_glns == (ODENSE_KOMMUNE,)

"""Rehabilitation notices: what a notice body accepts, the rules a notice keeps against its
plan's history (R30-R34), who may report, and the letter that delivers it (R37)."""

from datetime import UTC, date, datetime
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from app.domain.notices import (
    CancellationReason,
    Cancelled,
    Completed,
    FreeChoice,
    Need,
    NotAttended,
    Notice,
    NoticeRecord,
    NoticeType,
    Phase,
    Place,
    PlanNotice,
    Postponed,
    PostponedBy,
    Received,
    RehabilitationNeed,
    RuleViolation,
    SecondMeeting,
    Started,
    TrainingForm,
    Transferred,
    check_notice,
    danish_date,
    notice_letter,
    responsible_glns,
    timeline,
)
from app.domain.plan import PlanType
from tests.factories import (
    DISCHARGE,
    ISHOEJ_KOMMUNE,
    ODENSE_HOSPITAL,
    ODENSE_KOMMUNE,
    notice_fields,
    notice_record,
    plan_facts,
)

TODAY = date(2026, 12, 21)
OTHER_KOMMUNE = "5790009901877"  # a third kommune in the demo directory

NOTICE: TypeAdapter[Notice] = TypeAdapter(Notice)
PLAN_NOTICE: TypeAdapter[PlanNotice] = TypeAdapter(PlanNotice)

CLASSES = {
    "rehabilitation_need": RehabilitationNeed,
    "received": Received,
    "started": Started,
    "second_meeting": SecondMeeting,
    "postponed": Postponed,
    "not_attended": NotAttended,
    "transferred": Transferred,
    "free_choice": FreeChoice,
    "completed": Completed,
    "cancelled": Cancelled,
}
PLAN_NOTICE_TYPES = [name for name in CLASSES if name != "rehabilitation_need"]


def parse(fields: dict[str, Any]) -> Notice:
    return NOTICE.validate_python(fields, context={"today": TODAY})


def plan_notice(notice_type: str, **overrides: Any) -> PlanNotice:
    return PLAN_NOTICE.validate_python(notice_fields(notice_type, **overrides))


def errors_of(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """The (field path, rule) pairs that parsing `fields` reports, leaving out the union's tag."""
    with pytest.raises(ValidationError) as caught:
        parse(fields)
    return [
        (".".join(str(part) for part in error["loc"][1:]), error["type"])
        for error in caught.value.errors()
    ]


def check(
    notice: PlanNotice,
    history: list[NoticeRecord],
    *,
    sender_gln: str = ODENSE_KOMMUNE,
    **plan: Any,
) -> list[tuple[str, str]]:
    """The (field, rule) pairs check_notice reports for `notice` from `sender_gln`."""
    violations = check_notice(notice, plan_facts(**plan), history, sender_gln, today=TODAY)
    return [(violation.field, violation.rule) for violation in violations]


RECEIVED = notice_record("received")
STARTED = notice_record("started")  # first meeting 25 November


class TestNoticeBody:
    @pytest.mark.parametrize("notice_type", list(CLASSES))
    def test_every_notice_type_parses_into_its_own_model(self, notice_type: str) -> None:
        assert type(parse(notice_fields(notice_type))) is CLASSES[notice_type]

    def test_an_unknown_type_is_refused(self) -> None:
        with pytest.raises(ValidationError) as caught:
            parse({"type": "first_contact_offered", "plan_message_id": "x"})
        assert caught.value.errors()[0]["type"] == "union_tag_invalid"

    def test_the_letter_id_is_left_to_sektorbro_by_default(self) -> None:
        assert parse(notice_fields("received")).letter_id is None

    def test_a_letter_id_has_at_most_14_characters(self) -> None:
        fields = notice_fields("received", letter_id="ODK20261125001")
        assert parse(fields).letter_id == "ODK20261125001"
        assert errors_of({**fields, "letter_id": "ODK202611250011"}) == [
            ("letter_id", "string_too_long")
        ]

    def test_the_plan_message_id_is_stored_in_lower_case(self) -> None:
        notice = plan_notice("received", plan_message_id="0F8E6D52-3C1A-4B7E-9A55-2D4C8B1E7F30")
        assert notice.plan_message_id == "0f8e6d52-3c1a-4b7e-9a55-2d4c8b1e7f30"

    def test_the_plan_message_id_must_be_a_uuid(self) -> None:
        fields = notice_fields("received", plan_message_id="OUH2026112001")
        assert errors_of(fields) == [("plan_message_id", "message_id_format")]

    def test_a_free_text_has_at_most_2000_characters(self) -> None:
        assert parse(notice_fields("received", text="x" * 2000))
        assert errors_of(notice_fields("received", text="x" * 2001)) == [
            ("text", "string_too_long")
        ]

    def test_unknown_fields_are_refused(self) -> None:
        fields = notice_fields("received", patient={"cpr": "2512484916"})
        assert errors_of(fields) == [("patient", "extra_forbidden")]

    def test_a_start_names_a_known_training_form(self) -> None:
        fields = notice_fields("started", form="cykling")
        assert errors_of(fields) == [("form", "enum")]

    def test_a_cancellation_gives_one_of_kls_reasons(self) -> None:
        fields = notice_fields("cancelled", reason="Borgeren flyttede")
        assert errors_of(fields) == [("reason", "enum")]

    def test_every_field_of_every_notice_is_described(self) -> None:
        schema = NOTICE.json_schema()
        undescribed = [
            f"{name}.{field}"
            for name in CLASSES.values()
            for field, prop in schema["$defs"][name.__name__]["properties"].items()
            if "description" not in prop
        ]
        assert undescribed == []


class TestRehabilitationNeed:
    def test_the_patient_is_identified_by_cpr_or_alternative_id(self) -> None:
        patient = {"surname": "Ann Berggren", "municipality_code": "461"}
        fields = notice_fields("rehabilitation_need", patient=patient)
        assert errors_of(fields) == [("patient.cpr", "patient_identifier_required")]

    def test_the_patients_kommune_is_required(self) -> None:
        patient = {"cpr": "2512484916", "surname": "Ann Berggren"}
        fields = notice_fields("rehabilitation_need", patient=patient)
        assert errors_of(fields) == [("patient.municipality_code", "missing")]

    def test_the_gp_copy_is_optional(self) -> None:
        fields = notice_fields("rehabilitation_need")
        del fields["gp_gln"]
        notice = parse(fields)
        assert isinstance(notice, RehabilitationNeed)
        assert notice.gp_gln is None

    def test_at_least_one_need_is_given(self) -> None:
        fields = notice_fields("rehabilitation_need", needs=[])
        assert errors_of(fields) == [("needs", "too_short")]

    def test_each_need_is_given_once(self) -> None:
        fields = notice_fields("rehabilitation_need", needs=["hjaelpemidler", "hjaelpemidler"])
        assert errors_of(fields) == [("needs", "need_listed_twice")]

    def test_the_need_andet_is_described_in_the_text(self) -> None:
        fields = notice_fields("rehabilitation_need", needs=["andet"], text=None)
        assert errors_of(fields) == [("text", "other_need_undescribed")]
        assert parse({**fields, "text": "Behov for aflastning af ægtefælle."})

    def test_without_andet_the_text_may_be_left_out(self) -> None:
        assert parse(notice_fields("rehabilitation_need", text=None))


class TestNoticeRecord:
    def test_a_record_keeps_what_the_rules_read_from_its_notice(self) -> None:
        record = NoticeRecord.from_notice(
            plan_notice("postponed", by="faglig", new_date="2026-12-07"),
            sender_gln=ODENSE_KOMMUNE,
            created_at=datetime(2026, 12, 3, 11, 0, tzinfo=UTC),
        )
        assert (record.type, record.new_date, record.postponed_by, record.date) == (
            NoticeType.POSTPONED,
            date(2026, 12, 7),
            PostponedBy.FAGLIG,
            None,
        )

    def test_the_day_a_notice_came_in_is_the_danish_date(self) -> None:
        record = notice_record("received")
        late_evening = datetime(2026, 11, 21, 23, 30, tzinfo=UTC)  # 00:30 on 22 November
        assert NoticeRecord(record.type, record.sender_gln, late_evening).reported_on == date(
            2026, 11, 22
        )

    def test_a_notice_without_a_date_of_its_own_is_dated_the_day_it_came_in(self) -> None:
        assert notice_record("received", on=date(2026, 11, 22)).event_date == date(2026, 11, 22)

    def test_a_dated_notice_is_dated_by_its_own_date(self) -> None:
        record = notice_record("started", on=date(2026, 11, 27), date="2026-11-25")
        assert record.event_date == date(2026, 11, 25)

    def test_a_record_refuses_a_time_without_zone(self) -> None:
        with pytest.raises(ValueError, match="timezone-aware"):
            NoticeRecord(NoticeType.RECEIVED, ODENSE_KOMMUNE, datetime(2026, 11, 21, 12))

    def test_a_record_has_exactly_the_fields_of_its_type(self) -> None:
        at = datetime(2026, 11, 25, 12, tzinfo=UTC)
        with pytest.raises(ValueError, match="date set wrongly"):
            NoticeRecord(NoticeType.STARTED, ODENSE_KOMMUNE, at)
        with pytest.raises(ValueError, match="to_gln set wrongly"):
            NoticeRecord(NoticeType.RECEIVED, ODENSE_KOMMUNE, at, to_gln=ISHOEJ_KOMMUNE)

    def test_an_early_notice_is_not_part_of_a_plans_history(self) -> None:
        at = datetime(2026, 11, 25, 12, tzinfo=UTC)
        with pytest.raises(ValueError, match="not about a plan"):
            NoticeRecord(NoticeType.REHABILITATION_NEED, ODENSE_HOSPITAL, at)


class TestTimeline:
    def test_notices_are_in_the_order_they_came_in(self) -> None:
        second_meeting = notice_record("second_meeting")
        assert timeline([second_meeting, STARTED, RECEIVED]) == (
            RECEIVED,
            STARTED,
            second_meeting,
        )


class TestResponsibleGlns:
    def test_the_kommune_the_plan_was_sent_to_is_responsible(self) -> None:
        assert responsible_glns(plan_facts(), [RECEIVED]) == (ODENSE_KOMMUNE,)

    def test_after_a_transfer_the_receiving_kommune_is_responsible(self) -> None:
        transferred = notice_record("transferred")
        assert responsible_glns(plan_facts(), [RECEIVED, transferred]) == (ISHOEJ_KOMMUNE,)

    def test_a_plan_can_be_transferred_on_and_back(self) -> None:
        history = [
            notice_record("transferred", on=date(2026, 11, 22)),
            notice_record(
                "transferred",
                on=date(2026, 11, 23),
                sender_gln=ISHOEJ_KOMMUNE,
                to_gln=ODENSE_KOMMUNE,
            ),
        ]
        assert responsible_glns(plan_facts(), history) == (ODENSE_KOMMUNE,)


class TestWhoMayReport:
    def test_the_receiving_kommune_may_report(self) -> None:
        assert check(plan_notice("received"), []) == []

    def test_another_kommune_may_not_report(self) -> None:
        assert check(plan_notice("received"), [], sender_gln=OTHER_KOMMUNE) == [
            ("plan_message_id", "not_responsible_kommune")
        ]

    def test_the_hospital_that_sent_the_plan_may_not_report_on_it(self) -> None:
        assert check(plan_notice("received"), [], sender_gln=ODENSE_HOSPITAL) == [
            ("plan_message_id", "not_responsible_kommune")
        ]

    def test_any_kommune_the_plan_was_sent_to_may_report(self) -> None:
        both = (ODENSE_KOMMUNE, ISHOEJ_KOMMUNE)
        assert (
            check(plan_notice("received"), [], sender_gln=ISHOEJ_KOMMUNE, receiver_glns=both) == []
        )

    def test_the_transferring_kommune_may_not_report_after_the_transfer(self) -> None:
        history = [RECEIVED, notice_record("transferred")]
        assert check(plan_notice("started", date="2026-12-10"), history) == [
            ("plan_message_id", "not_responsible_kommune")
        ]

    def test_the_kommune_it_was_transferred_to_may_report(self) -> None:
        history = [RECEIVED, notice_record("transferred")]
        assert check(plan_notice("received"), history, sender_gln=ISHOEJ_KOMMUNE) == []


class TestClosedPlan:
    @pytest.mark.parametrize("closing", ["completed", "cancelled"])
    def test_nothing_is_taken_after_the_course_ends(self, closing: str) -> None:
        history = [RECEIVED, STARTED, notice_record(closing)]
        assert check(plan_notice("not_attended", date="2026-12-19"), history) == [
            ("plan_message_id", "plan_closed")
        ]

    def test_a_closed_plan_reports_only_why_nothing_can_be_reported(self) -> None:
        # The received would also break received_not_first; that would only be noise here.
        history = [RECEIVED, notice_record("cancelled")]
        assert check(plan_notice("received"), history, sender_gln=OTHER_KOMMUNE) == [
            ("plan_message_id", "not_responsible_kommune"),
            ("plan_message_id", "plan_closed"),
        ]

    def test_a_free_choice_does_not_close_the_plan(self) -> None:
        history = [RECEIVED, notice_record("free_choice")]
        assert check(plan_notice("started", date="2026-12-14"), history) == []


class TestOrder:
    def test_received_comes_first(self) -> None:
        assert check(plan_notice("received"), [STARTED]) == [("type", "received_not_first")]

    def test_received_is_reported_once(self) -> None:
        assert check(plan_notice("received"), [RECEIVED]) == [("type", "received_not_first")]

    def test_the_kommune_a_plan_is_transferred_to_reports_its_own_receipt(self) -> None:
        history = [RECEIVED, STARTED, notice_record("transferred")]
        assert check(plan_notice("received"), history, sender_gln=ISHOEJ_KOMMUNE) == []

    def test_a_start_without_received_is_fine(self) -> None:
        assert check(plan_notice("started"), []) == []

    def test_the_start_is_reported_once(self) -> None:
        later = plan_notice("started", date="2026-11-30")
        assert check(later, [RECEIVED, STARTED]) == [("type", "already_reported")]

    def test_the_second_meeting_is_reported_once(self) -> None:
        history = [RECEIVED, STARTED, notice_record("second_meeting")]
        later = plan_notice("second_meeting", date="2026-12-09")
        assert check(later, history) == [("type", "already_reported")]

    def test_after_a_transfer_the_new_kommune_reports_its_own_start(self) -> None:
        history = [RECEIVED, STARTED, notice_record("transferred")]
        start = plan_notice("started", date="2026-12-14")
        assert check(start, history, sender_gln=ISHOEJ_KOMMUNE) == []

    def test_no_second_meeting_before_a_start(self) -> None:
        assert check(plan_notice("second_meeting"), [RECEIVED]) == [("type", "not_started")]

    def test_a_second_meeting_follows_a_start(self) -> None:
        assert check(plan_notice("second_meeting"), [RECEIVED, STARTED]) == []

    def test_no_completion_before_a_start(self) -> None:
        assert check(plan_notice("completed"), [RECEIVED]) == [("type", "not_started")]

    def test_a_cancellation_needs_no_start(self) -> None:
        assert check(plan_notice("cancelled"), [RECEIVED]) == []

    def test_a_missed_first_appointment_needs_no_start(self) -> None:
        assert check(plan_notice("not_attended", date="2026-11-24"), [RECEIVED]) == []


class TestDates:
    def test_no_date_before_discharge(self) -> None:
        notice = plan_notice("started", date="2026-11-19")
        assert check(notice, [RECEIVED]) == [("date", "date_before_discharge")]

    def test_a_start_on_the_day_of_discharge_is_fine(self) -> None:
        assert check(plan_notice("started", date=DISCHARGE.isoformat()), []) == []

    def test_no_postponement_to_a_date_before_discharge(self) -> None:
        notice = plan_notice("postponed", new_date="2026-11-19")
        assert check(notice, [RECEIVED]) == [("new_date", "date_before_discharge")]

    def test_a_notice_reports_what_has_happened(self) -> None:
        notice = plan_notice("started", date="2026-12-22")
        assert check(notice, [RECEIVED]) == [("date", "date_in_future")]

    def test_an_event_of_today_can_be_reported(self) -> None:
        assert check(plan_notice("started", date=TODAY.isoformat()), [RECEIVED]) == []

    def test_the_second_meeting_is_not_before_the_first(self) -> None:
        notice = plan_notice("second_meeting", date="2026-11-24")
        assert check(notice, [RECEIVED, STARTED]) == [("date", "date_before_start")]

    def test_the_second_meeting_may_be_on_the_day_of_the_first(self) -> None:
        notice = plan_notice("second_meeting", date="2026-11-25")
        assert check(notice, [RECEIVED, STARTED]) == []

    def test_a_course_is_not_completed_before_it_started(self) -> None:
        notice = plan_notice("completed", date="2026-11-24")
        assert check(notice, [RECEIVED, STARTED]) == [("date", "date_before_start")]

    def test_a_date_breaks_only_the_first_rule_it_fails(self) -> None:
        # Before discharge is also before the start; the discharge is what to fix.
        notice = plan_notice("second_meeting", date="2026-11-19")
        assert check(notice, [RECEIVED, STARTED]) == [("date", "date_before_discharge")]


class TestPostponed:
    def test_a_start_is_postponed_to_after_discharge(self) -> None:
        notice = plan_notice("postponed", new_date=DISCHARGE.isoformat())
        assert check(notice, [RECEIVED]) == [("new_date", "postponed_to_earlier_date")]

    def test_a_start_is_postponed_to_a_later_date(self) -> None:
        assert check(plan_notice("postponed", new_date="2026-11-24"), [RECEIVED]) == []

    def test_after_a_meeting_the_next_is_postponed_to_after_it(self) -> None:
        history = [RECEIVED, STARTED, notice_record("second_meeting")]
        notice = plan_notice("postponed", new_date="2026-12-02")
        assert check(notice, history) == [("new_date", "postponed_to_earlier_date")]

    def test_a_postponed_start_may_be_moved_forward_again(self) -> None:
        history = [RECEIVED, notice_record("postponed", new_date="2026-12-07")]
        assert check(plan_notice("postponed", new_date="2026-12-03"), history) == []


class TestTransferred:
    def test_a_plan_is_not_transferred_to_the_kommune_that_has_it(self) -> None:
        notice = plan_notice("transferred", to_gln=ODENSE_KOMMUNE)
        assert check(notice, [RECEIVED]) == [("to_gln", "transferred_to_same_kommune")]

    def test_a_plan_is_transferred_to_another_kommune(self) -> None:
        assert check(plan_notice("transferred"), [RECEIVED]) == []


class TestFreeChoice:
    def test_specialised_training_is_outside_free_choice(self) -> None:
        specialiseret = PlanType.SPECIALISERET
        notice = plan_notice("free_choice")
        assert check(notice, [RECEIVED], plan_type=specialiseret) == [
            ("type", "free_choice_not_available")
        ]

    @pytest.mark.parametrize("plan_type", [PlanType.ALMEN, PlanType.REHABILITERING])
    def test_municipal_training_is_open_to_free_choice(self, plan_type: PlanType) -> None:
        assert check(plan_notice("free_choice"), [RECEIVED], plan_type=plan_type) == []


class TestCheckNotice:
    def test_a_whole_course_keeps_every_rule(self) -> None:
        course = ["received", "started", "second_meeting", "postponed", "not_attended"]
        history: list[NoticeRecord] = []
        for notice_type in [*course, "completed"]:
            assert check(plan_notice(notice_type), history) == []
            history.append(notice_record(notice_type))

    def test_violations_say_what_is_wrong_in_plain_words(self) -> None:
        violations = check_notice(
            plan_notice("received"), plan_facts(), [STARTED], ODENSE_KOMMUNE, today=TODAY
        )
        assert violations == [
            RuleViolation(
                "type",
                "received_not_first",
                "Receipt of the plan is reported once, before anything else the kommune "
                "reports about it.",
            )
        ]


class TestDanishDate:
    @pytest.mark.parametrize(
        ("day", "written"),
        [
            (date(2026, 12, 2), "2. december 2026"),
            (date(2027, 1, 29), "29. januar 2027"),
            (date(2027, 3, 1), "1. marts 2027"),
            (date(2027, 5, 15), "15. maj 2027"),
        ],
    )
    def test_dates_are_written_the_danish_way(self, day: date, written: str) -> None:
        assert danish_date(day) == written


class TestNoticeLetter:
    def test_a_start_says_when_how_and_where(self) -> None:
        notice = parse(notice_fields("started", date="2026-12-02"))
        assert notice_letter(notice, None) == (
            "Genoptræning startet",
            "Genoptræningen er startet 2. december 2026 som holdtræning på træningscenter.",
        )

    def test_the_letter_ends_with_the_plan_it_is_about(self) -> None:
        _, text = notice_letter(parse(notice_fields("received")), plan_facts())
        assert text.splitlines()[-1] == (
            "Vedrører genoptræningsplan for almen genoptræning, udskrivelse 20. november 2026."
        )

    def test_a_remark_follows_the_news(self) -> None:
        notice = parse(notice_fields("received", text="Borgeren ringes op i morgen."))
        assert notice_letter(notice, None)[1].splitlines() == [
            "Kommunen har modtaget genoptræningsplanen.",
            "Borgeren ringes op i morgen.",
        ]

    def test_a_postponement_says_to_when_by_whom_and_why(self) -> None:
        notice = parse(notice_fields("postponed"))
        assert notice_letter(notice, None) == (
            "Genoptræning udsat",
            "Genoptræningen er udsat til 7. december 2026 efter borgerens ønske.\n"
            "Begrundelse: Borgeren er bortrejst til og med 6. december.",
        )

    def test_a_completion_gives_the_result(self) -> None:
        notice = parse(notice_fields("completed"))
        assert notice_letter(notice, None)[1] == (
            "Genoptræningen blev afsluttet 18. december 2026.\n"
            "Resultat: Går uden hjælpemidler. Målene er nået."
        )

    def test_an_early_notice_names_the_phase_the_needs_and_the_discharge(self) -> None:
        notice = parse(notice_fields("rehabilitation_need", needs=["genoptraening", "ernaering"]))
        assert notice_letter(notice, None) == (
            "Tidlig orientering om rehabiliteringsbehov",
            "Ved behovsvurderingen i efterbehandlingsfasen er der fundet behov for opfølgning "
            "i kommunen.\n"
            "Behov: genoptræning og ernæring.\n"
            "Forventet udskrivelse: 4. december 2026.\n"
            "Udtalt træthed efter kemoterapi; har brug for hjælp til rengøring og indkøb.",
        )

    def test_needs_are_listed_in_danish(self) -> None:
        needs = ["hjemmesygepleje", "praktisk_hjaelp", "psykisk_stoette"]
        notice = parse(notice_fields("rehabilitation_need", needs=needs))
        assert (
            "Behov: hjemmesygepleje, praktisk hjælp og psykisk støtte."
            in (notice_letter(notice, None)[1])
        )

    @pytest.mark.parametrize("notice_type", list(CLASSES))
    def test_every_subject_fits_xdis91(self, notice_type: str) -> None:
        subject, _ = notice_letter(parse(notice_fields(notice_type)), plan_facts())
        assert 0 < len(subject) <= 70  # XDIS91 Subject: string 1..70 (formats.md §5)

    @pytest.mark.parametrize(
        ("notice_type", "field", "codes"),
        [
            ("rehabilitation_need", "needs", [[need] for need in Need]),
            ("rehabilitation_need", "phase", list(Phase)),
            ("started", "form", list(TrainingForm)),
            ("started", "place", list(Place)),
            ("postponed", "by", list(PostponedBy)),
            ("cancelled", "reason", list(CancellationReason)),
        ],
    )
    def test_every_code_has_danish_words(
        self, notice_type: str, field: str, codes: list[Any]
    ) -> None:
        letters = {
            notice_letter(parse(notice_fields(notice_type, **{field: code})), None)[1]
            for code in codes
        }
        assert len(letters) == len(codes)

    @pytest.mark.parametrize("plan_type", list(PlanType))
    def test_every_plan_type_has_danish_words(self, plan_type: PlanType) -> None:
        _, text = notice_letter(parse(notice_fields("received")), plan_facts(plan_type=plan_type))
        assert plan_type.value in text.splitlines()[-1]

    def test_a_transfer_names_the_kommune_by_its_gln(self) -> None:
        _, text = notice_letter(parse(notice_fields("transferred")), None)
        assert text == (
            f"Genoptræningsplanen er overdraget til kommunen med lokationsnummer {ISHOEJ_KOMMUNE}."
        )

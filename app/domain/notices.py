"""Rehabilitation notices: the hospital's early notice of a rehabilitation need, and the
kommune's reports about a genoptræningsplan, with the rules a report must keep against the
plan's history and the letter that delivers it.

MedCom has no "rehabilitation notice" standard (formats.md §13.3). Sektorbro keeps each notice
structured for tracking and statistics and delivers it as an XDIS91 correspondence letter
(domain.md, "Rehabilitation notices"). The kommune's notices are what kommuner already report
to KL about a plan (R31-R34); the early notice follows the cancer pathway report (R35-R37).

Pure: imports nothing from `app` outside `app.domain`, and does no I/O.
"""

import datetime
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Literal, Self, assert_never

from pydantic import Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.domain.base import SektorbroModel
from app.domain.identifiers import Gln, LetterId, MessageId
from app.domain.messages import DANISH_MONTHS, DANISH_TIME
from app.domain.plan import Patient, PlanType

__all__ = [
    "CLOSING",
    "MAX_NOTICE_TEXT",
    "CancellationReason",
    "Cancelled",
    "Completed",
    "FreeChoice",
    "Need",
    "NotAttended",
    "Notice",
    "NoticeRecord",
    "NoticeType",
    "Phase",
    "Place",
    "PlanFacts",
    "PlanNotice",
    "Postponed",
    "PostponedBy",
    "Received",
    "RehabilitationNeed",
    "RuleViolation",
    "SecondMeeting",
    "Started",
    "TrainingForm",
    "Transferred",
    "check_notice",
    "danish_date",
    "notice_letter",
    "responsible_glns",
    "timeline",
]


# The longest free text in a notice. The letter's body is a sentence or two, this text and a
# line about the plan, and it must fit one XDIS91 ClinicalInformation/Text01. MedCom publishes
# no limit for Text01; the one known implementation writes blocks of at most 3150 characters
# (formats.md §5 and §13 item 5), and 2000 leaves room for the rest.
MAX_NOTICE_TEXT = 2000


class NoticeType(StrEnum):
    REHABILITATION_NEED = "rehabilitation_need"  # hospital -> kommune and GP (R37)
    RECEIVED = "received"
    STARTED = "started"
    SECOND_MEETING = "second_meeting"
    POSTPONED = "postponed"
    NOT_ATTENDED = "not_attended"
    TRANSFERRED = "transferred"
    FREE_CHOICE = "free_choice"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


# The notices that end a course; nothing is reported about the plan after them (R32).
CLOSING = frozenset({NoticeType.COMPLETED, NoticeType.CANCELLED})


class Phase(StrEnum):
    """The cancer pathway phase in which the hospital assessed the need (R36)."""

    BEHANDLING = "behandling"  # behandlingsfasen
    EFTERBEHANDLING = "efterbehandling"  # efterbehandlingsfasen
    KONTROL = "kontrol"  # kontrolfasen: at the first control visit


class Need(StrEnum):
    """What the kommune should plan for (R37; domain.md). ASCII codes, like the other coded
    values of a notice (`selvtraening`); the Danish words are in the letter."""

    GENOPTRAENING = "genoptraening"
    HJEMMESYGEPLEJE = "hjemmesygepleje"
    PRAKTISK_HJAELP = "praktisk_hjaelp"
    HJAELPEMIDLER = "hjaelpemidler"
    ERNAERING = "ernaering"
    PSYKISK_STOETTE = "psykisk_stoette"
    ARBEJDSMARKED = "arbejdsmarked"  # measures to keep the patient in work
    ANDET = "andet"  # described in `text`


class TrainingForm(StrEnum):
    """How the training is given: seed 003's categories 3-5 (R39)."""

    SELVTRAENING = "selvtraening"  # self-training with follow-up appointments
    HOLDTRAENING = "holdtraening"  # group training
    INDIVIDUEL = "individuel"  # individual training


class Place(StrEnum):
    CENTER = "center"  # the kommune's training centre
    HJEM = "hjem"  # the citizen's home


class PostponedBy(StrEnum):
    """Who postponed: the citizen (R22) or a professional judgement; seed 003's categories 1
    and 2 (R39)."""

    BORGER = "borger"
    FAGLIG = "faglig"


class CancellationReason(StrEnum):
    """Why a course stopped: KL's cancellation types (R32, data/kl_rehab_status_codes.csv)."""

    IKKE_BEHOV_BORGER = "ikke_behov_borger"
    IKKE_BEHOV_FAGPERSON = "ikke_behov_fagperson"
    AKTIVT_FRAVALG = "aktivt_fravalg"
    AKTIVT_FRAVALG_ANDEN_SYGDOM = "aktivt_fravalg_anden_sygdom"
    AKTIVT_FRAVALG_TRANSPORTOEKONOMI = "aktivt_fravalg_transportoekonomi"
    AKTIVT_FRAVALG_TRANSPORTLOGISTIK = "aktivt_fravalg_transportlogistik"
    AKTIVT_FRAVALG_ANDEN_TRAENING = "aktivt_fravalg_anden_traening"
    HAENDELSE_MEDFOERER_OPHOER = "haendelse_medfoerer_ophoer"  # e.g. moving, readmission
    IKKE_HENVENDT_ELLER_UDEBLEVET = "ikke_henvendt_eller_udeblevet"


_PHASE_WORDS = {
    Phase.BEHANDLING: "behandlingsfasen",
    Phase.EFTERBEHANDLING: "efterbehandlingsfasen",
    Phase.KONTROL: "kontrolfasen",
}
_NEED_WORDS = {
    Need.GENOPTRAENING: "genoptræning",
    Need.HJEMMESYGEPLEJE: "hjemmesygepleje",
    Need.PRAKTISK_HJAELP: "praktisk hjælp",
    Need.HJAELPEMIDLER: "hjælpemidler",
    Need.ERNAERING: "ernæring",
    Need.PSYKISK_STOETTE: "psykisk støtte",
    Need.ARBEJDSMARKED: "arbejdsmarkedsrettet indsats",
    Need.ANDET: "andet",
}
_FORM_WORDS = {
    TrainingForm.SELVTRAENING: "selvtræning med opfølgning",
    TrainingForm.HOLDTRAENING: "holdtræning",
    TrainingForm.INDIVIDUEL: "individuel træning",
}
_PLACE_WORDS = {Place.CENTER: "på træningscenter", Place.HJEM: "i borgerens hjem"}
_POSTPONED_BY_WORDS = {
    PostponedBy.BORGER: "efter borgerens ønske",
    PostponedBy.FAGLIG: "af faglige årsager",
}
# KL's displays (data/kl_rehab_status_codes.csv).
_CANCELLATION_WORDS = {
    CancellationReason.IKKE_BEHOV_BORGER: "Ikke yderligere behov (borger-vurderet)",
    CancellationReason.IKKE_BEHOV_FAGPERSON: "Ikke yderligere behov (fagperson-vurderet)",
    CancellationReason.AKTIVT_FRAVALG: "Aktivt fravalg",
    CancellationReason.AKTIVT_FRAVALG_ANDEN_SYGDOM: "Aktivt fravalg pga. anden sygdom",
    CancellationReason.AKTIVT_FRAVALG_TRANSPORTOEKONOMI: (
        "Aktivt fravalg pga. økonomi ifm. transport"
    ),
    CancellationReason.AKTIVT_FRAVALG_TRANSPORTLOGISTIK: (
        "Aktivt fravalg pga. logistik ifm. transport"
    ),
    CancellationReason.AKTIVT_FRAVALG_ANDEN_TRAENING: "Aktivt fravalg pga. anden træning",
    CancellationReason.HAENDELSE_MEDFOERER_OPHOER: "Hændelse medfører ophør",
    CancellationReason.IKKE_HENVENDT_ELLER_UDEBLEVET: (
        "Borger har ikke henvendt sig eller er udeblevet"
    ),
}
_PLAN_TYPE_WORDS = {
    PlanType.ALMEN: "almen genoptræning",
    PlanType.SPECIALISERET: "genoptræning på specialiseret niveau",
    PlanType.REHABILITERING: "rehabilitering på specialiseret niveau",
}


PlanMessageId = Annotated[
    MessageId,
    Field(
        description="The `message_id` of the genoptræningsplan the notice is about.",
        examples=["0f8e6d52-3c1a-4b7e-9a55-2d4c8b1e7f30"],
    ),
]
NoticeText = Annotated[str, Field(min_length=1, max_length=MAX_NOTICE_TEXT)]


# An optional remark; each notice gives its own example for the OpenAPI spec.
Remark = Annotated[
    NoticeText | None,
    Field(description="A remark for the reader, added to the letter as its last paragraph."),
]


# Every notice's `type`: the union is discriminated on it.
_TYPE = Field(description="The kind of notice; it decides which other fields there are.")


class _Notice(SektorbroModel):
    # Declared here so that `type` comes first in every notice's schema; each notice narrows
    # it to its own literal.
    type: str
    letter_id: LetterId | None = Field(
        default=None,
        description="The sender's letter id (MedCom `Letter/Identifier`, 1-14 printable ASCII "
        "characters). Left out, Sektorbro assigns one. The same sender and letter id again is "
        "a duplicate.",
        examples=["ODK2026112501"],
    )


class _PlanNotice(_Notice):
    plan_message_id: PlanMessageId


class RehabilitationNeed(_Notice):
    """Early notice of a rehabilitation need (tidlig orientering, R37): the hospital tells the
    patient's kommune, with a copy to the GP, so that help can be planned in time."""

    type: Annotated[Literal["rehabilitation_need"], _TYPE]
    patient: Patient = Field(
        description="The patient. `municipality_code` (the bopælskommune) selects the kommune "
        "the notice is sent to."
    )
    gp_gln: Gln | None = Field(
        default=None,
        description="The patient's GP, who gets a copy. Leave it out when the patient has "
        "none or declined the copy.",
        examples=["5790009902010"],
    )
    phase: Phase = Field(
        description="The pathway phase of the needs assessment (behovsvurdering): "
        "`behandling`, `efterbehandling`, or `kontrol` (the first control visit).",
        examples=["efterbehandling"],
    )
    expected_discharge_date: datetime.date | None = Field(
        default=None,
        description="When the patient is expected to leave hospital, if admitted.",
        examples=["2026-12-04"],
    )
    needs: list[Need] = Field(
        min_length=1,
        description="What the kommune should plan for, each at most once.",
        examples=[["hjemmesygepleje", "praktisk_hjaelp", "genoptraening"]],
    )
    text: NoticeText | None = Field(
        default=None,
        validate_default=True,
        description="The result of the assessment in words. Required when `needs` has `andet`.",
        examples=[
            "Afslutter kemoterapi i uge 49. Udtalt træthed og nedsat gangdistance; har brug "
            "for hjælp til rengøring og indkøb og for træning af gangfunktion."
        ],
    )

    @field_validator("needs", mode="after")
    @classmethod
    def _each_need_once(cls, value: list[Need]) -> list[Need]:
        if len(set(value)) != len(value):
            raise PydanticCustomError("need_listed_twice", "Each need may appear only once.")
        return value

    @field_validator("text", mode="after")
    @classmethod
    def _other_need_described(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and Need.ANDET in info.data.get("needs", ()):
            raise PydanticCustomError(
                "other_need_undescribed",
                "The need `andet` (other) must be described in `text`.",
            )
        return value


class Received(_PlanNotice):
    """The kommune has received the plan (R31)."""

    type: Annotated[Literal["received"], _TYPE]
    text: Remark = Field(
        default=None, examples=["Borgeren kontaktes telefonisk inden for to hverdage."]
    )


class Started(_PlanNotice):
    """Genoptræning has started: the citizen's first meeting with a health professional (R20)."""

    type: Annotated[Literal["started"], _TYPE]
    date: datetime.date = Field(
        description="The day of the first meeting with a therapist.", examples=["2026-11-25"]
    )
    form: TrainingForm = Field(
        description="`selvtraening` (self-training with follow-up), `holdtraening` (group "
        "training) or `individuel` (individual training).",
        examples=["holdtraening"],
    )
    place: Place = Field(
        description="`center` (the training centre) or `hjem` (the citizen's home).",
        examples=["center"],
    )
    text: Remark = Field(
        default=None, examples=["Træner på hold for hoftealloplastik tirsdag og fredag."]
    )


class SecondMeeting(_PlanNotice):
    """The second meeting with a therapist took place (the interval of R39)."""

    type: Annotated[Literal["second_meeting"], _TYPE]
    date: datetime.date = Field(
        description="The day of the second meeting with a therapist.", examples=["2026-12-02"]
    )
    text: Remark = Field(default=None, examples=["Træningsprogrammet er justeret."])


class Postponed(_PlanNotice):
    """The start, or the next meeting, is postponed (R22, R39 categories 1 and 2)."""

    type: Annotated[Literal["postponed"], _TYPE]
    by: PostponedBy = Field(
        description="`borger`: at the citizen's request; `faglig`: for a professional reason.",
        examples=["borger"],
    )
    reason: NoticeText = Field(
        description="Why, in words.", examples=["Borgeren er bortrejst til og med 6. december."]
    )
    new_date: datetime.date = Field(
        description="The new date of the start or the next meeting.", examples=["2026-12-07"]
    )


class NotAttended(_PlanNotice):
    """The citizen did not turn up."""

    type: Annotated[Literal["not_attended"], _TYPE]
    date: datetime.date = Field(
        description="The day of the missed appointment.", examples=["2026-12-04"]
    )
    text: Remark = Field(default=None, examples=["Borgeren er ringet op; ny tid aftales."])


class Transferred(_PlanNotice):
    """The plan is handed over to another kommune, e.g. because the citizen moved (R30)."""

    type: Annotated[Literal["transferred"], _TYPE]
    to_gln: Gln = Field(
        description="The kommune that takes over the plan; from now on only it reports on it.",
        examples=["5790009901839"],
    )
    text: Remark = Field(
        default=None, examples=["Borgeren er flyttet til Ishøj Kommune pr. 1. december."]
    )


class FreeChoice(_PlanNotice):
    """The citizen chose a private provider (frit valg, R24)."""

    type: Annotated[Literal["free_choice"], _TYPE]
    provider: Annotated[str, Field(min_length=1, max_length=200)] = Field(
        description="The provider the citizen chose: name and, if useful, address.",
        examples=["Fysioterapeuterne Vestergade, Vestergade 12, 5000 Odense C"],
    )
    text: Remark = Field(default=None, examples=["Henvisning sendt til klinikken."])


class Completed(_PlanNotice):
    """The course is completed (R32)."""

    type: Annotated[Literal["completed"], _TYPE]
    date: datetime.date = Field(description="The day the course ended.", examples=["2027-01-29"])
    result_text: NoticeText = Field(
        description="The result of the course (slutstatus).",
        examples=[
            "Går uden hjælpemidler indendørs og udendørs og klarer trapper med gelænder. "
            "Målene er nået."
        ],
    )


class Cancelled(_PlanNotice):
    """The course stopped before it was completed, or never began (R32)."""

    type: Annotated[Literal["cancelled"], _TYPE]
    reason: CancellationReason = Field(
        description="KL's cancellation reason.", examples=["aktivt_fravalg_anden_sygdom"]
    )
    text: Remark = Field(
        default=None, examples=["Borgeren er indlagt med lungebetændelse og ønsker at stoppe."]
    )


PlanNotice = Annotated[
    Received
    | Started
    | SecondMeeting
    | Postponed
    | NotAttended
    | Transferred
    | FreeChoice
    | Completed
    | Cancelled,
    Field(discriminator="type"),
]

# The body of POST /v1/notices.
Notice = Annotated[
    RehabilitationNeed
    | Received
    | Started
    | SecondMeeting
    | Postponed
    | NotAttended
    | Transferred
    | FreeChoice
    | Completed
    | Cancelled,
    Field(discriminator="type"),
]


def _require_aware(name: str, value: datetime.datetime) -> None:
    # A naive time would be read in the server's own zone; the legal dates are Danish (R23).
    if value.tzinfo is None:
        raise ValueError(f"{name} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class PlanFacts:
    """What the notice rules and the deadline need to know about a plan; the service fills it
    from the stored plan."""

    message_id: str
    sent_at: datetime.datetime  # when Sektorbro took the plan in: the date of the state `sent`
    discharge_date: datetime.date
    # None when the plan gives no structured date (GGOP has only free text, R10).
    first_contact_deadline: datetime.date | None
    plan_type: PlanType
    receiver_glns: tuple[str, ...]  # the kommune(s) the plan was sent to (R28)
    sender_gln: str  # the hospital department that wrote it; notices go back to it (R34)

    def __post_init__(self) -> None:
        _require_aware("sent_at", self.sent_at)


# Which of a record's optional fields each kind of plan notice carries.
_RECORD_FIELDS: dict[NoticeType, frozenset[str]] = {
    NoticeType.RECEIVED: frozenset(),
    NoticeType.STARTED: frozenset({"date"}),
    NoticeType.SECOND_MEETING: frozenset({"date"}),
    NoticeType.POSTPONED: frozenset({"new_date", "postponed_by"}),
    NoticeType.NOT_ATTENDED: frozenset({"date"}),
    NoticeType.TRANSFERRED: frozenset({"to_gln"}),
    NoticeType.FREE_CHOICE: frozenset(),
    NoticeType.COMPLETED: frozenset({"date"}),
    NoticeType.CANCELLED: frozenset(),
}


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """A stored notice about a plan, with what the rules and the deadline read from it."""

    type: NoticeType
    sender_gln: str
    created_at: datetime.datetime  # when Sektorbro took it in
    date: datetime.date | None = None  # started, second_meeting, not_attended, completed
    new_date: datetime.date | None = None  # postponed
    postponed_by: PostponedBy | None = None  # postponed
    to_gln: str | None = None  # transferred

    def __post_init__(self) -> None:
        _require_aware("created_at", self.created_at)
        if self.type not in _RECORD_FIELDS:
            raise ValueError(f"a {self.type} notice is not about a plan")
        for name in ("date", "new_date", "postponed_by", "to_gln"):
            if (getattr(self, name) is not None) != (name in _RECORD_FIELDS[self.type]):
                raise ValueError(f"a {self.type} record has {name} set wrongly")

    @classmethod
    def from_notice(
        cls, notice: PlanNotice, *, sender_gln: str, created_at: datetime.datetime
    ) -> Self:
        """The record of a notice as it is stored."""
        dated = Started | SecondMeeting | NotAttended | Completed
        return cls(
            type=NoticeType(notice.type),
            sender_gln=sender_gln,
            created_at=created_at,
            date=notice.date if isinstance(notice, dated) else None,
            new_date=notice.new_date if isinstance(notice, Postponed) else None,
            postponed_by=notice.by if isinstance(notice, Postponed) else None,
            to_gln=notice.to_gln if isinstance(notice, Transferred) else None,
        )

    @property
    def reported_on(self) -> datetime.date:
        """The Danish date on which the notice came in (R23)."""
        return self.created_at.astimezone(DANISH_TIME).date()

    @property
    def event_date(self) -> datetime.date:
        """The day the notice is about: its own date if it has one, else the day it came in."""
        return self.date if self.date is not None else self.reported_on


@dataclass(frozen=True, slots=True)
class RuleViolation:
    """A broken rule: the field of the notice (a dotted path), the rule, in plain words."""

    field: str
    rule: str
    message: str


def timeline(history: Sequence[NoticeRecord]) -> tuple[NoticeRecord, ...]:
    """A plan's notices in the order they came in."""
    return tuple(sorted(history, key=lambda record: record.created_at))


def responsible_glns(plan: PlanFacts, history: Sequence[NoticeRecord]) -> tuple[str, ...]:
    """The kommune(s) now responsible for the plan: its receivers until a transfer, then the
    kommune it was last transferred to (R30)."""
    responsible = plan.receiver_glns
    for record in timeline(history):
        if record.type is NoticeType.TRANSFERRED and record.to_gln is not None:
            responsible = (record.to_gln,)
    return responsible


def check_notice(
    notice: PlanNotice,
    plan: PlanFacts,
    history: Sequence[NoticeRecord],
    sender_gln: str,
    *,
    today: datetime.date,
) -> list[RuleViolation]:
    """The rules `notice` from `sender_gln` breaks against the plan and its notices so far.

    `today` is the Danish date: a notice reports what has happened.
    """
    records = timeline(history)
    # Who may report, and whether anything may still be reported, come first: against a plan
    # the sender may not report on, or a closed one, the other rules would only add noise.
    gate = []
    if sender_gln not in responsible_glns(plan, records):
        gate.append(
            RuleViolation(
                "plan_message_id",
                "not_responsible_kommune",
                "Only the kommune responsible for the plan may report on it: the kommune it "
                "was sent to or, once it is transferred, the kommune it was transferred to.",
            )
        )
    if any(record.type in CLOSING for record in records):
        # R32: completed and cancelled end the course. Taking later notices would reopen the
        # business status; a correction is a letter in reply to the notice (POST /v1/letters).
        gate.append(
            RuleViolation(
                "plan_message_id",
                "plan_closed",
                "The course has been completed or cancelled; nothing more can be reported "
                "about this plan.",
            )
        )
    if gate:
        return gate

    course = _current_course(records)
    violations = _order_violations(notice, course)
    if isinstance(notice, Transferred) and notice.to_gln == sender_gln:
        violations.append(
            RuleViolation(
                "to_gln",
                "transferred_to_same_kommune",
                "A plan is transferred to another kommune, not to the one that has it.",
            )
        )
    if isinstance(notice, FreeChoice) and plan.plan_type is PlanType.SPECIALISERET:
        # R24, sundhedsloven §140 stk. 4-5: training that takes place at a hospital is
        # outside the citizen's free choice of a private provider.
        violations.append(
            RuleViolation(
                "type",
                "free_choice_not_available",
                "Free choice of a private provider does not cover genoptræning på "
                "specialiseret niveau, which takes place at a hospital.",
            )
        )
    date_violation = _date_violation(notice, plan, course, today)
    if date_violation is not None:
        violations.append(date_violation)
    return violations


def _current_course(records: tuple[NoticeRecord, ...]) -> tuple[NoticeRecord, ...]:
    # A transfer hands the plan to a kommune that starts its own course (R30): the order
    # rules and the deadline look at the notices since the last transfer.
    start = max(
        (i + 1 for i, record in enumerate(records) if record.type is NoticeType.TRANSFERRED),
        default=0,
    )
    return records[start:]


def _started_on(course: tuple[NoticeRecord, ...]) -> datetime.date | None:
    return next((r.date for r in course if r.type is NoticeType.STARTED), None)


def _order_violations(notice: PlanNotice, course: tuple[NoticeRecord, ...]) -> list[RuleViolation]:
    kind = NoticeType(notice.type)
    reported = {record.type for record in course}
    violations = []
    if kind is NoticeType.RECEIVED and course:
        # Received comes before anything else; received late would put the business status
        # back to "received" on a plan that is further along.
        violations.append(
            RuleViolation(
                "type",
                "received_not_first",
                "Receipt of the plan is reported once, before anything else the kommune "
                "reports about it.",
            )
        )
    if kind in (NoticeType.STARTED, NoticeType.SECOND_MEETING) and kind in reported:
        # R20, R39: the first start and the second meeting are single events that the
        # deadline and the statistics measure.
        violations.append(
            RuleViolation("type", "already_reported", "This event has already been reported.")
        )
    if kind in (NoticeType.SECOND_MEETING, NoticeType.COMPLETED) and (
        NoticeType.STARTED not in reported
    ):
        violations.append(
            RuleViolation(
                "type",
                "not_started",
                "A second meeting or a completed course follows a start; report `started` first.",
            )
        )
    return violations


def _date_violation(
    notice: PlanNotice,
    plan: PlanFacts,
    course: tuple[NoticeRecord, ...],
    today: datetime.date,
) -> RuleViolation | None:
    # At most one violation per date: the first of these that fails is the one to fix.
    if isinstance(notice, Postponed):
        field, value = "new_date", notice.new_date
    elif isinstance(notice, Started | SecondMeeting | NotAttended | Completed):
        field, value = "date", notice.date
    else:
        return None
    if value < plan.discharge_date:
        # R3: genoptræning after discharge is the kommune's; before it, the region's.
        return RuleViolation(
            field, "date_before_discharge", "The date lies before the patient's discharge."
        )
    if field == "date" and value > today:
        return RuleViolation(
            field, "date_in_future", "The notice reports what happened; the date is in the future."
        )
    started_on = _started_on(course)
    if (
        isinstance(notice, SecondMeeting | Completed)
        and started_on is not None
        and value < started_on
    ):
        return RuleViolation(
            field, "date_before_start", "The date lies before the course's first meeting."
        )
    if isinstance(notice, Postponed) and value <= _latest_date(plan, course):
        return RuleViolation(
            field,
            "postponed_to_earlier_date",
            "A postponement moves the start or the next meeting later: the new date must come "
            "after the discharge and after the last meeting reported.",
        )
    return None


def _latest_date(plan: PlanFacts, course: tuple[NoticeRecord, ...]) -> datetime.date:
    # The meetings (and missed meetings) reported so far; a postponement's own new date is not
    # among them, since a citizen may move a postponed appointment forward again.
    return max([plan.discharge_date, *(r.date for r in course if r.date is not None)])


def danish_date(value: datetime.date) -> str:
    """A date the way Danish letters write it, e.g. "2. december 2026"."""
    return f"{value.day}. {DANISH_MONTHS[value.month - 1]} {value.year}"


def notice_letter(notice: Notice, plan: PlanFacts | None) -> tuple[str, str]:
    """The subject (XDIS91 `Subject`, at most 70 characters) and the body of the letter that
    delivers `notice`; a newline in the body is a line break. With `plan`, the body ends with
    the plan the notice is about."""
    subject, lines = _letter(notice)
    if plan is not None:
        lines.append(
            f"Vedrører genoptræningsplan for {_PLAN_TYPE_WORDS[plan.plan_type]}, udskrivelse "
            f"{danish_date(plan.discharge_date)}."
        )
    return subject, "\n".join(lines)


def _letter(notice: Notice) -> tuple[str, list[str]]:
    text: str | None = None
    match notice:
        case RehabilitationNeed():
            subject = "Tidlig orientering om rehabiliteringsbehov"
            lines = [
                f"Ved behovsvurderingen i {_PHASE_WORDS[notice.phase]} er der fundet behov "
                "for opfølgning i kommunen.",
                "Behov: " + _danish_list([_NEED_WORDS[need] for need in notice.needs]) + ".",
            ]
            if notice.expected_discharge_date is not None:
                lines.append(
                    f"Forventet udskrivelse: {danish_date(notice.expected_discharge_date)}."
                )
            text = notice.text
        case Received():
            subject = "Genoptræningsplan modtaget"
            lines = ["Kommunen har modtaget genoptræningsplanen."]
            text = notice.text
        case Started():
            subject = "Genoptræning startet"
            lines = [
                f"Genoptræningen er startet {danish_date(notice.date)} som "
                f"{_FORM_WORDS[notice.form]} {_PLACE_WORDS[notice.place]}."
            ]
            text = notice.text
        case SecondMeeting():
            subject = "Andet møde i genoptræningen holdt"
            lines = [f"Andet møde med terapeut blev holdt {danish_date(notice.date)}."]
            text = notice.text
        case Postponed():
            subject = "Genoptræning udsat"
            lines = [
                f"Genoptræningen er udsat til {danish_date(notice.new_date)} "
                f"{_POSTPONED_BY_WORDS[notice.by]}.",
                f"Begrundelse: {notice.reason}",
            ]
        case NotAttended():
            subject = "Borger udeblev fra genoptræning"
            lines = [f"Borgeren mødte ikke op til genoptræning {danish_date(notice.date)}."]
            text = notice.text
        case Transferred():
            subject = "Genoptræningsplan overdraget til anden kommune"
            lines = [
                "Genoptræningsplanen er overdraget til kommunen med lokationsnummer "
                f"{notice.to_gln}."
            ]
            text = notice.text
        case FreeChoice():
            subject = "Borger har valgt privat leverandør (frit valg)"
            lines = [f"Borgeren har benyttet frit valg og får genoptræning hos {notice.provider}."]
            text = notice.text
        case Completed():
            subject = "Genoptræning afsluttet"
            lines = [
                f"Genoptræningen blev afsluttet {danish_date(notice.date)}.",
                f"Resultat: {notice.result_text}",
            ]
        case Cancelled():
            subject = "Genoptræning stoppet"
            lines = [
                "Genoptræningsforløbet er stoppet.",
                f"Årsag: {_CANCELLATION_WORDS[notice.reason]}.",
            ]
            text = notice.text
        case _:
            assert_never(notice)
    if text is not None:
        lines.append(text)
    return subject, lines


def _danish_list(words: list[str]) -> str:
    if len(words) == 1:
        return words[0]
    return ", ".join(words[:-1]) + " og " + words[-1]

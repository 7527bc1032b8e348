"""API-only models: response shapes and documentation of the problem format."""

from datetime import date, datetime
from datetime import date as date_type  # for a field named `date`
from typing import TYPE_CHECKING, Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from app.domain.deadlines import DeadlineState, PlanState
from app.domain.identifiers import Gln
from app.domain.iso import IsoDateTime
from app.domain.letters import AS_WRITTEN, Letter
from app.domain.messages import DeliveryRole, DeliveryStatus, MessageType
from app.domain.notices import PostponedBy
from app.domain.organisation import OrganisationDetails
from app.domain.plan import Plan
from app.domain.receipts import MAX_REFUSE_TEXT, Receipt, ReceiptKind, RefuseCode
from app.errors import FieldError
from app.services.messages import Direction

if TYPE_CHECKING:  # routes hand ORM rows to the `of` constructors; only their shape matters
    from app import orm
    from app.domain.deadlines import BusinessStatus, DeadlineView
    from app.repositories import InboxEntry
    from app.services.courses import PlanStatus
    from app.services.deadlines import DeadlineRow

__all__ = [
    "AckIn",
    "AckOut",
    "AuditEventOut",
    "AuditPage",
    "AuditSearch",
    "DeadlinePage",
    "DeadlineRowOut",
    "DeliveryOut",
    "FieldProblem",
    "InboxItem",
    "InboxPage",
    "LetterOut",
    "MessageOut",
    "MessagePage",
    "MessageSearch",
    "OrganisationOut",
    "OrganisationPage",
    "OrganisationPut",
    "PlanOut",
    "PlanValidation",
    "Problem",
    "Readiness",
    "ReceiptOut",
    "ReceiptSummary",
    "Remark",
    "RenderedDocumentOut",
    "StatusChange",
    "SubmissionOut",
    "ThreadMessageOut",
    "ThreadOut",
    "problem_responses",
]


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path into the JSON body (or an XPath for XML input).")
    rule: str = Field(description="Stable name of the broken rule.", examples=["gln_check_digit"])
    message: str = Field(description="The rule in plain words.")


class Problem(BaseModel):
    """An RFC 9457 problem document (`application/problem+json`)."""

    type: str = Field(examples=["urn:sektorbro:problem:validation_failed"])
    title: str = Field(examples=["The request is not valid"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["1 problem with: gln."])
    instance: str = Field(examples=["/v1/organisations/5790000121442"])
    request_id: str | None = Field(
        default=None, description="Quote it when reporting a problem (also X-Request-ID)."
    )
    errors: list[FieldProblem] | None = Field(
        default=None, description="For 422: every broken rule, one entry each."
    )


class OrganisationPut(OrganisationDetails):
    """Body of PUT /v1/organisations/{gln}. `gln` may be repeated; it must match the path.

    `signing_secret` is write-only: left out, the stored one is kept, so that an entry read
    with GET can be changed and PUT back.
    """

    gln: Gln | None = None
    # JSON's true or false only: lax mode would take 0, 1 and "yes" for a boolean.
    active: StrictBool = Field(
        default=True, description="Inactive organisations neither send nor receive."
    )


class OrganisationOut(BaseModel):
    gln: str = Field(examples=["5790000121441"])
    kind: str = Field(examples=["kommune"])
    name: str = Field(examples=["Odense Kommune"])
    department: str | None = Field(examples=["Genoptræning"])
    unit: str | None = Field(examples=[None])
    municipality_code: str | None = Field(examples=["461"])
    identifier_code: str = Field(examples=["kommunenummer"])
    identifier: str = Field(examples=["461"])
    accepts: list[str] = Field(examples=[["GGOP", "XDIS91"]])
    delivery: str = Field(examples=["inbox"])
    endpoint_url: str | None = Field(examples=[None])
    # The secret itself is write-only: the API tells only whether one is stored.
    signing_secret_set: bool = Field(
        validation_alias="has_signing_secret",
        description="Whether a signing secret is stored (push deliveries are signed with it).",
    )
    street: str | None = Field(examples=["Flakhaven 2"])
    postcode: str | None = Field(examples=["5000"])
    district: str | None = Field(examples=["Odense C"])
    phone: str | None = Field(examples=["+4566131372"])
    active: bool = Field(validation_alias="is_active")
    created_at: datetime
    updated_at: datetime

    model_config = {"from_attributes": True}


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class Remark(BaseModel):
    """A warning: the message was accepted, but this deserves a look."""

    field: str = Field(examples=["contact_region.ean"])
    rule: str = Field(examples=["gln_check_digit"])
    message: str

    @classmethod
    def of(cls, error: FieldError) -> "Remark":
        """The remark for a FieldError."""
        return cls(field=error.field, rule=error.rule, message=error.message)


class StatusChange(BaseModel):
    status: str = Field(
        description="The status entered, or `ack_overdue` when the receipt did not come in time.",
        examples=["available"],
    )
    at: datetime
    envelope_id: str | None = Field(
        default=None,
        description="Set on transmissions (the first and each resend): the envelope id used.",
    )


class ReceiptSummary(BaseModel):
    """The receipt that settled a delivery."""

    message_id: str = Field(description="The receipt's message (type `receipt`).")
    kind: str = Field(
        description="positive (XCTL03), negative (XCTL02) or vans_negative (XCTL01).",
        examples=["positive"],
    )
    refuse_code: str | None = Field(default=None, examples=["problem_med_version"])
    refuse_text: str | None = None
    received_at: datetime

    @classmethod
    def of(cls, receipt: "orm.Message", letter_id: str) -> "ReceiptSummary":
        """What `receipt` said about the letter `letter_id`."""
        said = Receipt.from_body(receipt.body)
        code, text = said.refusal_of(letter_id)
        return cls(
            message_id=receipt.message_id,
            kind=said.kind,
            refuse_code=code,
            refuse_text=text,
            received_at=receipt.created_at,
        )


class DeliveryOut(BaseModel):
    delivery_id: str = Field(examples=["0b6f3b8e-5f1c-4d5e-9a53-3f0f2f5b7c11"])
    receiver_gln: str = Field(examples=["5790000121441"])
    role: str = Field(
        description="primary, gp_copy, chosen_hospital, cc or result_receiver.",
        examples=["primary"],
    )
    format: str = Field(
        description="GGOP or XDIS91; for receipts XCTL03, XCTL02 or XCTL01.", examples=["GGOP"]
    )
    envelope_id: str = Field(description="MedCom envelope id of the transmission.")
    status: str = Field(
        description="queued, available, pushed, fetched, acknowledged, rejected or failed.",
        examples=["available"],
    )
    status_history: list[StatusChange]
    created_at: datetime
    updated_at: datetime
    sent_at: datetime = Field(description="When the latest transmission was sent.")
    resends: int = Field(description="Transmissions after the first.", examples=[0])
    ack_requested: bool = Field(
        description="The envelope asked for a receipt (pluspositivkvitt); receipts never do."
    )
    ack_overdue: bool = Field(
        description="A receipt was asked for and has not come within SEKTORBRO_ACK_TIMEOUT "
        "of the latest transmission."
    )
    receipt: ReceiptSummary | None = Field(
        default=None, description="The receipt that acknowledged or rejected the delivery."
    )

    @classmethod
    def of(cls, delivery: "orm.Delivery", letter_id: str) -> "DeliveryOut":
        """The tracking view of a delivery of the letter `letter_id`."""
        return cls(
            delivery_id=delivery.delivery_id,
            receiver_gln=delivery.receiver_gln,
            role=delivery.role,
            format=delivery.format,
            envelope_id=delivery.envelope_id,
            status=delivery.status,
            status_history=[
                StatusChange(status=e.status, at=e.at, envelope_id=e.envelope_id)
                for e in delivery.events
            ],
            created_at=delivery.created_at,
            updated_at=delivery.updated_at,
            sent_at=delivery.sent_at,
            resends=delivery.resends,
            ack_requested=delivery.ack_requested,
            ack_overdue=delivery.ack_overdue,
            receipt=(
                ReceiptSummary.of(delivery.receipt, letter_id)
                if delivery.receipt_message_id is not None and delivery.receipt is not None
                else None
            ),
        )


class BusinessStatusOut(BaseModel):
    """Where a plan's course stands, from the kommune's notices: `sent` until the kommune
    reports, then the latest notice."""

    state: PlanState = Field(examples=["started"])
    date: date_type = Field(description="The day the state refers to.", examples=["2026-11-25"])

    @classmethod
    def of(cls, status: "BusinessStatus") -> "BusinessStatusOut":
        return cls(state=status.state, date=status.date)


class DeadlineOut(BaseModel):
    """The plan's start deadline (sundhedsloven §140 stk. 4: a start within 7 calendar days
    after discharge, or later for a stated professional reason) and where it stands today."""

    legal_deadline: date = Field(description="From the plan alone.")
    deadline: date = Field(
        description="In force: moved by a postponement reported in time, or by a transfer."
    )
    state: DeadlineState = Field(
        description="overdue, due_soon, met; pending (more than 2 days left) or closed "
        "(cancelled before a start, in time).",
        examples=["met"],
    )
    started_on: date | None = Field(description="The first meeting, if reported.")
    postponed_by: PostponedBy | None = Field(
        description="Who postponed the start, when a postponement set the deadline in force."
    )
    kommune_glns: list[str] = Field(description="The kommune(s) whose deadline it is.")

    @classmethod
    def of(cls, view: "DeadlineView") -> "DeadlineOut":
        return cls(
            legal_deadline=view.legal_deadline,
            deadline=view.deadline,
            state=view.state,
            started_on=view.started_on,
            postponed_by=view.postponed_by,
            kommune_glns=list(view.responsible_glns),
        )


class TimelineEntry(BaseModel):
    """One notice about the plan."""

    message_id: str
    type: str = Field(description="The notice type.", examples=["started"])
    sender_gln: str = Field(examples=["5790000121441"])
    created_at: datetime
    notice: dict[str, Any] = Field(description="The notice as submitted.")

    @classmethod
    def of(cls, notice: "orm.Message") -> "TimelineEntry":
        return cls(
            message_id=notice.message_id,
            type=str(notice.body["type"]),
            sender_gln=notice.sender_gln,
            created_at=notice.created_at,
            notice=notice.body,
        )


class PlanCourseFields(BaseModel):
    """What a plan's readers see of its course (plans only)."""

    business_status: BusinessStatusOut | None = Field(
        default=None, description="Plans: the latest state of the course with its date."
    )
    deadline_status: DeadlineOut | None = Field(
        default=None, description="Plans: the start deadline in force and where it stands."
    )
    timeline: list[TimelineEntry] | None = Field(
        default=None, description="Plans: every notice about the plan, oldest first."
    )

    def with_course(self, status: "PlanStatus | None") -> Self:
        if status is None:
            return self
        return self.model_copy(
            update={
                "business_status": BusinessStatusOut.of(status.business_status),
                "deadline_status": DeadlineOut.of(status.deadline),
                "timeline": [TimelineEntry.of(n) for n in status.timeline],
            }
        )


class MessageOut(PlanCourseFields):
    """Tracking of one message: the sender sees every delivery, a receiver its own."""

    message_id: str = Field(examples=["5d0c1a52-8a5b-4a59-9f57-2b7f1d3b8f0e"])
    letter_id: str = Field(examples=["OUH2026112001"])
    type: str = Field(description="plan, notice, letter or receipt.", examples=["plan"])
    sender_gln: str = Field(examples=["5790001354145"])
    created_at: datetime
    thread_id: str = Field(
        description="The conversation the message belongs to: the message_id of its first "
        "message (`GET /v1/threads/{thread_id}`)."
    )
    deliveries: list[DeliveryOut]
    plan_type: str | None = Field(default=None, description="Plans: the plan type.")
    discharge_date: date | None = Field(default=None, description="Plans: discharge date.")
    deadline: date | None = Field(
        default=None, description="Plans: latest day of the kommune's first contact."
    )

    @classmethod
    def of(cls, message: "orm.Message", deliveries: "list[orm.Delivery]") -> "MessageOut":
        """The tracking view of a message with the deliveries the caller may see."""
        return MessageOut(
            message_id=message.message_id,
            letter_id=message.letter_id,
            type=message.type,
            sender_gln=message.sender_gln,
            created_at=message.created_at,
            thread_id=message.thread_id,
            deliveries=[
                DeliveryOut.of(d, message.letter_id)
                for d in sorted(deliveries, key=_delivery_order)
            ],
            plan_type=message.plan_type,
            discharge_date=message.discharge_date,
            deadline=message.first_contact_deadline,
        )


_ROLE_ORDER = {role: i for i, role in enumerate(DeliveryRole)}


def _delivery_order(delivery: "orm.Delivery") -> tuple[int, str]:
    # The primary receiver first, then the copies, the same on every read.
    return _ROLE_ORDER.get(DeliveryRole(delivery.role), len(_ROLE_ORDER)), delivery.receiver_gln


class SubmissionOut(MessageOut):
    """The answer to a submission: 201 for a new message, 200 for a repeated one."""

    warnings: list[Remark] = Field(
        description="Accepted, but worth a look: e.g. an informational EAN with a bad check "
        "digit, or a deadline assumed because the XML did not state one."
    )

    @classmethod
    def of_submission(cls, message: "orm.Message", warnings: list[FieldError]) -> "SubmissionOut":
        """The answer for a stored (or repeated) message: every delivery, and the warnings."""
        tracking = MessageOut.of(message, list(message.deliveries))
        return cls(**dict(tracking), warnings=[Remark.of(w) for w in warnings])


class MessagePage(BaseModel):
    items: list[MessageOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class MessageSearch(BaseModel):
    """Body of POST /v1/messages/search: the filters of `GET /v1/messages`, in the body so
    that a CPR number never appears in a URL (proxies and access logs record URLs). Every
    filter is optional; together they narrow the list."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"patient_cpr": "2512484916", "direction": "received", "limit": 50}]
        },
    )

    direction: Direction | None = Field(default=None, description="Sent or received only.")
    type: MessageType | None = Field(default=None, description="Only this message type.")
    status: DeliveryStatus | Literal["ack_overdue"] | None = Field(
        default=None,
        description="Only messages with a delivery (of yours, if received) in this status, "
        "or flagged `ack_overdue`: a receipt was asked for and has not come in time.",
    )
    patient_cpr: str | None = Field(
        default=None,
        description="Only this patient's messages (10 digits, a hyphen after the 6th is "
        "allowed). The search is audited; the number is never logged.",
        examples=["2512484916"],
    )
    since: IsoDateTime | None = Field(default=None, description="Created at or after.")
    cursor: str | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: int = Field(default=50, ge=1, le=200, description="Messages per page.")


class AuditSearch(BaseModel):
    """Body of POST /v1/audit/search: whose patient's trail, in the body so that the CPR
    number never appears in a URL."""

    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"patient_cpr": "2512484916"}]}
    )

    patient_cpr: str = Field(
        description="The patient (10 digits, a hyphen after the 6th is allowed).",
        examples=["2512484916"],
    )
    cursor: str | None = Field(default=None, description="`next_cursor` of the previous page.")
    limit: int = Field(default=100, ge=1, le=500, description="Events per page.")


class AuditEventOut(BaseModel):
    """One event of the audit trail: who (key and organisation) did what, when, to which
    message or delivery of the patient."""

    at: datetime
    action: str = Field(examples=["plan.read"])
    actor_key_id: str
    actor_gln: str | None
    message_id: str | None
    delivery_id: str | None
    request_id: str | None


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_cursor: str | None


class PlanOut(PlanCourseFields):
    """A plan as submitted, with its message metadata."""

    message_id: str
    letter_id: str
    sender_gln: str
    created_at: datetime
    plan: Plan


class LetterOut(BaseModel):
    """A correspondence letter as submitted, with its message metadata."""

    message_id: str
    letter_id: str
    thread_id: str
    sender_gln: str = Field(examples=["5790001354145"])
    created_at: datetime
    letter: Letter

    @classmethod
    def of(cls, message: "orm.Message") -> "LetterOut":
        return cls(
            message_id=message.message_id,
            letter_id=message.letter_id,
            thread_id=message.thread_id,
            sender_gln=message.sender_gln,
            created_at=message.created_at,
            # Stored, so checked when it came in: an XDIS91 letter's blocks as written.
            letter=Letter.model_validate(message.body, context=AS_WRITTEN),
        )


class ThreadMessageOut(BaseModel):
    """One message of a thread: who wrote to whom, when, and what (as submitted)."""

    message_id: str
    letter_id: str
    type: str = Field(description="plan, notice or letter.", examples=["letter"])
    sender_gln: str = Field(examples=["5790001354145"])
    receiver_glns: list[str] = Field(
        description="The receivers the caller may see: all for its sender, else the caller."
    )
    created_at: datetime
    content: dict[str, Any] = Field(
        description="The message as submitted: a letter, a notice or a plan body."
    )


class ThreadOut(BaseModel):
    thread_id: str
    messages: list[ThreadMessageOut] = Field(description="Oldest first.")


class DeadlineRowOut(BaseModel):
    """A plan and its start deadline (api.md, deadline row)."""

    message_id: str = Field(description="The plan.")
    patient_cpr: str | None = Field(examples=["2512484916"])
    patient_alternative_id: str | None = None
    receiver_gln: str = Field(
        description="The kommune whose deadline it is (after a transfer: the new kommune).",
        examples=["5790000121441"],
    )
    municipality_code: str | None = Field(examples=["461"])
    discharge_date: date | None
    legal_deadline: date | None = Field(description="The plan's first-contact deadline.")
    deadline: date = Field(description="In force: moved by a postponement or a transfer.")
    state: DeadlineState = Field(examples=["overdue"])
    started_on: date | None = Field(description="The first meeting, if reported.")

    @classmethod
    def of(cls, row: "DeadlineRow") -> "DeadlineRowOut":
        plan = row.plan
        patient = plan.body["patient"]
        assert plan.deadline is not None
        return cls(
            message_id=plan.message_id,
            patient_cpr=patient.get("cpr"),
            patient_alternative_id=patient.get("alternative_id"),
            receiver_gln=row.kommune_gln,
            municipality_code=plan.municipality_code,
            discharge_date=plan.discharge_date,
            legal_deadline=plan.first_contact_deadline,
            deadline=plan.deadline,
            state=row.state,
            started_on=plan.started_on,
        )


class DeadlinePage(BaseModel):
    items: list[DeadlineRowOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class RenderedDocumentOut(BaseModel):
    receiver_gln: str = Field(examples=["5790000121441"])
    role: str = Field(examples=["primary"])
    format: str = Field(examples=["GGOP"])
    xml: str = Field(description="The document the receiver would get (ISO-8859-1 declared).")


class PlanValidation(BaseModel):
    valid: bool = Field(description="Always true here; an invalid plan answers 422.")
    documents: list[RenderedDocumentOut]
    warnings: list[Remark]


class InboxItem(BaseModel):
    delivery_id: str
    message_id: str
    type: str = Field(examples=["plan"])
    sender_gln: str = Field(examples=["5790001354145"])
    letter_id: str = Field(examples=["OUH2026112001"])
    envelope_id: str
    role: str = Field(examples=["primary"])
    format: str = Field(examples=["GGOP"])
    status: str = Field(examples=["available"])
    created_at: datetime
    xml: str = Field(
        description="The MedCom document as text. Its declaration names ISO-8859-1, the "
        "encoding of the original bytes, which `GET /v1/inbox/{delivery_id}` with "
        "`Accept: application/xml` returns unchanged."
    )

    @classmethod
    def of(cls, entry: "InboxEntry") -> "InboxItem":
        """The inbox view of a delivery."""
        return cls(
            delivery_id=entry.delivery_id,
            message_id=entry.message_id,
            type=entry.type,
            sender_gln=entry.sender_gln,
            letter_id=entry.letter_id,
            envelope_id=entry.envelope_id,
            role=entry.role,
            format=entry.format,
            status=entry.status,
            created_at=entry.created_at,
            xml=entry.xml.decode("iso-8859-1"),
        )


class AckIn(BaseModel):
    """A receiver's answer to a delivery (MedCom receipt, formats.md §6)."""

    model_config = ConfigDict(extra="forbid")

    result: Literal["positive", "negative"] = Field(
        description="positive: an XCTL03 receipt; negative: an XCTL02 receipt, which needs "
        "`refuse_code`.",
        examples=["positive"],
    )
    refuse_code: RefuseCode | None = Field(
        default=None, description="Why the letter is refused (negative only)."
    )
    refuse_text: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_REFUSE_TEXT,
        description="Free text for the sender; a line break becomes MedCom's <Break/>.",
        examples=["Vi modtager kun genoptræningsplaner som GGOP eller XD9134L."],
    )

    @property
    def kind(self) -> ReceiptKind:
        """The receipt this answer makes."""
        return ReceiptKind.POSITIVE if self.result == "positive" else ReceiptKind.NEGATIVE


class ReceiptOut(MessageOut):
    """A receipt message: what it says and where it went (the original sender's inbox)."""

    kind: str = Field(examples=["positive"])
    original_envelope_id: str
    original_sender_gln: str
    original_receiver_gln: str
    original_letter_ids: list[str]

    @classmethod
    def of_receipt(cls, receipt: "orm.Message") -> "ReceiptOut":
        """The receipt with its delivery to the original sender."""
        body = receipt.body
        tracking = MessageOut.of(receipt, list(receipt.deliveries))
        return cls(
            **dict(tracking),
            kind=body["kind"],
            original_envelope_id=body["original_envelope_id"],
            original_sender_gln=body["original_sender"],
            original_receiver_gln=body["original_receiver"],
            original_letter_ids=[letter["letter_id"] for letter in body["original_letters"]],
        )


class AckOut(BaseModel):
    """The acknowledged delivery and the receipt sent for it."""

    delivery: DeliveryOut
    receipt: ReceiptOut | None = Field(
        description="The receipt sent to the original sender; null when a receipt itself was "
        "acknowledged (receipts are never receipted)."
    )


class InboxPage(BaseModel):
    items: list[InboxItem]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    database_revision: str = Field(examples=["0001_directory"])


_PROBLEM_DESCRIPTIONS = {
    401: "No API key, or an unknown or revoked one.",
    403: "The key may not do this.",
    404: "No such resource (or none the caller may see).",
    409: "The request conflicts with what is stored.",
    413: "The body is larger than SEKTORBRO_MAX_BODY_BYTES.",
    415: "The body is not in a media type this endpoint takes.",
    422: "The request breaks a rule; `errors` names each field and rule.",
    503: "The service cannot serve requests yet.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """The `responses=` entries documenting these problem statuses in OpenAPI."""
    # The schema lands under application/json here; app/main.py moves it to
    # application/problem+json, the media type errors are sent in.
    return {
        status: {"model": Problem, "description": _PROBLEM_DESCRIPTIONS[status]}
        for status in statuses
    }

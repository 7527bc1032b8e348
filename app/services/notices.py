"""Rehabilitation notices: read one, check it against the plan's history, route it and deliver
it as an XDIS91 letter with a Danish subject and text, and keep the plan's deadline up to date;
all in the caller's transaction.

- `rehabilitation_need` (hospital, R37): to the patient's kommune, with a copy to the GP given.
- about a plan (kommune, R34): to the plan's sender and its result receivers (GGOP
  `ResultReceiver`). A `transferred` notice also delivers the plan to the new kommune.

Notices are stored structured (the body as submitted) for the plan's timeline and deadline.
"""

import logging
from datetime import datetime, timedelta
from functools import cache

from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from app import orm
from app.domain.deadlines import business_status, deadline
from app.domain.letters import Letter, LetterPatient
from app.domain.messages import (
    DeliveryRole,
    MessageType,
    content_hash,
    new_envelope_id,
    new_letter_id,
    patient_reference,
)
from app.domain.notices import (
    CLOSING,
    Notice,
    NoticeRecord,
    PlanNotice,
    RehabilitationNeed,
    Transferred,
    check_notice,
    notice_letter,
    timeline,
)
from app.domain.organisation import MessageFormat, OrganisationKind
from app.domain.plan import STORED, Patient, Plan
from app.domain.rules import text_warnings
from app.errors import FieldError, Forbidden, ValidationFailed, field_errors
from app.repositories import DirectoryEntry, MessageRepository, OrganisationRepository
from app.services import audit
from app.services.context import RequestContext
from app.services.courses import PlanCourse, plan_course
from app.services.deliveries import Submission, first_copy, first_transmission, new_message
from app.services.plans import deliver_plan_to
from app.services.routing import party_of
from app.xml import Envelope, XmlRenderer

__all__ = ["read_notice", "submit_notice"]

logger = logging.getLogger("sektorbro.notices")


@cache
def _notice_adapter() -> TypeAdapter[Notice]:
    return TypeAdapter(Notice)


def read_notice(body: bytes) -> Notice:
    """Reads a JSON notice; a 422 names every broken rule by its dotted path."""
    try:
        return _notice_adapter().validate_json(body)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc.errors(include_url=False))) from None


def submit_notice(
    session: Session, ctx: RequestContext, renderer: XmlRenderer, *, notice: Notice
) -> Submission:
    """Stores and delivers a notice, or answers the first copy of a duplicate (MedCom rule)."""
    sender = ctx.caller.organisation
    if sender is None:
        raise Forbidden("Notices are sent with an organisation's key, not an admin key.")
    repository = MessageRepository(session)
    plan, course, content = None, None, None
    if isinstance(notice, RehabilitationNeed):
        if sender.kind != OrganisationKind.HOSPITAL:
            raise Forbidden("An early notice of rehabilitation need comes from a hospital (R37).")
        patient = notice.patient
    else:
        # Locked until the transaction ends: notices about one plan are checked one after the
        # other, each against the course as the one before left it.
        plan = _received_plan(ctx, repository.get_for_update(notice.plan_message_id))
        course = plan_course(session, plan)  # read before this notice's row is written
        content = Plan.model_validate(plan.body, context=STORED)
        patient = content.patient
    letter_id = notice.letter_id or new_letter_id()
    body = notice.model_dump(mode="json") | {"letter_id": letter_id}
    digest = content_hash(body)
    message = _message_row(ctx, notice, letter_id, body, digest, patient, plan)
    if course is not None:
        message.created_at = _received_after(course, ctx.now)
    # As for plans: the duplicate check comes before the rules and the routing, so a copy is
    # answered like the first even if the course or the directory changed since.
    if not repository.add_if_new(message):
        existing = repository.get_by_letter(sender_gln=sender.gln, letter_id=letter_id)
        assert existing is not None
        return first_copy(
            existing,
            type=MessageType.NOTICE,
            digest=digest,
            resubmit="A new notice needs a new letter_id.",
            warnings=[],
        )
    warnings = [FieldError(w.field, w.rule, w.message) for w in text_warnings(notice)]
    if plan is None or course is None:
        assert isinstance(notice, RehabilitationNeed)
        receivers = _need_receivers(session, notice)
        facts = None
    else:
        assert not isinstance(notice, RehabilitationNeed)
        _apply(session, ctx, renderer, plan, course, notice, received_at=message.created_at)
        assert content is not None
        receivers, receiver_warnings = _plan_notice_receivers(
            session, plan, content.result_receivers
        )
        warnings += receiver_warnings
        facts = course.facts
    subject, text = notice_letter(notice, facts)
    message.deliveries = [
        _delivery(ctx, renderer, message, letter_id, sender, receiver, role, patient, subject, text)
        for receiver, role in receivers
    ]
    repository.add_deliveries(message.deliveries)
    audit.record(session, ctx, "notice.submitted", messages=[message])
    return Submission(message, created=True, warnings=warnings)


def _received_after(course: PlanCourse, now: datetime) -> datetime:
    """When the notice counts as received: now, or just after the plan's latest notice.

    A plan's timeline is in the order its notices came in (their created_at). They are applied
    one after the other (the plan's row is locked), but a request keeps the time it started,
    so one that waited for the lock behind a later request must still come after it.
    """
    latest = max((record.created_at for record in course.records), default=None)
    if latest is None or now > latest:
        return now
    return latest + timedelta(microseconds=1)


def _received_plan(ctx: RequestContext, plan: orm.Message | None) -> orm.Message:
    # A kommune reports on a plan it received; any other message id is unknown to it.
    gln = ctx.caller.organisation_gln
    if (
        plan is None
        or plan.type != MessageType.PLAN
        or not any(d.receiver_gln == gln for d in plan.deliveries)
    ):
        raise ValidationFailed(
            [
                FieldError(
                    "plan_message_id",
                    "plan_unknown",
                    "A notice reports on a plan you received; no such plan is among your messages.",
                )
            ]
        )
    return plan


def _apply(
    session: Session,
    ctx: RequestContext,
    renderer: XmlRenderer,
    plan: orm.Message,
    course: PlanCourse,
    notice: PlanNotice,
    *,
    received_at: datetime,
) -> None:
    """Checks the notice against the course so far and brings the plan's deadline up to
    date; a transfer also delivers the plan to the new kommune."""
    sender_gln = ctx.caller.organisation_gln
    assert sender_gln is not None
    violations = check_notice(notice, course.facts, course.records, sender_gln, today=ctx.today)
    if violations:
        raise ValidationFailed([FieldError(v.field, v.rule, v.message) for v in violations])
    if isinstance(notice, Transferred):
        kommune = OrganisationRepository(session).get(notice.to_gln)
        if kommune is None or not kommune.is_active or kommune.kind != OrganisationKind.KOMMUNE:
            raise ValidationFailed(
                [
                    FieldError(
                        "to_gln",
                        "transfer_to_unknown_kommune",
                        "A plan is transferred to an active kommune of the directory.",
                    )
                ]
            )
        deliver_plan_to(session, ctx, renderer, plan=plan, kommune=kommune)
        plan.transferred_to = kommune.gln
    record = NoticeRecord.from_notice(notice, sender_gln=sender_gln, created_at=received_at)
    history = [*course.records, record]
    view = deadline(course.facts, history, today=ctx.today)
    plan.deadline = view.deadline
    plan.started_on = view.started_on
    closing = [r for r in timeline(history) if r.type in CLOSING]
    plan.closed_on = closing[0].reported_on if closing else None
    logger.info("plan %s is now %s", plan.message_id, business_status(course.facts, history).state)


def _need_receivers(
    session: Session, notice: RehabilitationNeed
) -> list[tuple[DirectoryEntry, DeliveryRole]]:
    # R37: the patient's kommune, and a copy to the GP, each as an XDIS91 letter.
    glns = {notice.gp_gln} if notice.gp_gln else set()
    directory, kommune = OrganisationRepository(session).get_many_and_kommune(
        glns, municipality_code=notice.patient.municipality_code
    )
    errors = []
    if kommune is None:
        errors.append(
            FieldError(
                "patient.municipality_code",
                "kommune_not_registered",
                "No kommune in the directory receives messages for this kommunekode.",
            )
        )
    elif MessageFormat.XDIS91 not in kommune.accepts:
        errors.append(_no_xdis91("patient.municipality_code"))
    receivers = [(kommune, DeliveryRole.PRIMARY)] if kommune else []
    if notice.gp_gln:
        gp = directory.get(notice.gp_gln)
        if gp is None or not gp.is_active:
            errors.append(
                FieldError(
                    "gp_gln",
                    "receiver_unknown",
                    "No active organisation with this GLN is in the directory.",
                )
            )
        elif MessageFormat.XDIS91 not in gp.accepts:
            errors.append(_no_xdis91("gp_gln"))
        elif kommune is None or gp.gln != kommune.gln:  # one delivery per receiver, as for plans
            receivers.append((gp, DeliveryRole.GP_COPY))
    if errors:
        raise ValidationFailed(errors)
    return [(org, role) for org, role in receivers if org is not None]


def _plan_notice_receivers(
    session: Session, plan: orm.Message, result_receivers: list[str]
) -> tuple[list[tuple[DirectoryEntry, DeliveryRole]], list[FieldError]]:
    """The plan's sender and its result receivers (R34); one that cannot take an XDIS91 letter
    is left out with a warning, since the kommune cannot change the plan's receivers."""
    directory = OrganisationRepository(session).get_many({plan.sender_gln, *result_receivers})
    wanted = [(plan.sender_gln, DeliveryRole.PRIMARY)] + [
        (gln, DeliveryRole.RESULT_RECEIVER) for gln in result_receivers if gln != plan.sender_gln
    ]
    receivers, warnings = [], []
    for gln, role in wanted:
        organisation = directory.get(gln)
        if organisation is None or not organisation.is_active:
            warnings.append(
                FieldError(
                    "plan_message_id",
                    "result_receiver_unreachable",
                    f"The plan names {gln} to receive notices, but it is not an active "
                    "organisation of the directory; it was not sent a copy.",
                )
            )
        elif MessageFormat.XDIS91 not in organisation.accepts:
            warnings.append(
                FieldError(
                    "plan_message_id",
                    "result_receiver_unreachable",
                    f"The plan names {gln} to receive notices, but it takes no XDIS91 "
                    "letters; it was not sent a copy.",
                )
            )
        else:
            receivers.append((DirectoryEntry.of(organisation), role))
    return receivers, warnings


def _no_xdis91(field: str) -> FieldError:
    return FieldError(
        field,
        "receiver_does_not_take_xdis91",
        "This organisation takes no XDIS91 correspondence letters, which notices are delivered as.",
    )


def _delivery(
    ctx: RequestContext,
    renderer: XmlRenderer,
    message: orm.Message,
    letter_id: str,
    sender: DirectoryEntry,
    receiver: DirectoryEntry,
    role: DeliveryRole,
    patient: Patient,
    subject: str,
    text: str,
) -> orm.Delivery:
    letter = Letter(
        receiver_gln=receiver.gln,
        patient=LetterPatient(
            cpr=patient.cpr,
            alternative_id=patient.alternative_id,
            given_name=patient.given_name,
            surname=patient.surname,
        ),
        subject=subject,
        text_blocks=[text],
    )
    envelope = Envelope(envelope_id=new_envelope_id(), sent_at=ctx.now)
    xml = renderer.render_letter(
        letter,
        letter_id=letter_id,
        envelope=envelope,
        sender=party_of(sender),
        receiver=party_of(receiver),
        authorised_at=ctx.now,
    )
    return first_transmission(
        message_id=message.message_id,
        receiver_gln=receiver.gln,
        role=role,
        format=MessageFormat.XDIS91,
        envelope_id=envelope.envelope_id,
        ack_requested=True,
        xml=xml,
        now=ctx.now,
    )


def _message_row(
    ctx: RequestContext,
    notice: Notice,
    letter_id: str,
    body: dict[str, object],
    digest: str,
    patient: Patient,
    plan: orm.Message | None,
) -> orm.Message:
    sender = ctx.caller.organisation
    assert sender is not None
    return new_message(
        type=MessageType.NOTICE,
        sender_gln=sender.gln,
        letter_id=letter_id,
        body=body,
        digest=digest,
        patient_ref=patient_reference(
            ctx.patient_key, cpr=patient.cpr, alternative_id=patient.alternative_id
        ),
        now=ctx.now,
        # A plan's notices join its thread: the hospital and the GP read one timeline.
        thread_id=plan.thread_id if plan else None,
        plan_message_id=plan.message_id if plan else None,
    )

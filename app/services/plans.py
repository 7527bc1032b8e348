"""Genoptræningsplaner: read one from JSON or GGOP XML, check it, route it, render one document
per receiver, and store the message with its deliveries, all in the caller's transaction.

A plan may only be sent in the caller's own name, and only by a hospital (sundhedsloven §84:
the region's hospitals write the plans).
"""

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date

from pydantic import ValidationError
from sqlalchemy.orm import Session

from app import orm
from app.domain.messages import (
    DeliveryRole,
    MessageType,
    content_hash,
    new_envelope_id,
    patient_reference,
)
from app.domain.organisation import MessageFormat, OrganisationKind
from app.domain.plan import STORED, Plan
from app.domain.rules import plan_warnings
from app.errors import FieldError, Forbidden, NotFound, ValidationFailed, field_errors, located
from app.repositories import DirectoryEntry, MessageRepository, OrganisationRepository
from app.services import audit
from app.services.context import RequestContext
from app.services.courses import PlanStatus, plan_status
from app.services.deliveries import Submission, first_copy, first_transmission, new_message
from app.services.messages import is_party
from app.services.routing import PlanRouting, Route, best_format, party_of, route_plan
from app.xml import (
    Envelope,
    PlanParties,
    PlanTooLongForXdis91,
    XmlRenderer,
    XsdRegistry,
    parse_ggop,
    xpath_for,
)

__all__ = [
    "PlanInput",
    "RenderedDocument",
    "RenderedPlan",
    "deliver_plan_to",
    "get_plan",
    "plan_document",
    "read_plan_json",
    "read_plan_xml",
    "submit_plan",
    "validate_plan",
]


@dataclass(frozen=True, slots=True)
class PlanInput:
    """A plan read from the body, the remarks made while reading it, and how to name a field
    in the caller's own notation (dotted JSON path, or XPath for XML input)."""

    plan: Plan
    warnings: list[FieldError]
    locate: Callable[[str], str]


@dataclass(frozen=True, slots=True)
class RenderedDocument:
    route: Route
    envelope: Envelope
    xml: bytes


@dataclass(frozen=True, slots=True)
class RenderedPlan:
    """Each receiver's document, and a warning for each copy left out."""

    documents: list[RenderedDocument]
    warnings: list[FieldError]

    def located(self, plan_input: PlanInput) -> "RenderedPlan":
        """The same, its warnings after the input's and in its notation (e.g. XPath)."""
        warnings = [replace(w, field=plan_input.locate(w.field)) for w in self.warnings]
        return RenderedPlan(self.documents, [*plan_input.warnings, *warnings])


def read_plan_json(body: bytes, *, today: date) -> PlanInput:
    """Reads a JSON plan; a 422 names every broken rule by its dotted path."""
    try:
        plan = Plan.model_validate_json(body, context={"today": today})
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc.errors(include_url=False))) from None
    if plan.function_before_admission is None:
        # R7a: the earlier functional ability is minimum content of a plan. (GGOP has no
        # element for it, so XML plans without it are accepted with a warning.)
        raise ValidationFailed(
            [
                FieldError(
                    "function_before_admission",
                    "function_before_admission_required",
                    "A plan describes the patient's functional ability before admission.",
                )
            ]
        )
    warnings = [FieldError(w.field, w.rule, w.message) for w in plan_warnings(plan, today=today)]
    return PlanInput(plan, warnings, locate=lambda field: field)


def read_plan_xml(body: bytes, *, today: date, schemas: XsdRegistry) -> PlanInput:
    """Reads a GGOP document, valid against the GGOP schema; a 422 names every broken rule by
    the XPath of its element, with the rule codes JSON gets."""
    parsed = parse_ggop(body, schemas=schemas)

    def locate(field: str) -> str:
        return xpath_for(parsed, tuple(int(p) if p.isdigit() else p for p in field.split(".")))

    try:
        plan = Plan.model_validate(parsed.data, context={"today": today})
    except ValidationError as exc:
        raise ValidationFailed(
            field_errors(exc.errors(include_url=False), lambda loc: xpath_for(parsed, loc))
        ) from None
    remarks = [
        FieldError(locate(w.field), w.rule, w.message) for w in plan_warnings(plan, today=today)
    ] + list(parsed.warnings)
    return PlanInput(plan, remarks, locate=locate)


def validate_plan(
    session: Session, ctx: RequestContext, renderer: XmlRenderer, *, plan_input: PlanInput
) -> RenderedPlan:
    """Checks, routes and renders a plan without storing or sending anything; the warnings are
    the input's and those about copies left out."""
    with located(plan_input.locate):
        sender = _sending_hospital(ctx, plan_input.plan)
        routing = route_plan(session, plan_input.plan)
        return _render(renderer, plan_input.plan, sender, routing, ctx).located(plan_input)


def submit_plan(
    session: Session, ctx: RequestContext, renderer: XmlRenderer, *, plan_input: PlanInput
) -> Submission:
    """Stores and delivers a plan, or answers the first copy of a duplicate (MedCom rule)."""
    plan = plan_input.plan
    body = plan.model_dump(mode="json")
    digest = content_hash(body)
    with located(plan_input.locate):
        sender = _sending_hospital(ctx, plan)
        message = _message_row(ctx, plan, body, digest)
        repository = MessageRepository(session)
        try:
            routing = route_plan(session, plan)
            rendered = _render(renderer, plan, sender, routing, ctx).located(plan_input)
        except ValidationFailed:
            # A copy of a stored plan is answered as the first even if it could no longer be
            # routed (the directory changed since).
            if (copy := _first_copy(repository, plan_input, digest)) is None:
                raise
            return copy
    message.deliveries = _deliveries(ctx, message, rendered.documents)
    events = audit.events(ctx, "plan.submitted", messages=[message])
    if not repository.add_delivered(message, message.deliveries, events):
        # The unique constraint on (sender, letter id) kept this copy out, also against a
        # concurrent one: the first copy is committed and visible now.
        copy = _first_copy(repository, plan_input, digest)
        assert copy is not None
        return copy
    return Submission(message, created=True, warnings=rendered.warnings)


def _first_copy(
    repository: MessageRepository, plan_input: PlanInput, digest: str
) -> Submission | None:
    """The answer to a plan whose sender already used its letter id (MedCom: the same letter),
    or None if it did not."""
    plan = plan_input.plan
    existing = repository.get_by_letter(sender_gln=plan.sender.gln, letter_id=plan.letter_id)
    if existing is None:
        return None
    return first_copy(
        existing,
        type=MessageType.PLAN,
        digest=digest,
        resubmit="A changed plan needs a new letter_id (MedCom: a modified letter is a new "
        "letter).",
        warnings=plan_input.warnings,
    )


def deliver_plan_to(
    session: Session,
    ctx: RequestContext,
    renderer: XmlRenderer,
    *,
    plan: orm.Message,
    kommune: orm.Organisation,
) -> None:
    """Delivers a stored plan to another kommune, which takes it over (a `transferred`
    notice, R30), rendered with that kommune as its receiver."""
    if any(d.receiver_gln == kommune.gln for d in plan.deliveries):
        return  # it has the plan already (e.g. transferred back)
    content = Plan.model_validate(plan.body, context=STORED)
    sender = OrganisationRepository(session).get(plan.sender_gln)
    assert sender is not None
    routing = route_plan(session, content)
    message_format = best_format(kommune)
    if message_format is None:
        raise ValidationFailed(
            [
                FieldError(
                    "to_gln",
                    "receiver_takes_no_plans",
                    "This kommune takes neither GGOP nor XDIS91, so the plan cannot be "
                    "delivered to it.",
                )
            ]
        )
    new_kommune = DirectoryEntry.of(kommune)
    transferred = PlanRouting(
        primary=new_kommune,
        gp=routing.gp,
        chosen_hospital=routing.chosen_hospital,
        cc=routing.cc,
        result_receivers=routing.result_receivers,
        routes=[Route(new_kommune, DeliveryRole.PRIMARY, message_format)],
    )
    # Written with Core like every delivery (repositories/rows.py), not added to the loaded
    # plan's collection, which would insert them a second time.
    # Only the new kommune is routed here, and its refusal is a 422: no copy is left out.
    rendered = _render(renderer, content, sender, transferred, ctx)
    deliveries = _deliveries(ctx, plan, rendered.documents)
    MessageRepository(session).add_deliveries(deliveries)


def get_plan(
    session: Session, ctx: RequestContext, *, message_id: str
) -> tuple[orm.Message, PlanStatus]:
    """A plan the caller sent or received, with its course so far; reading it is audited."""
    message = _visible_plan(session, ctx, message_id)
    audit.record(session, ctx, "plan.read", messages=[message])
    return message, plan_status(session, ctx, message)


def plan_document(session: Session, ctx: RequestContext, *, message_id: str) -> bytes:
    """The plan's XML as the caller received it, or, for its sender, as the kommune did."""
    message = _visible_plan(session, ctx, message_id)
    own = [d for d in message.deliveries if d.receiver_gln == ctx.caller.organisation_gln]
    primary = [d for d in message.deliveries if d.role == DeliveryRole.PRIMARY]
    delivery = (own or primary)[0]
    audit.record(session, ctx, "plan.read_xml", deliveries=[(message, delivery)])
    return delivery.xml


def _sending_hospital(ctx: RequestContext, plan: Plan) -> DirectoryEntry:
    sender = ctx.caller.organisation
    if sender is None:
        raise Forbidden("Plans are sent with an organisation's key, not an admin key.")
    if plan.sender.gln != sender.gln:
        raise Forbidden(
            "A plan may only be sent in the caller's own name: sender.gln must be "
            "the GLN of the key's organisation."
        )
    if sender.kind != OrganisationKind.HOSPITAL:
        raise Forbidden("Only hospitals send genoptræningsplaner (sundhedsloven §84).")
    return sender


def _render(
    renderer: XmlRenderer,
    plan: Plan,
    sender: orm.Organisation | DirectoryEntry,
    routing: PlanRouting,
    ctx: RequestContext,
) -> RenderedPlan:
    """One document per route. Each receiver is rendered on its own: a copy that its format
    cannot carry is left out with a warning; only the primary receiver, the kommune that
    provides the rehabilitation, refuses the plan when it cannot get it."""
    parties = PlanParties(
        sender=party_of(sender),
        receiver=party_of(routing.primary),
        gp=party_of(routing.gp) if routing.gp else None,
        cc=[party_of(org) for org in routing.cc],
        result_receivers=[party_of(org) for org in routing.result_receivers],
    )
    documents = []
    warnings = []
    for route in routing.routes:
        envelope = Envelope(envelope_id=new_envelope_id(), sent_at=ctx.now)
        if route.format == MessageFormat.GGOP:
            xml = renderer.render_ggop(plan, envelope=envelope, parties=parties)
        else:
            try:
                xml = renderer.render_plan_as_xdis91(
                    plan, envelope=envelope, parties=parties, receiver=party_of(route.organisation)
                )
            except PlanTooLongForXdis91 as too_long:
                if route.role == DeliveryRole.PRIMARY:
                    raise ValidationFailed([_too_long_for_primary(plan, route, too_long)]) from None
                warnings.append(_copy_left_out(plan, route, too_long))
                continue
        documents.append(RenderedDocument(route, envelope, xml))
    return RenderedPlan(documents, warnings)


def _receiver_field(plan: Plan, route: Route) -> str:
    """The dotted field of `plan` that names the receiver of `route`."""
    gln = route.organisation.gln
    if route.role == DeliveryRole.PRIMARY:
        return "receiver_gln" if plan.receiver_gln else "patient.municipality_code"
    if route.role == DeliveryRole.GP_COPY:
        return "gp.gln"
    if route.role == DeliveryRole.CHOSEN_HOSPITAL:
        return "chosen_hospital_gln"
    for name, glns in (
        ("cc_receivers", plan.cc_receivers),
        ("result_receivers", plan.result_receivers),
    ):
        if gln in glns:
            return f"{name}.{glns.index(gln)}"
    return "body"


def _too_long_text(route: Route, too_long: PlanTooLongForXdis91) -> str:
    organisation = route.organisation
    return (
        f"{organisation.name} ({organisation.gln}) takes only XDIS91, and the plan as an XDIS91 "
        f"letter has {too_long.size} characters of text (a line break counts as one), which "
        f"take {too_long.blocks_needed} text blocks; XDIS91 carries at most "
        f"{too_long.limit} characters, {too_long.max_blocks} blocks of {too_long.block_limit}."
    )


def _too_long_for_primary(plan: Plan, route: Route, too_long: PlanTooLongForXdis91) -> FieldError:
    return FieldError(
        _receiver_field(plan, route),
        "plan_too_long_for_xdis91",
        f"The kommune cannot get this plan: {_too_long_text(route, too_long)} Shorten the "
        "plan's free texts, or send the plan with shorter texts and the rest to the kommune as "
        "a correspondence letter (POST /v1/letters).",
    )


def _copy_left_out(plan: Plan, route: Route, too_long: PlanTooLongForXdis91) -> FieldError:
    return FieldError(
        _receiver_field(plan, route),
        "copy_too_long_for_xdis91",
        f"The copy ({route.role}) was left out; the kommune and the other receivers get the "
        f"plan. {_too_long_text(route, too_long)} Deselect the copy, or send this receiver "
        "the rest as a correspondence letter (POST /v1/letters), or shorten the plan's free "
        "texts.",
    )


def _message_row(
    ctx: RequestContext, plan: Plan, body: dict[str, object], digest: str
) -> orm.Message:
    message = new_message(
        type=MessageType.PLAN,
        sender_gln=plan.sender.gln,
        letter_id=plan.letter_id,
        body=body,
        digest=digest,
        patient_ref=patient_reference(
            ctx.patient_key, cpr=plan.patient.cpr, alternative_id=plan.patient.alternative_id
        ),
        now=ctx.now,
    )
    message.plan_type = plan.plan_type
    message.municipality_code = plan.patient.municipality_code
    message.discharge_date = plan.discharge_date
    message.first_contact_deadline = plan.first_contact_deadline
    # No notice yet: the deadline in force is the plan's own (R23).
    message.deadline = plan.first_contact_deadline
    return message


def _deliveries(
    ctx: RequestContext, message: orm.Message, documents: list[RenderedDocument]
) -> list[orm.Delivery]:
    return [
        first_transmission(
            message_id=message.message_id,
            receiver_gln=document.route.organisation.gln,
            role=document.route.role,
            format=document.route.format,
            envelope_id=document.envelope.envelope_id,
            ack_requested=document.envelope.acknowledgement_code == "pluspositivkvitt",
            xml=document.xml,
            now=ctx.now,
        )
        for document in documents
    ]


def _visible_plan(session: Session, ctx: RequestContext, message_id: str) -> orm.Message:
    message = MessageRepository(session).get(message_id)
    gln = ctx.caller.organisation_gln
    if message is None or message.type != MessageType.PLAN or not is_party(message, gln):
        # api.md: a message the caller may not see answers exactly like a missing one.
        raise NotFound("No plan with this message_id is visible to you.")
    return message

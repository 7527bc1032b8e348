"""Who receives a plan, and in which format (R28, formats.md §11).

- primary: the bopælskommune, i.e. the active kommune registered for the patient's
  kommunekode (sundhedsloven §140; the GGOP `Receiver`);
- gp_copy: the patient's own GP, unless the patient declined (GGOP `GPCCReceiver`);
- chosen_hospital: for specialised training, the hospital the patient chose, when it is not
  the writing hospital (R11, R28); the documents name it as a GGOP `CCReceiver`;
- cc: further copy receivers named in the plan;
- result receivers get no copy of the plan; they are kept for the kommune's later notices.

One delivery per receiver, each in the best format the receiver takes: GGOP, else XDIS91.
"""

from dataclasses import dataclass

from sqlalchemy.orm import Session

from app import orm
from app.domain.messages import DeliveryRole
from app.domain.organisation import MessageFormat, OrganisationKind
from app.domain.plan import Plan
from app.errors import FieldError, ValidationFailed
from app.repositories import DirectoryEntry, OrganisationRepository
from app.xml import Party

__all__ = ["PlanRouting", "Route", "best_format", "party_of", "route_letter", "route_plan"]


@dataclass(frozen=True, slots=True)
class Route:
    organisation: DirectoryEntry
    role: DeliveryRole
    format: MessageFormat


@dataclass(frozen=True, slots=True)
class PlanRouting:
    primary: DirectoryEntry
    gp: DirectoryEntry | None
    chosen_hospital: DirectoryEntry | None
    cc: list[DirectoryEntry]  # the copy receivers the documents name, the chosen hospital first
    result_receivers: list[DirectoryEntry]
    routes: list[Route]


def route_plan(session: Session, plan: Plan) -> PlanRouting:
    """The receivers of a plan, or a 422 naming every receiver field that does not resolve."""
    named = _named_receivers(plan)
    directory, primary = OrganisationRepository(session).get_many_and_kommune(
        {gln for _, gln in named}, municipality_code=plan.patient.municipality_code
    )
    errors = [error for field, gln in named if (error := _check_known(field, directory.get(gln)))]
    if primary is None:
        errors.append(
            FieldError(
                "patient.municipality_code",
                "kommune_not_registered",
                "No kommune in the directory receives plans for this kommunekode.",
            )
        )
    elif plan.receiver_gln in directory and plan.receiver_gln != primary.gln:
        errors.append(
            FieldError(
                "receiver_gln",
                "receiver_not_bopaelskommune",
                "The receiver must be the patient's bopælskommune, the kommune registered for "
                "patient.municipality_code.",
            )
        )
    chosen = directory.get(plan.chosen_hospital_gln) if plan.chosen_hospital_gln else None
    if chosen is not None and chosen.kind != OrganisationKind.HOSPITAL:
        errors.append(
            FieldError(
                "chosen_hospital_gln",
                "chosen_hospital_not_a_hospital",
                "The chosen hospital must be a hospital; this GLN belongs to another kind of "
                "organisation in the directory.",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    assert primary is not None

    gp = directory[plan.gp.gln] if plan.gp.gln else None
    if chosen is not None and chosen.gln == plan.sender.gln:
        chosen = None  # the training is at the writing hospital, which has the plan already
    named_cc = [directory[gln] for gln in plan.cc_receivers]
    wanted = [(primary, DeliveryRole.PRIMARY, "receiver_gln")]
    if gp is not None:
        wanted.append((gp, DeliveryRole.GP_COPY, "gp.gln"))
    if chosen is not None:
        wanted.append((chosen, DeliveryRole.CHOSEN_HOSPITAL, "chosen_hospital_gln"))
    wanted += [(org, DeliveryRole.CC, f"cc_receivers.{i}") for i, org in enumerate(named_cc)]
    routes, seen = [], set()
    for organisation, role, field in wanted:
        if organisation.gln in seen:
            continue  # one delivery per receiver, in its first role
        seen.add(organisation.gln)
        message_format = best_format(organisation)
        if message_format is None:
            errors.append(
                FieldError(
                    field,
                    "receiver_format_unsupported",
                    "The receiver takes neither GGOP nor XDIS91 letters.",
                )
            )
            continue
        routes.append(Route(organisation, role, message_format))
    if errors:
        raise ValidationFailed(errors)
    # GGOP has no element for the chosen hospital: every receiver's document names it as a
    # copy receiver (CCReceiver), once.
    cc = ([chosen] if chosen is not None else []) + [
        org for org in named_cc if chosen is None or org.gln != chosen.gln
    ]
    return PlanRouting(
        primary=primary,
        gp=gp,
        chosen_hospital=chosen,
        cc=cc,
        result_receivers=[directory[gln] for gln in plan.result_receivers],
        routes=routes,
    )


def route_letter(session: Session, *, field: str, gln: str) -> orm.Organisation:
    """The receiver of a correspondence letter (XDIS91, which has no copy receivers:
    formats.md §5), or a 422 naming `field`."""
    receiver = OrganisationRepository(session).get(gln)
    error = _check_known(field, receiver)
    if error is not None:
        raise ValidationFailed([error])
    assert receiver is not None
    if MessageFormat.XDIS91 not in receiver.accepts:
        raise ValidationFailed(
            [
                FieldError(
                    field,
                    "receiver_does_not_take_xdis91",
                    "This organisation takes no XDIS91 correspondence letters (see its "
                    "`accepts` in the directory).",
                )
            ]
        )
    return receiver


def party_of(organisation: orm.Organisation | DirectoryEntry) -> Party:
    """A directory entry as MedCom's Sender or Receiver shows it."""
    return Party(
        gln=organisation.gln,
        identifier=organisation.identifier,
        identifier_code=organisation.identifier_code,
        name=organisation.name,
        department=organisation.department,
        unit=organisation.unit,
        street=organisation.street,
        suburb=None,
        district=organisation.district,
        postcode=organisation.postcode,
        phone=organisation.phone,
    )


def _named_receivers(plan: Plan) -> list[tuple[str, str]]:
    named = [("receiver_gln", plan.receiver_gln)] if plan.receiver_gln else []
    if plan.gp.gln:
        named.append(("gp.gln", plan.gp.gln))
    if plan.chosen_hospital_gln:
        named.append(("chosen_hospital_gln", plan.chosen_hospital_gln))
    named += [(f"cc_receivers.{i}", gln) for i, gln in enumerate(plan.cc_receivers)]
    named += [(f"result_receivers.{i}", gln) for i, gln in enumerate(plan.result_receivers)]
    return named


def _check_known(
    field: str, organisation: orm.Organisation | DirectoryEntry | None
) -> FieldError | None:
    if organisation is None:
        return FieldError(
            field, "receiver_unknown", "No organisation with this GLN is in the directory."
        )
    if not organisation.is_active:
        return FieldError(
            field, "receiver_inactive", "This organisation is inactive and receives nothing."
        )
    return None


def best_format(organisation: orm.Organisation | DirectoryEntry) -> MessageFormat | None:
    """The format a plan is delivered in to this organisation, or None if it takes neither."""
    # GGOP keeps the plan's structure; XDIS91 is MedCom's down-conversion for receivers that
    # cannot take GGOP (formats.md §4.5).
    for message_format in (MessageFormat.GGOP, MessageFormat.XDIS91):
        if message_format in organisation.accepts:
            return message_format
    return None

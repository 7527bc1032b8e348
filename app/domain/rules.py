"""Rules that warn rather than reject: the message is accepted and the sender is told.

Warnings travel in the submission answer (`warnings`), each naming the field and the rule.
"""

from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel
from pydantic_core import PydanticCustomError

from app.domain.identifiers import check_gln
from app.domain.plan import Plan
from app.domain.text import fields_beyond_latin1

__all__ = ["RuleWarning", "plan_warnings", "text_warnings"]


@dataclass(frozen=True, slots=True)
class RuleWarning:
    field: str
    rule: str
    message: str


def plan_warnings(plan: Plan, *, today: date) -> list[RuleWarning]:
    """Everything about the plan a reader should check, though it does not stop it.

    `today` is the Danish calendar day the plan arrives (R23: dates in Europe/Copenhagen).
    """
    warnings = [
        RuleWarning(field, error.type, error.message())
        for field, ean in _informational_eans(plan)
        if (error := _gln_error(ean)) is not None
    ]
    if plan.function_before_admission is None:
        # R7a: the earlier functional ability belongs in every plan; GGOP has no element of its
        # own for it, so plans from XML may lack it.
        warnings.append(
            RuleWarning(
                "function_before_admission",
                "function_before_admission_missing",
                "The plan does not describe the patient's functional ability before admission.",
            )
        )
    if today > plan.discharge_date:
        # R11: the plan is handed to the patient, and sent to the kommune and the GP, no later
        # than discharge; a late plan is still delivered (the kommune's 7 days run from
        # discharge, R23), but the sender is told.
        warnings.append(
            RuleWarning(
                "discharge_date",
                "plan_after_discharge",
                "The plan arrives after the patient's discharge date. A plan is to be sent to "
                "the kommune and the GP no later than discharge; the kommune's deadline for a "
                "first contact still runs from the discharge date.",
            )
        )
    return warnings + text_warnings(plan)


def text_warnings(model: BaseModel) -> list[RuleWarning]:
    """A warning for each text that MedCom's ISO-8859-1 documents carry only as character
    references: every receiver's copy of a plan, letter or notice is ISO-8859-1."""
    return [
        RuleWarning(
            field,
            "character_beyond_latin1",
            "The text has characters outside ISO-8859-1 (Latin-1). Every receiver's document "
            "is ISO-8859-1 and carries them as numeric character references (such as "
            "'&#8364;'), which some receivers' systems show as written; use Latin-1 "
            "characters where you can.",
        )
        for field in fields_beyond_latin1(model)
    ]


def _informational_eans(plan: Plan) -> list[tuple[str, str]]:
    # Contact addresses and the ambulatory location are shown to people, never routed to, so a
    # mistyped EAN there is a warning (architecture.md: the public examples carry such EANs).
    found = []
    for field in ("contact_region", "contact_municipality"):
        ean = getattr(plan, field).ean
        if ean is not None:
            found.append((f"{field}.ean", ean))
    control = plan.ambulatory_control
    if control and control.location and control.location.ean is not None:
        found.append(("ambulatory_control.location.ean", control.location.ean))
    return found


def _gln_error(value: str) -> PydanticCustomError | None:
    try:
        check_gln(value)
    except PydanticCustomError as error:
        return error
    return None

"""Rules about a plan that warn rather than reject: the plan is accepted and the sender is told.

Warnings travel in the submission answer (`warnings`), each naming the field and the rule.
"""

from dataclasses import dataclass

from pydantic_core import PydanticCustomError

from app.domain.identifiers import check_gln
from app.domain.plan import Plan

__all__ = ["PlanWarning", "plan_warnings"]


@dataclass(frozen=True, slots=True)
class PlanWarning:
    field: str
    rule: str
    message: str


def plan_warnings(plan: Plan) -> list[PlanWarning]:
    """Everything about the plan a reader should check, though it does not stop it."""
    warnings = [
        PlanWarning(field, error.type, error.message())
        for field, ean in _informational_eans(plan)
        if (error := _gln_error(ean)) is not None
    ]
    if plan.function_before_admission is None:
        # R7a: the earlier functional ability belongs in every plan; GGOP has no element of its
        # own for it, so plans from XML may lack it.
        warnings.append(
            PlanWarning(
                "function_before_admission",
                "function_before_admission_missing",
                "The plan does not describe the patient's functional ability before admission.",
            )
        )
    return warnings


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

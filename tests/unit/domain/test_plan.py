"""app/domain/plan.py: the rules a plan's own content must keep."""

from typing import Any

import pytest
from pydantic import ValidationError

from app.domain.plan import Plan
from tests.factories import OTHER_HOSPITAL, plan_fields

Loc = tuple[str | int, ...]


def broken_rules(**overrides: Any) -> list[tuple[Loc, str]]:
    with pytest.raises(ValidationError) as caught:
        Plan.model_validate(plan_fields(**overrides))
    return [(error["loc"], error["type"]) for error in caught.value.errors()]


class TestOverallFunctionForRehabilitering:
    # R8: bekendtgørelse om genoptræningsplaner §2 stk. 3.

    def test_rehabilitering_without_the_overall_functional_ability_is_refused(self) -> None:
        assert broken_rules(plan_type="rehabilitering", level=None) == [
            (("function_at_discharge_extended",), "overall_function_required")
        ]

    def test_rehabilitering_with_it_is_valid(self) -> None:
        plan = Plan.model_validate(
            plan_fields(
                plan_type="rehabilitering",
                level=None,
                function_at_discharge_extended="Samlet funktionsevne ved udskrivelsen.",
            )
        )

        assert plan.function_at_discharge_extended is not None

    @pytest.mark.parametrize("plan_type", ["almen", "specialiseret"])
    def test_other_plan_types_may_leave_it_out(self, plan_type: str) -> None:
        plan = Plan.model_validate(plan_fields(plan_type=plan_type, level=None))

        assert plan.function_at_discharge_extended is None


class TestChosenHospital:
    # R3, R11, R28: only specialised training takes place at a hospital.

    def test_a_specialised_plan_may_name_it(self) -> None:
        plan = Plan.model_validate(
            plan_fields(plan_type="specialiseret", level=None, chosen_hospital_gln=OTHER_HOSPITAL)
        )

        assert plan.chosen_hospital_gln == OTHER_HOSPITAL

    @pytest.mark.parametrize(
        "extra",
        [
            {"plan_type": "almen"},
            {
                "plan_type": "rehabilitering",
                "level": None,
                "function_at_discharge_extended": "Samlet funktionsevne.",
            },
        ],
    )
    def test_other_plan_types_may_not(self, extra: dict[str, Any]) -> None:
        assert broken_rules(chosen_hospital_gln=OTHER_HOSPITAL, **extra) == [
            (("chosen_hospital_gln",), "chosen_hospital_requires_specialiseret")
        ]

    def test_its_gln_is_checked(self) -> None:
        assert broken_rules(
            plan_type="specialiseret", level=None, chosen_hospital_gln="5790009903018"
        ) == [(("chosen_hospital_gln",), "gln_check_digit")]

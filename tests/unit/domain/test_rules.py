"""app/domain/rules.py: what is warned about rather than refused."""

from datetime import date

import pytest

from app.domain.letters import Letter
from app.domain.plan import Plan
from app.domain.rules import plan_warnings, text_warnings
from tests.factories import make_letter, plan_fields

DISCHARGE = date(2026, 11, 20)


def make_plan(**overrides: object) -> Plan:
    return Plan.model_validate(plan_fields(**overrides), context={"today": DISCHARGE})


def rules(plan: Plan, *, today: date = DISCHARGE) -> list[tuple[str, str]]:
    return [(w.field, w.rule) for w in plan_warnings(plan, today=today)]


class TestPlanWarnings:
    def test_the_reference_plan_on_its_discharge_day_has_none(self) -> None:
        assert rules(make_plan()) == []

    def test_a_plan_the_day_after_discharge_is_late(self) -> None:
        # R11: the plan is sent no later than discharge.
        assert rules(make_plan(), today=date(2026, 11, 21)) == [
            ("discharge_date", "plan_after_discharge")
        ]

    def test_a_plan_before_discharge_is_not_late(self) -> None:
        assert rules(make_plan(), today=date(2026, 11, 19)) == []

    def test_a_text_outside_latin_1_is_named(self) -> None:
        plan = make_plan(practical_information="Ring på ☎ 66 11 11 11")

        assert rules(plan) == [("practical_information", "character_beyond_latin1")]


class TestTextWarnings:
    def test_latin_1_text_has_none(self) -> None:
        assert text_warnings(Letter.model_validate(make_letter())) == []

    @pytest.mark.parametrize(
        ("overrides", "field"),
        [
            ({"subject": "Smerter i hoften ✓"}, "subject"),
            ({"text_blocks": ["ok", "Dosis → 20 mg"]}, "text_blocks.1"),
            ({"text_blocks": [[{"text": "ok "}, {"text": "€", "bold": True}]]}, "text_blocks.0"),
        ],
    )
    def test_each_text_outside_latin_1_is_named_once(
        self, overrides: dict[str, object], field: str
    ) -> None:
        letter = Letter.model_validate(make_letter(**overrides))

        assert [(w.field, w.rule) for w in text_warnings(letter)] == [
            (field, "character_beyond_latin1")
        ]

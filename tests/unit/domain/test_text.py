"""app/domain/base.py and app/domain/text.py: which characters text may hold, and which a
receiver sees only as character references."""

import pytest
from pydantic import ValidationError

from app.domain.plan import Address, Patient
from app.domain.text import Segment, fields_beyond_latin1


class TestC1ControlCharacters:
    @pytest.mark.parametrize("character", ["\x80", "\x85", "\x96", "\x9f"])
    def test_a_c1_control_is_refused(self, character: str) -> None:
        with pytest.raises(ValidationError) as caught:
            Address(street=f"Hindbær{character}vej 23")

        [error] = caught.value.errors()
        assert (error["loc"], error["type"]) == (("street",), "c1_control_character")

    def test_a_c1_control_in_a_segment_is_refused(self) -> None:
        with pytest.raises(ValidationError) as caught:
            Segment(text="Vigtigt\x80 ")

        [error] = caught.value.errors()
        assert (error["loc"], error["type"]) == (("text",), "c1_control_character")

    @pytest.mark.parametrize("character", ["\x7f", "\xa0", "æ", "€", "→"])
    def test_characters_beside_the_c1_range_are_kept(self, character: str) -> None:
        assert Address(street=f"Vej{character}23").street == f"Vej{character}23"


class TestFieldsBeyondLatin1:
    def test_latin_1_text_is_not_named(self) -> None:
        assert fields_beyond_latin1(Address(street="Hindbærvej 23", district="Odense S")) == []

    def test_nested_text_is_named_by_its_dotted_path(self) -> None:
        patient = Patient(
            cpr="2512484916",
            surname="Ann Berggren",
            municipality_code="461",
            address=Address(street="Ulica Łódzka 4"),
        )

        assert fields_beyond_latin1(patient) == ["address.street"]

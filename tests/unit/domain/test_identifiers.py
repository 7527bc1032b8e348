"""Identifier checks: what each accepts, how it normalises, and which rule it names (R43-R47)."""

from collections.abc import Callable

import pytest
from pydantic_core import PydanticCustomError
from stdnum import ean

from app.domain.identifiers import (
    check_gln,
    check_kommunekode,
    check_regionskode,
    check_sorkode,
    check_sygehusafdelingsnummer,
    check_ydernummer,
)


def arabic_indic(digits: str) -> str:
    """The same number in Arabic-Indic digits, which str.isdigit() also calls digits."""
    return "".join(chr(0x0660 + int(d)) for d in digits)


def fullwidth(digits: str) -> str:
    return "".join(chr(0xFF10 + int(d)) for d in digits)


def rule_broken_by(check: Callable[[str], str], value: str) -> str:
    """The rule (error type) that `check` names when it rejects `value`."""
    with pytest.raises(PydanticCustomError) as caught:
        check(value)
    return caught.value.type


class TestCheckGln:
    @pytest.mark.parametrize(
        "gln",
        [
            "5790000121441",  # Odense Kommune
            "5790001354145",  # Odense Universitetshospital
            "5790000120314",  # MedCom's test centre
        ],
    )
    def test_accepts_a_13_digit_gln_with_a_valid_check_digit(self, gln: str) -> None:
        assert check_gln(gln) == gln

    @pytest.mark.parametrize(
        ("number", "length"),
        [
            ("036000291452", 12),  # UPC-A
            ("05790000121441", 14),  # GTIN-14
            ("96385074", 8),  # EAN-8
        ],
    )
    def test_rejects_a_valid_ean_of_another_length(self, number: str, length: int) -> None:
        assert ean.is_valid(number)  # stdnum alone would let it through (R43)
        with pytest.raises(PydanticCustomError) as caught:
            check_gln(number)
        assert caught.value.type == "gln_length"
        assert caught.value.context == {"length": length}

    @pytest.mark.parametrize(
        "number",
        [
            "579000012144A",
            "57900O0121441",  # letter O for zero
            "5790000 121441",
            "-579000012144",
            arabic_indic("5790000121441"),
            fullwidth("5790000121441"),
            "",
        ],
    )
    def test_rejects_anything_but_ascii_digits(self, number: str) -> None:
        assert rule_broken_by(check_gln, number) == "gln_format"

    def test_rejects_a_gln_with_a_wrong_check_digit(self) -> None:
        assert rule_broken_by(check_gln, "5790000121442") == "gln_check_digit"

    def test_rejects_the_mistyped_gln_of_the_public_ggop_sample(self) -> None:
        # R43: the GGOP sample's 5790002012274 fails its own check digit.
        assert rule_broken_by(check_gln, "5790002012274") == "gln_check_digit"


class TestCheckKommunekode:
    @pytest.mark.parametrize(
        ("written", "stored"),
        [
            ("461", "461"),
            ("0461", "461"),
            ("101", "101"),
            ("0101", "101"),
            ("860", "860"),
        ],
    )
    def test_accepts_the_code_of_a_municipality_in_its_3_digit_form(
        self, written: str, stored: str
    ) -> None:
        assert check_kommunekode(written) == stored

    @pytest.mark.parametrize(
        "code",
        [
            "999",
            "0999",
            "100",
            "955",  # Greenland, not a Danish municipality (R46)
            "4611",  # four digits without a leading zero
        ],
    )
    def test_rejects_a_code_that_no_municipality_has(self, code: str) -> None:
        assert rule_broken_by(check_kommunekode, code) == "kommunekode_unknown"

    @pytest.mark.parametrize("code", ["0411", "411"])
    def test_rejects_christiansoe_for_manual_routing(self, code: str) -> None:
        assert rule_broken_by(check_kommunekode, code) == "kommunekode_christiansoe"

    @pytest.mark.parametrize(
        "code",
        ["46", "04611", "abc", "", "46a", " 461", arabic_indic("461"), "0" + arabic_indic("461")],
    )
    def test_rejects_anything_but_3_or_4_ascii_digits(self, code: str) -> None:
        assert rule_broken_by(check_kommunekode, code) == "kommunekode_format"


class TestCheckYdernummer:
    @pytest.mark.parametrize("number", ["1", "024015", "037974", "000001", "123456"])
    def test_accepts_1_to_6_digits_keeping_leading_zeros(self, number: str) -> None:
        assert check_ydernummer(number) == number

    @pytest.mark.parametrize(
        "number", ["1234567", "0240150", "", "02401a", "024 15", "-24015", arabic_indic("024015")]
    )
    def test_rejects_anything_but_1_to_6_ascii_digits(self, number: str) -> None:
        assert rule_broken_by(check_ydernummer, number) == "ydernummer_format"


class TestCheckSorkode:
    @pytest.mark.parametrize(
        "code",
        [
            "12345678901",  # 11 digits, the shortest dk-core allows
            "451000016003",  # Holbæk Kommune (R44)
            "227871000016001",
            "1037801000016003",
            "123456789012345678",  # 18 digits
        ],
    )
    def test_accepts_11_to_18_digits(self, code: str) -> None:
        assert check_sorkode(code) == code

    @pytest.mark.parametrize(
        "code",
        ["1234567890", "1234567890123456789", "45100001600A", "", arabic_indic("451000016003")],
    )
    def test_rejects_anything_but_11_to_18_ascii_digits(self, code: str) -> None:
        assert rule_broken_by(check_sorkode, code) == "sorkode_format"


class TestCheckRegionskode:
    @pytest.mark.parametrize("code", ["1081", "1082", "1083", "1084", "1085"])
    def test_accepts_the_dagi_code_of_each_region(self, code: str) -> None:
        assert check_regionskode(code) == code

    @pytest.mark.parametrize(
        "code",
        [
            "465",  # the GGOP sample's test value (R47)
            "1080",
            "1086",
            "81",
            "DK-83",
            "01083",
            "",
        ],
    )
    def test_rejects_anything_but_1081_to_1085(self, code: str) -> None:
        assert rule_broken_by(check_regionskode, code) == "regionskode_unknown"


class TestCheckSygehusafdelingsnummer:
    @pytest.mark.parametrize("number", ["4202360", "1309029", "ABC123", "a", "A" * 17])
    def test_accepts_1_to_17_letters_and_digits(self, number: str) -> None:
        assert check_sygehusafdelingsnummer(number) == number

    @pytest.mark.parametrize(
        "number", ["A" * 18, "", "420-2360", "420 2360", "æ42", arabic_indic("4202360")]
    )
    def test_rejects_anything_but_1_to_17_ascii_letters_and_digits(self, number: str) -> None:
        assert rule_broken_by(check_sygehusafdelingsnummer, number) == (
            "sygehusafdelingsnummer_format"
        )

    def test_rejects_a_trailing_newline(self) -> None:
        assert rule_broken_by(check_sygehusafdelingsnummer, "4202360\n") == (
            "sygehusafdelingsnummer_format"
        )

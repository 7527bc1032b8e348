"""MedCom receipts in the domain: the three kinds and their codes, the refuse codes, and the
limits of MedCom's receipt schemas (formats.md §6)."""

from dataclasses import replace
from typing import Any

import pytest

from app.domain.receipts import (
    MAX_ORIGINAL_LETTERS,
    Receipt,
    ReceiptKind,
    ReceiptLetter,
    RefuseCode,
)

LETTER = ReceiptLetter(letter_id="1111FRE01095", version_code="XD9134L")


def receipt(**overrides: Any) -> Receipt:
    """A positive receipt for one letter, as MedCom's example CTL03_1 addresses it."""
    fields: dict[str, Any] = {
        "kind": ReceiptKind.POSITIVE,
        "letter_id": "BrevNr5678",
        "sender": "5790000120420",
        "receiver": "5790000181872",
        "original_envelope_id": "MEDREF01095",
        "original_sender": "5790000181872",
        "original_receiver": "5790000120420",
        "original_letters": (LETTER,),
    }
    return Receipt(**{**fields, **overrides})


class TestReceiptKind:
    @pytest.mark.parametrize(
        ("kind", "element", "version_code", "statistical_code"),
        [
            (ReceiptKind.POSITIVE, "PositiveReceipt", "XC0330Q", "XCTL03"),
            (ReceiptKind.NEGATIVE, "NegativeReceipt", "XC0230Q", "XCTL02"),
            (ReceiptKind.VANS_NEGATIVE, "NegativeVansReceipt", "XC0130Q", "XCTL01"),
        ],
    )
    def test_each_kind_has_medcoms_element_and_codes(
        self, kind: ReceiptKind, element: str, version_code: str, statistical_code: str
    ) -> None:
        assert (kind.element, kind.version_code, kind.statistical_code) == (
            element,
            version_code,
            statistical_code,
        )

    def test_the_kinds_are_named_by_their_values(self) -> None:
        assert [kind.value for kind in ReceiptKind] == ["positive", "negative", "vans_negative"]


class TestRefuseCode:
    def test_the_values_are_medcoms_five_spelled_exactly(self) -> None:
        assert [code.value for code in RefuseCode] == [
            "ikke_specificeret",
            "ukendt_lokationsnummer",
            "problem_med_modtagerID",
            "problem_med_version",
            "syntaksfejl",
        ]


class TestReceipt:
    def test_a_positive_receipt_for_a_letter_can_be_built(self) -> None:
        assert receipt().original_letters == (LETTER,)

    def test_a_positive_receipt_refuses_no_envelope(self) -> None:
        with pytest.raises(ValueError, match="positive receipt"):
            receipt(refuse_code=RefuseCode.IKKE_SPECIFICERET)

    def test_a_positive_receipt_has_no_refuse_text(self) -> None:
        with pytest.raises(ValueError, match="positive receipt"):
            receipt(refuse_text="Afvist")

    def test_a_positive_receipt_refuses_no_letter(self) -> None:
        refused = replace(LETTER, refuse_code=RefuseCode.PROBLEM_MED_VERSION)
        with pytest.raises(ValueError, match="positive receipt"):
            receipt(original_letters=(refused,))

    def test_a_negative_receipt_without_refuse_code_can_be_built(self) -> None:
        # Whether it may be sent or applied is a service rule, not the model's.
        negative = receipt(kind=ReceiptKind.NEGATIVE)
        assert negative.refuse_code is None

    def test_a_negative_receipt_may_refuse_the_envelope_and_each_letter(self) -> None:
        refused = replace(LETTER, refuse_code=RefuseCode.SYNTAKSFEJL, refuse_text="Fejl\nlinje 2")
        negative = receipt(
            kind=ReceiptKind.NEGATIVE,
            refuse_code=RefuseCode.UKENDT_LOKATIONSNUMMER,
            refuse_text="Ukendt",
            original_letters=(refused,),
        )
        assert negative.original_letters[0].refuse_code is RefuseCode.SYNTAKSFEJL

    def test_a_receipt_for_no_letter_can_be_built(self) -> None:
        # MedCom receipt XSDs: OriginalLetter minOccurs="0" (an envelope-level answer).
        assert receipt(original_letters=()).original_letters == ()

    def test_ninety_nine_original_letters_is_the_most(self) -> None:
        letters = tuple(replace(LETTER, letter_id=f"L{n}") for n in range(MAX_ORIGINAL_LETTERS))
        assert len(receipt(original_letters=letters).original_letters) == 99
        with pytest.raises(ValueError, match="at most 99"):
            receipt(original_letters=(*letters, LETTER))

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("letter_id", "x" * 15),
            ("letter_id", ""),
            ("original_envelope_id", "x" * 15),
            ("sender", "x" * 36),
            ("receiver", ""),
            ("original_sender", "x" * 36),
            ("original_receiver", ""),
        ],
    )
    def test_identifiers_have_medcoms_lengths(self, field: str, value: str) -> None:
        with pytest.raises(ValueError, match=field):
            receipt(**{field: value})

    def test_a_vans_operator_id_is_a_sender(self) -> None:
        vans = receipt(kind=ReceiptKind.VANS_NEGATIVE, sender="DKKMDKMDNET")
        assert vans.sender == "DKKMDKMDNET"


class TestReceiptLetter:
    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("letter_id", "x" * 15),
            ("letter_id", ""),
            ("version_code", "XD9134LX"),
            ("version_code", ""),
        ],
    )
    def test_identifiers_have_medcoms_lengths(self, field: str, value: str) -> None:
        with pytest.raises(ValueError, match=field):
            replace(LETTER, **{field: value})

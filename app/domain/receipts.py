"""MedCom OIOXML receipts (kvitteringer): XCTL01, XCTL02 and XCTL03 (formats.md §6).

A receipt answers one Emessage (the "original"): the receiving system accepted its letters
(positive, XCTL03), refused the envelope or some letters (negative, XCTL02), or the VANS network
could not deliver it (VANS negative, XCTL01). The limits checked here are those of MedCom's
2005/08/07 schemas (PositiveReceipt.xsd, NegativeReceipt.xsd, NegativeVansReceipt.xsd), so a
receipt that can be built can be rendered.

Pure: imports nothing from `app` outside `app.domain`.
"""

from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any, NamedTuple

__all__ = [
    "MAX_ORIGINAL_LETTERS",
    "MAX_REFUSE_TEXT",
    "Receipt",
    "ReceiptKind",
    "ReceiptLetter",
    "RefuseCode",
]

# MedCom receipt XSDs: OriginalLetter maxOccurs="99".
MAX_ORIGINAL_LETTERS = 99
# The longest refuse text Sektorbro writes. MedCom publishes no limit (RefuseText is
# BreakableText, unbounded); 350 characters is one EDIFACT FTX free-text element (5 x 70), so a
# converter to CONTRL (formats.md §6) can carry it whole. Inferred, not MedCom's rule: received
# receipts are read whatever their length.
MAX_REFUSE_TEXT = 350


class RefuseCode(StrEnum):
    """MedCom's reasons for refusing an envelope or a letter (RefuseCode, formats.md §6)."""

    IKKE_SPECIFICERET = "ikke_specificeret"  # EDIFACT NC
    UKENDT_LOKATIONSNUMMER = "ukendt_lokationsnummer"  # LOK
    PROBLEM_MED_MODTAGER_ID = "problem_med_modtagerID"  # MID; MedCom spells it with "ID"
    PROBLEM_MED_VERSION = "problem_med_version"  # VER
    SYNTAKSFEJL = "syntaksfejl"  # SYN


class _MedcomIds(NamedTuple):
    element: str
    version_code: str
    statistical_code: str


class ReceiptKind(StrEnum):
    """Which of MedCom's three receipts, with the element and codes it is written with."""

    POSITIVE = "positive"  # XCTL03
    NEGATIVE = "negative"  # XCTL02
    VANS_NEGATIVE = "vans_negative"  # XCTL01

    @property
    def element(self) -> str:
        """The name of the receipt's element in the Emessage, e.g. `PositiveReceipt`."""
        return _MEDCOM_IDS[self].element

    @property
    def version_code(self) -> str:
        """Letter/VersionCode, fixed by MedCom's schema for each kind (e.g. `XC0330Q`)."""
        return _MEDCOM_IDS[self].version_code

    @property
    def statistical_code(self) -> str:
        """Letter/StatisticalCode as MedCom's examples write it (e.g. `XCTL03`)."""
        return _MEDCOM_IDS[self].statistical_code


# formats.md §6: VersionCode is a fixed pattern in each XSD; StatisticalCode is free (1-8
# characters) and taken from MedCom's examples CTL01_1, CTL02_1 and CTL03_1.
_MEDCOM_IDS = {
    ReceiptKind.POSITIVE: _MedcomIds("PositiveReceipt", "XC0330Q", "XCTL03"),
    ReceiptKind.NEGATIVE: _MedcomIds("NegativeReceipt", "XC0230Q", "XCTL02"),
    ReceiptKind.VANS_NEGATIVE: _MedcomIds("NegativeVansReceipt", "XC0130Q", "XCTL01"),
}


def _check_length(name: str, value: str, maximum: int) -> None:
    if not 1 <= len(value) <= maximum:
        raise ValueError(f"{name} must have 1-{maximum} characters")


@dataclass(frozen=True, slots=True)
class ReceiptLetter:
    """One receipted letter of the original Emessage (OriginalLetter), with its refusal if any.

    `refuse_text` is plain text; a newline stands for MedCom's <Break/>.
    """

    letter_id: str
    version_code: str  # the original letter's VersionCode, e.g. XD9134L
    refuse_code: RefuseCode | None = None
    refuse_text: str | None = None

    def __post_init__(self) -> None:
        # MedCom receipt XSDs: OriginalLetterIdentifier String_1_14, OriginalVersionCode 1-7.
        _check_length("letter_id", self.letter_id, 14)
        _check_length("version_code", self.version_code, 7)


@dataclass(frozen=True, slots=True)
class Receipt:
    """A MedCom receipt for one original Emessage.

    `sender` and `receiver` are the receipt's own: the original's receiver answers its sender
    (MedCom's examples CTL02_1 and CTL03_1, formats.md §6). In an XCTL01 the sender is the VANS
    operator (e.g. `DKKMDKMDNET`), not a GLN. `refuse_code`/`refuse_text` refuse the whole
    envelope; each original letter may carry its own. `refuse_text` is plain text; a newline
    stands for MedCom's <Break/>.
    """

    kind: ReceiptKind
    letter_id: str  # the receipt's own Letter/Identifier
    sender: str  # EANIdentifier
    receiver: str  # EANIdentifier
    original_envelope_id: str
    original_sender: str
    original_receiver: str
    original_letters: tuple[ReceiptLetter, ...]
    refuse_code: RefuseCode | None = None
    refuse_text: str | None = None

    def __post_init__(self) -> None:
        # MedCom receipt XSDs: Identifier and OriginalEnvelopeIdentifier String_1_14,
        # EANIdentifier String_1_35, at most 99 OriginalLetter.
        _check_length("letter_id", self.letter_id, 14)
        _check_length("original_envelope_id", self.original_envelope_id, 14)
        for name in ("sender", "receiver", "original_sender", "original_receiver"):
            _check_length(name, getattr(self, name), 35)
        if len(self.original_letters) > MAX_ORIGINAL_LETTERS:
            raise ValueError(f"a receipt lists at most {MAX_ORIGINAL_LETTERS} original letters")
        # MedCom PositiveReceipt.xsd has no RefuseCode or RefuseText, neither for the envelope
        # nor for a letter: an accepted message has nothing refused.
        parts: tuple[Receipt | ReceiptLetter, ...] = (self, *self.original_letters)
        if self.kind is ReceiptKind.POSITIVE and any(
            part.refuse_code is not None or part.refuse_text is not None for part in parts
        ):
            raise ValueError("a positive receipt carries no refuse code or refuse text")

    def refusal_of(self, letter_id: str) -> tuple[RefuseCode | None, str | None]:
        """Why the letter `letter_id` was refused: its own refuse code and text if it has
        them, else the envelope's (both None for a positive receipt)."""
        for letter in self.original_letters:
            if letter.letter_id == letter_id and letter.refuse_code is not None:
                return letter.refuse_code, letter.refuse_text
        return self.refuse_code, self.refuse_text

    def as_body(self) -> dict[str, Any]:
        """The receipt as stored JSON (a message's `body`)."""
        body = asdict(self)
        body["kind"] = self.kind.value
        return body

    @classmethod
    def from_body(cls, body: dict[str, Any]) -> "Receipt":
        """The receipt stored as `body` by `as_body`."""
        letters = tuple(
            ReceiptLetter(
                letter_id=letter["letter_id"],
                version_code=letter["version_code"],
                refuse_code=_refuse_code(letter.get("refuse_code")),
                refuse_text=letter.get("refuse_text"),
            )
            for letter in body["original_letters"]
        )
        return cls(
            kind=ReceiptKind(body["kind"]),
            letter_id=body["letter_id"],
            sender=body["sender"],
            receiver=body["receiver"],
            original_envelope_id=body["original_envelope_id"],
            original_sender=body["original_sender"],
            original_receiver=body["original_receiver"],
            original_letters=letters,
            refuse_code=_refuse_code(body.get("refuse_code")),
            refuse_text=body.get("refuse_text"),
        )


def _refuse_code(value: str | None) -> RefuseCode | None:
    return RefuseCode(value) if value is not None else None

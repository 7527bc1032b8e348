"""Identifier types used across messages and the directory.

Each is an `Annotated[str, ...]` that normalises its value and raises a `PydanticCustomError`
with a stable `type` (the "rule" in a 422) and a plain-language message.
"""

import re
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, Field, ValidationInfo
from pydantic_core import PydanticCustomError
from stdnum import ean
from stdnum.dk import cpr
from stdnum.exceptions import InvalidChecksum, InvalidComponent

from app.domain.reference import municipalities, regions

__all__ = [
    "Cpr",
    "Gln",
    "IcfCode",
    "Kommunekode",
    "LetterId",
    "MessageId",
    "SksDiagnosisCode",
    "check_cpr",
    "check_gln",
    "check_icf_code",
    "check_kommunekode",
    "check_message_id",
    "check_regionskode",
    "check_sks_diagnosis_code",
    "check_sorkode",
    "check_sygehusafdelingsnummer",
    "check_ydernummer",
]

# R46: Christiansø is in DAGI but is not a municipality; its residents need manual routing.
_CHRISTIANSOE = "411"
# MedCom `Identifier` is a string of 1-17 characters (formats.md §3.3).
_ALPHANUMERIC_1_17 = re.compile(r"[0-9A-Za-z]{1,17}")
# R48: SKS writes ICD-10 without the dot and with a leading D, plus Danish extra characters.
_SKS_DIAGNOSIS = re.compile(r"D[A-Z][0-9]{2}[0-9A-Z]{0,4}")
# R49: a WHO ICF category (component letter, chapter digit, 2-digit second level, optional
# third and fourth levels), or its SKS form as the GGOP example writes it (`FB799`).
_ICF_PLAIN = re.compile(r"[bsde][1-9]([0-9]{2}([0-9]{1,2})?)?")
_ICF_SKS = re.compile(r"F[BSDE][1-9]([0-9]{2}([0-9]{1,2})?)?")


def check_gln(value: str) -> str:
    """A GLN (EAN location number): exactly 13 digits with a valid GS1 check digit (R43)."""
    if not (value.isascii() and value.isdigit()):
        raise PydanticCustomError("gln_format", "A GLN consists of digits only.")
    # stdnum.ean also accepts 8, 12 and 14 digits; a GLN is exactly 13 (R43).
    if len(value) != 13:
        raise PydanticCustomError(
            "gln_length",
            "A GLN has exactly 13 digits; this one has {length}.",
            {"length": len(value)},
        )
    try:
        ean.validate(value)
    except InvalidChecksum:
        raise PydanticCustomError(
            "gln_check_digit",
            "The last digit of a GLN is a GS1 check digit, and it does not match the first "
            "twelve digits; the number is mistyped.",
        ) from None
    return value


def check_cpr(value: str, info: ValidationInfo) -> str:
    """A CPR number (R42): 10 digits, one dash allowed, a real birth date in the past.

    Modulus 11 is not checked: the CPR office has issued numbers without it since 2007.
    "Today" comes from the validation context (`{"today": date}`) so rules follow the
    service's clock; stdnum's own check reads the wall clock.
    """
    number = value.replace(" ", "")
    if number.count("-") == 1 and number.index("-") == 6:
        number = number.replace("-", "")
    if not (number.isascii() and number.isdigit() and len(number) == 10):
        raise PydanticCustomError(
            "cpr_format", "A CPR number has 10 digits, written DDMMYYSSSS or DDMMYY-SSSS."
        )
    try:
        birth_date = cpr.get_birth_date(number)
    except InvalidComponent:
        raise PydanticCustomError(
            "cpr_birth_date",
            "The first six digits of a CPR number are the birth date (DDMMYY), read with the "
            "century the seventh digit gives; that date does not exist.",
        ) from None
    today = (info.context or {}).get("today") or date.today()
    if birth_date > today:
        raise PydanticCustomError(
            "cpr_birth_date_future",
            "The birth date in this CPR number (with the century its seventh digit gives) "
            "lies in the future.",
        )
    return number


def check_sks_diagnosis_code(value: str) -> str:
    """An SKS diagnosis code: `D` + ICD-10 without the dot, e.g. `DS720` (R48)."""
    code = value.upper()
    if not _SKS_DIAGNOSIS.fullmatch(code):
        raise PydanticCustomError(
            "sks_diagnosis_code",
            "A diagnosis is an SKS code: D followed by the ICD-10 code without the dot, "
            "e.g. DS720 for S72.0.",
        )
    return code


def check_icf_code(value: str) -> str:
    """An ICF category, plain (`b710`, `d450`) or in SKS form (`FB710`) (R49)."""
    if not (_ICF_PLAIN.fullmatch(value) or _ICF_SKS.fullmatch(value)):
        raise PydanticCustomError(
            "icf_code",
            "An ICF code is a component letter (b, s, d or e) and 1, 3, 4 or 5 digits, e.g. "
            "b710 or d4551, or the SKS form with F in front, e.g. FB710.",
        )
    return value


def check_kommunekode(value: str) -> str:
    """A kommunekode, written with 3 or 4 digits, stored as the 3-digit GGOP form (R46)."""
    if not (value.isascii() and value.isdigit() and len(value) in (3, 4)):
        raise PydanticCustomError(
            "kommunekode_format",
            "A kommunekode has 3 digits (e.g. 461), or 4 with a leading zero (0461).",
        )
    code = value[-3:] if len(value) == 4 and value[0] == "0" else value
    if code == _CHRISTIANSOE:
        raise PydanticCustomError(
            "kommunekode_christiansoe",
            "Christiansø (0411) is not a municipality; route its residents manually.",
        )
    if code not in municipalities():
        raise PydanticCustomError(
            "kommunekode_unknown",
            "This is not the kommunekode of any of the 98 Danish municipalities.",
        )
    return code


def check_regionskode(value: str) -> str:
    """A DAGI regionskode, 1081-1085 (R47)."""
    if value not in regions():
        raise PydanticCustomError(
            "regionskode_unknown",
            "A region is identified by its DAGI code, 1081 to 1085.",
        )
    return value


def check_ydernummer(value: str) -> str:
    """A GP practice's ydernummer: 1-6 digits, leading zeros kept (R45)."""
    if not (value.isascii() and value.isdigit() and 1 <= len(value) <= 6):
        raise PydanticCustomError("ydernummer_format", "A ydernummer has 1 to 6 digits.")
    return value


def check_sygehusafdelingsnummer(value: str) -> str:
    """A sygehusafdelingsnummer (SKS hospital department code): letters and digits, 1-17."""
    if not _ALPHANUMERIC_1_17.fullmatch(value):
        raise PydanticCustomError(
            "sygehusafdelingsnummer_format",
            "A sygehusafdelingsnummer has 1 to 17 letters and digits.",
        )
    return value


def check_sorkode(value: str) -> str:
    """A SOR id: digits only, at least 11 of them (R44)."""
    if not (value.isascii() and value.isdigit() and 11 <= len(value) <= 18):
        raise PydanticCustomError("sorkode_format", "A SOR code has 11 to 18 digits.")
    return value


Gln = Annotated[
    str,
    Field(
        description="GLN / EAN location number: 13 digits with a GS1 check digit.",
        examples=["5790000121441"],
    ),
    AfterValidator(check_gln),
]

Kommunekode = Annotated[
    str,
    Field(
        description="Kommunekode of one of the 98 municipalities; `0461` is read as `461`.",
        examples=["461"],
    ),
    AfterValidator(check_kommunekode),
]

Cpr = Annotated[
    str,
    Field(
        description="CPR number, `DDMMYYSSSS` or `DDMMYY-SSSS`; stored without the dash.",
        examples=["2512484916"],
    ),
    AfterValidator(check_cpr),
]

SksDiagnosisCode = Annotated[
    str,
    Field(description="SKS diagnosis code: `D` + ICD-10 without the dot.", examples=["DS720"]),
    AfterValidator(check_sks_diagnosis_code),
]

IcfCode = Annotated[
    str,
    Field(description="ICF category, plain (`d450`) or SKS form (`FD450`).", examples=["d450"]),
    AfterValidator(check_icf_code),
]


# A Sektorbro message id as callers name one (`reply_to`, `corrects`, `plan_message_id`).
_MESSAGE_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def check_message_id(value: str) -> str:
    """A Sektorbro message id: a UUID in its 36-character form, stored in lower case."""
    message_id = value.lower()
    if not _MESSAGE_ID.fullmatch(message_id):
        raise PydanticCustomError(
            "message_id_format",
            "A message id is the UUID Sektorbro gave the message, e.g. "
            "0f8e6d52-3c1a-4b7e-9a55-2d4c8b1e7f30.",
        )
    return message_id


MessageId = Annotated[str, AfterValidator(check_message_id)]
# MedCom Letter/Identifier (brevnummer, 1-14 characters): the sender's id for a letter,
# printable ASCII so that every partner can echo it in a receipt.
LetterId = Annotated[str, Field(min_length=1, max_length=14, pattern=r"^[!-~]+$")]

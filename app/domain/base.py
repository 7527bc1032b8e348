"""The base of every domain model and payload: strict about unknown fields and about text that
XML cannot carry, so a bad value is a 422 naming the field, never a 500 from the renderer.
"""

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_core import PydanticCustomError

__all__ = ["SektorbroModel", "check_xml_text"]

# XML 1.0 §2.2 (Char): tab, LF and CR are the only control characters allowed.
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# C1 controls (U+0080-U+009F) are legal XML but mean nothing in text: in an ISO-8859-1
# document (MedCom's encoding) they are the raw bytes 0x80-0x9F, which windows-1252 readers
# show as "€" or "…" (issue 13). They come from text decoded with the wrong code page.
_C1_CONTROL = re.compile("[\x80-\x9f]")


def check_xml_text(value: str) -> str:
    """`value`, if XML can carry every character of it and a receiver reads what was meant,
    with its line ends as every XML reader reads them: CR LF and a lone CR become LF (XML 1.0
    §2.11), so the text stored is the text a receiver gets."""
    if match := _XML_ILLEGAL.search(value):
        raise PydanticCustomError(
            "xml_illegal_character",
            "The text contains a control character at position {position} that MedCom "
            "XML cannot carry.",
            {"position": match.start()},
        )
    if match := _C1_CONTROL.search(value):
        raise PydanticCustomError(
            "c1_control_character",
            "The text contains a C1 control character (U+0080-U+009F) at position {position}; "
            "receivers would show it as another character (e.g. '€' or '…'). The text was "
            "probably decoded with the wrong code page: send the intended character itself.",
            {"position": match.start()},
        )
    return value.replace("\r\n", "\n").replace("\r", "\n") if "\r" in value else value


class SektorbroModel(BaseModel):
    """Rejects unknown fields, trims text, and refuses XML-illegal and C1 control characters."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # Checks a field's own text; text inside a list (a letter's text blocks) is checked by the
    # field's type with `check_xml_text`.
    @field_validator("*", mode="after")
    @classmethod
    def _reject_xml_illegal_characters(cls, value: Any) -> Any:
        return check_xml_text(value) if isinstance(value, str) else value

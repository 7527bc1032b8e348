"""Free text as MedCom carries it: plain text, or segments with MedCom's formatting.

MedCom's formatted text (FormattedText.xsd, formats.md §3.4) is mixed content with `<Break/>`
for line breaks and `<Bold>`, `<Italic>`, `<Underline>`, `<FixedFont>` around runs of text.
In JSON a text is a string (a newline is a line break) or a list of segments, as api.md
describes for letters.
"""

import re
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from app.domain.base import SektorbroModel

__all__ = ["MAX_TEXT_LENGTH", "FormattedText", "Segment", "fields_beyond_latin1", "plain_text"]


# Sektorbro's limit per free text; MedCom's GGOP limits are not public (formats.md §13).
MAX_TEXT_LENGTH = 10_000


class Segment(SektorbroModel):
    """A run of text with the same formatting; a newline in `text` is a line break."""

    # Spaces at the ends of a run are part of the text ("Vigtigt: " + "ring før kl. 12").
    model_config = ConfigDict(str_strip_whitespace=False)

    text: str = Field(min_length=1, max_length=MAX_TEXT_LENGTH, examples=["Vigtigt: "])
    bold: bool = False
    italic: bool = False
    underline: bool = False
    fixed_font: bool = False


def _shape(value: Any) -> str:
    return "<segments>" if isinstance(value, list) else "<text>"


# The union is discriminated by shape so that an error names one branch. Tags are written in
# angle brackets, which app/errors.py leaves out of the field path it reports.
FormattedText = Annotated[
    Annotated[Annotated[str, Field(min_length=1, max_length=MAX_TEXT_LENGTH)], Tag("<text>")]
    | Annotated[Annotated[list[Segment], Field(min_length=1, max_length=200)], Tag("<segments>")],
    Discriminator(_shape),
    Field(
        description="Text; a newline is a line break. Or a list of segments with `text` and "
        "optional `bold`, `italic`, `underline`, `fixed_font`.",
    ),
]


def plain_text(text: str | list[Segment]) -> str:
    """The words of a text without its formatting."""
    if isinstance(text, str):
        return text
    return "".join(segment.text for segment in text)


# MedCom documents are ISO-8859-1 (architecture.md, XML): a character beyond U+00FF survives
# only as a numeric character reference, which some receivers show as written ("&#8364;").
_BEYOND_LATIN1 = re.compile("[^\x00-\xff]")


def fields_beyond_latin1(model: BaseModel) -> list[str]:
    """The dotted path of every text in `model` with a character outside Latin-1; a text given
    as segments is named as a whole."""
    found: list[str] = []
    _collect_beyond_latin1(model, "", found)
    return found


def _collect_beyond_latin1(value: object, path: str, found: list[str]) -> None:
    if isinstance(value, str):
        if _BEYOND_LATIN1.search(value):
            found.append(path)
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            _collect_beyond_latin1(getattr(value, name), f"{path}.{name}" if path else name, found)
    elif isinstance(value, list):
        if value and all(isinstance(item, Segment) for item in value):
            if any(_BEYOND_LATIN1.search(segment.text) for segment in value):
                found.append(path)
            return
        for index, item in enumerate(value):
            _collect_beyond_latin1(item, f"{path}.{index}", found)

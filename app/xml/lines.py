"""Text as lines of runs: the form in which Sektorbro writes MedCom formatted text
(FormattedText.xsd, formats.md §3.4). render.py writes lines into GGOP and XDIS91 documents
(a `<Break/>` between lines, each run wrapped in its formatting elements), and
xdis91_layout.py cuts them into XDIS91's text blocks.

Imports only `app.domain` (architecture.md).
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from app.domain.text import Segment

__all__ = ["Line", "Run", "text_lines"]

_NEWLINE = re.compile(r"\r\n?|\n")


@dataclass(frozen=True, slots=True)
class Run:
    """Text with one formatting, as the MedCom elements around it (outermost first)."""

    text: str
    tags: tuple[str, ...] = ()


# A line of formatted text; lines are separated by <Break/>. An empty line is a blank line.
Line = tuple[Run, ...]


def _emphasis(segment: Segment) -> tuple[str, ...]:
    # MedCom FormattedText.xsd: FixedFont may hold Bold, Italic or Underline, and those hold
    # only text, Break and Space. A run therefore carries at most one of the three.
    tags = ("FixedFont",) if segment.fixed_font else ()
    for flag, tag in ((segment.bold, "Bold"), (segment.italic, "Italic")):
        if flag:
            return (*tags, tag)
    return (*tags, "Underline") if segment.underline else tags


def text_lines(text: str | Sequence[Segment]) -> list[Line]:
    """`text` as lines of runs; a newline, also inside a formatted segment, ends a line."""
    pieces = [(text, ())] if isinstance(text, str) else [(s.text, _emphasis(s)) for s in text]
    lines: list[list[Run]] = [[]]
    for piece, tags in pieces:
        for index, part in enumerate(_NEWLINE.split(piece)):
            if index:
                lines.append([])
            if part:
                lines[-1].append(Run(part, tags))
    return [tuple(line) for line in lines]

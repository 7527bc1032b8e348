"""The XDIS91 text layout: a plan's text, as lines of runs (lines.py), cut into the
ClinicalInformation/Text01 blocks of an XDIS91 letter (formats.md §4.5, §5).

`xdis91_blocks` packs sections of lines into blocks of at most `XDIS91_TEXT_LIMIT`
characters, nothing left out and nothing reordered; `xdis91_size` is the characters they take;
`PlanTooLongForXdis91` is the refusal when a plan needs more than `XDIS91_MAX_BLOCKS` blocks.
render.py builds the sections and writes the blocks.

Imports only `app.domain` and `app.xml.lines` (architecture.md).
"""

import re
from collections.abc import Sequence

from app.domain.letters import MAX_TEXT_BLOCKS, TEXT_BLOCK_LIMIT
from app.xml.lines import Line, Run

__all__ = [
    "XDIS91_CAPACITY",
    "XDIS91_MAX_BLOCKS",
    "XDIS91_TEXT_LIMIT",
    "PlanTooLongForXdis91",
    "xdis91_blocks",
    "xdis91_size",
]

# MedCom publishes no limit for Text01 (FormattedText.xsd is unbounded); one production
# implementation writes at most 10 blocks of 3150 characters (formats.md §5, 9 EDIFACT FTX
# segments of 350), and ClinicalEmail.xsd allows 10 ClinicalInformation. A Break counts as one.
# A correspondence letter's text blocks keep the same limits (app/domain/letters.py).
XDIS91_TEXT_LIMIT = TEXT_BLOCK_LIMIT
XDIS91_MAX_BLOCKS = MAX_TEXT_BLOCKS
# The most text one XDIS91 letter carries: 31,500 characters.
XDIS91_CAPACITY = XDIS91_MAX_BLOCKS * XDIS91_TEXT_LIMIT


class PlanTooLongForXdis91(Exception):
    """The plan's text needs more ClinicalInformation blocks than XDIS91 allows: `size`
    characters of text (a Break counts as one) where XDIS91 carries at most `limit`."""

    def __init__(self, *, size: int, blocks_needed: int) -> None:
        self.size = size
        self.limit = XDIS91_CAPACITY
        self.blocks_needed = blocks_needed
        self.max_blocks = XDIS91_MAX_BLOCKS
        self.block_limit = XDIS91_TEXT_LIMIT
        super().__init__(
            f"As an XDIS91 letter the plan has {size} characters of text, which take "
            f"{blocks_needed} text blocks of at most {XDIS91_TEXT_LIMIT} characters; XDIS91 "
            f"allows {XDIS91_MAX_BLOCKS}, {XDIS91_CAPACITY} characters."
        )


def _size(lines: Sequence[Line]) -> int:
    # Characters of text, plus one for each Break between lines.
    return sum(len(run.text) for line in lines for run in line) + max(len(lines) - 1, 0)


# A sentence ends with . ! ? or …, perhaps a closing quote or bracket, then a space. A cut goes
# after the space, so that the pieces of a line put together are the line, character for
# character.
_SENTENCE_END = re.compile(r"[.!?…][\"')\]»”]*\s+")
_WORD_END = re.compile(r"\s+")


def _line_text(line: Line) -> str:
    return "".join(run.text for run in line)


def _cut_line(line: Line, at: int) -> tuple[Line, Line]:
    """`line` cut after its first `at` characters; each piece keeps its runs' formatting."""
    head: list[Run] = []
    tail: list[Run] = []
    for run in line:
        if at >= len(run.text):
            head.append(run)
            at -= len(run.text)
        elif at > 0:
            head.append(Run(run.text[:at], run.tags))
            tail.append(Run(run.text[at:], run.tags))
            at = 0
        else:
            tail.append(run)
    return tuple(head), tuple(tail)


def _cut_point(text: str, room: int, slack: int) -> int:
    """How many characters of `text` go before a cut that leaves at most `room`: after the last
    sentence that fits if that leaves at most `slack` unused, else after the last word that
    fits; 0 if not even the first word fits."""
    ends = [m.end() for m in _SENTENCE_END.finditer(text, 0, room)]
    if ends and room - ends[-1] <= slack:
        return ends[-1]
    words = [m.end() for m in _WORD_END.finditer(text, 0, room)]
    return words[-1] if words else 0


def _pack(lines: Sequence[Line], limit: int, slack: int) -> list[list[Line]]:
    """`lines` in blocks of at most `limit` characters, each filled to within `slack` of it
    where a paragraph or sentence ends, else to the last word that fits."""
    blocks: list[list[Line]] = []
    current: list[Line] = []
    size = 0

    def close() -> None:
        nonlocal size
        while current and not current[-1]:  # a blank line is layout where the block ends
            current.pop()
        if current:
            blocks.append(current.copy())
        current.clear()
        size = 0

    for line in lines:
        while line or current:  # nor does a block open with a blank line
            gap = 1 if current else 0  # the Break that ends the previous line
            room = limit - size - gap
            length = len(_line_text(line))
            if length <= room:
                current.append(line)
                size += gap + length
                break
            if room <= slack:  # end the block between paragraphs
                close()
                continue
            at = _cut_point(_line_text(line), room, slack)
            if not at:
                if current:  # the next word fits the next block
                    close()
                    continue
                at = room  # a word longer than a block is cut where the block ends
            head, line = _cut_line(line, at)
            current.append(head)
            close()
    close()
    return blocks


def xdis91_blocks(
    sections: Sequence[Sequence[Line]],
    limit: int = XDIS91_TEXT_LIMIT,
    max_blocks: int = XDIS91_MAX_BLOCKS,
) -> list[list[Line]]:
    """`sections` as text blocks of at most `limit` characters each (a Break counts as one),
    sections apart by a blank line, nothing left out and nothing reordered.

    Readable where that fits: a block ends between paragraphs or after a sentence when that
    leaves at most a tenth of it unused, else after the last word that fits. Only when that
    takes more than `max_blocks` blocks is every block filled to its last word, so that all
    of XDIS91's room (10 blocks of 3150 characters) carries text. A block boundary takes the
    place of a line break, so a block neither opens nor ends with a blank line.
    """
    lines: list[Line] = []
    for section in sections:
        lines += [(), *section] if lines else section
    blocks = _pack(lines, limit, slack=limit // 10)
    if len(blocks) > max_blocks:
        blocks = _pack(lines, limit, slack=0)
    return blocks


def xdis91_size(sections: Sequence[Sequence[Line]]) -> int:
    """The characters `sections` take as text (a Break counts as one, sections apart by a blank
    line), which is what XDIS91's blocks must hold."""
    sizes = [_size(section) for section in sections]
    return sum(sizes) + 2 * max(len(sizes) - 1, 0)

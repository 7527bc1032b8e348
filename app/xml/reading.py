"""The element reading every inbound MedCom format shares (GGOP in ggop.py, XDIS91 in
xdis91.py), over the tree `parse_xml` (hardened.py) gives.

- Elements: `Element` is an element with its XPath (local names, [n] where it repeats);
  `children_of` walks an element's children with their namespace, local name and position;
  `Children` holds the ones a reader accepted, by local name; `Value` is an element's
  stripped text with its XPath (`text_of`).
- MedCom formatted text (FormattedText.xsd, formats.md §3.4): a reader turns an element's
  content into `TextRun`s (soft ones from text nodes, hard ones from Break and Space), with
  the flags Bold, Italic, Underline and FixedFont set (`FLAGS`; Right and Center set none).
  Whitespace in text nodes is layout: a run of it reads as one space (`XML_SPACE`), and
  `tidy_runs` drops the soft spaces at the ends of a line and next to another space;
  `trim_breaks` drops line breaks at the start and end; `formatted_value` gives a str when
  nothing is formatted, else `Segment`-shaped dicts.

Imports nothing from `app` (architecture.md).
"""

import re
from collections import Counter
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

__all__ = [
    "FLAGS",
    "XML_SPACE",
    "Children",
    "Element",
    "FormattedValue",
    "Loc",
    "TextRun",
    "Value",
    "children_of",
    "formatted_value",
    "nth",
    "split_tag",
    "text_of",
    "tidy_runs",
    "trim_breaks",
]

# A JSON location, as pydantic names it: field names and list indexes.
Loc = tuple[str | int, ...]


class Element(NamedTuple):
    """An element and its XPath."""

    element: Any
    path: str


class Value(NamedTuple):
    """The stripped text of a value element and its XPath."""

    text: str
    path: str


class Children:
    """The children of one element that were read, by local name."""

    def __init__(self, found: dict[str, list[Element]]) -> None:
        self._found = found

    def one(self, name: str) -> Element | None:
        """The element, if present."""
        found = self._found.get(name)
        return found[0] if found else None

    def all(self, name: str) -> list[Element]:
        """Every copy of a repeating element, each with its [n] in the path."""
        return self._found.get(name, [])

    def text(self, name: str) -> Value | None:
        """The element's text, if present and not empty."""
        element = self.one(name)
        if element is None:
            return None
        text = text_of(element.element)
        return Value(text, element.path) if text else None


class TextRun(NamedTuple):
    """A piece of formatted text: soft runs come from text nodes, hard ones from Break/Space."""

    text: str
    flags: frozenset[str]
    soft: bool = True


FormattedValue = str | list[dict[str, Any]]


# The flag each element sets (Segment's field names). Segment has no alignment, so the text of
# Right and Center is read without it, with the warning `xml_formatting_dropped`.
FLAGS: Mapping[str, str | None] = {
    "Bold": "bold",
    "Italic": "italic",
    "Underline": "underline",
    "FixedFont": "fixed_font",
    "Right": None,
    "Center": None,
}


def children_of(element: Any) -> Iterator[tuple[Any, str | None, str, int]]:
    """Each child element: itself, namespace, local name, position among same-named siblings."""
    seen: Counter[str] = Counter()
    # The parser removed comments and processing instructions, and a DOCTYPE (so entity
    # references) is refused: every child is an element.
    for child in element:
        namespace, name = split_tag(child.tag)
        seen[name] += 1
        yield child, namespace, name, seen[name]


def split_tag(tag: str) -> tuple[str | None, str]:
    """Namespace and local name of lxml's `{namespace}name` (etree.QName is 20 times slower)."""
    if tag[0] != "{":
        return None, tag
    namespace, _, name = tag[1:].partition("}")
    return namespace, name


def nth(path: str, position: int) -> str:
    """`path` with [position] added, unless it is the first of its name."""
    return path if position == 1 else f"{path}[{position}]"


def text_of(element: Any) -> str:
    """The stripped text of an element, its descendants' text included."""
    text = element.text if len(element) == 0 else "".join(element.itertext())
    return (text or "").strip()


# XML 1.0 §2.3 S: no-break spaces and other Unicode spaces are content.
XML_SPACE = re.compile(r"[ \t\r\n]+")


def tidy_runs(runs: list[TextRun]) -> list[TextRun]:
    """Drops the soft spaces at the ends of each line and next to another space."""
    forward: list[TextRun] = []
    after_space = True  # at the start of a line
    for run in runs:
        if run.soft and after_space:
            run = TextRun(run.text.lstrip(" "), run.flags)
            if not run.text:
                continue
        forward.append(run)
        after_space = run.text[-1] in " \n"
    tidy: list[TextRun] = []
    before_space = True  # at the end of a line
    for run in reversed(forward):
        if run.soft and before_space:
            run = TextRun(run.text.rstrip(" "), run.flags)
            if not run.text:
                continue
        tidy.append(run)
        before_space = run.text[0] in " \n"
    tidy.reverse()
    return tidy


def trim_breaks(runs: list[TextRun]) -> list[TextRun]:
    """Drops line breaks at the start and end of a text, as the model trims a plain string."""
    start, end = 0, len(runs)
    while start < end and runs[start].text == "\n":
        start += 1
    while end > start and runs[end - 1].text == "\n":
        end -= 1
    return runs[start:end]


def formatted_value(runs: list[TextRun]) -> FormattedValue | None:
    """Merges runs of equal formatting: a str when nothing is formatted, else segments."""
    if not any(run.text.strip() for run in runs):
        return None
    segments: list[tuple[str, frozenset[str]]] = []
    for run in runs:
        if segments and segments[-1][1] == run.flags:
            segments[-1] = (segments[-1][0] + run.text, run.flags)
        else:
            segments.append((run.text, run.flags))
    if not any(flags for _, flags in segments):
        return "".join(text for text, _ in segments)
    return [{"text": text, **dict.fromkeys(sorted(flags), True)} for text, flags in segments]

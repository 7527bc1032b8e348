"""A correspondence letter survives the trip the service sends it on (issue 13, "Lossless round
trips"): the letter as JSON, rendered as the XDIS91 ClinicalEmail its receiver gets, valid
against MedCom's schema, reads back with `parse_xdis91` as the same letter.

Where XDIS91 changes a letter on the way, `as_read_back` says what and why; the tests at the
end pin spaces, tabs and line ends.
"""

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.domain.letters import (
    MAX_REFERENCES,
    MAX_TEXT_BLOCKS,
    TEXT_BLOCK_LIMIT,
    EpisodeOfCareStatus,
    Letter,
    Priority,
)
from app.domain.text import Segment
from app.xml import Envelope, ParsedLetter, Party, XmlRenderer, XsdRegistry, parse_xdis91
from tests.factories import gp_fields, hospital_fields, make_letter, organisation_fields


def party(fields: dict[str, Any]) -> Party:
    """A directory entry from tests/factories.py as the renderer takes it."""
    names = ("department", "unit", "street", "suburb", "district", "postcode", "phone")
    return Party(
        gln=fields["gln"],
        identifier=fields["identifier"],
        identifier_code=fields["identifier_code"],
        name=fields["name"],
        **{name: fields.get(name) for name in names},
    )


HOSPITAL = party(hospital_fields())
GP = party(gp_fields())
KOMMUNE = party(organisation_fields())
ENVELOPE = Envelope(envelope_id="SB000000000001", sent_at=datetime(2026, 11, 20, 9, 30, tzinfo=UTC))
AUTHORISED_AT = datetime(2026, 11, 20, 8, 26, tzinfo=UTC)
# The id Sektorbro gives a letter that comes without one (app/services/letters.py).
ASSIGNED_LETTER_ID = "SB0000000001"
RECEIVERS = [GP, KOMMUNE]


@pytest.fixture(scope="module")
def registry() -> XsdRegistry:
    return XsdRegistry()


@pytest.fixture(scope="module")
def renderer(registry: XsdRegistry) -> XmlRenderer:
    return XmlRenderer(registry)


def sent_and_read_back(
    renderer: XmlRenderer, registry: XsdRegistry, letter: Letter, receiver: Party
) -> ParsedLetter:
    """`letter` from the hospital to `receiver` as the service renders it, checked against
    MedCom's schema, and read back as an inbound XDIS91 letter."""
    document = renderer.render_letter(
        letter,
        letter_id=letter.letter_id or ASSIGNED_LETTER_ID,
        envelope=ENVELOPE,
        sender=HOSPITAL,
        receiver=receiver,
        authorised_at=AUTHORISED_AT,
    )
    assert registry.validate("xdis91", document) == []
    return parse_xdis91(document)


# --- What XDIS91 legitimately changes --------------------------------------------------------

_LINE_BREAK = re.compile(r"\r\n?|\n")


def _flags(segment: Segment) -> frozenset[str]:
    names = ("bold", "italic", "underline", "fixed_font")
    return frozenset(name for name in names if getattr(segment, name))


def as_read_back(block: str | list[Segment]) -> str | list[dict[str, Any]]:
    """A text block as MedCom's formatted text (FormattedText.xsd) carries it, which is how
    it reads back:
    - CR LF and CR are line breaks (api.md: a newline is a line break), written as <Break/>,
      which reads back as LF;
    - a line break has no formatting: render.py closes the formatting before each <Break/>;
    - neighbouring segments of equal formatting are one run of text, as the XML has them;
    - line breaks at the start and end of a block are trimmed, as the model trims a plain
      string, and a block with no formatting left is a plain string, which the model trims
      (str.strip: also a no-break or other Unicode space at its ends).
    """
    pieces = (
        [(block, frozenset[str]())]
        if isinstance(block, str)
        else [(segment.text, _flags(segment)) for segment in block]
    )
    runs: list[tuple[str, frozenset[str]]] = []
    for text, flags in pieces:
        for index, line in enumerate(_LINE_BREAK.split(text)):
            if index:
                runs.append(("\n", frozenset()))
            if line:
                runs.append((line, flags))
    while runs and runs[0][0] == "\n":
        runs.pop(0)
    while runs and runs[-1][0] == "\n":
        runs.pop()
    merged: list[tuple[str, frozenset[str]]] = []
    for text, flags in runs:
        if merged and merged[-1][1] == flags:
            merged[-1] = (merged[-1][0] + text, flags)
        else:
            merged.append((text, flags))
    if not any(flags for _, flags in merged):
        return "".join(text for text, _ in merged).strip()
    return [{"text": text, **dict.fromkeys(flags, True)} for text, flags in merged]


def expected_back(letter: Letter) -> dict[str, Any]:
    """The model dump of `letter` as XDIS91 carries it (see also `as_read_back`)."""
    fields = letter.model_dump(mode="json")
    # Sektorbro assigns the letter id of a letter sent without one; it is in the XML.
    fields["letter_id"] = letter.letter_id or ASSIGNED_LETTER_ID
    # XDIS91 has no place for `reply_to` (app/xml's letter reader, formats.md §5): the thread
    # is kept in Sektorbro's store, not in the receiver's copy.
    fields["reply_to"] = None
    # The patient's address parts are elements of XDIS91's Patient, with no Address element
    # around them: an address with no part is no address.
    address = fields["patient"]["address"]
    if address is not None and not any(address.values()):
        fields["patient"]["address"] = None
    fields["text_blocks"] = [as_read_back(block) for block in letter.text_blocks]
    return Letter.model_validate(fields).model_dump(mode="json")


# --- Generated letters -----------------------------------------------------------------------

# Every character the model takes: XML 1.0 Char without the C0 controls but tab and LF, without
# C1 controls (refused, issue 13), surrogates and U+FFFE/U+FFFF; Latin-1 and beyond (€, Greek,
# CJK, emoji: written as character references in ISO-8859-1). Danish letters are drawn often.
# The model reads CR LF and CR as LF, as XML does (app/domain/base.py).
_ANY = st.characters(
    codec="utf-8",
    exclude_categories=("Cs", "Cc"),
    include_characters="\t\n\r",
    exclude_characters="\ufffe\uffff",
)
CHARACTERS = st.one_of(st.sampled_from("æøåÆØÅé€ &<>'\""), _ANY)
# A word of text: no XML whitespace (space, tab, CR, LF); the spaces between words are drawn
# as separators, and a tab reads as a space (test_a_tab_in_a_text_block_reads_as_a_space);
# no-break and other Unicode spaces are content.
WORD_CHARACTERS = CHARACTERS.filter(lambda char: char not in " \t\r\n")


def field_text(max_size: int) -> st.SearchStrategy[str]:
    """Text for a field other than a text block (subject, names, ...): at most `max_size`
    characters as the model trims it; tabs, line feeds and runs of spaces included."""
    return st.text(CHARACTERS, min_size=1, max_size=max_size).map(str.strip).filter(bool)


WORDS = st.text(WORD_CHARACTERS, min_size=1, max_size=12).filter(lambda word: word.strip() != "")
# What follows a word: one space (drawn most often), a run of spaces, a line break in any
# convention, a blank line, or nothing.
SEPARATORS = st.sampled_from([" ", " ", " ", "   ", "\n", "\r\n", "\r", "\n\n", "  \n", ""])


@st.composite
def phrases(draw: st.DrawFn, *, end: st.SearchStrategy[str]) -> str:
    """Words with one separator after each; after the last, a separator from `end`."""
    words = draw(st.lists(WORDS, min_size=1, max_size=6))
    separators = [draw(SEPARATORS) for _ in words[:-1]] + [draw(end)]
    return "".join(word + separator for word, separator in zip(words, separators, strict=True))


@st.composite
def segments(draw: st.DrawFn) -> dict[str, Any]:
    """A segment with at most one of bold, italic and underline, and maybe a fixed font."""
    emphasis = draw(st.sampled_from([None, "bold", "italic", "underline"]))
    segment: dict[str, Any] = {"text": draw(phrases(end=SEPARATORS))}
    if emphasis:
        segment[emphasis] = True
    if draw(st.booleans()):
        segment["fixed_font"] = True
    return segment


@st.composite
def segment_blocks(draw: st.DrawFn) -> list[dict[str, Any]]:
    """A formatted block."""
    block: list[dict[str, Any]] = draw(st.lists(segments(), min_size=1, max_size=8))
    return block


@st.composite
def long_blocks(draw: st.DrawFn) -> str:
    """A plain block up to the limit of a text block."""
    text = draw(phrases(end=st.just("")))
    size = draw(st.integers(min_value=1, max_value=TEXT_BLOCK_LIMIT))
    return (text + " ") * (size // (len(text) + 1)) + text[: size % (len(text) + 1)]


TEXT_BLOCKS = st.one_of(
    phrases(end=SEPARATORS).filter(lambda text: text.strip() != ""),
    segment_blocks(),
    long_blocks().filter(lambda text: text.strip() != ""),
)


@st.composite
def cprs(draw: st.DrawFn) -> str:
    """A CPR number of someone born 1940-1999 (a 7th digit of 0-3 is the 1900s)."""
    born = draw(st.dates(min_value=date(1940, 1, 1), max_value=date(1999, 12, 31)))
    serial = draw(st.from_regex(r"[0-3][0-9]{3}", fullmatch=True))
    dash = draw(st.sampled_from(["", "-"]))
    return f"{born:%d%m%y}{dash}{serial}"


def optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


@st.composite
def patients(draw: st.DrawFn) -> dict[str, Any]:
    patient: dict[str, Any] = {
        "surname": draw(field_text(70)),
        "given_name": draw(optional(field_text(70))),
        "address": draw(
            optional(
                st.fixed_dictionaries(
                    {
                        "street": optional(field_text(35)),
                        "suburb": optional(field_text(35)),
                        "district": optional(field_text(35)),
                        "postcode": optional(field_text(9)),
                    }
                )
            )
        ),
        "occupation": draw(optional(field_text(35))),
        "episode_of_care_status": draw(st.sampled_from(EpisodeOfCareStatus)),
    }
    if draw(st.booleans()):
        patient["cpr"] = draw(cprs())
    else:
        patient["alternative_id"] = draw(
            st.text(CHARACTERS, min_size=10, max_size=10).filter(lambda text: text == text.strip())
        )
    return patient


REFERENCES = st.fixed_dictionaries(
    {
        "description": field_text(70),
        "url": st.builds(
            lambda scheme, rest: f"{scheme}://{rest}",
            st.sampled_from(["http", "https"]),
            st.text(
                WORD_CHARACTERS.filter(lambda char: not char.isspace()), min_size=1, max_size=342
            ),
        ),
    }
)


@st.composite
def letters(draw: st.DrawFn) -> tuple[Letter, Party]:
    """A valid letter, from the factory's with each part drawn, and its receiver."""
    receiver = draw(st.sampled_from(RECEIVERS))
    subject = draw(optional(field_text(70)))
    blocks = draw(st.lists(TEXT_BLOCKS, min_size=0 if subject else 1, max_size=MAX_TEXT_BLOCKS))
    fields = make_letter(
        receiver_gln=receiver.gln,
        letter_id=draw(optional(st.from_regex(r"[!-~]{1,14}", fullmatch=True))),
        patient=draw(patients()),
        priority=draw(st.sampled_from(Priority)),
        subject=subject,
        text_blocks=blocks,
        episode_of_care_id=draw(optional(st.from_regex(r"[!-~]{1,35}", fullmatch=True))),
        references=draw(st.lists(REFERENCES, max_size=MAX_REFERENCES)),
        reply_to=draw(optional(st.uuids().map(str))),
    )
    # A correction (rettetbrev) is left out: XDIS91 cannot say which letter it replaces, so
    # parse_xdis91 refuses it (test_letters.py, a rettetbrev is refused).
    return Letter.model_validate(fields), receiver


# --- The round trip --------------------------------------------------------------------------


def test_the_factory_letter_reads_back_as_it_was_sent(
    renderer: XmlRenderer, registry: XsdRegistry
) -> None:
    letter = Letter.model_validate(make_letter(letter_id="OUHL2026112001"))

    parsed = sent_and_read_back(renderer, registry, letter, GP)

    assert parsed.letter == letter
    assert parsed.warnings == []


@settings(max_examples=50, deadline=None, derandomize=True)
@given(letter_and_receiver=letters())
def test_any_letter_reads_back_as_it_was_sent(
    renderer: XmlRenderer, registry: XsdRegistry, letter_and_receiver: tuple[Letter, Party]
) -> None:
    letter, receiver = letter_and_receiver

    parsed = sent_and_read_back(renderer, registry, letter, receiver)

    assert parsed.letter.model_dump(mode="json") == expected_back(letter)
    assert parsed.warnings == []


# --- Spaces and line ends (issue 13) ----------------------------------------------------------


@pytest.mark.parametrize(
    "block",
    [
        pytest.param([{"text": "Dosis   Tid\n500 mg  08:00", "fixed_font": True}], id="columns"),
        pytest.param([{"text": "Vigtigt: ", "bold": True}, {"text": "\nring"}], id="line end"),
    ],
)
def test_spaces_in_a_text_block_survive(
    renderer: XmlRenderer, registry: XsdRegistry, block: Any
) -> None:
    letter = Letter.model_validate(make_letter(letter_id="OUHL2026112001", text_blocks=[block]))

    parsed = sent_and_read_back(renderer, registry, letter, GP)

    assert parsed.letter.model_dump(mode="json") == expected_back(letter)


def test_a_tab_in_a_text_block_reads_as_a_space(
    renderer: XmlRenderer, registry: XsdRegistry
) -> None:
    # MedCom's formatted text (FormattedText.xsd) has Break and Space but no tab: a tab in a
    # text node is layout whitespace to every reader.
    letter = Letter.model_validate(
        make_letter(letter_id="OUHL2026112001", text_blocks=["Smerter:\tvenstre hofte"])
    )

    parsed = sent_and_read_back(renderer, registry, letter, GP)

    assert parsed.letter.text_blocks == ["Smerter: venstre hofte"]


def test_a_carriage_return_is_a_line_end_as_every_xml_reader_reads_it(
    renderer: XmlRenderer, registry: XsdRegistry
) -> None:
    letter = Letter.model_validate(
        make_letter(letter_id="OUHL2026112001", subject="Smerter\r\nvenstre\rhofte")
    )

    parsed = sent_and_read_back(renderer, registry, letter, GP)

    assert letter.subject == parsed.letter.subject == "Smerter\nvenstre\nhofte"

"""`check_encoding` (app/xml/hardened.py): which declared encodings inbound XML may use, and that
its bytes must be in the one it declares (issue 12). One test per rule, then MedCom's examples
and the parser entry points that call it."""

import functools
from pathlib import Path

import pytest

from app.errors import UnsupportedMediaType
from app.xml import XsdRegistry, envelope_id_of, in_latin1, parse_ggop, parse_receipt, parse_xdis91
from app.xml.hardened import ACCEPTED_ENCODINGS, XmlRejected, check_encoding, parse_xml

AE_LATIN1, C1_81, EN_DASH, UTF8_C1_81 = b"\xc6", b"\x81", b"\x96", b"\xc2\x81"
MEDCOM = Path(__file__).resolve().parents[2] / "data" / "medcom"
ENVELOPE = (
    "<Emessage><Envelope><Identifier>ENV1</Identifier></Envelope><Text>{text}</Text></Emessage>"
)


def document(text: str = "Ærø og Åbenrå", *, declared: str | None, encoding: str) -> bytes:
    """A small document holding `text`, declaring `declared` (None: no declaration), as
    `encoding` bytes."""
    declaration = "" if declared is None else f'<?xml version="1.0" encoding="{declared}"?>'
    return (declaration + ENVELOPE.format(text=text)).encode(encoding)


def at(body: bytes, found: bytes) -> int:
    """The byte offset of `found` in `body`."""
    return body.index(found)


def mismatch(body: bytes) -> str:
    """The message of the one `encoding_mismatch` error `body` is refused with."""
    with pytest.raises(XmlRejected) as caught:
        check_encoding(body)
    [error] = caught.value.errors
    assert (error.field, error.rule) == ("/", "encoding_mismatch")
    return error.message


# --- Rule 1: the accepted encodings, and no other ------------------------------------------


@pytest.mark.parametrize(
    ("declared", "encoding", "expected"),
    [
        ("UTF-8", "utf-8", "UTF-8"),
        ("utf8", "utf-8", "UTF-8"),
        ("ISO-8859-1", "iso-8859-1", "ISO-8859-1"),
        ("iso-8859-1", "iso-8859-1", "ISO-8859-1"),
        ("latin1", "iso-8859-1", "ISO-8859-1"),
        ("latin-1", "iso-8859-1", "ISO-8859-1"),  # Python knows it, libxml2 does not
        ("ISO-8859-15", "iso-8859-15", "ISO-8859-15"),
        ("windows-1252", "cp1252", "windows-1252"),
        ("CP1252", "cp1252", "windows-1252"),
        ("UTF-16", "utf-16-le", "UTF-16LE"),  # with a byte order mark, below
        ("UTF-16", "utf-16-be", "UTF-16BE"),
        ("UTF-16LE", "utf-16-le", "UTF-16LE"),  # without one
        ("UTF-16BE", "utf-16-be", "UTF-16BE"),
    ],
)
def test_the_accepted_encodings_are_read_in_any_spelling(
    declared: str, encoding: str, expected: str
) -> None:
    text = "Ærø og Åbenrå, 10 €" if "15" in declared or "1252" in declared else "Ærø og Åbenrå"
    bom = "\ufeff" if declared == "UTF-16" else ""
    body = (bom + document(text, declared=declared, encoding="utf-8").decode()).encode(encoding)

    assert check_encoding(body) == expected
    assert parse_xml(body).getroot().findtext("Text") == text


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (document(declared=None, encoding="utf-8"), "UTF-8"),
        (b"\xef\xbb\xbf" + document(declared=None, encoding="utf-8"), "UTF-8"),
        ("\ufeff".encode("utf-16-le") + document(declared=None, encoding="utf-16-le"), "UTF-16LE"),
        ("\ufeff".encode("utf-16-be") + document(declared=None, encoding="utf-16-be"), "UTF-16BE"),
    ],
    ids=["utf-8", "utf-8-bom", "utf-16le-bom", "utf-16be-bom"],
)
def test_without_a_declaration_a_document_is_utf_8_or_utf_16_by_its_bom(
    body: bytes, expected: str
) -> None:
    assert check_encoding(body) == expected
    assert parse_xml(body).getroot().findtext("Text") == "Ærø og Åbenrå"


@pytest.mark.parametrize(
    ("body", "named"),
    [
        (document("Ærø", declared="UTF-7", encoding="utf-7"), "UTF-7"),
        (document("Ærø", declared="utf-7", encoding="utf-7"), "utf-7"),
        (document("abc", declared="Shift_JIS", encoding="shift_jis"), "Shift_JIS"),
        (document("abc", declared="IBM037", encoding="cp037"), "IBM037"),  # EBCDIC
        (document("abc", declared="UTF-32", encoding="utf-32"), "UTF-32"),
        (document("abc", declared="US-ASCII", encoding="ascii"), "US-ASCII"),
        (document("abc", declared="x-no-such-encoding", encoding="ascii"), "x-no-such-encoding"),
    ],
    ids=["UTF-7", "utf-7", "Shift_JIS", "EBCDIC", "UTF-32", "US-ASCII", "unknown"],
)
def test_any_other_encoding_is_an_unsupported_media_type_naming_it(body: bytes, named: str) -> None:
    with pytest.raises(UnsupportedMediaType) as caught:
        parse_xml(body)

    assert caught.value.status_code == 415
    assert f"encoding {named} " in caught.value.detail
    assert ACCEPTED_ENCODINGS in caught.value.detail
    assert [(e.field, e.rule) for e in caught.value.errors] == [("/", "encoding_unsupported")]


def test_an_encoding_name_that_is_no_name_is_not_echoed() -> None:
    body = document("abc", declared="<script>" + "x" * 60, encoding="ascii")

    with pytest.raises(UnsupportedMediaType) as caught:
        check_encoding(body)

    assert "script" not in caught.value.detail
    assert "(not an encoding name)" in caught.value.detail


# --- Rule 2: the declared encoding must decode the bytes ----------------------------------


def test_bytes_that_are_not_utf_8_under_a_utf_8_declaration_are_refused_by_offset() -> None:
    body = document(declared="UTF-8", encoding="iso-8859-1")  # Æ as the single byte 0xC6

    message = mismatch(body)

    assert "declares the encoding UTF-8" in message
    assert f"offset {at(body, AE_LATIN1)}" in message
    assert "Ærø" not in message


def test_without_a_declaration_the_bytes_must_be_utf_8() -> None:
    message = mismatch(document(declared=None, encoding="iso-8859-1"))

    assert "declares no encoding, so it is read as UTF-8" in message


def test_a_byte_windows_1252_leaves_undefined_is_refused() -> None:
    body = document("a\x81b", declared="windows-1252", encoding="latin-1")

    assert f"offset {at(body, C1_81)}" in mismatch(body)


def test_a_byte_order_mark_contradicting_the_declaration_is_refused() -> None:
    body = b"\xef\xbb\xbf" + document("abc", declared="ISO-8859-1", encoding="ascii")

    assert "has a UTF-8 byte order mark" in mismatch(body)


def test_a_utf_16_declaration_on_ascii_bytes_is_refused() -> None:
    assert "is not UTF-16" in mismatch(document("abc", declared="UTF-16", encoding="ascii"))


# --- Rule 3: decodable, but in another encoding than declared ------------------------------


@pytest.mark.parametrize("declared", ["ISO-8859-1", "latin1", "ISO-8859-15", "windows-1252"])
@pytest.mark.parametrize("text", ["Ærø og Åbenrå", "Łukasz"])
def test_utf_8_bytes_declared_single_byte_are_refused(declared: str, text: str) -> None:
    body = document(text, declared=declared, encoding="utf-8")

    message = mismatch(body)

    assert f"declares {declared} but looks like UTF-8" in message
    assert f"offset {body.index(text[0].encode())}" in message
    assert text not in message


def test_c1_control_characters_after_decoding_are_refused() -> None:
    # windows-1252's en dash (0x96) declared as ISO-8859-1: U+0096, and not valid UTF-8.
    body = document("Pris \u2013 10 kr", declared="ISO-8859-1", encoding="cp1252")

    message = mismatch(body)

    assert f"U+0096 at byte offset {at(body, EN_DASH)}" in message
    assert "looks like windows-1252 or UTF-8 rather than ISO-8859-1" in message


def test_c1_control_characters_in_utf_8_are_refused() -> None:
    # "Å" and U+0081: "Ł" as UTF-8 bytes read as ISO-8859-1, then converted to UTF-8.
    body = document("Å\x81ukasz", declared="UTF-8", encoding="utf-8")

    message = mismatch(body)

    assert f"U+0081 at byte offset {at(body, UTF8_C1_81)}" in message
    assert "converted twice" in message


def test_windows_1252_characters_in_0x80_to_0x9f_are_no_c1_controls() -> None:
    text = "\u201cPris\u201d \u2013 10 \u20ac \u2026"  # curly quotes, en dash, euro, ellipsis
    body = document(text, declared="windows-1252", encoding="cp1252")

    assert check_encoding(body) == "windows-1252"
    assert parse_xml(body).getroot().findtext("Text") == text


# --- Rule 4: MedCom's public examples, byte for byte ----------------------------------------


@pytest.mark.parametrize("path", sorted(MEDCOM.glob("*.xml")), ids=lambda path: path.name)
def test_medcoms_public_examples_pass(path: Path) -> None:
    body = path.read_bytes()
    declared = body.removeprefix(b"\xef\xbb\xbf").split(b'encoding="', 1)[1].split(b'"', 1)[0]

    assert check_encoding(body) == declared.decode()


# --- Every entry point checks --------------------------------------------------------------


@pytest.mark.parametrize(
    "parse",
    [
        parse_ggop,
        parse_xdis91,
        functools.partial(parse_receipt, schemas=XsdRegistry()),
        envelope_id_of,
        in_latin1,
    ],
    ids=["parse_ggop", "parse_xdis91", "parse_receipt", "envelope_id_of", "in_latin1"],
)
def test_every_parser_entry_point_checks_the_encoding(parse: object) -> None:
    assert callable(parse)
    with pytest.raises(XmlRejected) as caught:
        parse(document("Łukasz", declared="ISO-8859-1", encoding="utf-8"))
    assert [e.rule for e in caught.value.errors] == ["encoding_mismatch"]
    with pytest.raises(UnsupportedMediaType):
        parse(document("abc", declared="UTF-7", encoding="utf-7"))


def test_a_document_sektorbro_rendered_itself_is_not_checked_again() -> None:
    # A resend (render.py's reenvelope) re-reads its own stored ISO-8859-1 document.
    body = document("a\x85b", declared="ISO-8859-1", encoding="latin-1")

    assert parse_xml(body, trusted=True).getroot().findtext("Text") == "a\x85b"

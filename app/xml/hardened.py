"""The hardened parser: untrusted MedCom XML bytes into an lxml tree, or a refusal.

`parse_xml` parses untrusted bytes safely. `check_encoding` first makes sure the bytes are in
the encoding they declare, and one Sektorbro reads (UTF-8 with or without a BOM, UTF-16,
ISO-8859-1, ISO-8859-15, windows-1252; formats.md §3.3); libxml2 is then told that encoding.
It expands no entity and loads no DTD or network resource. It refuses any document with a
DOCTYPE, which stops entity expansion (billion laughs) and external entities (XXE)
(architecture.md, XML), and any document of more than `MAX_ELEMENTS` elements.

Every inbound format is read from the tree it gives: GGOP (ggop.py), XDIS91 (xdis91.py) and
receipts (receipts.py). `XmlRejected` is their common refusal.

Imports only app.errors (architecture.md).
"""

import codecs
import contextlib
import itertools
import re
import threading
from typing import Any

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

from app.errors import FieldError, UnsupportedMediaType, ValidationFailed

__all__ = [
    "ACCEPTED_ENCODINGS",
    "MAX_ELEMENTS",
    "XmlRejected",
    "check_encoding",
    "parse_xml",
    "rejected",
    "safe_parser",
]

# The body limit upstream bounds the bytes; this bounds the work. MedCom's example has ~400.
MAX_ELEMENTS = 10_000


class XmlRejected(ValidationFailed):
    """The body cannot be read as the MedCom document expected (a GGOP, a receipt) at all;
    each error's `field` is an XPath."""


def rejected(path: str, rule: str, message: str) -> XmlRejected:
    """A refusal naming one element (`path`, an XPath) and the rule it breaks."""
    return XmlRejected([FieldError(path, rule, message)])


# --- The hardened parse -------------------------------------------------------------------


def safe_parser(*, recover: bool = False, encoding: str | None = None) -> Any:
    """A parser for untrusted bytes: no entity expansion, DTD, network, or huge trees.
    `encoding` (libxml2's name) overrides the document's declaration: check_encoding has
    checked the bytes in it, and libxml2 does not know every alias Python does (latin-1)."""
    return etree.XMLParser(
        encoding=encoding,
        recover=recover,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


class _Parsers(threading.local):
    """A thread's parsers, one per encoding: a parser keeps an error log, like a schema
    (architecture.md)."""

    def __init__(self) -> None:
        self.by_encoding: dict[str | None, Any] = {}
        self.parser = self.get("UTF-8")  # the usual one

    def get(self, encoding: str | None) -> Any:
        """This thread's parser for `encoding` (None: the document's declaration decides)."""
        if (parser := self.by_encoding.get(encoding)) is None:
            parser = self.by_encoding[encoding] = safe_parser(encoding=encoding)
        return parser


_parsers = _Parsers()


def parse_xml(body: bytes, *, trusted: bool = False) -> Any:
    """The element tree (`lxml.etree._ElementTree`) of untrusted XML bytes, or XmlRejected
    (UnsupportedMediaType for an encoding Sektorbro does not read; see `check_encoding`).
    `trusted`: a document Sektorbro rendered itself (a resend), whose encoding is not checked."""
    encoding = None if trusted else check_encoding(body)
    try:
        root = etree.fromstring(body, _parsers.get(encoding))
    except etree.XMLSyntaxError as error:
        # libxml2 refuses some DTD attacks on its own (entity amplification); name the cause.
        if _declares_doctype(body, encoding):
            raise _doctype_forbidden() from None
        # Not libxml2's message: it may quote the document, which may hold a CPR number.
        line, column = error.position
        raise rejected(
            "/",
            "xml_not_well_formed",
            f"The body is not well-formed XML (line {line}, column {column}).",
        ) from None
    docinfo = root.getroottree().docinfo
    if docinfo.doctype or docinfo.internalDTD is not None:
        raise _doctype_forbidden()
    if sum(1 for _ in itertools.islice(root.iter(etree.Element), MAX_ELEMENTS + 1)) > MAX_ELEMENTS:
        raise rejected("/", "xml_too_large", f"The document has more than {MAX_ELEMENTS} elements.")
    return root.getroottree()


def _declares_doctype(body: bytes, encoding: str | None) -> bool:
    """Whether a body that failed to parse has a DOCTYPE before the point where it failed."""
    with contextlib.suppress(etree.XMLSyntaxError):
        root = etree.fromstring(body, safe_parser(recover=True, encoding=encoding))
        return root is not None and bool(root.getroottree().docinfo.doctype)
    return False


def _doctype_forbidden() -> XmlRejected:
    return rejected(
        "/", "xml_doctype_forbidden", "A document type declaration (DOCTYPE) is not allowed."
    )


# --- The encoding (formats.md §3.3) -------------------------------------------------------

# The encodings Sektorbro reads: Python's codec name -> libxml2's name for it.
_ENCODINGS = {
    "utf-8": "UTF-8",
    "utf-16": "UTF-16",  # the byte order comes from the BOM or the first character
    "utf-16-le": "UTF-16LE",
    "utf-16-be": "UTF-16BE",
    "iso8859-1": "ISO-8859-1",
    "iso8859-15": "ISO-8859-15",
    "cp1252": "windows-1252",
}
_SINGLE_BYTE = frozenset({"ISO-8859-1", "ISO-8859-15", "windows-1252"})
_UTF_16 = frozenset({"UTF-16", "UTF-16LE", "UTF-16BE"})
ACCEPTED_ENCODINGS = "UTF-8, UTF-16, ISO-8859-1, ISO-8859-15 and windows-1252"

# XML 1.0 Appendix F: the byte order mark, or the first bytes of "<?xml" without one.
_BYTE_ORDER_MARKS = (
    (b"\x00\x00\xfe\xff", "UTF-32"),  # before UTF-16LE's mark, which begins the same
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\xef\xbb\xbf", "UTF-8"),
    (b"\xfe\xff", "UTF-16BE"),
    (b"\xff\xfe", "UTF-16LE"),
)
_FIRST_BYTES = (
    (b"\x00\x00\x00\x3c", "UTF-32"),
    (b"\x3c\x00\x00\x00", "UTF-32"),
    (b"\x00\x3c\x00\x3f", "UTF-16BE"),
    (b"\x3c\x00\x3f\x00", "UTF-16LE"),
    (b"\x4c\x6f\xa7\x94", "EBCDIC"),
)
# XML 1.0 §2.8 XMLDecl and §4.3.3 EncodingDecl, read from the decoded start of the document.
_ENCODING_DECL = re.compile(r"<\?xml[ \t\r\n][^>]*?encoding[ \t\r\n]*=[ \t\r\n]*([\"'])(.*?)\1")
_ENC_NAME = re.compile(r"[A-Za-z][A-Za-z0-9._-]{0,39}")
_C1_CONTROL = re.compile("[\x80-\x9f]")


def check_encoding(body: bytes) -> str:
    """The encoding (libxml2's name) `body` is in, once it is sure: it is one Sektorbro reads,
    and the body is in it. `parse_xml` calls this before libxml2 reads a byte.

    Why: MedCom documents are ISO-8859-1 by convention, and MedCom's own examples also declare
    windows-1252 and UTF-8 (tests/data/medcom). XML 1.0 §4.3.3 makes bytes that are not legal
    in the declared encoding a fatal error, and an encoding declaration (or, without one, a
    byte order mark; else UTF-8) decides how a document is read. A document declaring
    ISO-8859-1 but sent as UTF-8 still decodes, as mojibake ("Łukasz" as "Å", the C1 control
    character U+0081, "ukasz"), so that is refused too rather than stored and delivered.

    - An encoding other than UTF-8, UTF-16, ISO-8859-1, ISO-8859-15 or windows-1252 (any
      alias Python knows, any case): UnsupportedMediaType (415), naming it.
    - Bytes that the declared encoding cannot decode, or a byte order mark that contradicts
      the declaration: XmlRejected (422), rule `encoding_mismatch`, naming the byte offset.
    - Decoded text holding C1 control characters (U+0080 to U+009F; windows-1252 maps most of
      those bytes to printable characters, so this is checked after decoding), or valid UTF-8
      with multi-byte characters declared as a single-byte encoding: XmlRejected (422), rule
      `encoding_mismatch`, naming the mismatch it suspects.

    No message quotes the document; only the encoding name (as declared, at most 40 characters
    of XML's EncName) and byte offsets.
    """
    mark, detected = b"", None
    for prefix, name in _BYTE_ORDER_MARKS:
        if body.startswith(prefix):
            mark, detected = prefix, name
            break
    else:
        for prefix, name in _FIRST_BYTES:
            if body.startswith(prefix):
                detected = name
                break
    if detected in ("UTF-32", "EBCDIC"):
        raise _unsupported_encoding(_declared_in(body, detected) or detected)
    declared = _declared_in(body[len(mark) :], detected)
    if declared is None:
        # XML 1.0 §4.3.3: without a declaration, UTF-16 by its byte order mark, else UTF-8.
        encoding = detected or "UTF-8"
        said = f"declares no encoding, so it is read as {encoding}"
    else:
        encoding = _accepted(declared)
        said = f"declares the encoding {declared}"
        if encoding == "UTF-16":
            encoding = detected or encoding
        if (detected in _UTF_16) != (encoding in _UTF_16) or (
            detected is not None and encoding != detected
        ):
            found = (
                f"has a {detected} byte order mark"
                if mark
                else f"is {detected} by its first bytes"
                if detected
                else "is not UTF-16: it has no byte order mark and starts in ASCII"
            )
            raise _mismatch(f"The document {said} but {found}.")
    # Before decoding: windows-1252 cannot decode some UTF-8 bytes ("Ł" is C5 81).
    if encoding in _SINGLE_BYTE and not body.isascii() and _is_utf_8(body):
        offset = next(index for index, byte in enumerate(body) if byte >= 0x80)
        raise _mismatch(
            f"The document declares {declared} but looks like UTF-8: from offset {offset} its "
            'non-ASCII bytes are UTF-8 multi-byte characters. Declare encoding="UTF-8", or '
            f"send {encoding} bytes."
        )
    codec = codecs.lookup(encoding).name
    try:
        text = body[len(mark) :].decode(codec)
    except UnicodeDecodeError as error:
        raise _mismatch(
            f"The document {said}, but the bytes at offset {len(mark) + error.start} are not "
            f"valid {encoding}. Declare the encoding the document is in."
        ) from None
    if (match := _C1_CONTROL.search(text)) is not None:
        offset = len(mark) + len(text[: match.start()].encode(codec))
        suspect = (
            f"it looks like windows-1252 or UTF-8 rather than {declared}"
            if encoding in _SINGLE_BYTE
            else "it looks like text converted twice, e.g. windows-1252 or UTF-8 bytes "
            f"converted to {encoding} as if they were ISO-8859-1"
        )
        raise _mismatch(
            f"The document {said}, and read so it holds the control character "
            f"U+{ord(match.group()):04X} at byte offset {offset}, which no text holds: "
            f"{suspect}."
        )
    return encoding


def _declared_in(body: bytes, detected: str | None) -> str | None:
    """The encoding name the XML declaration at the start of `body` gives, if any."""
    start = body[:400]
    if detected in ("UTF-16LE", "UTF-16BE"):
        head = start[: len(start) // 2 * 2].decode(detected, errors="replace")
    elif detected == "UTF-32":
        head = (
            start[: len(start) // 4 * 4]
            .decode("utf-32-be" if start.startswith(b"\x00") else "utf-32-le", errors="replace")
            .lstrip("\ufeff")
        )
    elif detected == "EBCDIC":
        head = start.decode("cp500")
    else:
        head = start.decode("latin-1")
    if (match := _ENCODING_DECL.match(head)) is None:
        return None
    name = match.group(2)
    # A name that is no EncName is not echoed, nor a long one in full.
    return name if _ENC_NAME.fullmatch(name) else "(not an encoding name)"


def _accepted(declared: str) -> str:
    """libxml2's name for a declared encoding Sektorbro reads; UnsupportedMediaType if none."""
    try:
        encoding = _ENCODINGS.get(codecs.lookup(declared).name)
    except LookupError:
        encoding = None
    if encoding is None:
        raise _unsupported_encoding(declared)
    return encoding


def _is_utf_8(body: bytes) -> bool:
    try:
        body.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _unsupported_encoding(name: str) -> UnsupportedMediaType:
    message = (
        f"The document's encoding {name} is not one Sektorbro reads. It reads "
        f"{ACCEPTED_ENCODINGS} (MedCom's convention is ISO-8859-1)."
    )
    return UnsupportedMediaType(message, errors=[FieldError("/", "encoding_unsupported", message)])


def _mismatch(message: str) -> XmlRejected:
    return rejected("/", "encoding_mismatch", message)

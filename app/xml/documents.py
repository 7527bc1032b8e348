"""Stored OIOXML documents: their envelope id, and Latin-1 copies of what others send."""

from typing import Any

from lxml import etree  # type: ignore[import-untyped]

from app.xml.hardened import parse_xml

__all__ = ["envelope_id_of", "envelope_of", "in_latin1", "latin1_bytes"]


def envelope_id_of(document: bytes) -> str:
    """The envelope id (Envelope/Identifier) of a well-formed OIOXML document."""
    identifier = envelope_of(parse_xml(document)).find("{*}Identifier")
    if identifier is None or not identifier.text:
        raise ValueError("the Envelope has no Identifier")
    text: str = identifier.text
    return text


def in_latin1(document: bytes) -> bytes:
    """The same document encoded as ISO-8859-1, MedCom's convention and that of every
    document in an inbox; characters outside Latin-1 become character references."""
    return latin1_bytes(parse_xml(document))


def envelope_of(tree: Any) -> Any:
    """The Envelope element of a parsed OIOXML document."""
    # Every OIOXML generation puts the Envelope first in the Emessage, in its own namespace.
    envelope = tree.getroot().find("{*}Envelope")
    if envelope is None:
        raise ValueError("the document has no OIOXML Envelope")
    return envelope


def latin1_bytes(tree: Any) -> bytes:
    """A parsed document serialised as ISO-8859-1 with its XML declaration."""
    data: bytes = etree.tostring(tree, encoding="ISO-8859-1", xml_declaration=True)
    return data

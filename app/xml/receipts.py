"""Inbound MedCom OIOXML receipts (XCTL01/02/03, namespace 2005/08/07) read into `Receipt`.

Three steps (formats.md §6):
- `parse_xml` (hardened.py) parses the untrusted bytes: the declared encoding if it is
  one Sektorbro reads and the bytes are in it (`check_encoding`), no DOCTYPE, no entities, no
  network, bounded size.
- The document must be a receipt: an Emessage in MedCom's 2005/08/07 namespace holding exactly
  one PositiveReceipt, NegativeReceipt or NegativeVansReceipt. That namespace also holds MedCom's
  older letters, which its schema accepts too, so this is checked apart from the XSD.
- The document is validated against MedCom's receipt XSD ("receipt" in the application's
  `XsdRegistry`, which the caller passes as `schemas`, as for `parse_ggop`), then mapped.
  RefuseText's <Break/> becomes a newline and <Space/> a space; nothing is stripped.

Business rules are not checked here: a negative receipt without any RefuseCode is valid against
MedCom's XSD and is read; whether it may be applied is the service's decision.

Imports only app.domain, app.errors and the xml layer (architecture.md).
"""

import re
from typing import Any

from app.domain.receipts import Receipt, ReceiptKind, ReceiptLetter, RefuseCode
from app.errors import FieldError
from app.xml.hardened import XmlRejected, parse_xml, rejected
from app.xml.validate import XmlIssue, XsdRegistry

__all__ = ["RECEIPT_NAMESPACE", "parse_receipt"]

RECEIPT_NAMESPACE = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/"


def _ns(name: str) -> str:
    """lxml's tag for the element `name` in the receipts' namespace."""
    return f"{{{RECEIPT_NAMESPACE}}}{name}"


_EMESSAGE = _ns("Emessage")
_KINDS = {_ns(kind.element): kind for kind in ReceiptKind}
# EMessage.xsd: after the Envelope, letters each optionally followed by Local_Elements.
_NOT_LETTERS = {_ns("Envelope"), _ns("Local_Elements")}
_BREAK = _ns("Break")
_SPACE = _ns("Space")

_NOT_A_RECEIPT = (
    "A MedCom receipt is an Emessage in namespace "
    f"{RECEIPT_NAMESPACE} holding a PositiveReceipt, NegativeReceipt or NegativeVansReceipt."
)


def parse_receipt(body: bytes, *, schemas: XsdRegistry) -> Receipt:
    """Reads a MedCom receipt (XCTL01/02/03), valid against MedCom's receipt XSD in
    `schemas`; XmlRejected names the element and the rule."""
    tree = parse_xml(body)
    root = tree.getroot()
    if root.tag != _EMESSAGE:
        raise rejected(f"/{_local(root.tag)}", "not_a_receipt", _NOT_A_RECEIPT)
    letters = [child for child in root if child.tag not in _NOT_LETTERS]
    if not letters:
        raise rejected("/Emessage", "not_a_receipt", _NOT_A_RECEIPT)
    for letter in letters:
        if letter.tag not in _KINDS:
            raise rejected(f"/Emessage/{_local(letter.tag)}", "not_a_receipt", _NOT_A_RECEIPT)
    if len(letters) > 1:
        # EMessage.xsd allows several letters, but one receipt already answers up to 99
        # original letters (formats.md §6); Sektorbro reads one receipt per Emessage.
        first, second = letters[:2]
        step = _local(second.tag) + ("[2]" if second.tag == first.tag else "")
        raise rejected(
            f"/Emessage/{step}", "receipt_repeated", "Sektorbro takes one receipt per Emessage."
        )
    if issues := schemas.validate("receipt", tree):
        raise XmlRejected(_schema_errors(issues))
    return _receipt(letters[0])


def _receipt(element: Any) -> Receipt:
    """The receipt element, valid against MedCom's XSD, as a `Receipt`."""
    original = _child(element, "OriginalEmessage")
    return Receipt(
        kind=_KINDS[element.tag],
        letter_id=_text(_child(element, "Letter"), "Identifier"),
        sender=_text(_child(element, "Sender"), "EANIdentifier"),
        receiver=_text(_child(element, "Receiver"), "EANIdentifier"),
        original_envelope_id=_text(original, "OriginalEnvelopeIdentifier"),
        original_sender=_text(_child(original, "OriginalSender"), "EANIdentifier"),
        original_receiver=_text(_child(original, "OriginalReceiver"), "EANIdentifier"),
        original_letters=tuple(
            ReceiptLetter(
                letter_id=_text(letter, "OriginalLetterIdentifier"),
                version_code=_text(letter, "OriginalVersionCode"),
                refuse_code=_refuse_code(letter),
                refuse_text=_refuse_text(letter),
            )
            for letter in element.iterfind(f"{_ns('OriginalEmessage')}/{_ns('OriginalLetter')}")
        ),
        refuse_code=_refuse_code(original),
        refuse_text=_refuse_text(original),
    )


def _local(tag: str) -> str:
    return tag.rpartition("}")[2]


def _child(parent: Any, name: str) -> Any:
    # The XSD has been checked: every required child is there, exactly once.
    return parent.find(_ns(name))


def _text(parent: Any, name: str) -> str:
    text: str | None = _child(parent, name).text
    return text or ""


def _refuse_code(parent: Any) -> RefuseCode | None:
    element = _child(parent, "RefuseCode")
    return None if element is None else RefuseCode(element.text)


def _refuse_text(parent: Any) -> str | None:
    """RefuseText (MedCom BreakableText) as plain text: a newline for each <Break/>."""
    element = _child(parent, "RefuseText")
    if element is None:
        return None
    parts = [element.text or ""]
    for child in element:  # BreakableText holds only Break and Space (FormattedText.xsd)
        parts.append("\n" if child.tag == _BREAK else " " if child.tag == _SPACE else "")
        parts.append(child.tail or "")
    return "".join(parts)


# libxml2 quotes the offending value in these messages; the rest of each message is the
# schema's. Error texts never echo submitted values (app/errors.py).
_QUOTED_VALUE = re.compile(
    r"(?:The value |^)'.*' (?=is not (?:an element of the set|accepted by the pattern|a valid "
    r"value of the))",
    re.DOTALL,
)
_ELEMENT_PREFIX = re.compile(r"^Element '[^']*': ")
# "{namespace}Name" in libxml2's element names; not the "{'a', 'b'}" of an enumeration.
_NAMESPACE = re.compile(r"\{[^}'\s]*\}")


def _schema_errors(issues: list[XmlIssue]) -> list[FieldError]:
    """XSD issues as errors naming the element, in words without the offending value."""
    errors = []
    for issue in issues:
        message = _ELEMENT_PREFIX.sub("", _NAMESPACE.sub("", issue.message))
        message = _QUOTED_VALUE.sub("The value ", message)
        errors.append(
            FieldError(
                issue.path or "/",
                "receipt_schema",
                f"Not valid against MedCom's receipt schema (2005/08/07): {message}",
            )
        )
    return list(dict.fromkeys(errors))

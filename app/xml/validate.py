"""XSD validation of MedCom XML against the schemas in `schemas/`, with readable element paths.

`XsdRegistry` knows three schemas by name: "ggop" (Sektorbro's reconstruction of GGOP 1.0.4,
`schemas/ggop/`), "xdis91" (MedCom's 2006/07/01 schemas: ClinicalEmail XD9134L) and "receipt"
(MedCom's 2005/08/07 schemas: XCTL01/02/03). It answers with a list of `XmlIssue`s, empty when
the document is valid.

Threads: lxml keeps a schema's `error_log` on the `XMLSchema` object, so two threads validating
with one object read each other's errors (architecture.md, Known traps), and FastAPI runs `def`
routes on a thread pool. Each thread therefore compiles its own copy of a schema on first use
(1-13 ms measured) and reuses it for every later document; nothing is compiled at import.

Imports nothing from `app` except `app.resources`.
"""

import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from lxml import etree  # type: ignore[import-untyped]  # lxml ships no type hints

from app.resources import resource_dir

__all__ = ["SchemaName", "XmlIssue", "XsdRegistry"]

SchemaName = Literal["ggop", "xdis91", "receipt"]


@dataclass(frozen=True)
class XmlIssue:
    """One reason a document is invalid: where (element path in local names) and what."""

    path: str  # e.g. "/Emessage/RehabilitationPlan/Patient/CivilRegistrationNumber"; "": all
    message: str  # libxml2's message, element names in {namespace}name form


@dataclass(frozen=True)
class _SchemaFile:
    entry: str  # the XSD to compile, relative to schemas/
    root: str  # the one root element a document may have, {namespace}name


_GGOP_1_0_4 = "urn:oio:medcom:municipality:1.0.4"
_MEDCOM_2006 = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/"
_MEDCOM_2005 = "http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2005/08/07/"

# The root is checked apart from the XSD because every global element of a schema may be a
# validation root: MedCom's schemas would otherwise accept a bare <CivilRegistrationNumber>,
# and ours a bare mm100:Envelope.
_SCHEMAS: dict[SchemaName, _SchemaFile] = {
    "ggop": _SchemaFile("ggop/municipality-1.0.4.xsd", f"{{{_GGOP_1_0_4}}}Emessage"),
    # EMessage.xsd is MedCom's entry point; it includes Letters.xsd and so ClinicalEmail.xsd.
    "xdis91": _SchemaFile("medcom/2006-07-01/EMessage.xsd", f"{{{_MEDCOM_2006}}}Emessage"),
    # Likewise; its Letters group holds PositiveReceipt, NegativeReceipt, NegativeVansReceipt.
    "receipt": _SchemaFile("medcom/2005-08-07/EMessage.xsd", f"{{{_MEDCOM_2005}}}Emessage"),
}


class _PerThread(threading.local):
    """What each thread keeps for itself: its compiled schemas and its parser."""

    def __init__(self) -> None:
        self.schemas: dict[SchemaName, Any] = {}
        # Untrusted bytes: no entity expansion, no network, no DTD, no huge trees. A parser,
        # like a schema, keeps an error log, so it is not shared between threads either.
        self.parser: Any = etree.XMLParser(
            resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
        )


class XsdRegistry:
    """The XSDs by name, each compiled once per thread on its first use in that thread."""

    def __init__(self) -> None:
        self._folder: Path = resource_dir("schemas")
        self._per_thread = _PerThread()

    def schema(self, name: SchemaName) -> etree.XMLSchema:
        """The calling thread's compiled schema `name`, compiled if this thread has none yet."""
        schemas = self._per_thread.schemas
        if name not in schemas:
            # From the file path, so that includes and imports resolve next to the entry XSD.
            schemas[name] = etree.XMLSchema(file=str(self._folder / _SCHEMAS[name].entry))
        return schemas[name]

    def validate(
        self, name: SchemaName, document: bytes | etree._ElementTree | etree._Element
    ) -> list[XmlIssue]:
        """The issues that make `document` (bytes, a tree or its root) invalid as `name`."""
        if isinstance(document, bytes):
            try:
                root = etree.fromstring(document, self._per_thread.parser)
            except etree.XMLSyntaxError as error:
                return [XmlIssue(path="", message=f"Not well-formed XML: {error}")]
        elif isinstance(document, etree._ElementTree):
            root = document.getroot()
        else:
            root = document
        if root.getroottree().docinfo.doctype:
            # MedCom documents have no DTD; the hardened parser leaves entity references
            # unexpanded, and libxml2's validator fails with an internal error on them.
            return [XmlIssue(path="", message="A DOCTYPE is not allowed in a MedCom document.")]
        expected = _SCHEMAS[name].root
        if root.tag != expected:
            return [
                XmlIssue(
                    path=_readable_path(root),
                    message=f"Element '{root.tag}': expected '{expected}' as the root ({name}).",
                )
            ]
        schema = self.schema(name)
        try:
            if schema.validate(root):
                return []
        except etree.XMLSchemaValidateError as error:  # libxml2 gave up on this document
            return [XmlIssue(path="", message=f"Could not be validated: {error}")]
        return [
            XmlIssue(path=_issue_path(root, error.path), message=error.message)
            for error in schema.error_log
        ]


# One step of libxml2's node path (xmlGetNodePath): "prefix:name[n]" for a prefixed element,
# "name[n]" for one in no namespace, and "*[n]" for one in a default namespace, where n then
# counts all element siblings; "[n]" is left out when the element has no namesake sibling.
_NODE_PATH_STEP = re.compile(r"(?:(?P<prefix>[\w.-]+):)?(?P<name>[\w.-]+|\*)(?:\[(?P<n>\d+)\])?")


def _issue_path(root: etree._Element, node_path: str | None) -> str:
    """The readable path of the element that libxml2's `node_path` points at."""
    element = _follow(root, node_path) if node_path else None
    if element is None:
        # Not a path we can follow (a libxml2 change?): keep it, without namespace prefixes.
        return re.sub(r"[\w.-]+:", "", node_path or "")
    return _readable_path(element)


def _follow(root: etree._Element, node_path: str) -> etree._Element | None:
    """The element at `node_path` in the document of `root`, or None if there is none."""
    element = None
    candidates = [root.getroottree().getroot()]
    for step in node_path.split("/")[1:]:
        match = _NODE_PATH_STEP.fullmatch(step)
        if match is None:
            return None
        prefix, name, n = match.group("prefix", "name", "n")
        namesakes = [
            candidate
            for candidate in candidates
            if name == "*"
            or (candidate.prefix == prefix and etree.QName(candidate).localname == name)
        ]
        position = int(n or 1)
        if position > len(namesakes):
            return None
        element = namesakes[position - 1]
        candidates = [child for child in element if isinstance(child.tag, str)]
    return element


def _readable_path(element: etree._Element) -> str:
    """`element`'s path in local names, with [n] where a parent has several of its name."""
    steps = []
    for node in (element, *element.iterancestors()):
        step = etree.QName(node).localname
        parent = node.getparent()
        if parent is not None:
            namesakes = list(parent.iterchildren(node.tag))
            if len(namesakes) > 1:
                step += f"[{namesakes.index(node) + 1}]"
        steps.append(step)
    return "/" + "/".join(reversed(steps))

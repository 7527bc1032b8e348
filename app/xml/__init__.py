"""The MedCom XML boundary, organised by format over one hardened parser and one shared reader.

- hardened.py: the hardened parser (`parse_xml`, `check_encoding`, `XmlRejected`): no DOCTYPE,
  no entities, no network, bounded size, the declared encoding checked.
- reading.py: the element reading the inbound formats share (elements with their XPaths,
  MedCom formatted text as runs).
- ggop.py: GGOP read into `Plan`'s JSON shape (`parse_ggop`, `ParsedPlan`, `xpath_for`).
- xdis91.py: XDIS91 correspondence letters read into `Letter` (`parse_xdis91`, `ParsedLetter`).
- receipts.py: XCTL01/02/03 receipts read into `Receipt` (`parse_receipt`).
- render.py: domain models rendered as GGOP, XDIS91 and receipts (`XmlRenderer`), with text as
  lines of runs (lines.py) and a plan's XDIS91 text cut into blocks (xdis91_layout.py).
- validate.py: XSD validation (`XsdRegistry`); documents.py: stored documents' envelope ids
  and Latin-1 copies; headings.py: the headings GGOP text carries both ways.

Other layers import from here, not from the modules.
"""

from app.xml.documents import envelope_id_of, in_latin1
from app.xml.ggop import ParsedPlan, parse_ggop, xpath_for
from app.xml.hardened import XmlRejected
from app.xml.receipts import parse_receipt
from app.xml.render import Envelope, Party, PlanParties, RenderedXmlInvalid, XmlRenderer
from app.xml.validate import SchemaName, XmlIssue, XsdRegistry
from app.xml.xdis91 import ParsedLetter, Written, parse_xdis91
from app.xml.xdis91_layout import PlanTooLongForXdis91

__all__ = [
    "Envelope",
    "ParsedLetter",
    "ParsedPlan",
    "Party",
    "PlanParties",
    "PlanTooLongForXdis91",
    "RenderedXmlInvalid",
    "SchemaName",
    "Written",
    "XmlIssue",
    "XmlRejected",
    "XmlRenderer",
    "XsdRegistry",
    "envelope_id_of",
    "in_latin1",
    "parse_ggop",
    "parse_receipt",
    "parse_xdis91",
    "xpath_for",
]

"""The MedCom XML boundary: rendering (render.py), hardened parsing (parse.py), receipts
(receipts.py: XCTL01/02/03 read into `Receipt`), correspondence letters (letters.py: XDIS91
read into `Letter`) and XSD validation (validate.py).

Other layers import from here, not from the modules.
"""

from app.xml.documents import envelope_id_of, in_latin1
from app.xml.letters import ParsedLetter, Written, parse_xdis91
from app.xml.parse import ParsedPlan, XmlRejected, parse_ggop, xpath_for
from app.xml.receipts import parse_receipt
from app.xml.render import (
    Envelope,
    Party,
    PlanParties,
    PlanTooLongForXdis91,
    RenderedXmlInvalid,
    XmlRenderer,
)
from app.xml.validate import SchemaName, XmlIssue, XsdRegistry

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

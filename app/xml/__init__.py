"""The MedCom XML boundary: rendering (render.py), hardened parsing (parse.py) and XSD
validation (validate.py).

Other layers import from here, not from the modules.
"""

from app.xml.parse import ParsedPlan, XmlRejected, parse_ggop, xpath_for
from app.xml.render import (
    Envelope,
    Party,
    PlanParties,
    PlanTooLongForXdis91,
    RenderedXmlInvalid,
    XmlRenderer,
)
from app.xml.validate import XmlIssue, XsdRegistry

__all__ = [
    "Envelope",
    "ParsedPlan",
    "Party",
    "PlanParties",
    "PlanTooLongForXdis91",
    "RenderedXmlInvalid",
    "XmlIssue",
    "XmlRejected",
    "XmlRenderer",
    "XsdRegistry",
    "parse_ggop",
    "xpath_for",
]

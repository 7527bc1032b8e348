"""The MedCom XML boundary: XSD validation (render and parse join later).

Other layers import from here, not from the modules.
"""

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
    "Party",
    "PlanParties",
    "PlanTooLongForXdis91",
    "RenderedXmlInvalid",
    "XmlIssue",
    "XmlRenderer",
    "XsdRegistry",
]

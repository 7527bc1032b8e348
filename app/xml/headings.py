"""Headings Sektorbro writes into GGOP text where GGOP has no element of its own.

GGOP has no element for the patient's functional ability before admission (R7a), so
`render.py` writes it at the start of `AbilityAtDischargeExtended` under the first heading and
the extended text under the second; `ggop.py` splits such a text back into the two fields.
Both modules take the headings from here so that the two directions cannot drift apart.
"""

__all__ = ["BEFORE_ADMISSION_HEADING", "EXTENDED_HEADING"]

BEFORE_ADMISSION_HEADING = "Funktionsevne før indlæggelse"
EXTENDED_HEADING = "Funktionsevne ved udskrivelse, uddybet"

"""Sektorbro: message exchange for Danish cross-sector rehabilitation.

Layers (imports point down only): api -> services -> {repositories, xml, delivery} -> domain.
"""

__version__ = "0.1.0"

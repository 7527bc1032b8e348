"""All SQL lives here: one class per aggregate, holding the session it was given."""

from app.repositories.api_keys import ApiKeyRepository
from app.repositories.audit import AuditEventRow, AuditRepository, AuditTarget
from app.repositories.messages import DeliveryRepository, InboxEntry, MessageRepository
from app.repositories.organisations import DirectoryEntry, OrganisationRepository

__all__ = [
    "ApiKeyRepository",
    "AuditEventRow",
    "AuditRepository",
    "AuditTarget",
    "DeliveryRepository",
    "DirectoryEntry",
    "InboxEntry",
    "MessageRepository",
    "OrganisationRepository",
]

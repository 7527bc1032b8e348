"""The words of message tracking: message types, delivery roles and delivery statuses (api.md)."""

import hashlib
import hmac
import json
import secrets
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "ACK_OVERDUE",
    "DANISH_MONTHS",
    "DANISH_TIME",
    "UNACKNOWLEDGED",
    "DeliveryRole",
    "DeliveryStatus",
    "MessageType",
    "content_hash",
    "new_envelope_id",
    "new_letter_id",
    "patient_reference",
]

# MedCom's local dates and times (Envelope/Sent, Authorisation) and the law's calendar days
# (R23) are Danish.
DANISH_TIME = ZoneInfo("Europe/Copenhagen")
# The months as Danish dates write them ("2. december 2026").
DANISH_MONTHS = (
    "januar",
    "februar",
    "marts",
    "april",
    "maj",
    "juni",
    "juli",
    "august",
    "september",
    "oktober",
    "november",
    "december",
)


class MessageType(StrEnum):
    PLAN = "plan"
    NOTICE = "notice"
    LETTER = "letter"
    RECEIPT = "receipt"


class DeliveryRole(StrEnum):
    PRIMARY = "primary"  # the bopælskommune for a plan
    GP_COPY = "gp_copy"  # the patient's own GP (GGOP GPCCReceiver)
    # R11, R28: the hospital the patient chose for specialised training (a GGOP CCReceiver).
    # Stored in deliveries.role, a plain String(20): a new value needs no migration.
    CHOSEN_HOSPITAL = "chosen_hospital"
    CC = "cc"
    RESULT_RECEIVER = "result_receiver"  # receives the kommune's notices (GGOP FinalResult)


class DeliveryStatus(StrEnum):
    QUEUED = "queued"
    AVAILABLE = "available"  # in the receiver's inbox
    PUSHED = "pushed"
    FETCHED = "fetched"
    ACKNOWLEDGED = "acknowledged"  # positive receipt (XCTL03)
    REJECTED = "rejected"  # negative receipt (XCTL02)
    FAILED = "failed"


# What a receiver still has to deal with: its inbox (at-least-once until acknowledged).
UNACKNOWLEDGED = (DeliveryStatus.AVAILABLE, DeliveryStatus.FETCHED)

# Not a status but a flag beside it: a receipt was asked for and has not come in time
# (SEKTORBRO_ACK_TIMEOUT; MedCom: 30 minutes). Also written to the status history when set.
ACK_OVERDUE = "ack_overdue"


def new_envelope_id() -> str:
    """A new MedCom envelope id (kuvertnummer; 1-14 characters, new for every transmission):
    14 random digits."""
    return f"{secrets.randbelow(10**14):014d}"


def new_letter_id() -> str:
    """A new MedCom letter id (brevnummer; 1-14 characters) for letters Sektorbro writes
    itself, i.e. receipts: 14 hex digits (56 random bits)."""
    return secrets.token_hex(7)


def content_hash(body: dict[str, Any]) -> str:
    """SHA-256 of a message's canonical JSON: equal content, equal hash."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def patient_reference(key: bytes, *, cpr: str | None, alternative_id: str | None) -> str:
    """A keyed hash (HMAC-SHA256) of the patient's identifier, for indexes and the audit log.

    A plain hash of a CPR number can be reversed by trying all ~4 million birth dates and
    serial numbers; without the key it cannot.
    """
    identifier = f"cpr:{cpr}" if cpr is not None else f"alt:{alternative_id}"
    return hmac.new(key, identifier.encode("utf-8"), hashlib.sha256).hexdigest()

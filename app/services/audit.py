"""The audit log: every send and every read of patient data, by whom and when.

The patient is recorded as a keyed hash (app/domain/messages.py), never the CPR in clear.
"""

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from app.repositories import AuditRepository, AuditTarget
from app.services.context import RequestContext

__all__ = ["record"]


class MessageRead(Protocol):
    """What the log keeps of a message read: a stored message or an inbox entry."""

    @property
    def message_id(self) -> str: ...

    @property
    def patient_ref(self) -> str: ...


class DeliveryRead(Protocol):
    @property
    def delivery_id(self) -> str: ...


def record(
    session: Session,
    ctx: RequestContext,
    action: str,
    *,
    messages: Sequence[MessageRead] = (),
    deliveries: Sequence[tuple[MessageRead, DeliveryRead]] = (),
    patient_ref: str | None = None,
) -> None:
    """Writes one audit event per message or (message, delivery) read, or one with only a
    patient."""
    targets: list[AuditTarget] = [
        (message.message_id, None, message.patient_ref) for message in messages
    ] + [
        (message.message_id, delivery.delivery_id, message.patient_ref)
        for message, delivery in deliveries
    ]
    if not targets:
        targets = [(None, None, patient_ref)]
    AuditRepository(session).add(
        at=ctx.now,
        action=action,
        actor_key_id=ctx.caller.key_id,
        actor_gln=ctx.caller.organisation_gln,
        request_id=ctx.request_id,
        targets=targets,
    )

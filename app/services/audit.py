"""The audit log: every send and every read of patient data, by whom and when.

The patient is recorded as a keyed hash (app/domain/messages.py), never the CPR in clear.
"""

from collections.abc import Sequence
from typing import Protocol

from sqlalchemy.orm import Session

from app.repositories import AuditRepository, AuditTarget
from app.repositories.audit import AuditEventRow, audit_rows
from app.services.context import RequestContext

__all__ = ["events", "record"]


class MessageRead(Protocol):
    """What the log keeps of a message read: a stored message or an inbox entry."""

    @property
    def message_id(self) -> str: ...

    @property
    def patient_ref(self) -> str: ...


class DeliveryRead(Protocol):
    @property
    def delivery_id(self) -> str: ...


def events(
    ctx: RequestContext,
    action: str,
    *,
    messages: Sequence[MessageRead] = (),
    deliveries: Sequence[tuple[MessageRead, DeliveryRead]] = (),
    patient_ref: str | None = None,
) -> list[AuditEventRow]:
    """One audit event per message or (message, delivery) read, or one with only a patient;
    for a repository that writes them with the rest of a use case's rows."""
    targets: list[AuditTarget] = [
        (message.message_id, None, message.patient_ref) for message in messages
    ] + [
        (message.message_id, delivery.delivery_id, message.patient_ref)
        for message, delivery in deliveries
    ]
    if not targets:
        targets = [(None, None, patient_ref)]
    return audit_rows(
        at=ctx.now,
        action=action,
        actor_key_id=ctx.caller.key_id,
        actor_gln=ctx.caller.organisation_gln,
        request_id=ctx.request_id,
        targets=targets,
    )


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
    AuditRepository(session).add(
        events(ctx, action, messages=messages, deliveries=deliveries, patient_ref=patient_ref)
    )

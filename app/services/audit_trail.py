"""The audit trail of one patient, for a key with the scope `audit`: the one scope that reads
patient data across organisations, and whose every read is itself audited."""

from sqlalchemy.orm import Session

from app import orm
from app.domain.messages import patient_reference
from app.repositories import AuditRepository
from app.services import audit
from app.services.context import RequestContext
from app.services.cursors import decode_keyset, encode_keyset
from app.services.messages import checked_cpr

__all__ = ["trail"]


def trail(
    session: Session, ctx: RequestContext, *, patient_cpr: str, cursor: str | None, limit: int
) -> tuple[list[orm.AuditEvent], str | None]:
    """Who sent or read a patient's data, and when: the events newest first, and the cursor of
    the next page (or None). The patient is found by the keyed hash of the CPR, as recorded;
    reading the trail is itself recorded. For a key with the scope `audit` only: its route
    checks that (deps.AuditContextDep) before the body is read."""
    cpr = checked_cpr(patient_cpr, ctx)
    patient_ref = patient_reference(ctx.patient_key, cpr=cpr, alternative_id=None)
    before = None
    if cursor:
        at, event_id = decode_keyset(cursor)
        before = (at, int(event_id) if event_id.isdigit() else 0)
    rows = AuditRepository(session).trail(patient_ref, before=before, limit=limit + 1)
    audit.record(session, ctx, "audit.searched", patient_ref=patient_ref)
    page = rows[:limit]
    if len(rows) <= limit:
        return page, None
    return page, encode_keyset(page[-1].at, str(page[-1].event_id))

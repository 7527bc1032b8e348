"""Route of the audit trail: who sent or read a patient's data (scope `audit`)."""

from fastapi import APIRouter

from app.api.payloads import AuditEventOut, AuditPage, AuditSearch, problem_responses
from app.deps import AuditContextDep, DatabaseDep, JsonBody, in_thread
from app.services import audit_trail

__all__ = ["router"]

router = APIRouter(prefix="/v1/audit", tags=["audit"])


@router.post(
    "/search",
    response_model=AuditPage,
    summary="A patient's audit trail (scope audit)",
    responses=problem_responses(401, 403, 413, 415, 422),
)
@in_thread
def search_audit_trail(
    ctx: AuditContextDep, _json: JsonBody, search: AuditSearch, db: DatabaseDep
) -> AuditPage:
    """Every send and read of the patient's data, by whom (key and organisation) and when,
    newest first. The CPR number is in the body, never in the URL; the search is audited."""
    with db.transaction() as session:
        events, next_cursor = audit_trail.trail(
            session, ctx, patient_cpr=search.patient_cpr, cursor=search.cursor, limit=search.limit
        )
    return AuditPage(
        items=[AuditEventOut.model_validate(event, from_attributes=True) for event in events],
        next_cursor=next_cursor,
    )

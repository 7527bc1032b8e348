"""Routes for rehabilitation notices and the start deadlines they keep."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status

from app.api.payloads import DeadlinePage, DeadlineRowOut, SubmissionOut, problem_responses
from app.deps import (
    ContextDep,
    DatabaseDep,
    OrganisationContextDep,
    RequestBody,
    XmlDep,
    body_of,
    in_thread,
)
from app.domain.deadlines import DeadlineState
from app.domain.identifiers import Kommunekode
from app.domain.iso import IsoDate
from app.services import deadlines, notices

__all__ = ["deadlines_router", "router"]

router = APIRouter(prefix="/v1/notices", tags=["notices"])
deadlines_router = APIRouter(prefix="/v1/deadlines", tags=["deadlines"])

NoticeBody = Annotated[
    RequestBody, Depends(body_of("json", what="A notice is sent as application/json"))
]
_NOTICE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Notice"}}},
    }
}


@router.post(
    "",
    response_model=SubmissionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Send a rehabilitation notice",
    openapi_extra=_NOTICE_BODY,
    responses={
        200: {"model": SubmissionOut, "description": "The same notice again: the first answer."},
        **problem_responses(401, 403, 409, 413, 415, 422),
    },
)
@in_thread
def submit_notice(
    ctx: OrganisationContextDep,
    body: NoticeBody,
    db: DatabaseDep,
    renderer: XmlDep,
    response: Response,
) -> SubmissionOut:
    """A hospital's early notice of rehabilitation need (`rehabilitation_need`) goes to the
    patient's kommune (`patient.municipality_code`) and the GP given. A kommune's notice about
    a plan it received (`plan_message_id`) goes to the plan's sender and result receivers and
    is checked against the plan's course so far; a `transferred` notice also delivers the plan
    to the new kommune. Each is delivered as an XDIS91 letter with a Danish subject and text,
    in the plan's thread.

    The same `letter_id` from the same sender again is a duplicate (MedCom): same content,
    200 with the first message; other content, 409."""
    notice = notices.read_notice(body.content)
    with db.transaction() as session:
        submission = notices.submit_notice(session, ctx, renderer, notice=notice)
    if not submission.created:
        response.status_code = status.HTTP_200_OK
    return SubmissionOut.of_submission(submission.message, submission.warnings)


@deadlines_router.get(
    "",
    response_model=DeadlinePage,
    summary="Plans by start deadline",
    responses=problem_responses(401, 403, 422),
)
@in_thread
def list_deadlines(
    ctx: ContextDep,
    db: DatabaseDep,
    state: Annotated[
        DeadlineState | None,
        Query(
            description="overdue: not started and the deadline has passed, or started late; "
            "due_soon: not started, 2 days or fewer left; met: started in time; pending: more "
            "than 2 days left; closed: cancelled in time without a start."
        ),
    ] = None,
    municipality_code: Annotated[
        Kommunekode | None, Query(description="Only plans for patients of this kommune.")
    ] = None,
    deadline_from: Annotated[
        IsoDate | None, Query(alias="from", description="Deadline in force on or after.")
    ] = None,
    deadline_to: Annotated[
        IsoDate | None, Query(alias="to", description="Deadline in force on or before.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
) -> DeadlinePage:
    """Every plan you sent or received (an admin key: every plan), earliest deadline in force
    first, with the legal first-contact deadline (the plan's own, else discharge + 7 calendar
    days), whether and when the course started, and whether the deadline was met. A
    postponement reported in time moves the deadline; a transfer gives the new kommune its
    own. Every listed row names its patient, so the read is audited."""
    with db.transaction() as session:
        rows, next_cursor = deadlines.list_deadlines(
            session,
            ctx,
            state=state,
            municipality_code=municipality_code,
            deadline_from=deadline_from,
            deadline_to=deadline_to,
            cursor=cursor,
            limit=limit,
        )
    return DeadlinePage(items=[DeadlineRowOut.of(row) for row in rows], next_cursor=next_cursor)

"""Routes for genoptræningsplaner: submit (JSON or GGOP XML), dry-run, read."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from app.api.payloads import (
    PlanOut,
    PlanValidation,
    Remark,
    RenderedDocumentOut,
    SubmissionOut,
    problem_responses,
)
from app.deps import (
    DatabaseDep,
    OrganisationContextDep,
    RequestBody,
    XmlDep,
    body_of,
    in_thread,
    wants_xml,
)
from app.services import plans
from app.services.context import RequestContext

__all__ = ["router"]

router = APIRouter(prefix="/v1/plans", tags=["plans"])

XML_MEDIA_TYPE = "application/xml"
_GGOP_EXAMPLE = (
    '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    '<Emessage xmlns="urn:oio:medcom:municipality:1.0.4" '
    'xmlns:mm100="urn:oio:medcom:municipality:1.0.0">…</Emessage>'
)
# Both media types take the same plan; OpenAPI shows the JSON model and an XML outline.
_PLAN_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Plan"}},
            XML_MEDIA_TYPE: {
                "schema": {"type": "string", "description": "A GGOP OIOXML document."},
                "example": _GGOP_EXAMPLE,
            },
        },
    }
}


PlanBody = Annotated[
    RequestBody,
    Depends(
        body_of(
            "json",
            "xml",
            what="A plan is sent as application/json or as GGOP XML (application/xml)",
        )
    ),
]


def _read(body: RequestBody, ctx: RequestContext, renderer: XmlDep) -> plans.PlanInput:
    if body.kind == "json":
        return plans.read_plan_json(body.content, today=ctx.today)
    return plans.read_plan_xml(body.content, today=ctx.today, schemas=renderer.schemas)


@router.post(
    "",
    response_model=SubmissionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Submit a genoptræningsplan",
    openapi_extra=_PLAN_BODY,
    responses={
        200: {"model": SubmissionOut, "description": "The same plan again: the first answer."},
        **problem_responses(401, 403, 409, 413, 415, 422),
    },
)
@in_thread
def submit_plan(
    ctx: OrganisationContextDep,
    body: PlanBody,
    db: DatabaseDep,
    renderer: XmlDep,
    response: Response,
) -> SubmissionOut:
    """Stores the plan and delivers it to the bopælskommune, the GP (unless deselected) and any
    CC receivers, each as GGOP or, for receivers that take only XDIS91, as an XDIS91 letter.

    The same `letter_id` from the same sender again is a duplicate (MedCom): with the same
    content it answers 200 with the first message and creates nothing; with other content, 409.
    """
    plan_input = _read(body, ctx, renderer)
    with db.transaction() as session:
        submission = plans.submit_plan(session, ctx, renderer, plan_input=plan_input)
    if not submission.created:
        response.status_code = status.HTTP_200_OK
    return SubmissionOut.of_submission(submission.message, submission.warnings)


@router.post(
    "/validate",
    response_model=PlanValidation,
    summary="Check and render a plan without sending it",
    openapi_extra=_PLAN_BODY,
    responses=problem_responses(401, 403, 413, 415, 422),
)
@in_thread
def validate_plan(
    ctx: OrganisationContextDep, body: PlanBody, db: DatabaseDep, renderer: XmlDep
) -> PlanValidation:
    """Runs every check of `POST /v1/plans` and renders each receiver's document; stores and
    sends nothing."""
    plan_input = _read(body, ctx, renderer)
    with db.transaction(read_only=True) as session:
        rendered = plans.validate_plan(session, ctx, renderer, plan_input=plan_input)
    return PlanValidation(
        valid=True,
        documents=[
            RenderedDocumentOut(
                receiver_gln=d.route.organisation.gln,
                role=d.route.role,
                format=d.route.format,
                xml=d.xml.decode("iso-8859-1"),
            )
            for d in rendered.documents
        ],
        warnings=[Remark.of(w) for w in rendered.warnings],
    )


@router.get(
    "/{message_id}",
    response_model=PlanOut,
    summary="Read a plan (JSON, or its XML)",
    responses={
        200: {
            "content": {XML_MEDIA_TYPE: {"schema": {"type": "string"}}},
            "description": "The plan; with `Accept: application/xml` the MedCom document the "
            "caller received (for its sender: the one the kommune received).",
        },
        **problem_responses(401, 403, 404),
    },
)
@in_thread
def get_plan(
    message_id: str, request: Request, ctx: OrganisationContextDep, db: DatabaseDep
) -> PlanOut | Response:
    """A plan the caller sent or received, with its `business_status`, `deadline_status` and
    the `timeline` of the kommune's notices. Every read is audited."""
    if wants_xml(request):
        with db.transaction() as session:
            xml = plans.plan_document(session, ctx, message_id=message_id)
        return Response(xml, media_type=f"{XML_MEDIA_TYPE}; charset=ISO-8859-1")
    with db.transaction() as session:
        message, course = plans.get_plan(session, ctx, message_id=message_id)
    return PlanOut(
        message_id=message.message_id,
        letter_id=message.letter_id,
        sender_gln=message.sender_gln,
        created_at=message.created_at,
        plan=message.body,
    ).with_course(course)

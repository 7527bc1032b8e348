"""Routes for correspondence letters (XDIS91): submit (JSON or XDIS91 XML), read, and threads."""

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status

from app.api.payloads import (
    LetterOut,
    SubmissionOut,
    ThreadMessageOut,
    ThreadOut,
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
from app.services import letters

__all__ = ["router", "threads_router"]

router = APIRouter(prefix="/v1/letters", tags=["letters"])
threads_router = APIRouter(prefix="/v1/threads", tags=["letters"])

XML_MEDIA_TYPE = "application/xml"
_XDIS91_EXAMPLE = (
    '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    '<Emessage xmlns="http://rep.oio.dk/sundcom.dk/medcom.dk/xml/schemas/2006/07/01/">'
    "…<ClinicalEmail>…</ClinicalEmail></Emessage>"
)
_LETTER_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Letter"}},
            XML_MEDIA_TYPE: {
                "schema": {
                    "type": "string",
                    "description": "An XDIS91 (XD9134L) OIOXML document in UTF-8, UTF-16, "
                    "ISO-8859-1, ISO-8859-15 or windows-1252.",
                },
                "example": _XDIS91_EXAMPLE,
            },
        },
    }
}


LetterBody = Annotated[
    RequestBody,
    Depends(
        body_of(
            "json",
            "xml",
            what="A letter is sent as application/json or as XDIS91 XML (application/xml)",
        )
    ),
]


def _read(body: RequestBody) -> letters.LetterInput:
    if body.kind == "json":
        return letters.read_letter_json(body.content)
    return letters.read_letter_xml(body.content)


@router.post(
    "",
    response_model=SubmissionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Send a correspondence letter",
    openapi_extra=_LETTER_BODY,
    responses={
        200: {"model": SubmissionOut, "description": "The same letter again: the first answer."},
        **problem_responses(401, 403, 409, 413, 415, 422),
    },
)
@in_thread
def submit_letter(
    ctx: OrganisationContextDep,
    body: LetterBody,
    db: DatabaseDep,
    renderer: XmlDep,
    response: Response,
) -> SubmissionOut:
    """Delivers the letter to `receiver_gln` as an XDIS91 letter (XD9134L). `reply_to` answers
    a message you received and `status: rettetbrev` with `corrects` replaces a letter you
    sent; both join that message's thread, whose id the answer gives as `thread_id`.

    The same `letter_id` from the same sender again is a duplicate (MedCom): with the same
    content it answers 200 with the first message; with other content, 409. Without a
    `letter_id` Sektorbro assigns one, and a repeated request is a new letter."""
    letter_input = _read(body)
    with db.transaction() as session:
        submission = letters.submit_letter(session, ctx, renderer, letter_input=letter_input)
    if not submission.created:
        response.status_code = status.HTTP_200_OK
    return SubmissionOut.of_submission(submission.message, submission.warnings)


@router.get(
    "/{message_id}",
    response_model=LetterOut,
    summary="Read a letter (JSON, or its XML)",
    responses={
        200: {
            "content": {XML_MEDIA_TYPE: {"schema": {"type": "string"}}},
            "description": "The letter; with `Accept: application/xml` the XDIS91 document as "
            "its receiver got it (ISO-8859-1).",
        },
        **problem_responses(401, 403, 404),
    },
)
@in_thread
def get_letter(
    message_id: str, request: Request, ctx: OrganisationContextDep, db: DatabaseDep
) -> LetterOut | Response:
    """A letter the caller sent or received. Every read is audited."""
    with db.transaction() as session:
        message = letters.get_letter(session, ctx, message_id=message_id)
    if wants_xml(request):
        return Response(
            message.deliveries[0].xml, media_type=f"{XML_MEDIA_TYPE}; charset=ISO-8859-1"
        )
    return LetterOut.of(message)


@threads_router.get(
    "/{thread_id}",
    response_model=ThreadOut,
    summary="Read a thread",
    responses=problem_responses(401, 403, 404),
)
@in_thread
def get_thread(thread_id: str, ctx: OrganisationContextDep, db: DatabaseDep) -> ThreadOut:
    """The messages of a conversation that you sent or received, oldest first: a message, the
    letters that answer it and their corrections. Every read is audited."""
    with db.transaction() as session:
        messages = letters.get_thread(session, ctx, thread_id=thread_id)
    return ThreadOut(
        thread_id=thread_id,
        messages=[
            ThreadMessageOut(
                message_id=t.message.message_id,
                letter_id=t.message.letter_id,
                type=t.message.type,
                sender_gln=t.message.sender_gln,
                receiver_glns=[d.receiver_gln for d in t.deliveries],
                created_at=t.message.created_at,
                content=t.message.body,
            )
            for t in messages
        ],
    )

"""Routes of the organisation directory."""

from typing import Annotated

from fastapi import APIRouter, Body, Path, Query, Response, status

from app.api.payloads import OrganisationOut, OrganisationPage, OrganisationPut, problem_responses
from app.deps import CallerDep, ClockDep, DatabaseDep, DirectoryDep, JsonBody, in_thread
from app.domain.identifiers import Gln, Kommunekode
from app.domain.organisation import Organisation, OrganisationKind
from app.errors import FieldError, ValidationFailed
from app.services import directory

__all__ = ["router"]

router = APIRouter(prefix="/v1/organisations", tags=["directory"])

GlnPath = Annotated[Gln, Path(description="The organisation's GLN.")]

_ODENSE_KOMMUNE = {
    "kind": "kommune",
    "name": "Odense Kommune",
    "department": "Genoptræning",
    "municipality_code": "461",
    "identifier_code": "kommunenummer",
    "identifier": "461",
    "accepts": ["GGOP", "XDIS91"],
    "delivery": "inbox",
    "street": "Flakhaven 2",
    "postcode": "5000",
    "district": "Odense C",
    "phone": "+4566131372",
}
_PUSH_KOMMUNE = {
    **_ODENSE_KOMMUNE,
    "delivery": "push",
    "endpoint_url": "https://genoptraening.odense.dk/sektorbro",
    # The example secret of the Standard Webhooks specification; never use it for real.
    "signing_secret": "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
}
_GP_PRACTICE = {
    "kind": "almen_praksis",
    "name": "Lægerne i Hjallese",
    "department": "Almen Lægehjælp",
    "identifier_code": "ydernummer",
    "identifier": "024015",
    "accepts": ["XDIS91"],
}


@router.get(
    "",
    response_model=OrganisationPage,
    summary="List the directory",
    responses=problem_responses(401, 422),
)
@in_thread
def list_organisations(
    db: DatabaseDep,
    _caller: CallerDep,
    kind: Annotated[OrganisationKind | None, Query(description="Only this kind.")] = None,
    municipality_code: Annotated[
        Kommunekode | None, Query(description="Only organisations in this kommune.")
    ] = None,
    q: Annotated[
        str | None,
        Query(min_length=1, max_length=35, description="Part of the name, any case."),
    ] = None,
    cursor: Annotated[str | None, Query(description="`next_cursor` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> OrganisationPage:
    """Organisations in GLN order, filtered by kind, kommunekode and name."""
    with db.transaction(read_only=True) as session:
        rows, next_cursor = directory.list_organisations(
            session, kind=kind, municipality_code=municipality_code, q=q, cursor=cursor, limit=limit
        )
    return OrganisationPage(
        items=[OrganisationOut.model_validate(row) for row in rows], next_cursor=next_cursor
    )


@router.get(
    "/{gln}",
    response_model=OrganisationOut,
    summary="Get one organisation",
    responses=problem_responses(401, 404, 422),
)
@in_thread
def get_organisation(gln: GlnPath, db: DatabaseDep, _caller: CallerDep) -> OrganisationOut:
    """One directory entry by GLN."""
    with db.transaction(read_only=True) as session:
        organisation = directory.get_organisation(session, gln=gln)
    return OrganisationOut.model_validate(organisation)


@router.put(
    "/{gln}",
    response_model=OrganisationOut,
    summary="Create or update an organisation (scope directory)",
    responses={
        201: {"model": OrganisationOut, "description": "Created."},
        **problem_responses(401, 403, 409, 413, 415, 422),
    },
)
@in_thread
def put_organisation(
    gln: GlnPath,
    # Authentication first: a caller without a key learns nothing about the media type.
    _caller: DirectoryDep,
    _json: JsonBody,
    body: Annotated[
        OrganisationPut,
        Body(
            openapi_examples={
                "kommune": {"summary": "A kommune's training centre", "value": _ODENSE_KOMMUNE},
                "push": {
                    "summary": "A kommune receiving by push (signed POSTs to its endpoint)",
                    "value": _PUSH_KOMMUNE,
                },
                "gp": {"summary": "A GP practice (XDIS91 only)", "value": _GP_PRACTICE},
            }
        ),
    ],
    db: DatabaseDep,
    clock: ClockDep,
    response: Response,
) -> OrganisationOut:
    """Creates the organisation (201) or replaces its entry (200). Keys with the scope
    `directory` only.

    The body is the organisation as GET returns it, without the read-only `created_at`,
    `updated_at` and `signing_secret_set`; `gln` may be left out (it is in the URL). The
    write-only `signing_secret` is kept when left out. `delivery: push` needs an
    `endpoint_url` and a signing secret, given here or stored before.
    """
    if body.gln is not None and body.gln != gln:
        raise ValidationFailed(
            [FieldError("gln", "gln_mismatch", "The body's gln differs from the one in the URL.")]
        )
    organisation = Organisation(gln=gln, **body.model_dump(exclude={"gln"}))
    with db.transaction() as session:
        row, created = directory.save_organisation(session, organisation, now=clock.now())
    if created:
        response.status_code = status.HTTP_201_CREATED
    return OrganisationOut.model_validate(row)

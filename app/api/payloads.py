"""API-only models: response shapes and documentation of the problem format."""

from datetime import datetime

from pydantic import BaseModel, Field

from app.domain.identifiers import Gln
from app.domain.organisation import OrganisationDetails

__all__ = [
    "FieldProblem",
    "OrganisationOut",
    "OrganisationPage",
    "OrganisationPut",
    "Problem",
    "Readiness",
    "problem_responses",
]


class FieldProblem(BaseModel):
    field: str = Field(description="Dotted path into the JSON body (or an XPath for XML input).")
    rule: str = Field(description="Stable name of the broken rule.", examples=["gln_check_digit"])
    message: str = Field(description="The rule in plain words.")


class Problem(BaseModel):
    """An RFC 9457 problem document (`application/problem+json`)."""

    type: str = Field(examples=["urn:sektorbro:problem:validation_failed"])
    title: str = Field(examples=["The request is not valid"])
    status: int = Field(examples=[422])
    detail: str = Field(examples=["1 problem with: gln."])
    instance: str = Field(examples=["/v1/organisations/5790000121442"])
    request_id: str | None = Field(
        default=None, description="Quote it when reporting a problem (also X-Request-ID)."
    )
    errors: list[FieldProblem] | None = Field(
        default=None, description="For 422: every broken rule, one entry each."
    )


class OrganisationPut(OrganisationDetails):
    """Body of PUT /v1/organisations/{gln}. `gln` may be repeated; it must match the path."""

    gln: Gln | None = None


class OrganisationOut(BaseModel):
    gln: str = Field(examples=["5790000121441"])
    kind: str = Field(examples=["kommune"])
    name: str = Field(examples=["Odense Kommune"])
    department: str | None = Field(examples=["Genoptræning"])
    municipality_code: str | None = Field(examples=["461"])
    identifier_code: str = Field(examples=["kommunenummer"])
    identifier: str = Field(examples=["461"])
    accepts: list[str] = Field(examples=[["GGOP", "XDIS91"]])
    delivery: str = Field(examples=["inbox"])
    street: str | None = Field(examples=["Flakhaven 2"])
    postcode: str | None = Field(examples=["5000"])
    district: str | None = Field(examples=["Odense C"])
    phone: str | None = Field(examples=["+4566131372"])
    active: bool = Field(validation_alias="is_active")
    created_at: datetime
    updated_at: datetime

    model_config = {"from_attributes": True}


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    next_cursor: str | None = Field(
        description="Pass as `cursor` for the next page; null on the last page."
    )


class Readiness(BaseModel):
    status: str = Field(examples=["ready"])
    database_revision: str = Field(examples=["0001_directory"])


_PROBLEM_DESCRIPTIONS = {
    401: "No API key, or an unknown or revoked one.",
    403: "The key may not do this.",
    404: "No such resource (or none the caller may see).",
    409: "The request conflicts with what is stored.",
    413: "The body is larger than SEKTORBRO_MAX_BODY_BYTES.",
    415: "The body is not in a media type this endpoint takes.",
    422: "The request breaks a rule; `errors` names each field and rule.",
    503: "The service cannot serve requests yet.",
}


def problem_responses(*statuses: int) -> dict[int | str, dict[str, object]]:
    """The `responses=` entries documenting these problem statuses in OpenAPI."""
    # The schema lands under application/json here; app/main.py moves it to
    # application/problem+json, the media type errors are sent in.
    return {
        status: {"model": Problem, "description": _PROBLEM_DESCRIPTIONS[status]}
        for status in statuses
    }

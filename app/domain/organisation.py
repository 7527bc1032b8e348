"""An entry of the organisation directory: who can send and receive, and how to reach them.

The text limits are MedCom's (formats.md §3.3: names 1-35, post code 1-9, phone 1-25,
`Identifier` 1-17), so that a directory entry can always be rendered into a letter's
Sender or Receiver.
"""

from collections.abc import Callable
from enum import StrEnum
from typing import Annotated

from pydantic import Field, HttpUrl, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.domain.base import SektorbroModel
from app.domain.identifiers import (
    Gln,
    Kommunekode,
    check_kommunekode,
    check_regionskode,
    check_sorkode,
    check_sygehusafdelingsnummer,
    check_ydernummer,
)
from app.domain.push_target import EndpointUrl, SigningSecret

__all__ = [
    "DeliveryChannel",
    "IdentifierCode",
    "MessageFormat",
    "Organisation",
    "OrganisationDetails",
    "OrganisationKind",
]


class OrganisationKind(StrEnum):
    HOSPITAL = "hospital"
    KOMMUNE = "kommune"
    ALMEN_PRAKSIS = "almen_praksis"  # the patient's GP practice
    OTHER = "other"


class IdentifierCode(StrEnum):
    """MedCom `IdentifierCode`: what kind of number `identifier` is."""

    SYGEHUSAFDELINGSNUMMER = "sygehusafdelingsnummer"
    KOMMUNENUMMER = "kommunenummer"
    YDERNUMMER = "ydernummer"
    SORKODE = "sorkode"
    REGION = "region"


class MessageFormat(StrEnum):
    GGOP = "GGOP"  # genoptræningsplan, OIOXML 1.0.4
    XDIS91 = "XDIS91"  # correspondence letter (XD9134L)


class DeliveryChannel(StrEnum):
    # Every receiver may poll its inbox; a push receiver also has its documents POSTed to its
    # `endpoint_url`, signed with its signing secret (app/domain/push_target.py).
    INBOX = "inbox"
    PUSH = "push"


_IDENTIFIER_CHECKS: dict[IdentifierCode, Callable[[str], str]] = {
    IdentifierCode.SYGEHUSAFDELINGSNUMMER: check_sygehusafdelingsnummer,
    IdentifierCode.KOMMUNENUMMER: check_kommunekode,
    IdentifierCode.YDERNUMMER: check_ydernummer,
    IdentifierCode.SORKODE: check_sorkode,
    IdentifierCode.REGION: check_regionskode,
}

Name35 = Annotated[str, Field(min_length=1, max_length=35)]


class OrganisationDetails(SektorbroModel):
    """Everything about an organisation except its GLN (the key)."""

    kind: OrganisationKind = Field(examples=["kommune"])
    name: Name35 = Field(description="OrganisationName.", examples=["Odense Kommune"])
    department: Name35 | None = Field(
        default=None, description="DepartmentName.", examples=["Genoptræning"]
    )
    unit: Name35 | None = Field(default=None, description="UnitName.", examples=["Team Syd"])
    municipality_code: Kommunekode | None = Field(
        default=None,
        validate_default=True,
        description="Kommunekode. Required for a kommune: plans are routed to the kommune "
        "registered for the patient's kommunekode.",
    )
    identifier_code: IdentifierCode = Field(examples=["kommunenummer"])
    identifier: Annotated[str, Field(min_length=1, max_length=17)] = Field(
        description="The number named by `identifier_code` (MedCom `Identifier`).",
        examples=["461"],
    )
    accepts: list[MessageFormat] = Field(
        min_length=1,
        description="Message formats this organisation can receive. A plan goes out as GGOP "
        "where accepted, else as an XDIS91 letter.",
        examples=[["GGOP", "XDIS91"]],
    )
    delivery: DeliveryChannel = Field(
        default=DeliveryChannel.INBOX,
        description="How messages reach the organisation: `inbox` (it polls) or `push` (they "
        "are POSTed to its `endpoint_url`; it may poll as well).",
    )
    endpoint_url: EndpointUrl | None = Field(
        default=None,
        validate_default=True,
        description="Where push deliveries are POSTed. Required for `push`, not allowed for "
        "`inbox`. https, or http only to 127.0.0.0/8 or ::1; no credentials, no fragment.",
        examples=["https://genoptraening.odense.dk/sektorbro"],
    )
    signing_secret: SigningSecret | None = Field(
        default=None,
        description="Write-only. The Standard Webhooks secret push deliveries are signed "
        "with: 'whsec_' and the base64 of 24-64 random bytes. Left out, the stored secret is "
        "kept; a push organisation needs one (or `sektorbro directory secret GLN`).",
    )
    street: Name35 | None = Field(default=None, examples=["Flakhaven 2"])
    postcode: Annotated[str, Field(min_length=1, max_length=9)] | None = Field(
        default=None, examples=["5000"]
    )
    district: Name35 | None = Field(default=None, examples=["Odense C"])
    phone: Annotated[str, Field(min_length=1, max_length=25)] | None = Field(
        default=None, examples=["+4566131372"]
    )
    active: bool = Field(
        default=True, description="Inactive organisations neither send nor receive."
    )

    @field_validator("municipality_code", mode="after")
    @classmethod
    def _kommune_has_municipality_code(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None and info.data.get("kind") == OrganisationKind.KOMMUNE:
            raise PydanticCustomError(
                "kommune_needs_municipality_code",
                "A kommune needs its municipality_code: plans are routed by it.",
            )
        return value

    @field_validator("endpoint_url", mode="after")
    @classmethod
    def _endpoint_url_goes_with_push(
        cls, value: HttpUrl | None, info: ValidationInfo
    ) -> HttpUrl | None:
        delivery = info.data.get("delivery")
        if delivery == DeliveryChannel.PUSH and value is None:
            raise PydanticCustomError(
                "push_needs_endpoint_url",
                "Push delivery needs the endpoint_url to POST messages to.",
            )
        if delivery == DeliveryChannel.INBOX and value is not None:
            # Said loudly rather than ignored: an admin who sets a URL expects pushes to it.
            raise PydanticCustomError(
                "endpoint_url_needs_push",
                "An endpoint_url is only used with delivery 'push'; remove it or set push.",
            )
        return value

    @field_validator("identifier", mode="after")
    @classmethod
    def _identifier_matches_code(cls, value: str, info: ValidationInfo) -> str:
        code = info.data.get("identifier_code")
        if code is None:
            return value
        value = _IDENTIFIER_CHECKS[code](value)
        municipality_code = info.data.get("municipality_code")
        if (
            code == IdentifierCode.KOMMUNENUMMER
            and municipality_code is not None
            and value != municipality_code
        ):
            raise PydanticCustomError(
                "kommunenummer_mismatch",
                "A kommune's kommunenummer must equal its municipality_code.",
            )
        return value

    @field_validator("accepts", mode="after")
    @classmethod
    def _accepts_each_format_once(cls, value: list[MessageFormat]) -> list[MessageFormat]:
        return sorted(set(value))


class Organisation(OrganisationDetails):
    """A directory entry."""

    gln: Gln

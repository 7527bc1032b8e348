"""Valid objects by default; override what a test is about."""

from typing import Any

from sqlalchemy.orm import Session

from app import orm
from app.domain.organisation import Organisation
from app.services.api_keys import create_key
from app.services.directory import save_organisation
from tests.conftest import FROZEN_NOW

ODENSE_KOMMUNE = "5790000121441"
ODENSE_HOSPITAL = "5790001354145"
HJALLESE_GP = "5790009902010"


def organisation_fields(**overrides: Any) -> dict[str, Any]:
    """The fields of Odense Kommune's directory entry, as JSON would carry them."""
    fields: dict[str, Any] = {
        "gln": ODENSE_KOMMUNE,
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
    fields.update(overrides)
    return fields


def hospital_fields(**overrides: Any) -> dict[str, Any]:
    """Odense Universitetshospital, orthopaedic department."""
    return organisation_fields(
        **{
            "gln": ODENSE_HOSPITAL,
            "kind": "hospital",
            "name": "Odense Universitetshospital",
            "department": "Ortopædkirurgisk Afdeling",
            "municipality_code": None,
            "identifier_code": "sygehusafdelingsnummer",
            "identifier": "4202360",
            **overrides,
        }
    )


def make_organisation(**overrides: Any) -> Organisation:
    return Organisation.model_validate(organisation_fields(**overrides))


def add_organisation(session: Session, **overrides: Any) -> orm.Organisation:
    row, _ = save_organisation(session, make_organisation(**overrides), now=FROZEN_NOW)
    return row


def add_hospital(session: Session, **overrides: Any) -> orm.Organisation:
    row, _ = save_organisation(
        session, Organisation.model_validate(hospital_fields(**overrides)), now=FROZEN_NOW
    )
    return row


def add_key(session: Session, *, gln: str | None) -> str:
    """A key for organisation `gln`, or an admin key for None."""
    _, key = create_key(session, organisation_gln=gln, label="test", now=FROZEN_NOW)
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}

"""Valid objects by default; override what a test is about."""

import copy
import json
from functools import cache
from importlib import resources
from pathlib import Path
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
ISHOEJ_KOMMUNE = "5790009901839"
ISHOEJ_GP = "5790009902027"
OTHER_HOSPITAL = "5790009903017"  # Hvidovre Hospital in the demo directory
# The demo directory shipped with the package, in file order.
DEMO_GLNS = [
    "5790001354145",
    "5790009903017",
    "5790000121441",
    "5790009901839",
    "5790009901877",
    "5790009907510",
    "5790009901013",
    "5790009902010",
    "5790009902027",
    "5790000120314",
    "5790000121526",
]
DEMO_KOMMUNER = [
    "5790000121441",
    "5790009901839",
    "5790009901877",
    "5790009907510",
    "5790009901013",
]


def demo_directory_text() -> str:
    """The demo directory file shipped with the package."""
    return resources.files("app.data").joinpath("organisations-demo.csv").read_text("utf-8")


def organisation_fields(**overrides: Any) -> dict[str, Any]:
    """The fields of Odense Kommune's directory entry, as JSON would carry them."""
    fields: dict[str, Any] = {
        "gln": ODENSE_KOMMUNE,
        "kind": "kommune",
        "name": "Odense Kommune",
        "department": "Genoptræning",
        "unit": None,
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


def gp_fields(**overrides: Any) -> dict[str, Any]:
    """Lægerne i Hjallese, a GP practice: no kommunekode, a ydernummer, letters only."""
    return organisation_fields(
        **{
            "gln": HJALLESE_GP,
            "kind": "almen_praksis",
            "name": "Lægerne i Hjallese",
            "department": "Almen Lægehjælp",
            "municipality_code": None,
            "identifier_code": "ydernummer",
            "identifier": "024015",
            "accepts": ["XDIS91"],
            "street": "Hjallesevej 126",
            "postcode": "5230",
            "district": "Odense M",
            "phone": "+4566111111",
            **overrides,
        }
    )


DATA = Path(__file__).parent / "data"


@cache
def _plan_almen() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((DATA / "plan-almen.json").read_text("utf-8"))
    return loaded


def plan_fields(**overrides: Any) -> dict[str, Any]:
    """The reference plan (shared/examples/plan-almen.json) as JSON, with top-level overrides.

    Odense Universitetshospital writes it for a patient in Odense Kommune (461) whose GP is
    Lægerne i Hjallese; discharge 2026-11-20, first contact by 2026-11-27.
    """
    fields = copy.deepcopy(_plan_almen())
    fields.update(overrides)
    return fields


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

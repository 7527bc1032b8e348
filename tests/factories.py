"""Valid objects by default; override what a test is about."""

import copy
import json
from collections.abc import Collection
from datetime import UTC, date, datetime, time
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter
from sqlalchemy.orm import Session

from app import orm
from app.domain.messages import DANISH_TIME
from app.domain.notices import NoticeRecord, PlanFacts, PlanNotice
from app.domain.organisation import Organisation
from app.domain.plan import PlanType
from app.services.api_keys import ADMIN_SCOPES, Scope, create_key
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


# The example secret of the Standard Webhooks specification (24 bytes, its minimum).
SIGNING_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
PUSH_ENDPOINT = "https://genoptraening.odense.dk/sektorbro"


def push_fields(**overrides: Any) -> dict[str, Any]:
    """Odense Kommune receiving by push: its endpoint and signing secret."""
    return organisation_fields(
        **{
            "delivery": "push",
            "endpoint_url": PUSH_ENDPOINT,
            "signing_secret": SIGNING_SECRET,
            **overrides,
        }
    )


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


def add_key(session: Session, *, gln: str | None, scopes: Collection[Scope] = ADMIN_SCOPES) -> str:
    """A key for organisation `gln`, or for None a key with these scopes (by default the
    admin's: directory and metrics)."""
    _, key = create_key(session, organisation_gln=gln, scopes=scopes, label="test", now=FROZEN_NOW)
    return key


def bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


# Rehabilitation notices (app/domain/notices.py). One course in Odense Kommune about the
# reference plan: discharge 2026-11-20, first contact by 2026-11-27, received 21 November,
# started 25 November, ..., completed 18 December.

PLAN_MESSAGE_ID = "0f8e6d52-3c1a-4b7e-9a55-2d4c8b1e7f30"
DISCHARGE = date(2026, 11, 20)

_NOTICE_FIELDS: dict[str, dict[str, Any]] = {
    "rehabilitation_need": {
        "patient": {
            "cpr": "2512484916",
            "given_name": "Nancy",
            "surname": "Ann Berggren",
            "municipality_code": "461",
        },
        "gp_gln": HJALLESE_GP,
        "phase": "efterbehandling",
        "expected_discharge_date": "2026-12-04",
        "needs": ["hjemmesygepleje", "praktisk_hjaelp"],
        "text": "Udtalt træthed efter kemoterapi; har brug for hjælp til rengøring og indkøb.",
    },
    "received": {},
    "started": {"date": "2026-11-25", "form": "holdtraening", "place": "center"},
    "second_meeting": {"date": "2026-12-02"},
    "postponed": {
        "by": "borger",
        "reason": "Borgeren er bortrejst til og med 6. december.",
        "new_date": "2026-12-07",
    },
    "not_attended": {"date": "2026-12-08"},
    "transferred": {"to_gln": ISHOEJ_KOMMUNE},
    "free_choice": {"provider": "Fysioterapeuterne Vestergade, Vestergade 12, 5000 Odense C"},
    "completed": {"date": "2026-12-18", "result_text": "Går uden hjælpemidler. Målene er nået."},
    "cancelled": {"reason": "aktivt_fravalg"},
}
# The day each notice of that course comes in.
_REPORTED_ON = {
    "received": date(2026, 11, 21),
    "started": date(2026, 11, 25),
    "second_meeting": date(2026, 12, 2),
    "postponed": date(2026, 12, 3),
    "not_attended": date(2026, 12, 8),
    "transferred": date(2026, 12, 9),
    "free_choice": date(2026, 12, 10),
    "completed": date(2026, 12, 18),
    "cancelled": date(2026, 12, 18),
}
_PLAN_NOTICE: TypeAdapter[PlanNotice] = TypeAdapter(PlanNotice)


def notice_fields(notice_type: str, **overrides: Any) -> dict[str, Any]:
    """A valid notice of `notice_type` as JSON. The kommune's notices are about the reference
    plan; the early notice is from Odense Universitetshospital about Nancy Ann Berggren."""
    fields: dict[str, Any] = {"type": notice_type}
    if notice_type != "rehabilitation_need":
        fields["plan_message_id"] = PLAN_MESSAGE_ID
    fields.update(copy.deepcopy(_NOTICE_FIELDS[notice_type]))
    fields.update(overrides)
    return fields


def plan_facts(**overrides: Any) -> PlanFacts:
    """The reference plan (plan_fields()) as the notice rules and the deadline see it."""
    fields: dict[str, Any] = {
        "message_id": PLAN_MESSAGE_ID,
        "sent_at": datetime(2026, 11, 20, 9, 30, tzinfo=UTC),
        "discharge_date": DISCHARGE,
        "first_contact_deadline": date(2026, 11, 27),
        "plan_type": PlanType.ALMEN,
        "receiver_glns": (ODENSE_KOMMUNE,),
        "sender_gln": ODENSE_HOSPITAL,
    }
    fields.update(overrides)
    return PlanFacts(**fields)


def notice_record(
    notice_type: str,
    *,
    on: date | None = None,
    sender_gln: str = ODENSE_KOMMUNE,
    **overrides: Any,
) -> NoticeRecord:
    """A stored notice of `notice_type` (notice_fields() with `overrides`) that came in at
    noon, Danish time, on `on` (by default the course's day for it)."""
    notice = _PLAN_NOTICE.validate_python(notice_fields(notice_type, **overrides))
    day = on or _REPORTED_ON[notice_type]
    return NoticeRecord.from_notice(
        notice,
        sender_gln=sender_gln,
        created_at=datetime.combine(day, time(12), tzinfo=DANISH_TIME),
    )


# Correspondence letters (app/domain/letters.py).


def make_letter(**overrides: Any) -> dict[str, Any]:
    """A valid letter as the JSON body of POST /v1/letters, with top-level overrides: Odense
    Universitetshospital asks Lægerne i Hjallese about Nancy Ann Berggren's pain treatment.

    Its text blocks are plain strings, so the body compares equal to the letter read back
    (segments would come back with every formatting flag spelled out)."""
    fields: dict[str, Any] = {
        "receiver_gln": HJALLESE_GP,
        "patient": {"cpr": "2512484916", "given_name": "Nancy", "surname": "Ann Berggren"},
        "priority": "rutine",
        "subject": "Spørgsmål om smertebehandling",
        "text_blocks": [
            "Kære læge,\nPatienten har fortsat smerter i venstre hofte efter udskrivelsen.",
            "Venlig hilsen\nEllinor Strøm, fysioterapeut",
        ],
        "episode_of_care_id": "EOC-4202360-88311",
        "references": [
            {"description": "Vejledning om smertebehandling", "url": "https://www.sst.dk"}
        ],
    }
    fields.update(copy.deepcopy(overrides))
    return fields

"""`sektorbro demo`: the demo directory and a fresh set of keys to try the API with."""

from dataclasses import dataclass
from datetime import datetime
from importlib import resources

from sqlalchemy.orm import Session

from app import orm
from app.domain.directory_file import read_directory_file
from app.repositories import OrganisationRepository
from app.services.api_keys import create_key, revoke_keys_with_label
from app.services.directory import ImportSummary, import_directory

__all__ = ["DemoSetup", "set_up_demo"]

DEMO_LABEL = "demo"


@dataclass(frozen=True, slots=True)
class DemoSetup:
    directory: ImportSummary
    revoked_keys: int
    admin_key: str
    organisation_keys: list[tuple[orm.Organisation, str]]


def set_up_demo(session: Session, *, now: datetime) -> DemoSetup:
    """Imports the shipped demo directory and issues new demo keys (revoking older ones)."""
    text = resources.files("app.data").joinpath("organisations-demo.csv").read_text("utf-8")
    summary = import_directory(session, text, now=now)
    revoked = revoke_keys_with_label(session, label=DEMO_LABEL, now=now)
    _, admin_key = create_key(session, organisation_gln=None, label=DEMO_LABEL, now=now)
    entries, _ = read_directory_file(text)  # the import above has already vetted it
    glns = [organisation.gln for _, organisation in entries]
    organisations = OrganisationRepository(session).get_many(glns)
    organisation_keys = [
        (
            organisations[gln],
            create_key(session, organisation_gln=gln, label=DEMO_LABEL, now=now)[1],
        )
        for gln in glns
    ]
    return DemoSetup(summary, revoked, admin_key, organisation_keys)

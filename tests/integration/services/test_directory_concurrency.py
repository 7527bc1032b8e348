"""Two administrators saving clashing entries at the same moment: the database decides, and the
loser gets a 409 Conflict, not a 500.

PostgreSQL only: SQLite takes its write lock at BEGIN (app/db.py), so there the second save
simply waits for the first and sees it.
"""

import threading
from typing import Any

import pytest
from sqlalchemy import event, func, select

from app import orm
from app.db import make_engine, make_session_factory
from app.errors import Conflict
from app.migrate import upgrade_to_head
from app.services.directory import save_organisation
from tests.conftest import FROZEN_NOW
from tests.factories import make_organisation


def save_both_at_once(url: str, first: dict[str, Any], second: dict[str, Any]) -> list[str]:
    """Saves two entries in two sessions whose checks both run before either one writes."""
    engine = make_engine(url)
    upgrade_to_head(engine)
    factory = make_session_factory(engine)
    both_checked = threading.Barrier(2, timeout=10)
    outcomes: list[str] = []

    def save(fields: dict[str, Any]) -> None:
        with factory() as session:
            event.listen(session, "before_flush", lambda *_: both_checked.wait())
            try:
                save_organisation(session, make_organisation(**fields), now=FROZEN_NOW)
                session.commit()
                outcomes.append("saved")
            except Conflict:
                session.rollback()
                outcomes.append("conflict")

    threads = [threading.Thread(target=save, args=(fields,)) for fields in (first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with engine.connect() as connection:
        outcomes.append(
            f"{connection.scalar(select(func.count()).select_from(orm.Organisation))} stored"
        )
    engine.dispose()
    return outcomes


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param({}, {"name": "Odense Kommune (ny)"}, id="same GLN"),
        pytest.param({}, {"gln": "5790009901839"}, id="two active kommuner for 461"),
    ],
)
def test_the_second_of_two_simultaneous_clashing_saves_is_a_conflict(
    blank_postgresql_url: str, first: dict[str, Any], second: dict[str, Any]
) -> None:
    outcomes = save_both_at_once(blank_postgresql_url, first, second)

    assert sorted(outcomes[:2]) == ["conflict", "saved"]
    assert outcomes[2] == "1 stored"

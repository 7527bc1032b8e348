"""The per-test transaction fixture must really isolate: what a test commits is gone after."""

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app import orm
from app.services.directory import save_organisation
from tests.conftest import FROZEN_NOW
from tests.factories import make_organisation


def test_rows_committed_inside_the_test_transaction_are_rolled_back(
    migrated_engine: Engine,
) -> None:
    with migrated_engine.connect() as connection:
        outer = connection.begin()
        with Session(bind=connection, join_transaction_mode="create_savepoint") as session:
            save_organisation(session, make_organisation(), now=FROZEN_NOW)
            session.commit()
            assert session.scalar(select(func.count()).select_from(orm.Organisation)) == 1
        outer.rollback()

    with migrated_engine.connect() as fresh:
        assert fresh.scalar(select(func.count()).select_from(orm.Organisation)) == 0

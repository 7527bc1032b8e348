"""Migrations are the schema: they go up and down on both databases and match the ORM."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from app import orm  # noqa: F401  (registers the tables)
from app.db import Base, make_engine
from app.migrate import current_revision, downgrade, head_revision, upgrade_to_head

TABLES = {"organisations", "api_keys"}


def test_upgrade_builds_every_table_at_the_head_revision(blank_database_url: str) -> None:
    engine = make_engine(blank_database_url)
    upgrade_to_head(engine)
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()
        assert set(inspect(connection).get_table_names()) >= TABLES
    engine.dispose()


def test_downgrade_to_base_removes_every_table_and_upgrade_restores_them(
    blank_database_url: str,
) -> None:
    engine = make_engine(blank_database_url)
    upgrade_to_head(engine)
    downgrade(engine, "base")
    with engine.connect() as connection:
        assert current_revision(connection) is None
        assert not TABLES & set(inspect(connection).get_table_names())
    upgrade_to_head(engine)
    with engine.connect() as connection:
        assert current_revision(connection) == head_revision()
    engine.dispose()


def test_the_migrated_schema_matches_the_orm_models(blank_database_url: str) -> None:
    engine = make_engine(blank_database_url)
    upgrade_to_head(engine)
    with engine.connect() as connection:
        drift = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert drift == []

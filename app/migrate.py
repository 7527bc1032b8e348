"""Schema migrations (Alembic, `migrations/`): upgrade, downgrade, and where a database stands.

Used by the CLI (`sektorbro migrate`, `serve`), by /readyz and by the tests.
"""

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine

from app.resources import resource_dir

__all__ = ["current_revision", "downgrade", "head_revision", "upgrade_to_head"]


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(resource_dir("migrations")))
    return config


def head_revision() -> str:
    """The revision the code expects (the single head of migrations/)."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError("migrations/ holds no revision")
    return head


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at, or None for an empty database."""
    return MigrationContext.configure(connection).get_current_revision()


def upgrade_to_head(engine: Engine) -> None:
    """Applies every migration the database lacks."""
    _run(engine, "upgrade", "head")


def downgrade(engine: Engine, revision: str) -> None:
    """Reverts the database to `revision` ("base" empties it)."""
    _run(engine, "downgrade", revision)


def _run(engine: Engine, direction: str, revision: str) -> None:
    config = _config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, direction)(config, revision)

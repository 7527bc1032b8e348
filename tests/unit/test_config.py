"""Settings: defaults, the environment, and database URLs we can serve."""

import pytest
from pydantic import ValidationError

from app.config import Settings


def test_defaults_to_an_embedded_sqlite_file_and_a_one_mebibyte_body_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SEKTORBRO_DATABASE_URL", raising=False)
    monkeypatch.delenv("SEKTORBRO_MAX_BODY_BYTES", raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///./sektorbro.db"
    assert settings.max_body_bytes == 1024 * 1024
    assert settings.is_sqlite


def test_reads_settings_from_variables_with_the_sektorbro_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SEKTORBRO_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("SEKTORBRO_LOG_LEVEL", "DEBUG")
    settings = Settings()
    assert settings.max_body_bytes == 2048
    assert settings.log_level == "DEBUG"


@pytest.mark.parametrize(
    "given",
    ["postgresql://sb@db/sektorbro", "postgres://sb@db/sektorbro"],
)
def test_plain_postgresql_urls_use_the_psycopg3_driver(given: str) -> None:
    url = Settings(database_url=given).database_url
    assert url == "postgresql+psycopg://sb@db/sektorbro"


def test_refuses_a_database_it_cannot_serve() -> None:
    with pytest.raises(ValidationError, match="SQLite file"):
        Settings(database_url="mysql://sb@db/sektorbro")


def test_refuses_a_body_limit_that_is_not_positive() -> None:
    with pytest.raises(ValidationError):
        Settings(max_body_bytes=0)

"""Settings: the one place that reads the environment (prefix `SEKTORBRO_`).

Create a `Settings` once (in the CLI or in a test) and hand it to `create_app`; nothing else
reads `os.environ`. Imports nothing from `app`.
"""

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["Settings"]

MEBIBYTE = 1024 * 1024
# Good enough for the embedded SQLite default on one machine; `sektorbro serve` refuses it on
# PostgreSQL, where the key must come from the deployment's secrets.
DEVELOPMENT_PATIENT_KEY = "sektorbro-development-key-not-for-production"


class Settings(BaseSettings):
    """Runtime configuration; every field is documented in README.md."""

    model_config = SettingsConfigDict(env_prefix="SEKTORBRO_", extra="ignore", frozen=True)

    database_url: str = Field(
        default="sqlite:///./sektorbro.db",
        description="SQLAlchemy URL. SQLite file (embedded default) or "
        "postgresql+psycopg://user@host/db (production).",
    )
    max_body_bytes: int = Field(
        default=MEBIBYTE,
        gt=0,
        description="Largest request body accepted; larger bodies get 413 before parsing.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO", description="Level of the `sektorbro` loggers."
    )
    db_pool_size: int = Field(
        default=10, gt=0, description="Connections kept per process (PostgreSQL)."
    )
    patient_hash_key: SecretStr = Field(
        default=SecretStr(DEVELOPMENT_PATIENT_KEY),
        description="Secret key of the keyed hash (HMAC-SHA256) under which CPR numbers are "
        "indexed and audited. Changing it makes earlier audit entries unsearchable by CPR.",
    )
    ack_timeout: int = Field(
        default=1800,
        gt=0,
        description="Seconds after a transmission without a receipt before a delivery that "
        "asked for one is flagged ack_overdue (MedCom: 30 minutes).",
    )
    auto_resend: bool = Field(
        default=False,
        description="Resend an overdue delivery automatically (new envelope id, same letter "
        "id) instead of only flagging it, until max_resends is reached.",
    )
    max_resends: int = Field(
        default=2,
        ge=0,
        description="Resends allowed per delivery, automatic and manual together (MedCom: 2).",
    )
    timer_interval: float = Field(
        default=30.0,
        gt=0,
        description="Seconds between two evaluations of the acknowledgement timers.",
    )
    run_timers: bool = Field(
        default=True,
        description="Evaluate the timers in the service process. Set false where "
        "`sektorbro worker` runs them instead.",
    )
    # prometheus_client's own variable, read here so that /metrics can aggregate the
    # workers of `sektorbro serve --workers N` (it sets the variable when N > 1).
    prometheus_multiproc_dir: Path | None = Field(
        default=None,
        validation_alias=AliasChoices("PROMETHEUS_MULTIPROC_DIR"),
        description="Directory shared by worker processes for /metrics.",
    )

    @field_validator("database_url")
    @classmethod
    def _supported_database(cls, url: str) -> str:
        # psycopg 3 is the PostgreSQL driver we ship; plain postgresql:// would make
        # SQLAlchemy look for psycopg2.
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url.removeprefix(prefix)
        if not url.startswith(("sqlite://", "postgresql+psycopg://")):
            raise ValueError(
                "use a SQLite file (sqlite:///path.db) or PostgreSQL "
                "(postgresql+psycopg://user@host/db)"
            )
        return url

    @property
    def uses_development_patient_key(self) -> bool:
        """True while the patient hash key is the built-in one."""
        return self.patient_hash_key.get_secret_value() == DEVELOPMENT_PATIENT_KEY

    @property
    def is_sqlite(self) -> bool:
        """True when the store is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

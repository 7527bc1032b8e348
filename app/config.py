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
        default=8,
        gt=0,
        description="Database connections kept per process, and as many threads for the "
        "requests' database work, so that a thread never waits for a connection.",
    )
    db_timeout: float = Field(
        default=5.0,
        gt=0,
        description="Seconds a request waits for the database: for a free pooled connection, "
        "and for a lock (SQLite's write lock, a row lock on PostgreSQL). Longer: 503 with "
        "Retry-After.",
    )
    key_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="Seconds an authenticated API key is remembered; a revoked key is refused "
        "within this time in every process. 0: look every key up on every request.",
    )
    body_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds a client has to send its whole request body; slower: 408.",
    )
    poll_recheck_seconds: float | None = Field(
        default=None,
        gt=0,
        description="Seconds between two looks at the database of a waiting long poll, besides "
        "the wake-up on a new delivery. Default: 1 on SQLite (commits of other processes are "
        "only seen that way), 10 on PostgreSQL (NOTIFY wakes the polls; this is a safety net).",
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
    def poll_recheck(self) -> float:
        """`poll_recheck_seconds`, or the default of this database."""
        if self.poll_recheck_seconds is not None:
            return self.poll_recheck_seconds
        return 1.0 if self.is_sqlite else 10.0

    @property
    def is_sqlite(self) -> bool:
        """True when the store is the embedded SQLite file."""
        return self.database_url.startswith("sqlite")

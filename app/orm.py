"""SQLAlchemy tables (typed, SQLAlchemy 2 style). Every change here needs a migration in
`migrations/versions/`; tests/test_migrations.py fails on drift.

Imported only by repositories, services, `deps`, `main` and migrations.
"""

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    and_,
    bindparam,
    column,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db import Base, UtcDateTime
from app.domain.messages import UNACKNOWLEDGED

__all__ = [
    "AWAITING_RECEIPT_CLAUSE",
    "UNACKNOWLEDGED_CLAUSE",
    "ApiKey",
    "AuditEvent",
    "Delivery",
    "DeliveryEvent",
    "Message",
    "Organisation",
]

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a bigint identity.
AutoId = BigInteger().with_variant(Integer(), "sqlite")


class Organisation(Base):
    """A directory entry; see app/domain/organisation.py for the rules on each column."""

    __tablename__ = "organisations"

    gln: Mapped[str] = mapped_column(String(13), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20), index=True)
    name: Mapped[str] = mapped_column(String(35))
    # casefold(name), so `q` searches the same way on SQLite (whose lower() is ASCII-only)
    # and PostgreSQL.
    search_name: Mapped[str] = mapped_column(String(105))
    department: Mapped[str | None] = mapped_column(String(35))
    unit: Mapped[str | None] = mapped_column(String(35))
    municipality_code: Mapped[str | None] = mapped_column(String(3), index=True)
    identifier_code: Mapped[str] = mapped_column(String(30))
    identifier: Mapped[str] = mapped_column(String(17))
    accepts: Mapped[list[str]] = mapped_column(JSON)
    delivery: Mapped[str] = mapped_column(String(10))
    endpoint_url: Mapped[str | None] = mapped_column(String(2000))
    # In clear: the push worker needs it to sign (HMAC). Never answered by the API, logged or
    # copied into a DirectoryEntry; see `has_signing_secret`.
    signing_secret: Mapped[str | None] = mapped_column(String(100))
    street: Mapped[str | None] = mapped_column(String(35))
    postcode: Mapped[str | None] = mapped_column(String(9))
    district: Mapped[str | None] = mapped_column(String(35))
    phone: Mapped[str | None] = mapped_column(String(25))
    is_active: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)

    @property
    def has_signing_secret(self) -> bool:
        """Whether a signing secret is stored (what the API shows of it)."""
        return self.signing_secret is not None

    __table_args__ = (
        # A push receiver the worker cannot reach or sign for would only collect dead letters.
        CheckConstraint(
            "delivery <> 'push' OR (endpoint_url IS NOT NULL AND signing_secret IS NOT NULL)",
            name="push_target",
        ),
        # Routing needs exactly one receiving kommune per kommunekode (bopælskommune).
        Index(
            "uq_organisations_active_kommune",
            "municipality_code",
            unique=True,
            sqlite_where=text("kind = 'kommune' AND is_active"),
            postgresql_where=text("kind = 'kommune' AND is_active"),
        ),
    )


class ApiKey(Base):
    """A bearer key: only its SHA-256 is stored; the key itself is shown once at creation."""

    __tablename__ = "api_keys"

    key_id: Mapped[str] = mapped_column(String(16), primary_key=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    organisation_gln: Mapped[str | None] = mapped_column(
        ForeignKey("organisations.gln"), index=True
    )
    # True for a key without an organisation; what it may do is in `scopes`.
    is_admin: Mapped[bool] = mapped_column(Boolean)
    # The scopes of such a key, comma-separated (app/services/api_keys.py, Scope); empty for an
    # organisation's key.
    scopes: Mapped[str] = mapped_column(String(100), server_default="")
    label: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)

    organisation: Mapped[Organisation | None] = relationship(lazy="raise")

    __table_args__ = (
        CheckConstraint(
            "(is_admin AND organisation_gln IS NULL) "
            "OR (NOT is_admin AND organisation_gln IS NOT NULL)",
            name="owner",
        ),
    )


class Message(Base):
    """A message as submitted: one plan, notice, letter or receipt, with its deliveries."""

    __tablename__ = "messages"

    message_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    type: Mapped[str] = mapped_column(String(10))
    sender_gln: Mapped[str] = mapped_column(ForeignKey("organisations.gln"))
    letter_id: Mapped[str] = mapped_column(String(14))
    # SHA-256 of the message's canonical JSON: a repeated letter id with the same content is
    # a duplicate, with other content a conflict (MedCom, domain.md).
    content_hash: Mapped[str] = mapped_column(String(64))
    # Keyed hash of the patient's CPR (or alternative id): searchable, never the CPR in clear.
    patient_ref: Mapped[str] = mapped_column(String(64), index=True)
    body: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The conversation the message belongs to: the message_id of its first message. A reply
    # or a correction joins the thread of the message it answers or corrects; anything else
    # starts its own.
    thread_id: Mapped[str] = mapped_column(String(36), index=True)
    # Plans only: what deadlines and statistics search on.
    plan_type: Mapped[str | None] = mapped_column(String(20))
    municipality_code: Mapped[str | None] = mapped_column(String(3))
    discharge_date: Mapped[date | None] = mapped_column(Date)
    first_contact_deadline: Mapped[date | None] = mapped_column(Date, index=True)
    # Plans only, kept up to date from the kommune's notices (app/domain/deadlines.py), so that
    # the deadline list is one indexed query: the start deadline in force (moved by a
    # postponement or a transfer), the first meeting of the current course, and the day the
    # course was closed (completed or cancelled).
    deadline: Mapped[date | None] = mapped_column(Date)
    started_on: Mapped[date | None] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    # Plans only: the kommune the latest `transferred` notice handed the course to (R30);
    # None while the bopælskommune has it.
    transferred_to: Mapped[str | None] = mapped_column(String(13))
    # Notices about a plan only: the plan they report on.
    plan_message_id: Mapped[str | None] = mapped_column(
        ForeignKey("messages.message_id"), index=True
    )

    deliveries: Mapped[list["Delivery"]] = relationship(
        lazy="raise",
        back_populates="message",
        order_by="Delivery.delivery_id",
        foreign_keys="Delivery.message_id",
    )

    __table_args__ = (
        # MedCom: the same letter id from the same sender is the same letter. The constraint,
        # not a check-then-insert, keeps concurrent copies from both being stored.
        UniqueConstraint("sender_gln", "letter_id", name="uq_messages_sender_letter"),
        Index("ix_messages_sender_created", "sender_gln", "created_at"),
        Index("ix_messages_deadline", "deadline", "message_id"),
    )


# The WHERE of the partial indexes on open deliveries, for the indexes and the queries alike:
# PostgreSQL and SQLite use a partial index only for a query that repeats its WHERE with the
# same values inline, so the values are rendered as literals, never as parameters.
UNACKNOWLEDGED_CLAUSE = column("status", String).in_(
    bindparam("unacknowledged", list(UNACKNOWLEDGED), expanding=True, literal_execute=True)
)
AWAITING_RECEIPT_CLAUSE = and_(
    UNACKNOWLEDGED_CLAUSE,
    column("ack_requested", Boolean).is_(True),
    column("ack_overdue", Boolean).is_(False),
)


class Delivery(Base):
    """One message to one receiver, in the format that receiver takes."""

    __tablename__ = "deliveries"

    delivery_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    message_id: Mapped[str] = mapped_column(ForeignKey("messages.message_id"), index=True)
    receiver_gln: Mapped[str] = mapped_column(ForeignKey("organisations.gln"))
    role: Mapped[str] = mapped_column(String(20))
    format: Mapped[str] = mapped_column(String(10))
    # MedCom envelope id (kuvertnummer, 1-14 characters) of the latest transmission; every
    # transmission's envelope id is in the delivery's events. Not unique: a receipt from
    # another system may name one envelope holding several letters (formats.md §6).
    envelope_id: Mapped[str] = mapped_column(String(14), index=True)
    status: Mapped[str] = mapped_column(String(20))
    # The document of the latest transmission, byte for byte as the receiver gets it.
    xml: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime)
    # The envelope asked for a receipt (pluspositivkvitt); receipts themselves never do.
    ack_requested: Mapped[bool] = mapped_column(Boolean)
    # When the latest transmission was sent: the acknowledgement timer runs from here.
    sent_at: Mapped[datetime] = mapped_column(UtcDateTime)
    resends: Mapped[int] = mapped_column(Integer)
    # No receipt within SEKTORBRO_ACK_TIMEOUT of sent_at (MedCom: 30 minutes).
    ack_overdue: Mapped[bool] = mapped_column(Boolean)
    # The receipt (a message of type receipt) that acknowledged or rejected this delivery.
    receipt_message_id: Mapped[str | None] = mapped_column(ForeignKey("messages.message_id"))

    message: Mapped[Message] = relationship(
        lazy="raise", back_populates="deliveries", foreign_keys=[message_id]
    )
    events: Mapped[list["DeliveryEvent"]] = relationship(
        lazy="raise", order_by="DeliveryEvent.event_id"
    )
    # View only: receipts are written with Core INSERTs (app/repositories/rows.py); assigning
    # this attribute names the receipt in memory and never writes it a second time.
    receipt: Mapped[Message | None] = relationship(
        lazy="raise", foreign_keys=[receipt_message_id], viewonly=True
    )

    __table_args__ = (
        UniqueConstraint("message_id", "receiver_gln", name="uq_deliveries_message_receiver"),
        # Partial indexes hold only the deliveries still open, a small and steady share of the
        # table: a page of an inbox or a round of the timer reads its `limit` rows in order
        # however many deliveries were settled before (bench/inbox.py). A query uses one only
        # if it repeats the index's WHERE with the values inline (app/repositories/messages.py).
        # The inbox: a receiver's unacknowledged deliveries, oldest first.
        Index(
            "ix_deliveries_open",
            "receiver_gln",
            "created_at",
            "delivery_id",
            postgresql_where=UNACKNOWLEDGED_CLAUSE,
            sqlite_where=UNACKNOWLEDGED_CLAUSE,
        ),
        # The acknowledgement timer: deliveries waiting for a receipt, by send time.
        Index(
            "ix_deliveries_awaiting_receipt",
            "sent_at",
            "delivery_id",
            postgresql_where=AWAITING_RECEIPT_CLAUSE,
            sqlite_where=AWAITING_RECEIPT_CLAUSE,
        ),
    )


class DeliveryEvent(Base):
    """One step in a delivery's status history."""

    __tablename__ = "delivery_events"

    event_id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[str] = mapped_column(ForeignKey("deliveries.delivery_id"), index=True)
    status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UtcDateTime)
    # Set on the events that are transmissions (the first and every resend), so a late receipt
    # naming an earlier envelope still finds its delivery.
    envelope_id: Mapped[str | None] = mapped_column(String(14), index=True)


class AuditEvent(Base):
    """Who sent or read which patient's message, and when (personal data: the CPR is hashed)."""

    __tablename__ = "audit_events"

    event_id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime, index=True)
    action: Mapped[str] = mapped_column(String(40))
    actor_key_id: Mapped[str] = mapped_column(String(16))
    actor_gln: Mapped[str | None] = mapped_column(String(13))
    message_id: Mapped[str | None] = mapped_column(String(36), index=True)
    delivery_id: Mapped[str | None] = mapped_column(String(36))
    patient_ref: Mapped[str | None] = mapped_column(String(64), index=True)
    request_id: Mapped[str | None] = mapped_column(String(64))

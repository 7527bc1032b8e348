"""SQL for messages, their deliveries and the deliveries' status history."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cache
from typing import assert_never

from sqlalchemy import (
    ColumnElement,
    Select,
    TextClause,
    and_,
    bindparam,
    exists,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session, joinedload, selectinload
from sqlalchemy.orm.interfaces import LoaderOption

from app import orm
from app.db import INBOX_RECEIVERS
from app.domain.deadlines import DeadlineState
from app.domain.messages import ACK_OVERDUE, DeliveryStatus
from app.repositories.audit import AuditEventRow, AuditRepository
from app.repositories.rows import (
    insert_rows,
    insert_statement,
    row_values,
    unnest_parameters,
    unnested_insert,
    values_insert,
    values_parameters,
)

__all__ = ["DeliveryRepository", "InboxEntry", "MessageRepository"]


class MessageRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, message_id: str) -> orm.Message | None:
        """Gets a message with its deliveries and their history."""
        return self.session.scalars(
            _with_deliveries(select(orm.Message)).where(orm.Message.message_id == message_id)
        ).one_or_none()

    def get_by_letter(self, *, sender_gln: str, letter_id: str) -> orm.Message | None:
        """Gets the message a sender sent under a letter id (MedCom's duplicate key)."""
        return self.session.scalars(
            _with_deliveries(select(orm.Message)).where(
                orm.Message.sender_gln == sender_gln, orm.Message.letter_id == letter_id
            )
        ).one_or_none()

    def get_for_update(self, message_id: str) -> orm.Message | None:
        """Gets a message with its deliveries and their history, locking its row until the
        transaction ends (PostgreSQL), so that two notices about one plan are checked against
        its history one after the other."""
        return self.session.scalars(
            _with_deliveries(select(orm.Message))
            .where(orm.Message.message_id == message_id)
            .with_for_update(of=orm.Message)
        ).one_or_none()

    def notices_of(self, plan_message_id: str) -> list[orm.Message]:
        """The notices about a plan, in the order they came in."""
        return list(
            self.session.scalars(
                select(orm.Message)
                .where(orm.Message.plan_message_id == plan_message_id)
                .order_by(orm.Message.created_at, orm.Message.message_id)
            )
        )

    def deadlines(
        self,
        gln: str | None,
        *,
        state: DeadlineState | None,
        today: date,
        due_soon_days: int,
        municipality_code: str | None,
        deadline_from: date | None,
        deadline_to: date | None,
        after: tuple[date, str] | None,
        limit: int,
    ) -> list[orm.Message]:
        """Plans `gln` sent or received (None: all), in a deadline state on `today`, by their
        deadline in force and message id, after the keyset `after`."""
        plan = orm.Message
        query = (
            # A row names the kommune of the plan's deliveries; their history is not shown.
            select(plan)
            .options(selectinload(plan.deliveries))
            .where(plan.type == "plan")
            .order_by(plan.deadline, plan.message_id)
            .limit(limit)
        )
        if gln is not None:
            received = exists().where(
                orm.Delivery.message_id == plan.message_id, orm.Delivery.receiver_gln == gln
            )
            query = query.where(or_(plan.sender_gln == gln, received))
        if state is not None:
            query = query.where(_in_state(state, today, due_soon_days))
        if municipality_code is not None:
            query = query.where(plan.municipality_code == municipality_code)
        if deadline_from is not None:
            query = query.where(plan.deadline >= deadline_from)
        if deadline_to is not None:
            query = query.where(plan.deadline <= deadline_to)
        if after is not None:
            query = query.where(tuple_(plan.deadline, plan.message_id) > tuple_(*after))
        return list(self.session.scalars(query))

    def in_thread(self, thread_id: str) -> list[orm.Message]:
        """The messages of a thread, oldest first, with their deliveries and history."""
        return list(
            self.session.scalars(
                _with_deliveries(select(orm.Message))
                .where(orm.Message.thread_id == thread_id)
                .order_by(orm.Message.created_at, orm.Message.message_id)
            )
        )

    def add_if_new(self, message: orm.Message) -> bool:
        """Inserts the message's row unless its sender already used its letter id (MedCom's
        duplicate key); True if it was inserted.

        The unique constraint decides between concurrent copies: PostgreSQL holds a second
        INSERT until the first copy's transaction ends (then does nothing, or inserts if that
        one rolled back); SQLite lets one writer in at a time. No SAVEPOINT is needed.
        """
        statement = (
            insert_statement(self.session, orm.Message)
            .on_conflict_do_nothing(index_elements=["sender_gln", "letter_id"])
            .returning(orm.Message.__table__.c["message_id"])
        )
        return self.session.execute(statement, row_values(message)).first() is not None

    def add_delivered(
        self,
        message: orm.Message,
        deliveries: Sequence[orm.Delivery],
        audit: Sequence[AuditEventRow],
    ) -> bool:
        """Inserts a new message with its deliveries, their first history entries and its
        audit events, unless its sender already used its letter id (as `add_if_new`); True if
        it was inserted.

        On PostgreSQL this is one statement (data-modifying CTEs gated by the message's
        INSERT … ON CONFLICT DO NOTHING), where the statements one by one cost a round trip
        and a third of a plan's CPU each (bench/README.md). SQLite has no INSERT in a CTE, and
        no round trips to save: one statement per table.
        """
        if self.session.get_bind().dialect.name != "postgresql":
            if not self.add_if_new(message):
                return False
            self.add_deliveries(deliveries)
            AuditRepository(self.session).add(audit)
            return True
        events = [event for delivery in deliveries for event in delivery.events]
        parameters = (
            {f"message_{key}": value for key, value in row_values(message).items()}
            | values_parameters(orm.Delivery, [row_values(d) for d in deliveries])
            | unnest_parameters(orm.DeliveryEvent, [row_values(e) for e in events])
            | unnest_parameters(orm.AuditEvent, audit)
        )
        statement = _insert_delivered(len(deliveries))
        inserted = self.session.execute(statement, parameters).first() is not None
        if inserted:
            self._fill_inboxes(deliveries)
        return inserted

    def add_deliveries(self, deliveries: Sequence[orm.Delivery]) -> None:
        """Inserts deliveries of an inserted message, with their status histories."""
        insert_rows(self.session, deliveries)
        insert_rows(self.session, [event for delivery in deliveries for event in delivery.events])
        self._fill_inboxes(deliveries)

    def _fill_inboxes(self, deliveries: Sequence[orm.Delivery]) -> None:
        # Their receivers' long polls are woken when the transaction commits (app/db.py).
        self.session.info.setdefault(INBOX_RECEIVERS, set()).update(
            d.receiver_gln for d in deliveries if d.status == DeliveryStatus.AVAILABLE
        )

    def list_for(
        self,
        gln: str,
        *,
        sent: bool,
        received: bool,
        type: str | None = None,
        delivery_status: str | None = None,
        patient_ref: str | None = None,
        since: datetime | None = None,
        before: tuple[datetime, str] | None = None,
        limit: int,
    ) -> list[orm.Message]:
        """Messages `gln` sent or received, newest first, before the keyset `before`."""
        own_delivery = and_(
            orm.Delivery.message_id == orm.Message.message_id, orm.Delivery.receiver_gln == gln
        )
        any_delivery = orm.Delivery.message_id == orm.Message.message_id
        if delivery_status is not None:
            # ack_overdue is a flag next to the status, searched like one (api.md).
            matches = (
                orm.Delivery.ack_overdue.is_(True)
                if delivery_status == ACK_OVERDUE
                else orm.Delivery.status == delivery_status
            )
            own_delivery = and_(own_delivery, matches)
            any_delivery = and_(any_delivery, matches)
        sides = []
        if sent:
            is_sender = orm.Message.sender_gln == gln
            sides.append(
                and_(is_sender, exists().where(any_delivery))
                if delivery_status is not None
                else is_sender
            )
        if received:
            sides.append(exists().where(own_delivery))
        query = (
            _with_deliveries(select(orm.Message))
            .where(or_(*sides))
            .order_by(orm.Message.created_at.desc(), orm.Message.message_id.desc())
            .limit(limit)
        )
        if type is not None:
            query = query.where(orm.Message.type == type)
        if patient_ref is not None:
            query = query.where(orm.Message.patient_ref == patient_ref)
        if since is not None:
            query = query.where(orm.Message.created_at >= since)
        if before is not None:
            at, message_id = before
            query = query.where(
                or_(
                    orm.Message.created_at < at,
                    and_(orm.Message.created_at == at, orm.Message.message_id < message_id),
                )
            )
        return list(self.session.scalars(query))


@dataclass(frozen=True, slots=True)
class InboxEntry:
    """A delivery as its receiver's inbox shows it, with the ids of its message and patient
    (for the audit log); the message's stored body is not read."""

    delivery_id: str
    message_id: str
    type: str
    sender_gln: str
    letter_id: str
    patient_ref: str
    envelope_id: str
    role: str
    format: str
    status: str
    created_at: datetime
    xml: bytes

    @classmethod
    def of(cls, delivery: orm.Delivery) -> "InboxEntry":
        """The entry of a delivery loaded with its message."""
        message = delivery.message
        return cls(
            delivery_id=delivery.delivery_id,
            message_id=delivery.message_id,
            type=message.type,
            sender_gln=message.sender_gln,
            letter_id=message.letter_id,
            patient_ref=message.patient_ref,
            envelope_id=delivery.envelope_id,
            role=delivery.role,
            format=delivery.format,
            status=delivery.status,
            created_at=delivery.created_at,
            xml=delivery.xml,
        )


class DeliveryRepository:
    def __init__(self, session: Session) -> None:
        self.session = session

    def get(self, delivery_id: str) -> orm.Delivery | None:
        """Gets a delivery with its message and history."""
        return self.session.scalars(
            select(orm.Delivery)
            .options(selectinload(orm.Delivery.message), selectinload(orm.Delivery.events))
            .where(orm.Delivery.delivery_id == delivery_id)
        ).one_or_none()

    def inbox(
        self, receiver_gln: str, *, after: tuple[datetime, str] | None, limit: int
    ) -> list["InboxEntry"]:
        """A receiver's unacknowledged deliveries, oldest first, after the keyset `after`:
        `limit` entries of the partial index ix_deliveries_open, however large the table.

        Read as plain rows in one joined SELECT: a page is read-only, and ORM objects for 50
        deliveries and their messages cost twice the CPU of the rows (bench/README.md)."""
        delivery, message = orm.Delivery, orm.Message
        query = (
            select(
                delivery.delivery_id,
                delivery.message_id,
                message.type,
                message.sender_gln,
                message.letter_id,
                message.patient_ref,
                delivery.envelope_id,
                delivery.role,
                delivery.format,
                delivery.status,
                delivery.created_at,
                delivery.xml,
            )
            .join(message, message.message_id == delivery.message_id)
            .where(delivery.receiver_gln == receiver_gln, orm.UNACKNOWLEDGED_CLAUSE)
            .order_by(delivery.created_at, delivery.delivery_id)
            .limit(limit)
        )
        if after is not None:
            query = query.where(tuple_(delivery.created_at, delivery.delivery_id) > tuple_(*after))
        return [InboxEntry(**row._mapping) for row in self.session.execute(query)]

    def has_inbox_entries(self, receiver_gln: str, *, after: tuple[datetime, str] | None) -> bool:
        """True if `inbox` would return anything: one entry of ix_deliveries_open, no row."""
        delivery = orm.Delivery
        query = select(delivery.delivery_id).where(
            delivery.receiver_gln == receiver_gln, orm.UNACKNOWLEDGED_CLAUSE
        )
        if after is not None:
            query = query.where(tuple_(delivery.created_at, delivery.delivery_id) > tuple_(*after))
        return self.session.execute(query.limit(1)).first() is not None

    def get_for_update(self, delivery_id: str) -> orm.Delivery | None:
        """Gets a delivery with its message, history and receipt, locking its row until the
        transaction ends (PostgreSQL; SQLite has one writer at a time anyway), so that two
        acknowledgements of one delivery happen one after the other."""
        return self.session.scalars(
            select(orm.Delivery)
            .options(*_settling_options())
            .where(orm.Delivery.delivery_id == delivery_id)
            .with_for_update(of=orm.Delivery)
        ).one_or_none()

    def of_message_for_update(self, message_id: str) -> list[orm.Delivery]:
        """A message's deliveries, locked like `get_for_update`."""
        return list(
            self.session.scalars(
                select(orm.Delivery)
                .options(*_settling_options())
                .where(orm.Delivery.message_id == message_id)
                .order_by(orm.Delivery.delivery_id)
                .with_for_update(of=orm.Delivery)
            )
        )

    def transmitted(
        self, *, envelope_id: str, sender_gln: str, receiver_gln: str, letter_id: str | None
    ) -> list[orm.Delivery]:
        """The deliveries from `sender_gln` to `receiver_gln` that were transmitted in the
        envelope `envelope_id` (first send or resend), of the letter `letter_id` if given;
        locked like `get_for_update`."""
        query = (
            select(orm.Delivery)
            .join(orm.Message, orm.Message.message_id == orm.Delivery.message_id)
            .options(*_settling_options())
            .where(
                orm.Delivery.delivery_id.in_(
                    select(orm.DeliveryEvent.delivery_id).where(
                        orm.DeliveryEvent.envelope_id == envelope_id
                    )
                ),
                orm.Delivery.receiver_gln == receiver_gln,
                orm.Message.sender_gln == sender_gln,
            )
            .order_by(orm.Delivery.delivery_id)
            .with_for_update(of=orm.Delivery)
        )
        if letter_id is not None:
            query = query.where(orm.Message.letter_id == letter_id)
        return list(self.session.scalars(query))

    def awaiting_receipt(self, *, sent_before: datetime, limit: int) -> list[orm.Delivery]:
        """Deliveries that asked for a receipt, sent before `sent_before`, still without one
        and not yet flagged overdue; rows another transaction holds are skipped (PostgreSQL),
        so several timer processes can share the work."""
        return list(
            self.session.scalars(
                select(orm.Delivery)
                .options(selectinload(orm.Delivery.events))
                .where(orm.AWAITING_RECEIPT_CLAUSE, orm.Delivery.sent_at <= sent_before)
                .order_by(orm.Delivery.sent_at, orm.Delivery.delivery_id)
                .limit(limit)
                .with_for_update(of=orm.Delivery, skip_locked=True)
            )
        )


def _in_state(state: DeadlineState, today: date, due_soon_days: int) -> ColumnElement[bool]:
    # The conditions of app/domain/deadlines.deadline_state, in SQL; change both together.
    plan = orm.Message
    started, closed = plan.started_on.is_not(None), plan.closed_on.is_not(None)
    waiting = and_(plan.started_on.is_(None), plan.closed_on.is_(None))
    soon = today + timedelta(days=due_soon_days)
    match state:
        case DeadlineState.MET:
            return and_(started, plan.started_on <= plan.deadline)
        case DeadlineState.OVERDUE:
            return or_(
                and_(started, plan.started_on > plan.deadline),
                and_(plan.started_on.is_(None), closed, plan.closed_on > plan.deadline),
                and_(waiting, plan.deadline < today),
            )
        case DeadlineState.DUE_SOON:
            return and_(waiting, plan.deadline >= today, plan.deadline <= soon)
        case DeadlineState.PENDING:
            return and_(waiting, plan.deadline > soon)
        case DeadlineState.CLOSED:
            return and_(plan.started_on.is_(None), closed, plan.closed_on <= plan.deadline)
        case _:
            assert_never(state)


def _settling_options() -> tuple[LoaderOption, ...]:
    # A delivery about to be acknowledged: its message (joined; its stored body is not
    # needed, so it is read only if asked for), history and receipt (with the receipt's own
    # delivery, for the answer).
    receipt = selectinload(orm.Delivery.receipt)
    return (
        joinedload(orm.Delivery.message, innerjoin=True).defer(orm.Message.body),
        selectinload(orm.Delivery.events),
        receipt.selectinload(orm.Message.deliveries).selectinload(orm.Delivery.events),
    )


def _with_deliveries(query: Select[orm.Message]) -> Select[orm.Message]:
    deliveries = selectinload(orm.Message.deliveries)
    return query.options(
        deliveries.selectinload(orm.Delivery.events), deliveries.selectinload(orm.Delivery.receipt)
    )


@cache
def _insert_delivered(deliveries: int) -> TextClause:
    """MessageRepository.add_delivered's statement on PostgreSQL, for a number of deliveries.
    The message's columns are parameters `message_<column>`, typed like the column (JSON, UTC
    timestamps); the deliveries' rows are VALUES (rows.values_insert: their documents go as
    they are), the other tables' rows arrays (rows.unnested_insert). Its text depends only on
    the number of deliveries, so psycopg prepares it once per connection and number."""
    table = orm.Message.__table__
    columns = [column for column in table.columns if column.autoincrement is not True]
    names = ", ".join(column.key for column in columns)
    values = ", ".join(f":message_{column.key}" for column in columns)
    statement = text(
        f"""
        WITH new_message AS (
            INSERT INTO messages ({names}) VALUES ({values})
            ON CONFLICT (sender_gln, letter_id) DO NOTHING
            RETURNING message_id
        ),
        new_deliveries AS ({values_insert(orm.Delivery, rows=deliveries, source="new_message")}),
        new_events AS ({unnested_insert(orm.DeliveryEvent, source="new_message")}),
        new_audit AS ({unnested_insert(orm.AuditEvent, source="new_message")})
        SELECT message_id FROM new_message
        """
    )
    return statement.bindparams(
        *(bindparam(f"message_{column.key}", type_=column.type) for column in columns)
    )

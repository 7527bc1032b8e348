"""The acknowledgement timers: deliveries whose receipt is overdue are flagged, or resent
while resends are left and automatic resending is on.

MedCom (formats.md §6, domain.md): with no receipt after 30 minutes (SEKTORBRO_ACK_TIMEOUT)
the sender may resend, at most twice (SEKTORBRO_MAX_RESENDS); SEKTORBRO_AUTO_RESEND lets the
timers do it. `evaluate_ack_timers` handles one batch in the caller's transaction;
`ack_timer_job` is the job that the service's lifespan (SEKTORBRO_RUN_TIMERS) and
`sektorbro worker` run every SEKTORBRO_TIMER_INTERVAL seconds (periodic.py), one transaction
per batch, on the configured clock. Several processes may run it at once (the deliveries are
claimed with SKIP LOCKED on PostgreSQL).
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from app import orm
from app.clock import Clock
from app.config import Settings
from app.delivery.retransmission import retransmit
from app.domain.messages import ACK_OVERDUE
from app.repositories import DeliveryRepository
from app.xml import XmlRenderer

__all__ = ["TIMER_BATCH", "TimerRun", "ack_timer_job", "evaluate_ack_timers"]

logger = logging.getLogger("sektorbro.transmissions")

# How many deliveries one timer transaction handles; the next run takes the rest.
TIMER_BATCH = 500


@dataclass(frozen=True, slots=True)
class TimerRun:
    flagged: int
    resent: int


def evaluate_ack_timers(
    session: Session,
    renderer: XmlRenderer,
    *,
    now: datetime,
    ack_timeout: timedelta,
    auto_resend: bool,
    max_resends: int,
) -> TimerRun:
    """Flags deliveries whose receipt is overdue, or resends them while resends are left and
    automatic resending is on. Handles at most TIMER_BATCH deliveries; call again while it
    returns a full batch."""
    due = DeliveryRepository(session).awaiting_receipt(
        sent_before=now - ack_timeout, limit=TIMER_BATCH
    )
    flagged = resent = 0
    for delivery in due:
        delivery.events.append(orm.DeliveryEvent(status=ACK_OVERDUE, at=now))
        if auto_resend and delivery.resends < max_resends:
            retransmit(renderer, delivery, now=now)
            resent += 1
        else:
            delivery.ack_overdue = True
            delivery.updated_at = now
            flagged += 1
    if due:
        logger.info("ack timers: %d flagged overdue, %d resent", flagged, resent)
    return TimerRun(flagged=flagged, resent=resent)


def ack_timer_job(
    session_factory: sessionmaker[Session], renderer: XmlRenderer, clock: Clock, settings: Settings
) -> Callable[[], TimerRun]:
    """A job that evaluates every due acknowledgement timer and returns what it did."""

    def job() -> TimerRun:
        flagged = resent = 0
        while True:
            with session_factory.begin() as session:
                run = evaluate_ack_timers(
                    session,
                    renderer,
                    now=clock.now(),
                    ack_timeout=timedelta(seconds=settings.ack_timeout),
                    auto_resend=settings.auto_resend,
                    max_resends=settings.max_resends,
                )
            flagged, resent = flagged + run.flagged, resent + run.resent
            if run.flagged + run.resent < TIMER_BATCH:
                return TimerRun(flagged=flagged, resent=resent)

    return job

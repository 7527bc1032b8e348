"""The acknowledgement timers as a job: one transaction per batch, on the configured clock.

Used by the service's lifespan (SEKTORBRO_RUN_TIMERS) and by `sektorbro worker`; several
processes may run it at once (the deliveries are claimed with SKIP LOCKED on PostgreSQL).
"""

from collections.abc import Callable
from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from app.clock import Clock
from app.config import Settings
from app.services.transmissions import TIMER_BATCH, TimerRun, evaluate_ack_timers
from app.xml import XmlRenderer

__all__ = ["ack_timer_job"]


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

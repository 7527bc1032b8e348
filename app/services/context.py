"""What every use case gets to know about the request: who calls, when, and the audit keys."""

from dataclasses import dataclass
from datetime import date, datetime

from app.domain.messages import DANISH_TIME
from app.services.api_keys import Caller

__all__ = ["RequestContext"]


@dataclass(frozen=True, slots=True)
class RequestContext:
    caller: Caller
    now: datetime
    request_id: str | None
    patient_key: bytes

    @property
    def today(self) -> date:
        """Today in Denmark: legal deadlines and CPR birth dates are Danish calendar dates."""
        return self.now.astimezone(DANISH_TIME).date()

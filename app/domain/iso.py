"""Dates and times as ISO 8601 text only.

Pydantic's lax mode reads a number (`0`, `0.5`, `"1700000000"`) as a Unix timestamp, so
`?to=0` would quietly mean 1 January 1970. These types take a date or time only in the form
the OpenAPI document gives (`format: date`, `format: date-time`), in query strings and JSON
bodies alike, and answer anything else with a 422 naming the field.
"""

import re
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

__all__ = ["IsoDate", "IsoDateTime"]

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_date(value: Any) -> Any:
    if isinstance(value, date):  # already a date: a Python caller's
        return value
    if not (isinstance(value, str) and _DATE.fullmatch(value.strip())):
        raise PydanticCustomError("date_format", "Give a date as YYYY-MM-DD, e.g. 2025-03-31.")
    return value


def _iso_datetime(value: Any) -> Any:
    if isinstance(value, datetime):
        return value
    if not (isinstance(value, str) and _DATE.match(value.strip())):
        raise PydanticCustomError(
            "datetime_format",
            "Give a time in ISO 8601, as YYYY-MM-DDTHH:MM:SS with a UTC offset, "
            "e.g. 2025-03-31T08:00:00+02:00.",
        )
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_date)]
"""A date, from text only as YYYY-MM-DD."""

IsoDateTime = Annotated[datetime, BeforeValidator(_iso_datetime)]
"""A date and time, from text only in ISO 8601 (starting YYYY-MM-DD)."""

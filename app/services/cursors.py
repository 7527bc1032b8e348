"""Opaque keyset cursors: (timestamp or date, id) of the last row of a page."""

import base64
import binascii
from datetime import date, datetime

from app.errors import FieldError, ValidationFailed

__all__ = ["decode_date_keyset", "decode_keyset", "encode_date_keyset", "encode_keyset"]


def encode_keyset(at: datetime, row_id: str) -> str:
    """The cursor that continues after the row (at, row_id)."""
    return _encode(at.isoformat(), row_id)


def decode_keyset(cursor: str) -> tuple[datetime, str]:
    """The (at, row_id) a cursor stands for; a 422 on `cursor` if it is not one of ours."""
    at, row_id = _decode(cursor)
    try:
        parsed = datetime.fromisoformat(at)
    except ValueError:
        raise _invalid() from None
    if parsed.tzinfo is None:
        raise _invalid()
    return parsed, row_id


def encode_date_keyset(day: date, row_id: str) -> str:
    """The cursor that continues after the row (day, row_id)."""
    return _encode(day.isoformat(), row_id)


def decode_date_keyset(cursor: str) -> tuple[date, str]:
    """The (day, row_id) a cursor stands for; a 422 on `cursor` if it is not one of ours."""
    day, row_id = _decode(cursor)
    try:
        return date.fromisoformat(day), row_id
    except ValueError:
        raise _invalid() from None


def _encode(key: str, row_id: str) -> str:
    raw = f"{key}|{row_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def _decode(cursor: str) -> tuple[str, str]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise _invalid() from None
    key, separator, row_id = raw.partition("|")
    if not separator:
        raise _invalid()
    return key, row_id


def _invalid() -> ValidationFailed:
    return ValidationFailed(
        [FieldError("cursor", "cursor_invalid", "Use the next_cursor of the previous page.")]
    )

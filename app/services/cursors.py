"""Opaque keyset cursors: (timestamp, id) of the last row of a page."""

import base64
import binascii
from datetime import datetime

from app.errors import FieldError, ValidationFailed

__all__ = ["decode_keyset", "encode_keyset"]


def encode_keyset(at: datetime, row_id: str) -> str:
    """The cursor that continues after the row (at, row_id)."""
    raw = f"{at.isoformat()}|{row_id}".encode("ascii")
    return base64.urlsafe_b64encode(raw).decode("ascii").rstrip("=")


def decode_keyset(cursor: str) -> tuple[datetime, str]:
    """The (at, row_id) a cursor stands for; a 422 on `cursor` if it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
        at, row_id = raw.split("|", 1)
        parsed = datetime.fromisoformat(at)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise ValidationFailed(
            [FieldError("cursor", "cursor_invalid", "Use the next_cursor of the previous page.")]
        )
    return parsed, row_id

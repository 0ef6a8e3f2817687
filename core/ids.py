"""Opaque global IDs: base64url of "<Type>:<uuid hex>".

The UUIDs are random, so an ID reveals nothing and guessing one finds nothing.
"""

from __future__ import annotations

import base64
import binascii
import uuid

from core.errors import NotFound


def encode_id(type_name: str, row_id: uuid.UUID) -> str:
    raw = f"{type_name}:{row_id.hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_id(global_id: str) -> tuple[str, uuid.UUID]:
    """The type name and row id, or NotFound for anything malformed."""
    try:
        padded = global_id + "=" * (-len(global_id) % 4)
        type_name, _, hex_id = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return type_name, uuid.UUID(hex=hex_id)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise NotFound(global_id=global_id) from exc


def decode_id_of(type_name: str, global_id: str) -> uuid.UUID:
    """The row id of a global ID that must name `type_name`; anything else is NotFound."""
    found_type, row_id = decode_id(global_id)
    if found_type != type_name:
        raise NotFound(global_id=global_id)
    return row_id


def base64url(text: str | None) -> str | None:
    """base64url of UTF-8 text without padding: global IDs and cursors. SQLite calls it as
    `portico_base64url` (models/db.py), for planned answers (planner/sqlite_sql.py)."""
    if text is None:
        return None
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")

"""Event details name records by global id: car and audit events held raw row ids

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 03:30:00.000000

`CarEvent.data` and `AuditEvent.data` are shown through the API as they are stored, so
ids in them must be the API's global ids. A preview's session id is dropped: it names
nothing a client can ask for.
"""

import base64
import uuid
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Key -> GraphQL type, as the code writes them from this revision on.
REFERENCES = {
    "car_events": {
        "from": "Customer",
        "to": "Customer",
        "job_id": "Job",
        "condition_report_id": "ConditionReport",
    },
    "audit_events": {
        "contact_id": "Contact",
        "estimate_id": "Estimate",
        "invoice_id": "Invoice",
        "by": "Contract",
    },
}
DROPPED = {"audit_events": ("session_id",)}
JSON = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def _global(type_name: str, value: str) -> str:
    raw = f"{type_name}:{uuid.UUID(value).hex}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _raw(type_name: str, value: Any) -> Any:
    """The row id of a global id of `type_name`; anything else as it is ("reset link")."""
    try:
        padded = value + "=" * (-len(value) % 4)
        found, _, hex_id = base64.urlsafe_b64decode(padded).decode().partition(":")
        return str(uuid.UUID(hex=hex_id)) if found == type_name else value
    except (TypeError, ValueError, UnicodeDecodeError):
        return value


def _is_uuid(value: Any) -> bool:
    try:
        uuid.UUID(value)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _rewrite(table_name: str, change: Any) -> None:
    conn = op.get_bind()
    table = sa.table(table_name, sa.column("id", sa.Uuid()), sa.column("data", JSON))
    for row_id, data in conn.execute(sa.select(table.c.id, table.c.data)).all():
        if not isinstance(data, dict):
            continue
        new = change(table_name, data)
        if new != data:
            conn.execute(table.update().where(table.c.id == row_id).values(data=new))


def _to_global(table_name: str, data: dict[str, Any]) -> dict[str, Any]:
    kinds = REFERENCES[table_name]
    return {
        k: _global(kinds[k], v) if k in kinds and _is_uuid(v) else v
        for k, v in data.items()
        if k not in DROPPED.get(table_name, ())
    }


def _to_raw(table_name: str, data: dict[str, Any]) -> dict[str, Any]:
    kinds = REFERENCES[table_name]
    return {k: _raw(kinds[k], v) if k in kinds else v for k, v in data.items()}


def upgrade() -> None:
    for table_name in REFERENCES:
        _rewrite(table_name, _to_global)


def downgrade() -> None:
    for table_name in REFERENCES:
        _rewrite(table_name, _to_raw)

"""What of the viewer a plan may depend on (its shape), and what it may not (its ids)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import sqlalchemy as sa

from auth.viewer import Viewer
from models.loaders import Scope

# Values of the viewer are parameters of every execution, never parts of a plan: a plan
# is shared by every viewer of the same shape.
VIEWER_IDS: dict[str, Callable[[Viewer], Any]] = {
    "organization": lambda v: v.organization_id,
    "staff_user": lambda v: v.staff_user_id,
    "customer": lambda v: v.customer_id,
    "contact": lambda v: v.contact_id,
}


def viewer_param(role: str) -> sa.BindParameter[Any]:
    return sa.bindparam(f"viewer_{role}", type_=sa.Uuid())


def viewer_params(viewer: Viewer, scope: Scope) -> dict[str, Any]:
    return {**scope.params, **{f"viewer_{k}": get(viewer) for k, get in VIEWER_IDS.items()}}


def viewer_shape(viewer: Viewer, scope: Scope) -> tuple[Any, ...]:
    """Everything about a viewer that changes a plan (never their ids)."""
    present = tuple(get(viewer) is not None for get in VIEWER_IDS.values())
    return (scope.shape, viewer.kind, viewer.role, present, viewer.session_id is not None)

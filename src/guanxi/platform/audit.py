"""Writing the append-only audit log (sign-ins, permission changes, exports, deletes,
merges, API-token use)."""

from __future__ import annotations

from typing import Any

from guanxi.platform import rowinsert
from guanxi.platform.context import current_client, current_workspace
from guanxi.platform.ids import new_public_id
from guanxi.platform.models import AuditEvent, Workspace


def record_audit(**fields: Any) -> AuditEvent:
    """Write one audit event; takes the keyword arguments of ``audit_event``."""
    # append-only and written on most requests: one statement built once (no save signals)
    return rowinsert.insert(audit_event(**fields))


def audit_event(
    *,
    action: str,
    actor: Any = None,
    workspace: Workspace | None = None,
    obj: Any = None,
    data: dict | None = None,
    actor_label: str = "",
) -> AuditEvent:
    """An unsaved audit event as ``record_audit`` writes it (for ``bulk_create``)."""
    ip, user_agent = current_client()
    if workspace is None:
        workspace = getattr(obj, "workspace", None) if obj is not None else None
        workspace = workspace if isinstance(workspace, Workspace) else current_workspace()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    return AuditEvent(
        public_id=new_public_id("aud"),
        workspace=workspace,
        actor=actor,
        actor_label=actor_label or (actor.get_username() if actor is not None else ""),
        action=action,
        object_type=getattr(obj, "object_type", "") or "",
        object_id=getattr(obj, "public_id", "") or "",
        object_repr=str(obj)[:300] if obj is not None else "",
        ip=ip,
        user_agent=user_agent,
        data=data or {},
    )

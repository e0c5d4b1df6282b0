"""Reads of the platform, visibility applied."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from guanxi.platform.models import ApiToken, AuditEvent, Membership, Role, Team
from guanxi.platform.permissions import Scope
from guanxi.platform.visibility import resolve_membership


def members(*, user: Any, action: str = "view") -> QuerySet[Membership]:
    return Membership.objects.visible_to(user, action).select_related(
        "user", "role", "team", "manager__user"
    )


def teams(*, user: Any) -> QuerySet[Team]:
    return Team.objects.visible_to(user, "view")


def roles(*, user: Any) -> QuerySet[Role]:
    return Role.objects.visible_to(user, "view")


def api_tokens(*, user: Any) -> QuerySet[ApiToken]:
    return ApiToken.objects.visible_to(user, "view").select_related("user")


def audit_events(*, user: Any, action: str | None = None) -> QuerySet[AuditEvent]:
    """Audit events of the active workspace, for roles granted ``platform.auditevent``."""
    membership = resolve_membership(user)
    if membership is None or membership.scope_for("platform.auditevent", "view") == Scope.NONE:
        return AuditEvent.objects.none()
    events = AuditEvent.objects.filter(workspace_id=membership.workspace_id).select_related("actor")
    return events.filter(action=action) if action else events

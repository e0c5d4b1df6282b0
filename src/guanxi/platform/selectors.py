"""Reads of the platform, visibility applied."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from guanxi.platform.models import ApiToken, AuditEvent, Membership, Role, Team
from guanxi.platform.permissions import Scope
from guanxi.platform.visibility import resolve_membership

MEMBER_COLUMNS = (
    "public_id", "workspace_id", "user_id", "role_id", "team_id", "manager_id", "path",
    "is_active", "created_at", "version", "deleted_at",
    "user__username", "user__email", "user__first_name", "user__last_name",
    "role__key", "role__name", "team__public_id", "team__name", "manager__public_id",
)  # fmt: skip


def members(*, user: Any, action: str = "view") -> QuerySet[Membership]:
    """Memberships with what the API shows of them, in one query (only those columns)."""
    return (
        Membership.objects.visible_to(user, action)
        .select_related("user", "role", "team", "manager")
        .only(*MEMBER_COLUMNS)
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

"""The one gate between a user and the rows they may see or act on.

``Model.objects.visible_to(user, action)`` lists rows; ``get_visible_or_404`` fetches one;
``require_action`` turns "visible but not allowed" into 403. A row the user may not see is
answered exactly like a missing one (404), so ids do not leak across teams or tenants.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

from django.db import models
from django.db.models import Q

from guanxi.platform.context import current_membership, current_workspace
from guanxi.platform.errors import Forbidden, NotFound
from guanxi.platform.permissions import Scope

if TYPE_CHECKING:
    from guanxi.platform.models import Membership, User, WorkspaceModel

M = TypeVar("M", bound="WorkspaceModel")


def resolve_membership(user: User | Membership) -> Membership | None:
    """The membership a user acts through in the active workspace (None: not a member)."""
    from guanxi.platform.models import Membership

    if isinstance(user, Membership):
        return user
    if user is None or not user.is_authenticated:
        return None
    membership = current_membership()
    if membership is not None and membership.user_id == user.pk:
        return membership
    workspace = current_workspace()
    if workspace is None:
        return None
    cache = user.__dict__.setdefault("_guanxi_memberships", {})
    if workspace.pk not in cache:
        cache[workspace.pk] = (
            Membership.objects.for_workspace(workspace)
            .select_related("role", "workspace")
            .filter(user=user, is_active=True)
            .first()
        )
    return cache[workspace.pk]


def _members(membership: Membership, **filters: Any) -> models.QuerySet:
    from guanxi.platform.models import Membership

    return (
        Membership.objects.for_workspace(membership.workspace_id)
        .filter(**filters)
        .values("user_id")
    )


def scope_filter(model: type[WorkspaceModel], membership: Membership, scope: str) -> Q | None:
    """The row filter a scope stands for; None means every row of the workspace."""
    owner = model.owner_field
    if scope == Scope.ALL or owner is None:
        return None
    own = Q(**{owner: membership.user_id})
    if scope == Scope.OWN:
        return own
    if scope == Scope.TEAM:
        if membership.team_id is None:
            return own
        condition = own | Q(**{f"{owner}__in": _members(membership, team_id=membership.team_id)})
        if model.team_field:
            condition |= Q(**{model.team_field: membership.team_id})
        return condition
    if scope == Scope.SUBTREE:
        return own | Q(**{f"{owner}__in": _members(membership, path__startswith=membership.path)})
    raise ValueError(f"unknown scope {scope!r}")


def visibility_key(membership: Membership, model: type[WorkspaceModel], action: str) -> tuple:
    """Everything ``restrict`` builds its filter from: two requests with the same key get
    the same SQL and parameters (what a prepared lookup may share between them)."""
    return (
        model._meta.label,
        action,
        membership.scope_for(model.object_type, action),
        membership.workspace_id,
        membership.user_id,
        membership.team_id,
        membership.path,
        membership.is_active,
    )


def restrict(queryset: models.QuerySet, *, user: User | Membership, action: str) -> Any:
    membership = resolve_membership(user)
    if membership is None or not membership.is_active:
        return queryset.none()
    model = queryset.model
    scope = membership.scope_for(model.object_type, action)
    queryset = queryset.filter(workspace_id=membership.workspace_id)
    if scope == Scope.NONE:
        return queryset.none()
    condition = scope_filter(model, membership, scope)
    return queryset if condition is None else queryset.filter(condition)


def can(user: User | Membership, action: str, obj: WorkspaceModel) -> bool:
    """May ``user`` perform ``action`` on ``obj``? Answers without a query when it can."""
    membership = resolve_membership(user)
    if membership is None or not membership.is_active:
        return False
    if obj.workspace_id != membership.workspace_id:
        return False
    scope = membership.scope_for(obj.object_type, action)
    if scope == Scope.NONE:
        return False
    owner = obj.owner_field
    if scope == Scope.ALL or owner is None:
        return True
    if getattr(obj, f"{owner}_id") == membership.user_id:
        return True
    if scope == Scope.OWN:
        return False
    return (
        type(obj)
        ._base_manager.filter(pk=obj.pk, workspace_id=obj.workspace_id)
        .filter(scope_filter(type(obj), membership, scope))
        .exists()
    )


def may_add(user: User | Membership, object_type: str) -> bool:
    membership = resolve_membership(user)
    return (
        membership is not None
        and membership.is_active
        and membership.scope_for(object_type, "add") != Scope.NONE
    )


def get_visible_or_404(
    model: type[M],
    *,
    user: User | Membership,
    public_id: str,
    action: str = "view",
    queryset: models.QuerySet | None = None,
) -> M:
    """The record with this public id if the user may see it; NotFound (404) otherwise.

    ``queryset`` (already restricted with ``visible_to(user, "view")``) lets a caller add
    ``select_related``; visibility is never widened by it.
    """
    if queryset is None:
        queryset = model.objects.visible_to(user, "view")
    found = list(queryset.filter(public_id=public_id)[:1])  # unique: no ORDER BY needed
    if not found:
        raise NotFound(model._meta.verbose_name)
    obj = found[0]
    if action != "view":
        require_action(user, action, obj)
    return obj


def require_action(user: User | Membership, action: str, obj: WorkspaceModel) -> None:
    if not can(user, action, obj):
        raise Forbidden(action=action, object_type=obj.object_type)


def require_add(user: User | Membership, object_type: str) -> None:
    if not may_add(user, object_type):
        raise Forbidden(action="add", object_type=object_type)

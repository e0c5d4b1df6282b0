"""Django admin for operators and workspace administrators.

Changes to roles and memberships go through the services, so they are validated, versioned
and audited exactly like API changes. Lists show the active workspace only.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest
from simple_history.admin import SimpleHistoryAdmin

from guanxi.platform import services
from guanxi.platform.context import current_workspace
from guanxi.platform.models import ApiToken, AuditEvent, Membership, Role, Team, User, Workspace


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Guanxi", {"fields": ("language", "time_zone")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff")


@admin.register(Workspace)
class WorkspaceAdmin(SimpleHistoryAdmin):
    list_display = ("slug", "name", "region", "currency", "time_zone", "parent", "is_active")
    search_fields = ("slug", "name")
    readonly_fields = ("public_id", "version", "created_at")


class ScopedAdmin(SimpleHistoryAdmin):
    """Rows of the workspace active in this session; none when no workspace is active."""

    readonly_fields = ("public_id", "version", "created_at", "created_by", "updated_at")
    exclude = ("workspace", "deleted_at", "deleted_by", "updated_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        workspace = current_workspace()
        if workspace is None:
            return self.model._base_manager.none()
        return self.model.objects.for_workspace(workspace)

    def save_model(self, request: HttpRequest, obj: Any, form: Any, change: bool) -> None:
        if not change:
            obj.workspace = current_workspace()
            obj.created_by = request.user
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(Team)
class TeamAdmin(ScopedAdmin):
    list_display = ("name", "public_id", "created_at")
    search_fields = ("name",)


@admin.register(Role)
class RoleAdmin(ScopedAdmin):
    list_display = ("name", "key", "is_system")

    def save_model(self, request: HttpRequest, obj: Role, form: Any, change: bool) -> None:
        if change:
            services.update_role(
                role=Role.objects.for_workspace(obj.workspace_id).get(pk=obj.pk),
                by=request.user,
                expected_version=obj.version,
                name=obj.name,
                permissions=obj.permissions,
            )
        else:
            services.create_role(
                workspace=current_workspace(),
                key=obj.key,
                name=obj.name,
                permissions=obj.permissions,
                by=request.user,
            )


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ("user", "role", "team", "manager", "is_active")
    list_filter = ("role", "team", "is_active")
    autocomplete_fields = ("user",)
    readonly_fields = (*ScopedAdmin.readonly_fields, "path")

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if change:
            services.change_membership(
                membership=Membership.objects.for_workspace(obj.workspace_id).get(pk=obj.pk),
                by=request.user,
                expected_version=obj.version,
                role=obj.role,
                team=obj.team,
                manager=obj.manager,
                is_active=obj.is_active,
            )
        else:
            services.add_member(
                workspace=current_workspace(),
                user=obj.user,
                role=obj.role,
                team=obj.team,
                manager=obj.manager,
                by=request.user,
            )


@admin.register(ApiToken)
class ApiTokenAdmin(ScopedAdmin):
    list_display = ("name", "user", "prefix", "last_used_at", "expires_at", "deleted_at")
    readonly_fields = ("name", "user", "membership", "prefix", "last_used_at", "last_used_ip")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # tokens are shown once at creation: use `guanxi token create` or the API


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    list_display = ("created_at", "action", "actor_label", "object_repr", "ip")
    list_filter = ("action",)
    search_fields = ("actor_label", "object_repr", "object_id")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        workspace = current_workspace()
        events = AuditEvent.objects.all()
        if request.user.is_superuser and workspace is None:
            return events
        return events.filter(workspace=workspace) if workspace else events.none()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

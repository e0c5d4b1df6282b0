"""Django admin for operators and workspace administrators.

Changes to roles and memberships go through the services, so they are validated, versioned
and audited exactly like API changes. Lists show the active workspace only.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.db import transaction
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from guanxi.platform import services
from guanxi.platform.admin_site import acting_membership
from guanxi.platform.audit import record_audit
from guanxi.platform.context import current_workspace
from guanxi.platform.models import ApiToken, AuditEvent, Membership, Role, Team, User, Workspace
from guanxi.platform.permissions import Scope
from guanxi.platform.visibility import can


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Guanxi", {"fields": ("language", "time_zone")}),
    )
    list_display = ("username", "email", "first_name", "last_name", "is_active", "is_staff")

    # Logins span workspaces, so only operators manage them here; workspace administrators
    # manage their members on the Membership pages and through the API.
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser


@admin.register(Workspace)
class WorkspaceAdmin(SimpleHistoryAdmin):
    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_superuser

    list_display = ("slug", "name", "region", "currency", "time_zone", "parent", "is_active")
    search_fields = ("slug", "name")
    readonly_fields = ("public_id", "version", "created_at")


class ScopedAdmin(SimpleHistoryAdmin):
    """Rows of the workspace active in this session; none when no workspace is active.

    Page permissions follow the member's role (``visible_to``), not Django's model
    permissions; operators (superusers) keep full access.
    """

    def _allowed(self, request: HttpRequest, action: str, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return True
        membership = acting_membership(request)
        if membership is None:
            return False
        if obj is not None:
            return can(membership, action, obj)
        return membership.scope_for(self.model.object_type, action) != Scope.NONE

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, "view")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, "view", obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._allowed(request, "add")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, "change", obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._allowed(request, "delete", obj)

    readonly_fields = ("public_id", "version", "created_at", "created_by", "updated_at")
    exclude = ("workspace", "deleted_at", "deleted_by", "updated_by")

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        membership = acting_membership(request)
        if membership is None:
            return self.model._base_manager.none()
        if request.user.is_superuser:
            return self.model.objects.for_workspace(membership.workspace)
        return self.model.objects.visible_to(membership, "view")

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        related = db_field.related_model
        membership = acting_membership(request)
        if hasattr(related, "object_type") and related is not Workspace and membership:
            kwargs["queryset"] = related.objects.for_workspace(membership.workspace)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def delete_model(self, request: HttpRequest, obj: Any) -> None:
        obj.deleted_at, obj.deleted_by = timezone.now(), request.user
        obj.save(update_fields=["deleted_at", "deleted_by"])
        record_audit(action=f"{obj.object_type}.deleted", actor=request.user, obj=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for obj in queryset:
            self.delete_model(request, obj)

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


class NewMemberForm(forms.ModelForm):
    """Adding a member creates their login too (username, name, e-mail, password)."""

    username = forms.CharField(label=_("Username"), max_length=150)
    first_name = forms.CharField(label=_("Given name"), max_length=150, required=False)
    last_name = forms.CharField(label=_("Family name"), max_length=150, required=False)
    email = forms.EmailField(label=_("E-mail"), required=False)
    password = forms.CharField(
        label=_("Password"),
        widget=forms.PasswordInput,
        required=False,
        help_text=_("Leave empty to create a user who cannot sign in yet."),
    )

    class Meta:
        model = Membership
        fields = ("role", "team", "manager")


@admin.register(Membership)
class MembershipAdmin(ScopedAdmin):
    list_display = ("user", "role", "team", "manager", "is_active")
    list_filter = ("role", "team", "is_active")
    search_fields = ("user__username", "user__first_name", "user__last_name", "user__email")
    readonly_fields = (*ScopedAdmin.readonly_fields, "user", "path")

    def get_form(self, request: HttpRequest, obj: Any = None, change: bool = False, **kwargs: Any):
        if obj is None:
            kwargs["form"] = NewMemberForm
            kwargs["fields"] = None
        return super().get_form(request, obj, change=change, **kwargs)

    def get_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        if obj is None:
            return (
                "username",
                "first_name",
                "last_name",
                "email",
                "password",
                "role",
                "team",
                "manager",
            )
        return super().get_fields(request, obj)

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> Any:
        return () if obj is None else self.readonly_fields

    def save_model(self, request: HttpRequest, obj: Membership, form: Any, change: bool) -> None:
        if not change:
            data = form.cleaned_data
            with transaction.atomic():
                user = services.create_user(
                    username=data["username"],
                    password=data["password"] or None,
                    email=data["email"],
                    first_name=data["first_name"],
                    last_name=data["last_name"],
                )
                created = services.add_member(
                    workspace=current_workspace(),
                    user=user,
                    role=obj.role,
                    team=obj.team,
                    manager=obj.manager,
                    by=request.user,
                )
            obj.pk, obj.public_id, obj.user, obj.workspace = (
                created.pk,
                created.public_id,
                created.user,
                created.workspace,
            )
            return
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

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self.has_view_permission(request)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if request.user.is_superuser:
            return True
        membership = acting_membership(request)
        return membership is not None and (
            membership.scope_for("platform.auditevent", "view") != Scope.NONE
        )

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        workspace = current_workspace()
        events = AuditEvent.objects.select_related("actor")
        if request.user.is_superuser and workspace is None:
            return events
        return events.filter(workspace=workspace) if workspace else events.none()

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

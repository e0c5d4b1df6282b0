"""Settings pages: users and memberships, teams, the manager tree, roles and their scopes,
custom fields, lifecycle stages, API tokens and the audit log.

Each section shows to whoever may view what it holds; its forms only to those who may
change it. Every write goes through the platform's services (validation, audit, optimistic
locking), the same ones the API calls.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.customers import services as customer_services
from guanxi.customers.models import Contact, LifecycleStage
from guanxi.platform import selectors
from guanxi.platform import services as platform
from guanxi.platform.apiframework import keyset_page
from guanxi.platform.errors import GuanxiError, ValidationFailed, VersionConflict
from guanxi.platform.models import (
    ApiToken,
    CustomField,
    Membership,
    Role,
    Team,
    User,
)
from guanxi.platform.permissions import Scope, object_types
from guanxi.platform.visibility import can
from guanxi.web.common import may, membership_of, query_date, visible_or_404
from guanxi.web.setup_forms import (
    CUSTOMIZABLE,
    CustomFieldForm,
    MemberForm,
    NameForm,
    NewCustomFieldForm,
    NewMemberForm,
    NewRoleForm,
    NewStageForm,
    RoleForm,
    StageForm,
    TokenForm,
    action_label,
    grant_field_name,
    scope_label,
)

AUDIT_PAGE = 50

# key, label, url name, object type it shows
SECTIONS = (
    ("users", gettext_lazy("Users"), "web:settings_users", Membership.object_type),
    ("tree", gettext_lazy("Manager tree"), "web:settings_tree", Membership.object_type),
    ("teams", gettext_lazy("Teams"), "web:settings_teams", Team.object_type),
    ("roles", gettext_lazy("Roles and permissions"), "web:settings_roles", Role.object_type),
    ("fields", gettext_lazy("Custom fields"), "web:settings_fields", CustomField.object_type),
    ("stages", gettext_lazy("Lifecycle stages"), "web:settings_stages", LifecycleStage.object_type),
    (
        "duplicates",
        gettext_lazy("Duplicate rules"),
        "web:settings_duplicates",
        "customers.identitysettings",
    ),
    ("tokens", gettext_lazy("API tokens"), "web:settings_tokens", ApiToken.object_type),
    ("audit", gettext_lazy("Audit log"), "web:settings_audit", "platform.auditevent"),
    (
        "web_to_lead",
        gettext_lazy("Web-to-lead form"),
        "web:settings_web_to_lead",
        "sales.webtoleadsettings",
    ),
)


def sections(membership: Membership | None) -> list[dict[str, Any]]:
    """The settings sections this member may open (empty without a membership)."""
    if membership is None:
        return []
    return [
        {"key": key, "label": label, "url": reverse(url)}
        for key, label, url, object_type in SECTIONS
        if membership.scope_for(object_type, "view") != Scope.NONE
    ]


def _page(request: HttpRequest, section: str, template: str, **context: Any) -> HttpResponse:
    membership = membership_of(request)
    allowed = sections(membership)
    if section not in {s["key"] for s in allowed}:
        raise PermissionDenied
    return render(
        request, f"web/settings/{template}", {"sections": allowed, "section": section, **context}
    )


def _require(membership: Membership, action: str, model: type) -> None:
    if not may(membership, action, model):
        raise PermissionDenied


def _saved(request: HttpRequest) -> None:
    messages.success(request, _("Saved."))


def _conflict(request: HttpRequest) -> None:
    messages.error(
        request,
        _("Someone else changed this while you were editing it. Here is what is saved now."),
    )


def _save(request: HttpRequest, form: Any, write: Callable[[], Any]) -> bool:
    """Run a service write for a valid form; its errors go onto the form. True when saved."""
    try:
        write()
    except ValidationFailed as exc:
        form.add_service_errors(exc.errors)
        return False
    except VersionConflict:
        _conflict(request)
        return False
    except GuanxiError as exc:
        form.add_error(None, str(exc))
        return False
    _saved(request)
    return True


@login_required
def settings_home(request: HttpRequest) -> HttpResponse:
    allowed = sections(membership_of(request))
    if not allowed:
        raise PermissionDenied
    return redirect(allowed[0]["url"])


# --- users ------------------------------------------------------------------------------------
def send_set_password_link(request: HttpRequest, user: User, workspace_name: str) -> None:
    """E-mail a new user the link to choose their password (the password-reset link)."""
    context = {
        "user": user,
        "workspace": workspace_name,
        "url": request.build_absolute_uri(
            reverse(
                "web:password_reset_confirm",
                args=[
                    urlsafe_base64_encode(force_bytes(user.pk)),
                    default_token_generator.make_token(user),
                ],
            )
        ),
    }
    subject = render_to_string("web/settings/invite_subject.txt", context).strip()
    body = render_to_string("web/settings/invite_email.txt", context)
    send_mail(subject, body, None, [user.email])


@login_required
def users(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    rows = list(selectors.members(user=membership).order_by("user__username"))
    can_add = may(membership, "add", Membership)
    form = None
    if can_add:
        form = NewMemberForm(request.POST or None, workspace_id=membership.workspace_id)
        if (
            request.method == "POST"
            and form.is_valid()
            and _create_member(request, membership, form)
        ):
            return redirect("web:settings_users")
    elif request.method == "POST":
        raise PermissionDenied
    return _page(request, "users", "users.html", rows=rows, form=form)


def _create_member(request: HttpRequest, membership: Membership, form: NewMemberForm) -> bool:
    data = form.cleaned_data
    workspace_id = membership.workspace_id

    try:
        created = platform.create_member(
            workspace=membership.workspace, username=data["username"],
            password=data["password"] or None, email=data["email"],
            first_name=data["first_name"], last_name=data["last_name"],
            role=Role.objects.for_workspace(workspace_id).get(key=data["role"]),
            team=Team.objects.for_workspace(workspace_id).filter(public_id=data["team"]).first(),
            manager=Membership.objects.for_workspace(workspace_id)
            .filter(public_id=data["manager"]).first(),
            by=request.user,
        )  # fmt: skip
    except ValidationFailed as exc:
        form.add_service_errors(exc.errors)
        return False
    if not data["password"]:
        send_set_password_link(request, created.user, membership.workspace.name)
        messages.success(
            request,
            _("%(name)s was added; a link to choose a password went to %(email)s.")
            % {"name": created.user.username, "email": created.user.email},
        )
    else:
        messages.success(request, _("%(name)s was added.") % {"name": created.user.username})
    return True


@login_required
def user_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    member = visible_or_404(
        Membership, membership, public_id, queryset=selectors.members(user=membership)
    )
    editable = can(membership, "change", member)
    initial = {
        "role": member.role.key,
        "team": member.team.public_id if member.team_id else "",
        "manager": member.manager.public_id if member.manager_id else "",
        "is_active": member.is_active,
        "version": member.version,
    }
    form = MemberForm(
        request.POST or None, initial=initial, workspace_id=membership.workspace_id, member=member
    )
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid() and _change_member(request, membership, member, form):
            return redirect("web:settings_users")
    return _page(
        request, "users", "user_edit.html", member=member, form=form, editable=editable,
        can_remove=can(membership, "delete", member) and member.pk != membership.pk,
    )  # fmt: skip


def _change_member(
    request: HttpRequest, membership: Membership, member: Membership, form: MemberForm
) -> bool:
    data = form.cleaned_data
    workspace_id = membership.workspace_id
    return _save(
        request,
        form,
        lambda: platform.change_membership(
            membership=member,
            by=request.user,
            expected_version=data["version"] or 0,
            role=Role.objects.for_workspace(workspace_id).get(key=data["role"]),
            team=Team.objects.for_workspace(workspace_id).filter(public_id=data["team"]).first(),
            manager=Membership.objects.for_workspace(workspace_id)
            .filter(public_id=data["manager"])
            .first(),
            is_active=data["is_active"],
        ),
    )


@login_required
@require_POST
def user_remove(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    member = visible_or_404(Membership, membership, public_id, action="delete")
    if member.pk == membership.pk:
        raise PermissionDenied
    platform.remove_member(membership=member, by=request.user)
    messages.success(request, _("%(name)s was removed.") % {"name": member.user.username})
    return redirect("web:settings_users")


@login_required
def manager_tree(request: HttpRequest) -> HttpResponse:
    """Everyone in reporting order: each person under their manager, indented."""
    membership = membership_of(request)
    rows = list(selectors.members(user=membership).filter(is_active=True).order_by("path"))
    shown = {m.pk for m in rows}
    for row in rows:
        # depth among the people this user can see (a hidden manager does not indent)
        ids = [int(part) for part in row.path.strip("/").split("/") if part]
        row.depth = sum(1 for pk in ids[:-1] if pk in shown)
    return _page(request, "tree", "tree.html", rows=rows)


# --- teams ------------------------------------------------------------------------------------
@login_required
def teams(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    form = NameForm(request.POST or None)
    if request.method == "POST":
        _require(membership, "add", Team)
        if form.is_valid() and _save(
            request,
            form,
            lambda: platform.create_team(
                workspace=membership.workspace, name=form.cleaned_data["name"], by=request.user
            ),
        ):
            return redirect("web:settings_teams")
    rows = list(selectors.teams(user=membership).order_by("name"))
    sizes = dict(
        Membership.objects.for_workspace(membership.workspace_id)
        .filter(is_active=True, team__isnull=False)
        .values("team_id")
        .annotate(size=Count("id"))
        .values_list("team_id", "size")
    )
    for row in rows:
        row.size = sizes.get(row.pk, 0)
    return _page(request, "teams", "teams.html", rows=rows,
                 form=form if may(membership, "add", Team) else None)  # fmt: skip


@login_required
def team_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    team = visible_or_404(Team, membership, public_id)
    form = NameForm(request.POST or None, initial={"name": team.name, "version": team.version})
    if request.method == "POST":
        team = visible_or_404(Team, membership, public_id, action="change")
        if form.is_valid() and _save(
            request,
            form,
            lambda: platform.update_team(
                team=team,
                by=request.user,
                expected_version=form.cleaned_data["version"] or 0,
                name=form.cleaned_data["name"],
            ),
        ):
            return redirect("web:settings_teams")
    return _page(
        request, "teams", "edit.html", form=form, heading=team.name,
        editable=can(membership, "change", team),
        delete_url=reverse("web:settings_team_delete", args=[team.public_id])
        if can(membership, "delete", team) else None,
        back=reverse("web:settings_teams"),
    )  # fmt: skip


@login_required
@require_POST
def team_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    team = visible_or_404(Team, membership_of(request), public_id, action="delete")
    platform.delete_team(team=team, by=request.user)
    messages.success(request, _("%(name)s was deleted.") % {"name": team.name})
    return redirect("web:settings_teams")


# --- roles ------------------------------------------------------------------------------------
@login_required
def roles(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    form = NewRoleForm(request.POST or None, workspace_id=membership.workspace_id)
    if request.method == "POST":
        _require(membership, "add", Role)
        if form.is_valid():
            data = form.cleaned_data
            source = Role.objects.for_workspace(membership.workspace_id).filter(
                key=data["copy_from"]
            )
            grants = source[0].grants() if source else {}
            created: list[Role] = []
            if _save(
                request,
                form,
                lambda: created.append(
                    platform.create_role(
                        workspace=membership.workspace,
                        key=data["key"],
                        name=data["name"],
                        permissions=grants,
                        by=request.user,
                    )
                ),
            ):
                return redirect("web:settings_role", created[0].public_id)
    rows = list(selectors.roles(user=membership).order_by("-is_system", "name"))
    return _page(request, "roles", "roles.html", rows=rows,
                 form=form if may(membership, "add", Role) else None)  # fmt: skip


@login_required
def role_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    role = visible_or_404(Role, membership, public_id)
    initial = {"name": role.name, "version": role.version}
    for key, grants in role.grants().items():
        for action, scope in grants.items():
            initial[grant_field_name(key, action)] = scope
    form = RoleForm(request.POST or None, initial=initial)
    if request.method == "POST":
        role = visible_or_404(Role, membership, public_id, action="change")
        if form.is_valid() and _save(
            request,
            form,
            lambda: platform.update_role(
                role=role,
                by=request.user,
                expected_version=form.cleaned_data["version"] or 0,
                name=form.cleaned_data["name"],
                permissions=form.permissions(),
            ),
        ):
            return redirect("web:settings_roles")
    order = ["view", "add", "change", "delete", "export", "assign"]
    # actions only some types have (e.g. "reopen" of opportunities) come after the usual ones
    actions = sorted(
        {a for t in object_types().values() for a in t.actions},
        key=lambda a: (order.index(a) if a in order else len(order), a),
    )
    return _page(
        request, "roles", "role_edit.html", role=role, form=form,
        actions=[(a, action_label(a)) for a in actions],
        scopes=[(s, scope_label(s)) for s in Scope],
        editable=can(membership, "change", role),
        members=Membership.objects.for_workspace(membership.workspace_id)
        .filter(role=role, is_active=True).count(),
    )  # fmt: skip


# --- custom fields ----------------------------------------------------------------------------
@login_required
def fields(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    form = NewCustomFieldForm(request.POST or None)
    if request.method == "POST":
        _require(membership, "add", CustomField)
        if form.is_valid():
            data = form.cleaned_data
            if _save(
                request,
                form,
                lambda: platform.create_custom_field(
                    workspace=membership.workspace,
                    by=request.user,
                    **{k: v for k, v in data.items() if k != "version"},
                ),
            ):
                return redirect("web:settings_fields")
    rows = list(
        CustomField.objects.visible_to(membership, "view").order_by("applies_to", "position", "key")
    )
    labels = dict(CUSTOMIZABLE)
    for row in rows:
        row.for_label = labels.get(row.applies_to, row.applies_to)
    return _page(request, "fields", "fields.html", rows=rows,
                 form=form if may(membership, "add", CustomField) else None)  # fmt: skip


@login_required
def field_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    field = visible_or_404(CustomField, membership, public_id)
    initial = {
        "label": field.label, "choices": "\n".join(field.choices), "required": field.required,
        "position": field.position, "version": field.version,
    }  # fmt: skip
    form = CustomFieldForm(request.POST or None, initial=initial)
    if request.method == "POST":
        field = visible_or_404(CustomField, membership, public_id, action="change")
        data = form.cleaned_data if form.is_valid() else None
        if data is not None and _save(
            request,
            form,
            lambda: platform.update_custom_field(
                field=field,
                by=request.user,
                expected_version=data["version"] or 0,
                label=data["label"],
                choices=data["choices"],
                required=data["required"],
                position=data["position"],
            ),
        ):
            return redirect("web:settings_fields")
    return _page(
        request, "fields", "edit.html", form=form,
        heading=f"{field.label} ({field.key}, {field.get_field_type_display()})",
        editable=can(membership, "change", field),
        delete_url=reverse("web:settings_field_delete", args=[field.public_id])
        if can(membership, "delete", field) else None,
        back=reverse("web:settings_fields"),
    )  # fmt: skip


@login_required
@require_POST
def field_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    field = visible_or_404(CustomField, membership_of(request), public_id, action="delete")
    platform.delete_custom_field(field=field, by=request.user)
    messages.success(request, _("%(name)s was deleted.") % {"name": field.label})
    return redirect("web:settings_fields")


# --- lifecycle stages -------------------------------------------------------------------------
@login_required
def stages(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    form = NewStageForm(request.POST or None)
    if request.method == "POST":
        _require(membership, "add", LifecycleStage)
        if form.is_valid():
            data = form.cleaned_data
            if _save(
                request,
                form,
                lambda: customer_services.create_stage(
                    workspace=membership.workspace,
                    by=request.user,
                    key=data["key"],
                    name=data["name"],
                    position=data["position"],
                    is_default=data["is_default"],
                ),
            ):
                return redirect("web:settings_stages")
    rows = list(LifecycleStage.objects.visible_to(membership, "view").order_by("position", "id"))
    return _page(request, "stages", "stages.html", rows=rows,
                 form=form if may(membership, "add", LifecycleStage) else None)  # fmt: skip


@login_required
def stage_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    stage = visible_or_404(LifecycleStage, membership, public_id)
    initial = {"name": stage.name, "position": stage.position, "is_default": stage.is_default,
               "version": stage.version}  # fmt: skip
    form = StageForm(request.POST or None, initial=initial)
    if request.method == "POST":
        stage = visible_or_404(LifecycleStage, membership, public_id, action="change")
        data = form.cleaned_data if form.is_valid() else None
        if data is not None and _save(
            request,
            form,
            lambda: customer_services.update_stage(
                stage=stage,
                by=request.user,
                expected_version=data["version"] or 0,
                name=data["name"],
                position=data["position"],
                is_default=data["is_default"],
            ),
        ):
            return redirect("web:settings_stages")
    others = LifecycleStage.objects.for_workspace(membership.workspace_id).exclude(pk=stage.pk)
    return _page(
        request, "stages", "edit.html", form=form, heading=f"{stage.name} ({stage.key})",
        editable=can(membership, "change", stage),
        delete_url=reverse("web:settings_stage_delete", args=[stage.public_id])
        if can(membership, "delete", stage) and not stage.is_default else None,
        replacements=others.order_by("position", "id"),
        back=reverse("web:settings_stages"),
    )  # fmt: skip


@login_required
@require_POST
def stage_delete(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    stage = visible_or_404(LifecycleStage, membership, public_id, action="delete")
    replacement = (
        LifecycleStage.objects.for_workspace(membership.workspace_id)
        .filter(public_id=request.POST.get("replacement", ""))
        .first()
    )
    try:
        moved = customer_services.delete_stage(
            stage=stage, by=request.user, replacement=replacement
        )
    except ValidationFailed as exc:
        messages.error(request, "; ".join(message for _path, message in exc.errors))
        return redirect("web:settings_stage", public_id)
    messages.success(
        request,
        _("%(name)s was deleted; %(count)s customers moved.")
        % {"name": stage.name, "count": moved},
    )
    return redirect("web:settings_stages")


# --- API tokens -------------------------------------------------------------------------------
@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    """The tokens this member may see (their own; all for administrators). A new token's
    secret is shown once, on the page that created it."""
    membership = membership_of(request)
    form = TokenForm(request.POST or None)
    secret = None
    if request.method == "POST":
        _require(membership, "add", ApiToken)
        if form.is_valid():
            expires = form.cleaned_data["expires_on"]
            try:
                _token, secret = platform.create_api_token(
                    membership=membership, name=form.cleaned_data["name"], by=request.user,
                    expires_at=datetime.combine(expires + timedelta(days=1), time.min,
                                                tzinfo=timezone.get_current_timezone())
                    if expires else None,
                )  # fmt: skip
            except ValidationFailed as exc:
                form.add_service_errors([("expires_on", m) for _p, m in exc.errors])
            else:
                form = TokenForm()
    rows = list(selectors.api_tokens(user=membership).order_by("-created_at", "-id"))
    for row in rows:
        row.revocable = can(membership, "delete", row)
    return _page(request, "tokens", "tokens.html", rows=rows, secret=secret, now=timezone.now(),
                 form=form if may(membership, "add", ApiToken) else None)  # fmt: skip


@login_required
@require_POST
def token_revoke(request: HttpRequest, public_id: str) -> HttpResponse:
    token = visible_or_404(ApiToken, membership_of(request), public_id, action="delete")
    platform.revoke_api_token(token=token, by=request.user)
    messages.success(request, _("%(name)s was revoked.") % {"name": token.name})
    return redirect("web:settings_tokens")


# --- audit log --------------------------------------------------------------------------------
@login_required
def audit(request: HttpRequest) -> HttpResponse:
    """Who did what, newest first; filter by action, person and day range."""
    membership = membership_of(request)
    events = selectors.audit_events(user=membership)
    action = request.GET.get("action", "").strip()
    actor = request.GET.get("actor", "").strip()
    since, until = query_date(request.GET.get("since")), query_date(request.GET.get("until"))
    zone = timezone.get_current_timezone()
    if action:
        events = events.filter(action__startswith=action)
    if actor:
        events = events.filter(actor_label__iexact=actor)
    if since:
        events = events.filter(created_at__gte=datetime.combine(since, time.min, tzinfo=zone))
    if until:
        end = datetime.combine(until + timedelta(days=1), time.min, tzinfo=zone)
        events = events.filter(created_at__lt=end)
    try:
        rows, next_cursor = keyset_page(
            events, ordering=("-created_at", "-id"), cursor=request.GET.get("cursor"),
            limit=AUDIT_PAGE,
        )  # fmt: skip
    except GuanxiError:
        return redirect(request.path)
    for row in rows:
        row.details = json.dumps(row.data, ensure_ascii=False, sort_keys=True) if row.data else ""
    query = request.GET.copy()
    query.pop("cursor", None)
    return _page(
        request, "audit", "audit.html", rows=rows, next_cursor=next_cursor,
        filters={"action": action, "actor": actor, "since": since, "until": until},
        query=query.urlencode(),
    )  # fmt: skip


# --- duplicate rules --------------------------------------------------------------------------
@login_required
def duplicate_rules(request: HttpRequest) -> HttpResponse:
    from guanxi.customers import dedupe, duplicates
    from guanxi.customers.models import IdentitySettings
    from guanxi.web.setup_forms import DuplicateRulesForm

    membership = membership_of(request)
    rules = dedupe.identity_settings(membership.workspace_id)
    initial = {"review_threshold": rules.review_threshold,
               "auto_merge_threshold": rules.auto_merge_threshold,
               "trusted_sources": "\n".join(rules.trusted_sources),
               "version": rules.version}  # fmt: skip
    form = DuplicateRulesForm(request.POST or None, initial=initial)
    editable = may(membership, "change", IdentitySettings)
    if request.method == "POST":
        _require(membership, "change", IdentitySettings)
        data = form.cleaned_data if form.is_valid() else None
        if data is not None and _save(
            request, form,
            lambda: duplicates.update_rules(
                membership=membership, expected_version=data["version"],
                review_threshold=data["review_threshold"],
                auto_merge_threshold=data["auto_merge_threshold"],
                trusted_sources=data["trusted_sources"],
            ),
        ):  # fmt: skip
            return redirect("web:settings_duplicates")
    # the sources records came from, to rank them
    sources = list(
        Contact.objects.for_workspace(membership.workspace_id).exclude(source="")
        .order_by().values_list("source", flat=True).distinct()[:50]
    )  # fmt: skip
    return _page(request, "duplicates", "duplicates.html", form=form, editable=editable,
                 rules=rules, sources=sorted(sources))  # fmt: skip


# lead routing (guanxi.web.lead_rules): scoring, assignment, SLA, business hours
SECTIONS += (
    ("lead_routing", gettext_lazy("Lead routing"), "web:settings_lead_routing", "sales.leadrule"),
    # quotes (guanxi.web.quotes): seen by whoever sees price books, set by administrators
    ("discounts", gettext_lazy("Discount limits"), "web:settings_discounts", "sales.pricebook"),
)

"""Every write of the platform: workspaces, users, teams, roles, memberships, API tokens.

Keyword-only, typed, one transaction each; permission and role changes are audited.
"""

from __future__ import annotations

import hashlib
import secrets
import zoneinfo
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Concat, Length, Substr
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.platform.audit import record_audit
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import (
    SLUG_VALIDATOR,
    ApiToken,
    CustomField,
    Membership,
    Role,
    SavedView,
    Tag,
    Team,
    User,
    Workspace,
)
from guanxi.platform.permissions import DEFAULT_ROLES, validate_grants
from guanxi.platform.prepared import PreparedLookup
from guanxi.platform.versioning import save_versioned

WorkspaceInitializer = Callable[..., None]
_workspace_initializers: list[WorkspaceInitializer] = []


def register_workspace_initializer(initializer: WorkspaceInitializer) -> WorkspaceInitializer:
    """Apps add what every new workspace starts with (e.g. default lifecycle stages).

    The initializer is called as ``initializer(workspace=ws, by=user_or_None)`` inside the
    workspace's creating transaction.
    """
    _workspace_initializers.append(initializer)
    return initializer


DemoLoader = Callable[..., str]
_demo_loaders: list[DemoLoader] = []


def register_demo_loader(loader: DemoLoader) -> DemoLoader:
    """Apps add their part of the demo data set.

    Called once, when ``guanxi demo`` creates the demo workspace, in app order, as
    ``loader(workspace=ws, members={username: membership})``; returns a line describing
    what it made.
    """
    _demo_loaders.append(loader)
    return loader


def demo_loaders() -> list[DemoLoader]:
    return list(_demo_loaders)


TOKEN_PREFIX = "gx_"
LANGUAGE_CODES = ("en", "zh-hans", "zh-hant")
_UNSET: Any = object()


def check_slug(field: str, value: str) -> list[tuple[str, str]]:
    try:
        SLUG_VALIDATOR(value)
    except DjangoValidationError as exc:
        return [(field, " ".join(str(m) for m in exc.messages))]
    return []


def _workspace_field_errors(
    *, region: str, currency: str, time_zone: str, language: str
) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if len(region) != 2 or not region.isalpha() or not region.isupper():
        errors.append(("region", _("must be a two-letter ISO 3166 code such as CN or US")))
    if len(currency) != 3 or not currency.isalpha() or not currency.isupper():
        errors.append(("currency", _("must be a three-letter ISO 4217 code such as CNY")))
    if time_zone not in zoneinfo.available_timezones():
        errors.append(("time_zone", f"unknown time zone {time_zone!r}"))
    if language not in LANGUAGE_CODES:
        errors.append(("language", f"must be one of {', '.join(LANGUAGE_CODES)}"))
    return errors


# --- workspaces -------------------------------------------------------------------------------
@transaction.atomic
def create_workspace(
    *,
    slug: str,
    name: str,
    by: User | None = None,
    region: str = "CN",
    currency: str = "CNY",
    time_zone: str = "Asia/Shanghai",
    language: str = "zh-hans",
    parent: Workspace | None = None,
) -> Workspace:
    """A new tenant with the default roles."""
    errors = check_slug("slug", slug)
    if not name.strip():
        errors.append(("name", _("must not be empty")))
    errors += _workspace_field_errors(
        region=region, currency=currency, time_zone=time_zone, language=language
    )
    if not errors and Workspace.objects.filter(slug=slug).exists():
        errors.append(("slug", f"a workspace with slug {slug!r} already exists"))
    if errors:
        raise ValidationFailed(errors)
    workspace = Workspace.objects.create(
        slug=slug,
        name=name.strip(),
        region=region,
        currency=currency,
        time_zone=time_zone,
        language=language,
        parent=parent,
    )
    for key, label in DEFAULT_ROLES.items():
        Role(workspace=workspace, key=key, name=str(label), is_system=True, created_by=by).save()
    for initializer in _workspace_initializers:
        initializer(workspace=workspace, by=by)
    record_audit(action="workspace.created", actor=by, workspace=workspace, obj=workspace)
    return workspace


@transaction.atomic
def update_workspace(
    *, workspace: Workspace, by: User, expected_version: int, **changes: Any
) -> Workspace:
    allowed = {"name", "region", "currency", "time_zone", "language"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed([(field, _("cannot be changed")) for field in sorted(unknown)])
    for field, value in changes.items():
        setattr(workspace, field, value.strip() if isinstance(value, str) else value)
    errors = _workspace_field_errors(
        region=workspace.region,
        currency=workspace.currency,
        time_zone=workspace.time_zone,
        language=workspace.language,
    )
    if not workspace.name:
        errors.append(("name", _("must not be empty")))
    if errors:
        raise ValidationFailed(errors)
    save_versioned(workspace, expected_version=expected_version, fields=changes.keys())
    record_audit(
        action="workspace.changed", actor=by, workspace=workspace, obj=workspace, data=changes
    )
    return workspace


# --- users and teams --------------------------------------------------------------------------
@transaction.atomic
def create_user(
    *,
    username: str,
    password: str | None = None,
    email: str = "",
    first_name: str = "",
    last_name: str = "",
    language: str = "",
    time_zone: str = "",
) -> User:
    """A login. ``password=None`` creates a user who cannot sign in until one is set."""
    errors: list[tuple[str, str]] = []
    username = username.strip()
    if not username:
        errors.append(("username", _("must not be empty")))
    elif User.objects.filter(username__iexact=username).exists():
        errors.append(("username", _("the username %(name)r is taken") % {"name": username}))
    user = User(
        username=username,
        email=email.strip(),
        first_name=first_name,
        last_name=last_name,
        language=language,
        time_zone=time_zone,
    )
    if password is not None:
        try:
            validate_password(password, user)
        except DjangoValidationError as exc:
            errors += [("password", str(message)) for message in exc.messages]
    if errors:
        raise ValidationFailed(errors)
    if password is None:
        user.set_unusable_password()
    else:
        user.set_password(password)
    user.save()
    return user


@transaction.atomic
def create_team(*, workspace: Workspace, name: str, by: User | None = None) -> Team:
    name = name.strip()
    if not name:
        raise ValidationFailed([("name", _("must not be empty"))])
    if Team.objects.for_workspace(workspace).filter(name=name).exists():
        raise ValidationFailed(
            [("name", _("a team named %(name)r already exists") % {"name": name})]
        )
    team = Team(workspace=workspace, name=name, created_by=by, updated_by=by)
    team.save()
    return team


@transaction.atomic
def update_team(*, team: Team, by: User, expected_version: int, name: str) -> Team:
    name = name.strip()
    if not name:
        raise ValidationFailed([("name", _("must not be empty"))])
    clash = Team.objects.for_workspace(team.workspace_id).filter(name=name).exclude(pk=team.pk)
    if clash.exists():
        raise ValidationFailed(
            [("name", _("a team named %(name)r already exists") % {"name": name})]
        )
    team.name = name
    return save_versioned(team, expected_version=expected_version, by=by, fields=["name"])


@transaction.atomic
def delete_team(*, team: Team, by: User) -> None:
    """Soft-delete a team; its members stay, without a team."""
    Membership.objects.for_workspace(team.workspace_id).filter(team=team).update(team=None)
    team.deleted_at, team.deleted_by = timezone.now(), by
    team.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="team.deleted", actor=by, workspace=team.workspace, obj=team)


# --- roles ------------------------------------------------------------------------------------
def _check_permissions(permissions: Any) -> dict:
    errors = validate_grants(permissions)
    if errors:
        raise ValidationFailed(errors)
    return permissions


@transaction.atomic
def create_role(
    *, workspace: Workspace, key: str, name: str, permissions: dict, by: User | None = None
) -> Role:
    errors = check_slug("key", key)
    if not name.strip():
        errors.append(("name", _("must not be empty")))
    if not errors and Role.objects.for_workspace(workspace).filter(key=key).exists():
        errors.append(("key", _("a role with key %(key)r already exists") % {"key": key}))
    errors += validate_grants(permissions)
    if errors:
        raise ValidationFailed(errors)
    role = Role(
        workspace=workspace,
        key=key,
        name=name.strip(),
        permissions=permissions,
        created_by=by,
        updated_by=by,
    )
    role.save()
    record_audit(
        action="role.created", actor=by, workspace=workspace, obj=role, data={"grants": permissions}
    )
    return role


@transaction.atomic
def update_role(
    *,
    role: Role,
    by: User,
    expected_version: int,
    name: str | None = None,
    permissions: dict | None = None,
) -> Role:
    """Rename a role or change its grants (merged over what it has, per object type)."""
    fields = []
    before = role.grants()
    if name is not None:
        if not name.strip():
            raise ValidationFailed([("name", _("must not be empty"))])
        role.name = name.strip()
        fields.append("name")
    if permissions is not None:
        _check_permissions(permissions)
        merged = {key: dict(grants) for key, grants in role.permissions.items()}
        for key, grants in permissions.items():
            merged.setdefault(key, {}).update(grants)
        role.permissions = merged
        fields.append("permissions")
    save_versioned(role, expected_version=expected_version, by=by, fields=fields)
    after = role.grants()
    changed = {
        key: {"from": before[key], "to": after[key]}
        for key in after
        if before.get(key) != after[key]
    }
    if changed:
        record_audit(
            action="role.permissions_changed",
            actor=by,
            workspace=role.workspace,
            obj=role,
            data={"changes": changed},
        )
    return role


# --- memberships ------------------------------------------------------------------------------
def _path_for(membership: Membership, manager: Membership | None) -> str:
    base = manager.path if manager is not None else "/"
    return f"{base}{membership.pk}/"


@transaction.atomic
def add_member(
    *,
    workspace: Workspace,
    user: User,
    role: Role,
    team: Team | None = None,
    manager: Membership | None = None,
    by: User | None = None,
) -> Membership:
    errors = []
    if role.workspace_id != workspace.pk:
        errors.append(("role", _("belongs to another workspace")))
    if team is not None and team.workspace_id != workspace.pk:
        errors.append(("team", _("belongs to another workspace")))
    if manager is not None and manager.workspace_id != workspace.pk:
        errors.append(("manager", _("belongs to another workspace")))
    if Membership.objects.for_workspace(workspace).filter(user=user).exists():
        errors.append(
            (
                "username",
                _("%(name)s is already a member of %(workspace)s")
                % {"name": user.username, "workspace": workspace.slug},
            )
        )
    if errors:
        raise ValidationFailed(errors)
    membership = Membership(
        workspace=workspace,
        user=user,
        role=role,
        team=team,
        manager=manager,
        created_by=by,
        updated_by=by,
    )
    membership.save()
    membership.path = _path_for(membership, manager)
    membership.save(update_fields=["path"])
    record_audit(
        action="membership.created",
        actor=by,
        workspace=workspace,
        obj=membership,
        data={"user": user.username, "role": role.key, "team": team.name if team else None},
    )
    return membership


@transaction.atomic
def create_member(
    *, workspace: Workspace, username: str, role: Role, password: str | None = None,
    email: str = "", first_name: str = "", last_name: str = "", team: Team | None = None,
    manager: Membership | None = None, by: User | None = None,
) -> Membership:  # fmt: skip
    """A new user and their membership, together or not at all."""
    user = create_user(
        username=username, password=password, email=email, first_name=first_name,
        last_name=last_name,
    )  # fmt: skip
    return add_member(workspace=workspace, user=user, role=role, team=team, manager=manager, by=by)


def _move_subtree(membership: Membership, manager: Membership | None) -> None:
    """Re-root ``membership`` and everyone under it below ``manager`` in one UPDATE."""
    old_path = membership.path
    new_path = _path_for(membership, manager)
    if old_path == new_path:
        return
    Membership._base_manager.filter(
        workspace_id=membership.workspace_id, path__startswith=old_path
    ).update(path=Concat(Value(new_path), Substr("path", len(old_path) + 1, Length("path"))))
    membership.path = new_path


@transaction.atomic
def change_membership(
    *,
    membership: Membership,
    by: User,
    expected_version: int,
    role: Role | None = _UNSET,
    team: Team | None = _UNSET,
    manager: Membership | None = _UNSET,
    is_active: bool = _UNSET,
) -> Membership:
    """Change a member's role, team, manager or active flag; every change is audited."""
    errors = []
    changes: dict[str, dict[str, Any]] = {}
    workspace_id = membership.workspace_id
    if role is not _UNSET and role != membership.role:
        if role is None or role.workspace_id != workspace_id:
            errors.append(("role", _("must be a role of this workspace")))
        else:
            changes["role"] = {"from": membership.role.key, "to": role.key}
            membership.role = role
    if team is not _UNSET and team != membership.team:
        if team is not None and team.workspace_id != workspace_id:
            errors.append(("team", _("must be a team of this workspace")))
        else:
            changes["team"] = {
                "from": membership.team.name if membership.team else None,
                "to": team.name if team else None,
            }
            membership.team = team
    if manager is not _UNSET and manager != membership.manager:
        if manager is not None and manager.workspace_id != workspace_id:
            errors.append(("manager", _("must be a member of this workspace")))
        elif manager is not None and manager.path.startswith(membership.path):
            errors.append(("manager", _("would create a loop: that person reports to this one")))
        else:
            changes["manager"] = {
                "from": membership.manager.user.username if membership.manager else None,
                "to": manager.user.username if manager else None,
            }
            membership.manager = manager
    if is_active is not _UNSET and is_active != membership.is_active:
        changes["is_active"] = {"from": membership.is_active, "to": is_active}
        membership.is_active = is_active
    if errors:
        raise ValidationFailed(errors)
    if "manager" in changes:
        _move_subtree(membership, membership.manager)
    fields = [*(f for f in changes if f != "is_active"), "path"]
    if "is_active" in changes:
        fields.append("is_active")
    save_versioned(membership, expected_version=expected_version, by=by, fields=fields)
    for field, change in changes.items():
        record_audit(
            action=f"membership.{field}_changed",
            actor=by,
            workspace=membership.workspace,
            obj=membership,
            data=change,
        )
    return membership


@transaction.atomic
def remove_member(*, membership: Membership, by: User) -> None:
    """Soft-delete a membership and revoke its tokens. Records the user owned stay."""
    now = timezone.now()
    ApiToken.objects.for_workspace(membership.workspace_id).filter(membership=membership).update(
        deleted_at=now, deleted_by=by
    )
    membership.deleted_at, membership.deleted_by, membership.is_active = now, by, False
    membership.save(update_fields=["deleted_at", "deleted_by", "is_active"])
    record_audit(
        action="membership.deleted", actor=by, workspace=membership.workspace, obj=membership
    )


# --- API tokens -------------------------------------------------------------------------------
def hash_token(raw: str) -> str:
    # Tokens carry 256 random bits, so a fast hash is safe here (unlike passwords).
    return hashlib.sha256(raw.encode()).hexdigest()


@transaction.atomic
def create_api_token(
    *, membership: Membership, name: str, by: User | None = None, expires_at: datetime | None = None
) -> tuple[ApiToken, str]:
    """A new token; the secret is returned once and only its hash is kept."""
    name = name.strip() or "API token"
    if expires_at is not None and expires_at <= timezone.now():
        raise ValidationFailed([("expires_at", _("must be in the future"))])
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        workspace_id=membership.workspace_id,
        membership=membership,
        user_id=membership.user_id,
        name=name[:200],
        prefix=raw[:10],
        token_hash=hash_token(raw),
        expires_at=expires_at,
        created_by=by,
        updated_by=by,
    )
    token.save()
    record_audit(
        action="token.created",
        actor=by,
        workspace=membership.workspace,
        obj=token,
        data={"for": membership.user.username},
    )
    return token, raw


CALENDAR_PREFIX = "cal_"


@transaction.atomic
def create_calendar_link(*, membership: Membership, by: User | None) -> str:
    """A new secret for the member's calendar feed (the previous one stops working); only
    its hash is kept. The feed shows that member's activities and nothing else."""
    raw = CALENDAR_PREFIX + secrets.token_urlsafe(32)
    membership.calendar_token_hash = hash_token(raw)
    membership.save(update_fields=["calendar_token_hash"])
    record_audit(
        action="calendar.link_created",
        actor=by,
        workspace=membership.workspace,
        obj=membership,
        data={"for": membership.user.username},
    )
    return raw


def membership_for_calendar(raw: str) -> Membership | None:
    if not raw.startswith(CALENDAR_PREFIX):
        return None
    return (
        Membership.objects.dangerously_all_workspaces()
        .select_related("user", "workspace")
        .filter(
            calendar_token_hash=hash_token(raw),
            is_active=True,
            deleted_at__isnull=True,
            user__is_active=True,
            workspace__is_active=True,
        )
        .first()
    )


@transaction.atomic
def revoke_api_token(*, token: ApiToken, by: User) -> None:
    token.deleted_at, token.deleted_by = timezone.now(), by
    token.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="token.revoked", actor=by, workspace=token.workspace, obj=token)


TOKEN_USE_AUDIT_INTERVAL = timedelta(hours=1)
TOKEN_USE_TOUCH_INTERVAL = timedelta(minutes=1)


# Columns a bearer request never reads: fewer to fetch and, above all, to compile.
TOKEN_AUTH_DEFERRED = (
    "created_by", "updated_by", "deleted_by", "created_at", "updated_at",
    "membership__created_by", "membership__updated_by", "membership__deleted_by",
    "membership__created_at", "membership__updated_at",
    "membership__user__password", "membership__user__last_login",
    "membership__user__date_joined",
    "membership__role__created_by", "membership__role__updated_by", "membership__role__deleted_by",
    "membership__role__created_at", "membership__role__updated_at",
    "membership__team__created_by", "membership__team__updated_by", "membership__team__deleted_by",
    "membership__team__created_at", "membership__team__updated_at",
)  # fmt: skip


TOKEN_LOOKUP = PreparedLookup(
    lambda token_hash: (
        ApiToken.objects.dangerously_all_workspaces()
        .select_related(
            "membership__role", "membership__workspace", "membership__user", "membership__team"
        )
        .defer(*TOKEN_AUTH_DEFERRED)
        .filter(token_hash=token_hash)
    )
)


def authenticate_token(raw: str, *, ip: str | None) -> ApiToken | None:
    """The live token for this secret, with membership, user, workspace and role loaded.

    Use is recorded on the token at most once a minute, and in the audit log on first use,
    from a new IP address, or after an hour of silence — not on every request.
    """
    if not raw.startswith(TOKEN_PREFIX):
        return None
    token = TOKEN_LOOKUP.get(hash_token(raw))
    if token is None:
        return None
    membership = token.membership
    now = timezone.now()
    if (
        (token.expires_at is not None and token.expires_at <= now)
        or membership.deleted_at is not None
        or not membership.is_active
        or not membership.user.is_active
        or not membership.workspace.is_active
    ):
        return None
    last = token.last_used_at
    if last is None or now - last >= TOKEN_USE_TOUCH_INTERVAL or token.last_used_ip != ip:
        ApiToken._base_manager.filter(pk=token.pk).update(last_used_at=now, last_used_ip=ip)
        if last is None or now - last >= TOKEN_USE_AUDIT_INTERVAL or token.last_used_ip != ip:
            record_audit(
                action="token.used",
                actor=membership.user,
                workspace=membership.workspace,
                obj=token,
            )
        token.last_used_at, token.last_used_ip = now, ip
    return token


def guard_unique(callable_: Any, *, field: str, message: str) -> Any:
    """Run a write that a unique constraint may refuse under a race, as a field error."""
    try:
        with transaction.atomic():
            return callable_()
    except IntegrityError as exc:
        raise ValidationFailed([(field, message)]) from exc


# --- tags and custom fields -------------------------------------------------------------------
def get_or_create_tags(*, workspace: Workspace, names: list[str], by: User | None) -> list[Tag]:
    """Tags by name, creating the missing ones (names are trimmed; empty names refused)."""
    cleaned = list(dict.fromkeys(name.strip() for name in names))
    if any(not name or len(name) > 100 for name in cleaned):
        raise ValidationFailed([("tags", _("tag names must have 1 to 100 characters"))])
    existing = {t.name: t for t in Tag.objects.for_workspace(workspace).filter(name__in=cleaned)}
    for name in cleaned:
        if name not in existing:
            tag = Tag(workspace=workspace, name=name, created_by=by, updated_by=by)
            tag.save()
            existing[name] = tag
    return [existing[name] for name in cleaned]


def _custom_field_errors(*, field_type: str, choices: Any, label: str) -> list[tuple[str, str]]:
    errors = []
    if field_type not in CustomField.FieldType.values:
        errors.append(("field_type", f"must be one of {', '.join(CustomField.FieldType.values)}"))
    needs_choices = field_type in (CustomField.FieldType.CHOICE, CustomField.FieldType.MULTI_CHOICE)
    if needs_choices and (
        not isinstance(choices, list)
        or not choices
        or any(not isinstance(c, str) or not c.strip() for c in choices)
        or len(set(choices)) != len(choices)
    ):
        errors.append(("choices", _("must be a non-empty list of distinct, non-empty strings")))
    if not label.strip():
        errors.append(("label", _("must not be empty")))
    return errors


@transaction.atomic
def create_custom_field(
    *,
    workspace: Workspace,
    applies_to: str,
    key: str,
    label: str,
    field_type: str,
    choices: list[str] | None = None,
    required: bool = False,
    position: int = 0,
    by: User | None = None,
) -> CustomField:
    from guanxi.platform.permissions import object_types

    errors = check_slug("key", key)
    errors += _custom_field_errors(field_type=field_type, choices=choices or [], label=label)
    if applies_to not in object_types():
        errors.append(("applies_to", f"unknown object type {applies_to!r}"))
    elif CustomField.objects.for_workspace(workspace).filter(applies_to=applies_to, key=key):
        errors.append(
            ("key", _("%(type)s already has a field %(key)r") % {"type": applies_to, "key": key})
        )
    if errors:
        raise ValidationFailed(errors)
    field = CustomField(
        workspace=workspace,
        applies_to=applies_to,
        key=key,
        label=label.strip(),
        field_type=field_type,
        choices=choices or [],
        required=required,
        position=position,
        created_by=by,
        updated_by=by,
    )
    field.save()
    record_audit(action="customfield.created", actor=by, workspace=workspace, obj=field)
    return field


@transaction.atomic
def update_custom_field(
    *,
    field: CustomField,
    by: User,
    expected_version: int,
    label: str | None = None,
    choices: list[str] | None = None,
    required: bool | None = None,
    position: int | None = None,
) -> CustomField:
    """Relabel, reorder, change choices or the required flag; key and type stay fixed
    (stored values were validated against them)."""
    changes = {
        name: value
        for name, value in (
            ("label", label),
            ("choices", choices),
            ("required", required),
            ("position", position),
        )
        if value is not None
    }
    for name, value in changes.items():
        setattr(field, name, value.strip() if isinstance(value, str) else value)
    errors = _custom_field_errors(
        field_type=field.field_type, choices=field.choices, label=field.label
    )
    if errors:
        raise ValidationFailed(errors)
    return save_versioned(field, expected_version=expected_version, by=by, fields=changes)


@transaction.atomic
def delete_custom_field(*, field: CustomField, by: User) -> None:
    """Soft-delete the definition; stored values stay in the records' JSON, unused."""
    field.deleted_at, field.deleted_by = timezone.now(), by
    field.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="customfield.deleted", actor=by, workspace=field.workspace, obj=field)


# --- saved views and page preferences ---------------------------------------------------------
@transaction.atomic
def save_view(
    *, membership: Membership, list_key: str, name: str, query: str, is_shared: bool = False
) -> SavedView:
    """Save a list's query string under a name; saving again under the same name replaces
    the query (one's own views only)."""
    name = name.strip()
    if not name:
        raise ValidationFailed([("name", _("must not be empty"))])
    if len(query) > SavedView._meta.get_field("query").max_length:
        raise ValidationFailed([("query", _("too many filters to save"))])
    view, _created = SavedView.objects.for_workspace(membership.workspace_id).update_or_create(
        owner_id=membership.user_id,
        list_key=list_key,
        name=name[:200],
        defaults={"query": query, "is_shared": is_shared, "updated_by_id": membership.user_id},
        create_defaults={
            "workspace_id": membership.workspace_id,
            "query": query,
            "is_shared": is_shared,
            "created_by_id": membership.user_id,
            "updated_by_id": membership.user_id,
        },
    )
    return view


def delete_view(*, view: SavedView, by: User) -> None:
    view.deleted_at, view.deleted_by = timezone.now(), by
    view.save(update_fields=["deleted_at", "deleted_by"])


def set_preference(*, membership: Membership, key: str, name: str, value: Any) -> None:
    """Remember a page setting of this member (e.g. the columns of a list)."""
    preferences = dict(membership.preferences or {})
    preferences.setdefault(key, {})[name] = value
    Membership.objects.for_workspace(membership.workspace_id).filter(pk=membership.pk).update(
        preferences=preferences
    )
    membership.preferences = preferences

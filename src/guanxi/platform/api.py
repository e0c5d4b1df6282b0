"""Platform endpoints: me, workspace, users (memberships), teams, roles, tokens, audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Router, Schema
from ninja.responses import Status

from guanxi.platform import selectors, services
from guanxi.platform.apiframework import CursorPage, Problem, keyset_page, with_etag
from guanxi.platform.errors import NotFound, ValidationFailed
from guanxi.platform.models import ApiToken, Membership, Role, Team
from guanxi.platform.names import display_name
from guanxi.platform.prepared import PreparedLookup
from guanxi.platform.versioning import expected_version
from guanxi.platform.visibility import (
    get_visible_or_404,
    require_action,
    require_add,
    visibility_key,
)

router = Router(tags=["platform"])

ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
WRITE_ERRORS = {**ERRORS, 428: Problem}


# --- me ---------------------------------------------------------------------------------------
class WorkspaceRef(Schema):
    id: str
    slug: str
    name: str


class MeOut(Schema):
    id: str = Field(description="Public id of the membership (user in this workspace).")
    username: str
    email: str
    display_name: str
    language: str
    time_zone: str
    workspace: WorkspaceRef
    role: str = Field(description="Role key, e.g. sales_rep.")
    role_name: str
    team: str | None
    permissions: dict[str, dict[str, str]] = Field(
        description="object type -> action -> scope (none, own, team, subtree, all)."
    )


def _workspace_ref(workspace: Any) -> dict[str, str]:
    return {"id": workspace.public_id, "slug": workspace.slug, "name": workspace.name}


@router.get("/me", response={200: MeOut, **ERRORS}, summary="The signed-in user")
def me(request: HttpRequest) -> dict[str, Any]:
    membership: Membership = request.auth
    user = membership.user
    return {
        "id": membership.public_id,
        "username": user.username,
        "email": user.email,
        "display_name": display_name(family=user.last_name, given=user.first_name) or user.username,
        "language": user.language or membership.workspace.language,
        "time_zone": user.time_zone or membership.workspace.time_zone,
        "workspace": _workspace_ref(membership.workspace),
        "role": membership.role.key,
        "role_name": membership.role.name,
        "team": None,
        "permissions": membership.grants,
    } | ({"team": membership.team.public_id} if membership.team_id else {})


# --- workspace --------------------------------------------------------------------------------
class WorkspaceOut(Schema):
    id: str
    slug: str
    name: str
    region: str
    currency: str
    time_zone: str
    language: str
    parent: str | None
    version: int


class WorkspaceUpdate(Schema):
    name: str | None = None
    region: str | None = None
    currency: str | None = None
    time_zone: str | None = None
    language: str | None = None
    version: int | None = None


def _workspace_out(workspace: Any) -> dict[str, Any]:
    return {
        "id": workspace.public_id,
        "slug": workspace.slug,
        "name": workspace.name,
        "region": workspace.region,
        "currency": workspace.currency,
        "time_zone": workspace.time_zone,
        "language": workspace.language,
        "parent": workspace.parent.slug if workspace.parent_id else None,
        "version": workspace.version,
    }


def _check_workspace_action(membership: Membership, action: str) -> None:
    from guanxi.platform.errors import Forbidden

    if membership.scope_for("platform.workspace", action) == "none":
        raise Forbidden(action=action, object_type="platform.workspace")


@router.get("/workspace", response={200: WorkspaceOut, **ERRORS}, summary="The current workspace")
def get_workspace(request: HttpRequest, response: HttpResponse) -> dict[str, Any]:
    membership: Membership = request.auth
    _check_workspace_action(membership, "view")
    with_etag(response, membership.workspace)
    return _workspace_out(membership.workspace)


@router.patch("/workspace", response={200: WorkspaceOut, **WRITE_ERRORS})
def update_workspace(
    request: HttpRequest, payload: WorkspaceUpdate, response: HttpResponse
) -> dict[str, Any]:
    membership: Membership = request.auth
    _check_workspace_action(membership, "change")
    changes = payload.dict(exclude_unset=True, exclude={"version"})
    workspace = services.update_workspace(
        workspace=membership.workspace,
        by=request.user,
        expected_version=expected_version(
            if_match=request.headers.get("If-Match"), body_version=payload.version
        ),
        **changes,
    )
    with_etag(response, workspace)
    return _workspace_out(workspace)


# --- users (memberships) ----------------------------------------------------------------------
class MemberOut(Schema):
    id: str
    username: str
    email: str
    first_name: str
    last_name: str
    role: str
    team: str | None
    team_name: str | None
    manager: str | None
    is_active: bool
    created_at: datetime
    version: int


class MemberCreate(Schema):
    username: str = Field(min_length=1, max_length=150)
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    password: str | None = Field(
        None, description="Omit to create a user who cannot sign in until a password is set."
    )
    role: str = Field(description="Role key, e.g. sales_rep.")
    team: str | None = Field(None, description="Team id.")
    manager: str | None = Field(None, description="Membership id of the manager.")


class MemberUpdate(Schema):
    role: str | None = None
    team: str | None = None
    manager: str | None = None
    is_active: bool | None = None
    version: int | None = None


def _member_out(m: Membership) -> dict[str, Any]:
    user = m.user
    return {
        "id": m.public_id,
        "username": user.username,
        "email": user.email,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "role": m.role.key,
        "team": m.team.public_id if m.team_id else None,
        "team_name": m.team.name if m.team_id else None,
        "manager": m.manager.public_id if m.manager_id else None,
        "is_active": m.is_active,
        "created_at": m.created_at,
        "version": m.version,
    }


def _role_by_key(membership: Membership, key: str, field: str = "role") -> Role:
    role = Role.objects.for_workspace(membership.workspace_id).filter(key=key).first()
    if role is None:
        raise ValidationFailed([(field, f"no role with key {key!r} in this workspace")])
    return role


def _team_by_id(membership: Membership, public_id: str | None) -> Team | None:
    if public_id is None:
        return None
    team = Team.objects.for_workspace(membership.workspace_id).filter(public_id=public_id).first()
    if team is None:
        raise ValidationFailed([("team", f"no team {public_id!r} in this workspace")])
    return team


def _manager_by_id(membership: Membership, public_id: str | None) -> Membership | None:
    if public_id is None:
        return None
    manager = (
        Membership.objects.for_workspace(membership.workspace_id)
        .select_related("user")
        .filter(public_id=public_id)
        .first()
    )
    if manager is None:
        raise ValidationFailed([("manager", f"no member {public_id!r} in this workspace")])
    return manager


@router.get("/users", response={200: CursorPage[MemberOut], **ERRORS}, summary="List users")
def list_users(
    request: HttpRequest, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    rows, next_cursor = keyset_page(
        selectors.members(user=request.auth),
        ordering=("created_at", "id"),
        cursor=cursor,
        limit=limit,
    )
    return {"items": [_member_out(m) for m in rows], "next_cursor": next_cursor}


@router.post("/users", response={201: MemberOut, **WRITE_ERRORS}, summary="Add a user")
def create_user(request: HttpRequest, payload: MemberCreate) -> Status:
    membership: Membership = request.auth
    require_add(membership, Membership.object_type)
    role = _role_by_key(membership, payload.role)
    team = _team_by_id(membership, payload.team)
    manager = _manager_by_id(membership, payload.manager)
    new_member = services.create_member(
        workspace=membership.workspace, username=payload.username, password=payload.password,
        email=payload.email, first_name=payload.first_name, last_name=payload.last_name,
        role=role, team=team, manager=manager, by=membership.user,
    )  # fmt: skip
    return Status(201, _member_out(new_member))


# One record by id is the most frequent read: its SQL is compiled once per visibility.
MEMBER_LOOKUP = PreparedLookup(
    lambda membership, public_id: selectors.members(user=membership).filter(public_id=public_id)
)


def _visible_member(request: HttpRequest, public_id: str, action: str = "view") -> Membership:
    membership: Membership = request.auth
    member = MEMBER_LOOKUP.get(
        public_id,
        key=visibility_key(membership, Membership, "view"),
        context=membership,
    )
    if member is None:
        raise NotFound(Membership._meta.verbose_name)
    if action != "view":
        require_action(membership, action, member)
    return member


@router.get("/users/{member_id}", response={200: MemberOut, **ERRORS}, summary="One user")
def get_user(request: HttpRequest, member_id: str, response: HttpResponse) -> dict[str, Any]:
    member = _visible_member(request, member_id)
    with_etag(response, member)
    return _member_out(member)


@router.patch("/users/{member_id}", response={200: MemberOut, **WRITE_ERRORS})
def update_user(
    request: HttpRequest, member_id: str, payload: MemberUpdate, response: HttpResponse
) -> dict[str, Any]:
    membership: Membership = request.auth
    member = _visible_member(request, member_id, action="change")
    given = payload.model_fields_set
    changes: dict[str, Any] = {}
    if "role" in given:
        if payload.role is None:
            raise ValidationFailed([("role", "must not be null")])
        changes["role"] = _role_by_key(membership, payload.role)
    if "team" in given:
        changes["team"] = _team_by_id(membership, payload.team)
    if "manager" in given:
        changes["manager"] = _manager_by_id(membership, payload.manager)
    if "is_active" in given and payload.is_active is not None:
        changes["is_active"] = payload.is_active
    member = services.change_membership(
        membership=member,
        by=request.user,
        expected_version=expected_version(
            if_match=request.headers.get("If-Match"), body_version=payload.version
        ),
        **changes,
    )
    with_etag(response, member)
    return _member_out(member)


@router.delete("/users/{member_id}", response={204: None, **ERRORS}, summary="Remove a user")
def delete_user(request: HttpRequest, member_id: str) -> Status:
    member = _visible_member(request, member_id, action="delete")
    services.remove_member(membership=member, by=request.user)
    return Status(204, None)


# --- teams ------------------------------------------------------------------------------------
class TeamOut(Schema):
    id: str
    name: str
    created_at: datetime
    version: int


class TeamCreate(Schema):
    name: str = Field(min_length=1, max_length=200)


class TeamUpdate(Schema):
    name: str = Field(min_length=1, max_length=200)
    version: int | None = None


def _team_out(team: Team) -> dict[str, Any]:
    return {
        "id": team.public_id,
        "name": team.name,
        "created_at": team.created_at,
        "version": team.version,
    }


@router.get("/teams", response={200: CursorPage[TeamOut], **ERRORS}, summary="List teams")
def list_teams(
    request: HttpRequest, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    rows, next_cursor = keyset_page(
        selectors.teams(user=request.auth), ordering=("name", "id"), cursor=cursor, limit=limit
    )
    return {"items": [_team_out(t) for t in rows], "next_cursor": next_cursor}


@router.post("/teams", response={201: TeamOut, **WRITE_ERRORS}, summary="Create a team")
def create_team(request: HttpRequest, payload: TeamCreate) -> Status:
    membership: Membership = request.auth
    require_add(membership, Team.object_type)
    team = services.create_team(workspace=membership.workspace, name=payload.name, by=request.user)
    return Status(201, _team_out(team))


@router.get("/teams/{team_id}", response={200: TeamOut, **ERRORS}, summary="One team")
def get_team(request: HttpRequest, team_id: str, response: HttpResponse) -> dict[str, Any]:
    team = get_visible_or_404(Team, user=request.auth, public_id=team_id)
    with_etag(response, team)
    return _team_out(team)


@router.patch("/teams/{team_id}", response={200: TeamOut, **WRITE_ERRORS}, summary="Rename")
def update_team(
    request: HttpRequest, team_id: str, payload: TeamUpdate, response: HttpResponse
) -> dict[str, Any]:
    team = get_visible_or_404(Team, user=request.auth, public_id=team_id, action="change")
    team = services.update_team(
        team=team,
        by=request.user,
        name=payload.name,
        expected_version=expected_version(
            if_match=request.headers.get("If-Match"), body_version=payload.version
        ),
    )
    with_etag(response, team)
    return _team_out(team)


@router.delete("/teams/{team_id}", response={204: None, **ERRORS}, summary="Delete a team")
def delete_team(request: HttpRequest, team_id: str) -> Status:
    team = get_visible_or_404(Team, user=request.auth, public_id=team_id, action="delete")
    services.delete_team(team=team, by=request.user)
    return Status(204, None)


# --- roles ------------------------------------------------------------------------------------
class RoleOut(Schema):
    id: str
    key: str
    name: str
    is_system: bool
    permissions: dict[str, dict[str, str]]
    version: int


class RoleCreate(Schema):
    key: str
    name: str
    permissions: dict[str, dict[str, str]] = {}


class RoleUpdate(Schema):
    name: str | None = None
    permissions: dict[str, dict[str, str]] | None = Field(
        None, description="Grants to change: object type -> action -> scope; others stay."
    )
    version: int | None = None


def _role_out(role: Role) -> dict[str, Any]:
    return {
        "id": role.public_id,
        "key": role.key,
        "name": role.name,
        "is_system": role.is_system,
        "permissions": role.grants(),
        "version": role.version,
    }


@router.get("/roles", response={200: CursorPage[RoleOut], **ERRORS}, summary="List roles")
def list_roles(
    request: HttpRequest, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    rows, next_cursor = keyset_page(
        selectors.roles(user=request.auth), ordering=("key", "id"), cursor=cursor, limit=limit
    )
    return {"items": [_role_out(r) for r in rows], "next_cursor": next_cursor}


@router.post("/roles", response={201: RoleOut, **WRITE_ERRORS}, summary="Create a role")
def create_role(request: HttpRequest, payload: RoleCreate) -> Status:
    membership: Membership = request.auth
    require_add(membership, Role.object_type)
    role = services.create_role(
        workspace=membership.workspace,
        key=payload.key,
        name=payload.name,
        permissions=payload.permissions,
        by=request.user,
    )
    return Status(201, _role_out(role))


@router.get("/roles/{role_id}", response={200: RoleOut, **ERRORS}, summary="One role")
def get_role(request: HttpRequest, role_id: str, response: HttpResponse) -> dict[str, Any]:
    role = get_visible_or_404(Role, user=request.auth, public_id=role_id)
    with_etag(response, role)
    return _role_out(role)


@router.patch("/roles/{role_id}", response={200: RoleOut, **WRITE_ERRORS}, summary="Change")
def update_role(
    request: HttpRequest, role_id: str, payload: RoleUpdate, response: HttpResponse
) -> dict[str, Any]:
    role = get_visible_or_404(Role, user=request.auth, public_id=role_id, action="change")
    role = services.update_role(
        role=role,
        by=request.user,
        name=payload.name,
        permissions=payload.permissions,
        expected_version=expected_version(
            if_match=request.headers.get("If-Match"), body_version=payload.version
        ),
    )
    with_etag(response, role)
    return _role_out(role)


# --- API tokens -------------------------------------------------------------------------------
class TokenOut(Schema):
    id: str
    name: str
    prefix: str
    username: str
    expires_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class TokenCreate(Schema):
    name: str = Field(min_length=1, max_length=200)
    expires_at: datetime | None = None


class TokenCreated(TokenOut):
    token: str = Field(description="The secret. Shown once; store it now.")


def _token_out(token: ApiToken) -> dict[str, Any]:
    return {
        "id": token.public_id,
        "name": token.name,
        "prefix": token.prefix,
        "username": token.user.username,
        "expires_at": token.expires_at,
        "last_used_at": token.last_used_at,
        "created_at": token.created_at,
    }


@router.get("/tokens", response={200: CursorPage[TokenOut], **ERRORS}, summary="List tokens")
def list_tokens(
    request: HttpRequest, cursor: str | None = None, limit: int | None = None
) -> dict[str, Any]:
    rows, next_cursor = keyset_page(
        selectors.api_tokens(user=request.auth),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )
    return {"items": [_token_out(t) for t in rows], "next_cursor": next_cursor}


@router.post("/tokens", response={201: TokenCreated, **WRITE_ERRORS}, summary="New own token")
def create_token(request: HttpRequest, payload: TokenCreate) -> Status:
    membership: Membership = request.auth
    require_add(membership, ApiToken.object_type)
    token, raw = services.create_api_token(
        membership=membership, name=payload.name, expires_at=payload.expires_at, by=request.user
    )
    return Status(201, _token_out(token) | {"token": raw})


@router.get("/tokens/{token_id}", response={200: TokenOut, **ERRORS}, summary="One token")
def get_token(request: HttpRequest, token_id: str) -> dict[str, Any]:
    token = get_visible_or_404(
        ApiToken,
        user=request.auth,
        public_id=token_id,
        queryset=selectors.api_tokens(user=request.auth),
    )
    return _token_out(token)


@router.delete("/tokens/{token_id}", response={204: None, **ERRORS}, summary="Revoke a token")
def revoke_token(request: HttpRequest, token_id: str) -> Status:
    token = get_visible_or_404(ApiToken, user=request.auth, public_id=token_id, action="delete")
    services.revoke_api_token(token=token, by=request.user)
    return Status(204, None)


# --- audit log --------------------------------------------------------------------------------
class AuditEventOut(Schema):
    id: str
    action: str
    actor: str | None
    object_type: str
    object_id: str
    object_repr: str
    ip: str | None
    data: dict[str, Any]
    created_at: datetime


@router.get(
    "/audit-events", response={200: CursorPage[AuditEventOut], **ERRORS}, summary="Audit log"
)
def list_audit_events(
    request: HttpRequest,
    action: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict[str, Any]:
    membership: Membership = request.auth
    if membership.scope_for("platform.auditevent", "view") == "none":
        raise NotFound("audit log")
    rows, next_cursor = keyset_page(
        selectors.audit_events(user=membership, action=action),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )
    items = [
        {
            "id": e.public_id,
            "action": e.action,
            "actor": e.actor.username if e.actor_id else (e.actor_label or None),
            "object_type": e.object_type,
            "object_id": e.object_id,
            "object_repr": e.object_repr,
            "ip": e.ip,
            "data": e.data,
            "created_at": e.created_at,
        }
        for e in rows
    ]
    return {"items": items, "next_cursor": next_cursor}

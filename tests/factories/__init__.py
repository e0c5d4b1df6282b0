"""Factories that build records through the services, as the app does."""

from __future__ import annotations

import itertools

from guanxi.platform import services
from guanxi.platform.models import Membership, Role, Team, User, Workspace

_seq = itertools.count(1)


def make_workspace(*, slug: str | None = None, name: str = "ACME 贸易", **kwargs) -> Workspace:
    n = next(_seq)
    return services.create_workspace(slug=slug or f"ws-{n}", name=name, **kwargs)


def make_team(*, workspace: Workspace, name: str | None = None) -> Team:
    return services.create_team(workspace=workspace, name=name or f"Team {next(_seq)}")


def make_user(*, username: str | None = None, password: str | None = None, **kwargs) -> User:
    return services.create_user(
        username=username or f"user{next(_seq)}", password=password, **kwargs
    )


def role(workspace: Workspace, key: str) -> Role:
    return Role.objects.for_workspace(workspace).get(key=key)


def make_member(
    *,
    workspace: Workspace,
    role_key: str = "sales_rep",
    team: Team | None = None,
    manager: Membership | None = None,
    username: str | None = None,
    password: str | None = None,
) -> Membership:
    user = make_user(username=username, password=password)
    return services.add_member(
        workspace=workspace,
        user=user,
        role=role(workspace, role_key),
        team=team,
        manager=manager,
    )

"""factory_boy factories that build records through the services, as the app does, so
tests get default roles, manager-tree paths and audit events exactly like real data."""

from __future__ import annotations

import factory

from guanxi.platform import services
from guanxi.platform.models import Membership, Role, Team, User, Workspace


class WorkspaceFactory(factory.Factory):
    class Meta:
        model = Workspace

    slug = factory.Sequence(lambda n: f"ws-{n}")
    name = "ACME 贸易"

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.create_workspace(**kwargs)


class TeamFactory(factory.Factory):
    class Meta:
        model = Team

    workspace = factory.SubFactory(WorkspaceFactory)
    name = factory.Sequence(lambda n: f"Team {n}")

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.create_team(**kwargs)


class UserFactory(factory.Factory):
    class Meta:
        model = User

    username = factory.Sequence(lambda n: f"user{n}")
    password = None

    @classmethod
    def _create(cls, model_class, **kwargs):
        return services.create_user(**kwargs)


def role(workspace: Workspace, key: str) -> Role:
    return Role.objects.for_workspace(workspace).get(key=key)


class MembershipFactory(factory.Factory):
    """``MembershipFactory(workspace=ws, role_key="sales_manager", team=t, manager=m)``."""

    class Meta:
        model = Membership

    workspace = factory.SubFactory(WorkspaceFactory)
    role_key = "sales_rep"
    team = None
    manager = None
    username = None
    password = None

    @classmethod
    def _create(cls, model_class, *, workspace, role_key, team, manager, username, password):
        user = UserFactory(**({"username": username} if username else {}), password=password)
        return services.add_member(
            workspace=workspace,
            user=user,
            role=role(workspace, role_key),
            team=team,
            manager=manager,
        )


# Short names used throughout the tests.
make_workspace = WorkspaceFactory
make_team = TeamFactory
make_user = UserFactory
make_member = MembershipFactory

"""The authorization matrix: role × action × relation → allowed, 404 or 403.

Every app registers its object types here with a way to make a record owned by a given
member and one HTTP call per action. The expected outcome is computed from the role's
grants with the plain table ``COVERS`` below — independent of the queryset code under test.

Relations of the record's owner to the acting member:
- own: the actor's own record
- teammate: same team, not a report of the actor
- report: another team, but reports to the actor (manager tree)
- other_team: another team, outside the actor's tree
- other_workspace: a member of another workspace (always 404)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from guanxi.platform import services
from guanxi.platform.models import Membership, Workspace
from guanxi.platform.permissions import object_types
from tests.factories import make_member, make_team, make_workspace

RELATIONS = ("own", "teammate", "report", "other_team", "other_workspace")
COVERS = {
    "none": set(),
    "own": {"own"},
    "team": {"own", "teammate"},
    "subtree": {"own", "report"},
    "all": {"own", "teammate", "report", "other_team"},
}
ROLE_KEYS = (
    "administrator",
    "sales_manager",
    "sales_rep",
    "marketer",
    "service_manager",
    "service_agent",
    "contact_center_agent",
    "dealer_user",
    "analyst",
)
# Custom roles granting every action at one scope, so every scope is exercised on every
# object type even where no default role uses it.
SCOPE_ROLE_KEYS = ("scope:own", "scope:team", "scope:subtree", "scope:all")


@dataclass
class World:
    """Two workspaces; in the first, the actor with a teammate, a report and a stranger."""

    workspace: Workspace
    other_workspace: Workspace
    actor: Membership
    owners: dict[str, Membership]


def build_world(role_key: str) -> World:
    workspace = make_workspace(slug="home")
    other_workspace = make_workspace(slug="elsewhere")
    team_a = make_team(workspace=workspace, name="A")
    team_b = make_team(workspace=workspace, name="B")
    if role_key.startswith("scope:"):
        scope = role_key.removeprefix("scope:")
        services.create_role(
            workspace=workspace,
            key=role_key.replace(":", "-"),
            name=f"Everything at {scope}",
            permissions={
                key: dict.fromkeys(object_type.actions, scope)
                for key, object_type in object_types().items()
            },
        )
        role_key = role_key.replace(":", "-")
    actor = make_member(workspace=workspace, role_key=role_key, team=team_a, username="actor")
    owners = {
        "own": actor,
        "teammate": make_member(workspace=workspace, team=team_a, username="mate"),
        "report": make_member(workspace=workspace, team=team_b, manager=actor, username="report"),
        "other_team": make_member(workspace=workspace, team=team_b, username="stranger"),
        "other_workspace": make_member(
            workspace=other_workspace,
            team=make_team(workspace=other_workspace, name="A"),
            username="foreigner",
        ),
    }
    return World(workspace, other_workspace, actor, owners)


Call = Callable[[Any, Any], Any]  # (api client, record) -> response


@dataclass
class MatrixEntry:
    object_type: str
    make_record: Callable[[Membership], Any]
    calls: dict[str, Call]
    add: Callable[[Any], Any] | None = None
    success: dict[str, int] = field(default_factory=dict)

    def expected_status(self, action: str) -> int:
        return self.success.get(action, {"add": 201, "delete": 204}.get(action, 200))


REGISTRY: dict[str, MatrixEntry] = {}


def register(entry: MatrixEntry) -> MatrixEntry:
    REGISTRY[entry.object_type] = entry
    return entry


def expected(*, grants: dict[str, str], action: str, relation: str, has_owner: bool) -> str:
    """'allowed', '404' or '403' for one cell of the matrix."""
    if relation == "other_workspace":
        return "404"

    def covers(scope: str) -> bool:
        return scope != "none" if not has_owner else relation in COVERS[scope]

    if not covers(grants.get("view", "none")):
        return "404"
    if not covers(grants.get(action, "none")):
        return "403"
    return "allowed"

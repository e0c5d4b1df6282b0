"""Object types, actions, scopes and the default roles every workspace starts with.

A role grants, per object type, each action with a scope (REQUIREMENTS §6; ARCHITECTURE
"Visibility"). Apps register their object types here with the scopes the default roles get,
so a new app needs no data migration to give existing workspaces sensible permissions.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from django.utils.translation import gettext_lazy as _


class Action(StrEnum):
    VIEW = "view"
    ADD = "add"
    CHANGE = "change"
    DELETE = "delete"
    EXPORT = "export"
    ASSIGN = "assign"


class Scope(StrEnum):
    """How far a grant reaches, from nothing to the whole workspace; each includes the last."""

    NONE = "none"
    OWN = "own"
    TEAM = "team"
    SUBTREE = "subtree"
    ALL = "all"


ACTIONS: tuple[str, ...] = tuple(a.value for a in Action)
SCOPES: tuple[str, ...] = tuple(s.value for s in Scope)

ADMINISTRATOR = "administrator"
DEFAULT_ROLES: dict[str, object] = {
    ADMINISTRATOR: _("Administrator"),
    "sales_manager": _("Sales manager"),
    "sales_rep": _("Sales rep"),
    "marketer": _("Marketer"),
    "service_manager": _("Service manager"),
    "service_agent": _("Service agent"),
    "contact_center_agent": _("Contact-center agent"),
    "dealer_user": _("Dealer user"),
    "analyst": _("Analyst"),
}

Grants = dict[str, str]  # action -> scope


@dataclass(frozen=True)
class ObjectType:
    """A kind of record that permissions are granted on, e.g. ``platform.team``."""

    key: str
    label: object
    actions: tuple[str, ...] = ACTIONS
    # role key -> grants; a default role not named here gets `fallback`.
    defaults: dict[str, Grants] = field(default_factory=dict)
    fallback: Grants = field(default_factory=dict)

    def default_grants(self, role_key: str) -> Grants:
        if role_key == ADMINISTRATOR and role_key not in self.defaults:
            return dict.fromkeys(self.actions, Scope.ALL.value)
        return dict(self.defaults.get(role_key, self.fallback))


_registry: dict[str, ObjectType] = {}


def register_object_type(object_type: ObjectType) -> ObjectType:
    _registry[object_type.key] = object_type
    return object_type


def object_types() -> dict[str, ObjectType]:
    return dict(_registry)


def get_object_type(key: str) -> ObjectType:
    try:
        return _registry[key]
    except KeyError:
        raise KeyError(f"unknown object type {key!r}; registered: {sorted(_registry)}") from None


def effective_grants(*, role_key: str, is_system: bool, stored: dict) -> dict[str, Grants]:
    """The full permission map of a role: stored grants over the registered defaults.

    Custom roles start from nothing; system roles start from each type's defaults.
    """
    result: dict[str, Grants] = {}
    for key, object_type in _registry.items():
        grants = dict.fromkeys(object_type.actions, Scope.NONE.value)
        if is_system:
            grants.update(object_type.default_grants(role_key))
        grants.update({a: s for a, s in (stored.get(key) or {}).items() if a in grants})
        result[key] = grants
    return result


def validate_grants(permissions: object) -> list[tuple[str, str]]:
    """Errors as (field path, message) for a submitted permission map; empty when valid."""
    errors: list[tuple[str, str]] = []
    if not isinstance(permissions, dict):
        return [("permissions", "must be an object of object type -> {action: scope}")]
    for type_key, grants in permissions.items():
        if type_key not in _registry:
            errors.append((f"permissions.{type_key}", f"unknown object type {type_key!r}"))
            continue
        if not isinstance(grants, dict):
            errors.append((f"permissions.{type_key}", "must be an object of action -> scope"))
            continue
        allowed = _registry[type_key].actions
        for action, scope in grants.items():
            if action not in allowed:
                errors.append(
                    (f"permissions.{type_key}.{action}", f"unknown action; one of {allowed}")
                )
            elif scope not in SCOPES:
                errors.append(
                    (
                        f"permissions.{type_key}.{action}",
                        f"unknown scope {scope!r}; one of {SCOPES}",
                    )
                )
    return errors


# --- platform object types ------------------------------------------------------------------
ALL = Scope.ALL.value
OWN = Scope.OWN.value
TEAM = Scope.TEAM.value

register_object_type(
    ObjectType(
        key="platform.workspace",
        label=_("Workspace"),
        actions=("view", "change"),
        fallback={"view": ALL},
    )
)
register_object_type(
    ObjectType(
        key="platform.membership",
        label=_("User"),
        fallback={"view": ALL},
        # A dealer's staff see their own team, not the manufacturer's whole directory.
        defaults={"dealer_user": {"view": TEAM}},
    )
)
register_object_type(
    ObjectType(
        key="platform.team",
        label=_("Team"),
        actions=("view", "add", "change", "delete"),
        fallback={"view": ALL},
    )
)
register_object_type(
    ObjectType(
        key="platform.role",
        label=_("Role"),
        actions=("view", "add", "change", "delete"),
        fallback={"view": ALL},
    )
)
register_object_type(
    ObjectType(
        key="platform.apitoken",
        label=_("API token"),
        actions=("view", "add", "delete"),
        fallback={"view": OWN, "add": OWN, "delete": OWN},
    )
)
register_object_type(
    ObjectType(
        key="platform.auditevent",
        label=_("Audit event"),
        actions=("view", "export"),
        defaults={"analyst": {}},
    )
)
register_object_type(
    ObjectType(
        key="platform.tag",
        label=_("Tag"),
        actions=("view", "add", "change", "delete"),
        fallback={"view": ALL, "add": ALL},
        defaults={"analyst": {"view": ALL}},
    )
)
register_object_type(
    ObjectType(
        key="platform.customfield",
        label=_("Custom field"),
        actions=("view", "add", "change", "delete"),
        fallback={"view": ALL},
    )
)
register_object_type(
    ObjectType(
        key="platform.savedview",
        label=_("Saved view"),
        actions=("view", "add", "change", "delete"),
        # shared views are seen by everyone through the selector; these grants are about
        # other people's private ones
        fallback={"view": OWN, "add": OWN, "change": OWN, "delete": OWN},
    )
)
register_object_type(
    ObjectType(
        key="platform.notification",
        label=_("Notification"),
        actions=("view", "change"),
        # everyone reads and marks their own; nobody reads another's, administrators included
        fallback={"view": OWN, "change": OWN},
        defaults={"administrator": {"view": OWN, "change": OWN}},
    )
)

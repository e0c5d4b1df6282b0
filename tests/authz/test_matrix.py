"""Every role × action × relation of every registered object type, through the API."""

from __future__ import annotations

import pytest
from django.db import transaction

from guanxi.platform.models import Role
from tests.authz import customer_entries, entries, sales_entries  # noqa: F401  (register the entries)
from tests.authz.harness import (
    REGISTRY,
    RELATIONS,
    ROLE_KEYS,
    SCOPE_ROLE_KEYS,
    build_world,
    expected,
)
from tests.conftest import ApiClient

# One test per object type and role: the world (two workspaces, the actor and the owners
# around them) is built once, and every action × relation is a cell of its own inside a
# savepoint that is rolled back, so a delete in one cell leaves the next untouched. A
# failure lists every cell that answered otherwise.
CELLS = [
    (object_type, role_key) for object_type in REGISTRY for role_key in ROLE_KEYS + SCOPE_ROLE_KEYS
]
ADD_CELLS = [
    (object_type, role_key)
    for object_type, entry in REGISTRY.items()
    if entry.add
    for role_key in ROLE_KEYS
]


def _grants(world, object_type: str) -> dict[str, str]:
    role = Role.objects.for_workspace(world.workspace).get(pk=world.actor.role_id)
    return role.grants()[object_type]


def _has_owner(object_type: str) -> bool:
    from django.apps import apps

    for model in apps.get_models():
        if getattr(model, "object_type", None) == object_type and hasattr(model, "owner_field"):
            return model.owner_field is not None
    raise AssertionError(f"no model for {object_type}")


@pytest.mark.django_db
@pytest.mark.parametrize(("object_type", "role_key"), CELLS)
def test_matrix(object_type, role_key):
    entry = REGISTRY[object_type]
    world = build_world(role_key)
    grants, has_owner = _grants(world, object_type), _has_owner(object_type)
    client = ApiClient(world.actor)
    wrong = []
    for action, call in entry.calls.items():
        for relation in RELATIONS:
            outcome = expected(grants=grants, action=action, relation=relation,
                               has_owner=has_owner)  # fmt: skip
            wanted = {"allowed": entry.expected_status(action), "404": 404, "403": 403}[outcome]
            with transaction.atomic():
                record = entry.make_record(world.owners[relation])
                response = call(client, record)
                transaction.set_rollback(True)
            problem = response["Content-Type"] == "application/problem+json"
            if response.status_code != wanted or (outcome != "allowed" and not problem):
                wrong.append(f"{action} × {relation}: {response.status_code}, wanted {wanted} "
                             f"({outcome}): {response.content[:200]!r}")  # fmt: skip
    assert not wrong, "\n".join(wrong)


@pytest.mark.django_db
@pytest.mark.parametrize(("object_type", "role_key"), ADD_CELLS)
def test_matrix_add(object_type, role_key):
    entry = REGISTRY[object_type]
    world = build_world(role_key)
    allowed = _grants(world, object_type).get("add", "none") != "none"
    response = entry.add(ApiClient(world.actor))
    assert response.status_code == (entry.expected_status("add") if allowed else 403), (
        response.content[:300]
    )


# Pinned cells: the defaults a reviewer would check by hand, so a change to the default
# grants cannot silently pass the computed matrix above.
PINNED = [
    ("platform.membership", "sales_rep", "view", "other_team", 200),
    ("platform.membership", "sales_rep", "change", "teammate", 403),
    ("platform.membership", "dealer_user", "view", "teammate", 200),
    ("platform.membership", "dealer_user", "view", "other_team", 404),
    ("platform.membership", "administrator", "change", "other_team", 200),
    ("platform.membership", "analyst", "delete", "own", 403),
    ("platform.membership", "administrator", "view", "other_workspace", 404),
    ("platform.apitoken", "sales_rep", "view", "own", 200),
    ("platform.apitoken", "sales_rep", "view", "teammate", 404),
    ("platform.apitoken", "sales_manager", "delete", "report", 404),
    ("platform.apitoken", "administrator", "delete", "other_team", 204),
    ("platform.team", "sales_manager", "change", "own", 403),
    ("platform.team", "administrator", "delete", "own", 204),
    ("platform.role", "marketer", "change", "own", 403),
    ("platform.role", "administrator", "view", "other_workspace", 404),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("object_type", "role_key", "action", "relation", "status"), PINNED)
def test_pinned_cells(object_type, role_key, action, relation, status):
    entry = REGISTRY[object_type]
    world = build_world(role_key)
    record = entry.make_record(world.owners[relation])
    assert entry.calls[action](ApiClient(world.actor), record).status_code == status

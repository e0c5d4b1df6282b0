"""Pinned cells of the sales defaults, so a change to the default grants cannot silently
pass the computed authorization matrix (tests/authz)."""

from __future__ import annotations

import pytest

from tests.authz import sales_entries  # noqa: F401  (register the entries)
from tests.authz.harness import REGISTRY, build_world
from tests.conftest import ApiClient

PINNED = [
    ("sales.opportunity", "sales_rep", "view", "teammate", 200),
    ("sales.opportunity", "sales_rep", "view", "other_team", 404),
    ("sales.opportunity", "sales_rep", "change", "teammate", 403),
    ("sales.opportunity", "sales_rep", "change", "own", 200),
    ("sales.opportunity", "sales_rep", "reopen", "own", 403),
    ("sales.opportunity", "sales_rep", "delete", "own", 403),
    ("sales.opportunity", "sales_manager", "view", "report", 200),
    ("sales.opportunity", "sales_manager", "view", "other_team", 404),
    ("sales.opportunity", "sales_manager", "reopen", "report", 200),
    ("sales.opportunity", "sales_manager", "assign", "report", 200),
    ("sales.opportunity", "administrator", "reopen", "other_team", 200),
    ("sales.opportunity", "administrator", "view", "other_workspace", 404),
    ("sales.opportunity", "analyst", "view", "other_team", 200),
    ("sales.opportunity", "analyst", "change", "own", 403),
    ("sales.opportunity", "marketer", "view", "other_team", 200),
    ("sales.opportunity", "dealer_user", "view", "other_team", 404),
    ("sales.opportunity", "service_agent", "view", "own", 404),
    ("sales.pipeline", "sales_rep", "view", "own", 200),
    ("sales.pipeline", "service_agent", "view", "own", 200),
    ("sales.pipeline", "administrator", "view", "other_workspace", 404),
]


@pytest.mark.django_db
@pytest.mark.parametrize(("object_type", "role_key", "action", "relation", "status"), PINNED)
def test_pinned_cells(object_type, role_key, action, relation, status):
    entry = REGISTRY[object_type]
    world = build_world(role_key)
    record = entry.make_record(world.owners[relation])
    assert entry.calls[action](ApiClient(world.actor), record).status_code == status

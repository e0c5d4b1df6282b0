"""Lookups compiled once and run with a fresh parameter, per visibility when it matters."""

from __future__ import annotations

import pytest

from guanxi.platform.context import acting_in
from guanxi.platform.models import Membership
from guanxi.platform.prepared import PreparedLookup
from guanxi.platform.visibility import visibility_key
from tests.factories import make_member, make_workspace

pytestmark = pytest.mark.django_db


def test_plans_are_kept_per_visibility_and_never_widen_it(workspace, team, admin, rep):
    elsewhere = make_workspace(slug="elsewhere", name="Elsewhere")
    other = make_member(workspace=elsewhere, role_key="administrator", username="other.admin")
    lookup = PreparedLookup(
        lambda member, public_id: Membership.objects.visible_to(member, "view").filter(
            public_id=public_id
        ),
        size=2,
    )

    def find(asking, target):
        with acting_in(asking.workspace, asking):
            return lookup.get(
                target.public_id, key=visibility_key(asking, Membership, "view"), context=asking
            )

    assert find(admin, rep) == rep
    assert find(rep, admin) == admin
    assert find(other, other) == other
    assert find(other, rep) is None  # another workspace's administrator sees none of ours
    assert find(admin, other) is None  # nor ours theirs
    assert len(lookup._plans) == 2  # the oldest plans make room
    assert find(rep, rep) == rep  # and are compiled again when needed

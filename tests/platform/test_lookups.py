"""``field__any=[…]`` selects what ``field__in=[…]`` selects, on both databases, for plain
fields and foreign keys, with no values too."""

from __future__ import annotations

import pytest

from guanxi.platform.models import Membership
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_any_is_in(workspace, admin, rep):
    other = make_member(workspace=workspace, username="zhou.min")
    members = Membership.objects.for_workspace(workspace)
    for ids in ([rep.user_id], [rep.user_id, other.user_id, 10**9], [], [admin.user_id] * 3):
        expected = set(members.filter(user_id__in=ids).values_list("pk", flat=True))
        assert set(members.filter(user_id__any=ids).values_list("pk", flat=True)) == expected
        assert set(members.filter(user__any=ids).values_list("pk", flat=True)) == expected
        assert set(members.filter(pk__any=sorted(expected)).values_list("pk", flat=True)) == (
            expected
        )
    assert not members.filter(user_id__any=[]).exists()

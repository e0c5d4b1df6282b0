"""The demo's field visits: today's to check in to, yesterday's reported or missed."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from guanxi.customers import services as customers
from guanxi.platform.context import acting_in
from guanxi.sales import visits
from guanxi.sales.visits_demo import demo_loader
from guanxi.timeline.models import Interaction

pytestmark = pytest.mark.django_db


def test_demo_visits(workspace, rep, admin):
    for n in range(7):
        customers.create_contact(workspace=workspace, by=rep.user, owner=rep.user,
                                 family_name="王", given_name=f"客户{n}")  # fmt: skip
    line = demo_loader(workspace=workspace, members={"li.na": rep, "root": admin})
    assert line == "planned 7 field visits (2 of yesterday's reported)"
    with acting_in(workspace, rep):
        timezone.activate(workspace.time_zone)
        try:
            today = timezone.localdate()
            now = visits.day_of_visits(user=rep, day=today)
            before = visits.day_of_visits(user=rep, day=today - timedelta(days=1))
        finally:
            timezone.deactivate()
    assert [row.status for row in now] == ["planned"] * 4
    assert [(row.status, row.late, row.missed, row.outcome) for row in before] == [
        ("done", False, False, "met"),
        ("done", True, False, "order_taken"),
        ("planned", False, True, ""),
    ]
    assert before[0].duration_minutes == 40 and before[0].check_in.has_location
    assert Interaction.objects.for_workspace(workspace).filter(channel="visit").count() == 2

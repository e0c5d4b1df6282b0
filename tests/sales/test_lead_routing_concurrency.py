"""Round robin under concurrency (PostgreSQL): leads routed at the same moment from several
connections get consecutive turns, so the team shares them evenly."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from django.db import connection, connections

from guanxi.sales.lead_routing import services
from guanxi.sales.models import AssignmentPointer
from tests.factories import make_member, make_team, make_workspace
from tests.factories.routing import make_lead

pytestmark = pytest.mark.django_db(transaction=True)


def test_concurrent_round_robin_takes_consecutive_turns():
    if connection.vendor != "postgresql":
        pytest.skip("SQLite runs one writer at a time")
    workspace = make_workspace(slug="rr")
    team = make_team(workspace=workspace, name="Team")
    admin = make_member(workspace=workspace, role_key="administrator", username="root")
    members = [make_member(workspace=workspace, team=team, username=f"r{i}") for i in range(3)]
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="RR",
                                    method="round_robin", team=team)  # fmt: skip
    owners: list[int] = []
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work() -> None:
        try:
            start.wait()
            for _ in range(6):
                owners.append(make_lead(workspace).owner_id)
        except BaseException as exc:  # reported below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert Counter(owners) == {m.user_id: 8 for m in members}
    assert AssignmentPointer.objects.get(team=team).counter == 24

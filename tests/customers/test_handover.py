"""Ownership and handover: one record, or everything a leaving rep owns."""

from __future__ import annotations

import pytest

from guanxi.customers.models import Account, Contact
from guanxi.platform import services as platform
from guanxi.platform.models import AuditEvent
from guanxi.timeline.models import Activity, Interaction
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_setup(workspace, team, rep):
    manager = make_member(workspace=workspace, role_key="sales_manager", team=team, username="boss")
    platform.change_membership(
        membership=rep, by=manager.user, expected_version=rep.version, manager=manager
    )
    successor = make_member(workspace=workspace, team=team, username="next.rep")
    return manager, successor


def test_leaving_rep_hands_over_everything(api, rep, team_setup):
    manager, successor = team_setup
    client = api(rep)
    account = client.post("/accounts", {"name": "远景贸易"}).json()
    contact = client.post("/contacts", {"family_name": "张", "account_id": account["id"]}).json()
    client.post("/interactions", {"contact_id": contact["id"], "channel": "phone",
                                  "direction": "outbound", "subject": "first call"})  # fmt: skip
    client.post("/activities", {"kind": "call", "subject": "回访", "contact_id": contact["id"]})

    response = api(manager).post(f"/users/{rep.public_id}/handover", {"to": "next.rep"})
    assert response.status_code == 200, response.content
    assert response.json()["moved"] == {"accounts": 1, "contacts": 1, "activities": 1}

    new_owner = api(successor)
    seen = new_owner.get(f"/contacts/{contact['id']}")
    assert seen.json()["owner"] == "next.rep"
    timeline = new_owner.get(f"/contacts/{contact['id']}/timeline").json()["items"]
    subjects = [item["subject"] for item in timeline]
    assert subjects[0] == "Owner changed: li.na → next.rep"
    assert "first call" in subjects  # the history stays visible to the new owner
    assert Activity.objects.dangerously_all_workspaces().get().assigned_to == successor.user
    assert AuditEvent.objects.filter(action="customers.handover").exists()


def test_rep_cannot_hand_over_others(api, rep, team_setup):
    manager, _ = team_setup
    response = api(rep).post(f"/users/{manager.public_id}/handover", {"to": "li.na"})
    assert response.status_code == 403


def test_manager_cannot_hand_over_outside_subtree(api, workspace, team_setup):
    manager, _ = team_setup
    outsider = make_member(workspace=workspace, username="outsider")
    response = api(manager).post(f"/users/{outsider.public_id}/handover", {"to": "next.rep"})
    assert response.status_code == 403


def test_unknown_successor_is_422(api, admin, rep):
    response = api(admin).post(f"/users/{rep.public_id}/handover", {"to": "ghost"})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "owner"


def test_single_record_reassignment_writes_a_note(api, admin, rep, team_setup):
    contact = api(rep).post("/contacts", {"family_name": "王"}).json()
    response = api(admin).patch(
        f"/contacts/{contact['id']}", {"owner": "next.rep", "version": contact["version"]}
    )
    assert response.status_code == 200
    note = Interaction.objects.dangerously_all_workspaces().get(channel="system")
    assert note.subject == "Owner changed: li.na → next.rep"


def test_large_handover_runs_as_job(api, admin, rep, team_setup, monkeypatch):
    from guanxi.customers import api as customers_api
    from guanxi.customers import handover

    monkeypatch.setattr(customers_api, "SYNC_HANDOVER_LIMIT", 2)
    monkeypatch.setattr(handover, "BATCH", 2)
    client = api(rep)
    for index in range(5):
        client.post("/accounts", {"name": f"Co {index}"})
    response = api(admin).post(f"/users/{rep.public_id}/handover", {"to": "next.rep"})
    assert response.status_code == 202  # the test settings run jobs immediately
    assert response.json()["job_id"]
    owners = set(
        Account.objects.dangerously_all_workspaces().values_list("owner__username", flat=True)
    )
    assert owners == {"next.rep"}
    assert not Contact.objects.dangerously_all_workspaces().filter(owner=rep.user).exists()

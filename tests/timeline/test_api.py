"""Timeline and activities through the API, and the customer 360 view."""

from __future__ import annotations

import pytest

from guanxi.timeline.models import Interaction
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api, rep):
    return api(rep)


@pytest.fixture
def contact(client):
    account = client.post("/accounts", {"name": "远景贸易"}).json()
    return client.post(
        "/contacts", {"family_name": "张", "given_name": "伟", "account_id": account["id"]}
    ).json()


def test_interaction_with_external_id_is_stored_once(client, contact):
    event = {
        "contact_id": contact["id"],
        "channel": "wechat",
        "direction": "inbound",
        "occurred_at": "2026-11-20T10:00:00+08:00",
        "subject": "询价",
        "external_id": "wx-msg-123",
    }
    first = client.post("/interactions", event)
    again = client.post("/interactions", event)
    assert first.status_code == 201, first.content
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert Interaction.objects.dangerously_all_workspaces().count() == 1
    # the contact's primary account gets it on its timeline too
    assert first.json()["account"]["display_name"] == "远景贸易"


def test_interaction_needs_a_visible_customer(api, client, workspace, contact):
    outsider = make_member(workspace=workspace, role_key="dealer_user")
    response = api(outsider).post(
        "/interactions", {"contact_id": contact["id"], "channel": "phone", "direction": "inbound"}
    )
    assert response.status_code == 404
    bad = client.post("/interactions", {"channel": "pigeon", "direction": "inbound",
                                        "contact_id": contact["id"]})  # fmt: skip
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "channel"


def test_timeline_newest_first_with_cursor_and_channel_filter(client, contact):
    for day in range(1, 8):
        client.post(
            "/interactions",
            {"contact_id": contact["id"], "channel": "phone" if day % 2 else "email",
             "direction": "outbound", "occurred_at": f"2026-11-0{day}T09:00:00Z",
             "subject": f"day {day}"},
        )  # fmt: skip
    path = f"/contacts/{contact['id']}/timeline"
    first = client.get(path, limit=3).json()
    assert [i["subject"] for i in first["items"]] == ["day 7", "day 6", "day 5"]
    second = client.get(path, limit=3, cursor=first["next_cursor"]).json()
    assert [i["subject"] for i in second["items"]] == ["day 4", "day 3", "day 2"]
    phones = client.get(path, channel="phone").json()["items"]
    assert {i["channel"] for i in phones} == {"phone"} and len(phones) == 4
    account_id = client.get(f"/contacts/{contact['id']}").json()["accounts"][0]["account_id"]
    assert len(client.get(f"/accounts/{account_id}/timeline").json()["items"]) == 7


def test_completing_an_activity_writes_the_timeline(client, contact):
    activity = client.post(
        "/activities",
        {"kind": "call", "subject": "回访", "contact_id": contact["id"],
         "due_at": "2026-11-30T10:00:00+08:00"},
    ).json()  # fmt: skip
    assert activity["status"] == "open" and activity["assigned_to"] == "li.na"
    done = client.post(
        f"/activities/{activity['id']}/complete", {"outcome": "客户满意", "version": 1}
    )
    assert done.status_code == 200, done.content
    assert done.json()["status"] == "done"
    timeline = client.get(f"/contacts/{contact['id']}/timeline").json()["items"]
    assert timeline[0]["id"] == done.json()["interaction_id"]
    assert (timeline[0]["channel"], timeline[0]["body"]) == ("phone", "客户满意")
    assert timeline[0]["related_id"] == activity["id"]
    again = client.post(f"/activities/{activity['id']}/complete", {"version": 2})
    assert again.status_code == 422


def test_rep_sees_own_activities_manager_sees_subtree(api, workspace, team, rep):
    manager = make_member(workspace=workspace, role_key="sales_manager", team=team)
    from guanxi.platform import services

    services.change_membership(membership=rep, by=manager.user, expected_version=rep.version,
                               manager=manager)  # fmt: skip
    other = make_member(workspace=workspace, team=team)
    contact = api(rep).post("/contacts", {"family_name": "李"}).json()
    mine = api(rep).post("/activities", {"kind": "task", "subject": "报价",
                                         "contact_id": contact["id"]}).json()  # fmt: skip
    assert api(other).get(f"/activities/{mine['id']}").status_code == 404
    assert api(manager).get(f"/activities/{mine['id']}").status_code == 200


def test_contact_360(client, contact, django_assert_max_num_queries):
    client.post("/activities", {"kind": "visit", "subject": "拜访", "contact_id": contact["id"]})
    for index in range(30):
        client.post("/interactions", {"contact_id": contact["id"], "channel": "sms",
                                      "direction": "outbound", "subject": f"#{index}"})  # fmt: skip
    client.get("/me")
    with django_assert_max_num_queries(9):  # 1 authentication + 8 for the 360 itself
        response = client.get(f"/contacts/{contact['id']}/360")
    body = response.json()
    assert body["profile"]["display_name"] == "张伟"
    assert [a["subject"] for a in body["panels"]["open_activities"]] == ["拜访"]
    assert len(body["panels"]["timeline"]["items"]) == 20
    assert body["panels"]["timeline"]["next_cursor"]


def test_account_360_of_invisible_account_is_404(api, workspace, client):
    stranger = make_member(workspace=workspace, role_key="dealer_user")
    account = client.post("/accounts", {"name": "Hidden Ltd"}).json()
    assert api(stranger).get(f"/accounts/{account['id']}/360").status_code == 404

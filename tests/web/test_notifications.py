"""Notifications: who hears of what, counting up, opening one, nobody reads another's."""

from __future__ import annotations

import pytest

from guanxi.customers import services as customers
from guanxi.customers.handover import hand_over, reassign_customers
from guanxi.platform.models import Notification
from guanxi.timeline import services as timeline
from tests.factories import make_member
from tests.web.test_pages import browser

pytestmark = pytest.mark.django_db


def test_an_activity_given_to_me_is_announced(workspace, admin, rep):
    contact = customers.create_contact(workspace=workspace, by=rep.user, family_name="周",
                                       given_name="杰")  # fmt: skip
    timeline.create_activity(workspace=workspace, by=admin.user, kind="call", subject="回访周杰",
                             contact=contact, assigned_to=rep.user)  # fmt: skip
    timeline.create_activity(workspace=workspace, by=rep.user, kind="task", subject="我自己的",
                             contact=contact)  # fmt: skip
    client = browser(rep)
    assert ">1<" in client.get("/notifications/badge/").content.decode()
    page = client.get("/notifications/").content.decode()
    assert "root gave you an activity: 回访周杰" in page and "我自己的" not in page
    notification = Notification.objects.for_workspace(workspace).get(recipient=rep.user)
    opened = client.post(f"/notifications/{notification.public_id}/")
    assert opened["Location"] == f"/contacts/{contact.public_id}/"
    assert client.get("/notifications/badge/").content.decode().strip() == ""


def test_a_handover_in_batches_is_one_notification(workspace, admin, rep):
    other = make_member(workspace=workspace, role_key="sales_rep", username="leaving")
    for i in range(3):
        customers.create_contact(
            workspace=workspace, by=other.user, family_name="客", given_name=f"{i}"
        )
    hand_over(workspace=workspace, from_user=other.user, to_user=rep.user, by=admin.user)
    account = customers.create_account(workspace=workspace, by=other.user, name="一号公司")
    reassign_customers(customers=[account], to_user=rep.user, by=admin.user)
    texts = browser(rep).get("/notifications/").content.decode()
    assert "root handed 3 customers over to you" in texts
    assert "root handed 1 customers over to you" in texts  # accounts: their own


def test_nobody_opens_another_users_notification(workspace, admin, rep):
    contact = customers.create_contact(workspace=workspace, by=rep.user, family_name="周")
    timeline.create_activity(workspace=workspace, by=rep.user, kind="task", subject="给管理员",
                             assigned_to=admin.user, contact=contact)  # fmt: skip
    notification = Notification.objects.for_workspace(workspace).get(recipient=admin.user)
    assert browser(rep).post(f"/notifications/{notification.public_id}/").status_code == 404
    assert "给管理员" not in browser(rep).get("/notifications/").content.decode()
    client = browser(admin)
    client.post("/notifications/read/")
    notification.refresh_from_db()
    assert notification.read_at is not None

"""The admin pages: open to workspace administrators by role, scoped to their workspace."""

from __future__ import annotations

import pytest
from django.test import Client

from guanxi.platform.models import AuditEvent, Membership, User
from tests.factories import make_member, make_team, make_workspace, role

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(user)
    return client


def test_workspace_administrator_manages_members(admin, rep, team):
    client = signed_in(admin.user)
    assert client.get("/admin/").status_code == 200
    listing = client.get("/admin/platform/membership/")
    assert listing.status_code == 200
    assert b"li.na" in listing.content
    response = client.post(
        "/admin/platform/membership/add/",
        {
            "username": "new.rep",
            "first_name": "伟",
            "last_name": "张",
            "email": "",
            "password": "",
            "role": role(admin.workspace, "sales_rep").pk,
            "team": team.pk,
            "manager": "",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    member = Membership.objects.for_workspace(admin.workspace).get(user__username="new.rep")
    assert member.team == team
    assert AuditEvent.objects.filter(action="membership.created", object_id=member.public_id)


def test_role_change_in_admin_goes_through_the_service(admin, rep):
    client = signed_in(admin.user)
    response = client.post(
        f"/admin/platform/membership/{rep.pk}/change/",
        {"role": role(admin.workspace, "sales_manager").pk, "team": rep.team_id, "manager": "",
         "is_active": "on"},
    )  # fmt: skip
    assert response.status_code == 302, response.content[:2000]
    assert AuditEvent.objects.filter(action="membership.role_changed").exists()


def test_other_workspace_rows_are_not_listed_or_reachable(admin):
    other = make_workspace(slug="other")
    stranger = make_member(workspace=other, username="stranger")
    client = signed_in(admin.user)
    assert b"stranger" not in client.get("/admin/platform/membership/").content
    page = client.get(f"/admin/platform/membership/{stranger.pk}/change/")
    assert page.status_code in (302, 404)  # admin redirects "does not exist" to the index
    foreign_team = make_team(workspace=other, name="Foreign")
    assert client.get(f"/admin/platform/team/{foreign_team.pk}/change/").status_code in (302, 404)


def test_sales_rep_cannot_open_admin(rep):
    assert signed_in(rep.user).get("/admin/", follow=True).status_code == 403
    anonymous = Client(HTTP_HOST="127.0.0.1").get("/admin/", follow=True)
    assert anonymous.redirect_chain[-1][0].startswith("/login/")


def test_audit_log_page_is_read_only(admin):
    client = signed_in(admin.user)
    assert client.get("/admin/platform/auditevent/").status_code == 200
    event = AuditEvent.objects.filter(workspace=admin.workspace).first()
    assert (
        client.post(f"/admin/platform/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_logins_are_for_operators_only(admin):
    assert signed_in(admin.user).get("/admin/platform/user/").status_code == 403
    operator = User.objects.create_superuser("op", "op@example.com", "a-long-operator-pass")
    make_member(workspace=admin.workspace, role_key="administrator")
    assert signed_in(operator).get("/admin/platform/user/").status_code == 200

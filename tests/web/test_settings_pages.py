"""Settings pages: who sees which section, and that each write lands through the services."""

from __future__ import annotations

import re

import pytest
from django.core import mail

from guanxi.customers import services as customers
from guanxi.customers.models import LifecycleStage
from guanxi.platform import services as platform
from guanxi.platform.models import ApiToken, AuditEvent, CustomField, Membership, Role, Team
from tests.factories import make_member
from tests.web.test_pages import browser

pytestmark = pytest.mark.django_db

SECTIONS = ["users", "tree", "teams", "roles", "fields", "stages", "tokens", "audit"]


@pytest.mark.parametrize("section", SECTIONS)
def test_administrator_opens_every_section(admin, rep, section, django_assert_max_num_queries):
    client = browser(admin)
    with django_assert_max_num_queries(12):
        response = client.get(f"/settings/{section}/")
    assert response.status_code == 200
    page = response.content.decode()
    for other in SECTIONS:
        assert f'href="/settings/{other}/"' in page


def test_sales_rep_sees_only_what_the_role_allows(rep):
    client = browser(rep)
    page = client.get("/settings/tokens/").content.decode()
    assert 'href="/settings/audit/"' not in page
    assert client.get("/settings/audit/").status_code == 403
    # a directory to read, no forms to change it
    users = client.get("/settings/users/").content.decode()
    assert "li.na" in users and 'name="username"' not in users
    assert client.post("/settings/teams/", {"name": "私设"}).status_code == 403
    assert (
        client.post("/settings/users/", {"username": "x", "role": "administrator"}).status_code
        == 403
    )


def test_settings_home_opens_the_first_section(admin):
    response = browser(admin).get("/settings/")
    assert response.status_code == 302 and response["Location"] == "/settings/users/"


def test_adding_a_user_without_password_mails_a_link(admin, team, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    client = browser(admin)
    response = client.post(
        "/settings/users/",
        {"username": "wang.fang", "email": "wang.fang@example.cn", "last_name": "王",
         "first_name": "芳", "role": "sales_rep", "team": team.public_id,
         "manager": admin.public_id},
    )  # fmt: skip
    assert response.status_code == 302
    member = Membership.objects.for_workspace(admin.workspace).get(user__username="wang.fang")
    assert member.manager == admin and member.team == team and member.role.key == "sales_rep"
    assert not member.user.has_usable_password()
    assert len(mail.outbox) == 1 and "wang.fang" in mail.outbox[0].body
    link = re.search(r"http://\S+/password/reset/\S+/", mail.outbox[0].body).group(0)
    form = client.get(link.replace("http://127.0.0.1", ""), follow=True)
    assert form.status_code == 200 and "new_password1" in form.content.decode()


def test_add_user_errors_stay_on_the_form(admin, rep):
    response = browser(admin).post(
        "/settings/users/", {"username": "li.na", "password": "Secret-pass-1", "role": "sales_rep"}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "gx-invalid" in page and 'value="li.na"' in page
    missing = browser(admin).post("/settings/users/", {"username": "no.mail", "role": "sales_rep"})
    assert "Give an e-mail address" in missing.content.decode()


def test_changing_a_member_is_version_checked(admin, rep):
    client = browser(admin)
    url = f"/settings/users/{rep.public_id}/"
    stale = rep.version
    platform.change_membership(membership=rep, by=admin.user, expected_version=stale,
                               is_active=True, role=Role.objects.for_workspace(rep.workspace).get(
                                                                     key="sales_manager"))  # fmt: skip
    response = client.post(url, {"role": "analyst", "team": "", "manager": "", "is_active": "on",
                                 "version": stale})  # fmt: skip
    assert response.status_code == 200
    assert "Someone else changed this" in response.content.decode()
    rep.refresh_from_db()
    assert rep.role.key == "sales_manager"
    fresh = client.post(url, {"role": "analyst", "team": "", "manager": admin.public_id,
                              "is_active": "on", "version": rep.version})  # fmt: skip
    assert fresh.status_code == 302
    rep.refresh_from_db()
    assert rep.role.key == "analyst" and rep.manager == admin


def test_manager_cannot_be_someone_under_the_member(admin, rep, workspace):
    platform.change_membership(membership=rep, by=admin.user, expected_version=rep.version,
                               manager=admin)  # fmt: skip
    admin.refresh_from_db()
    page = browser(admin).get(f"/settings/users/{admin.public_id}/").content.decode()
    assert f'value="{rep.public_id}"' not in page  # rep reports to admin: not offered


def test_removing_a_member(admin, rep):
    client = browser(admin)
    assert client.post(f"/settings/users/{admin.public_id}/remove/").status_code == 403
    assert client.post(f"/settings/users/{rep.public_id}/remove/").status_code == 302
    assert Membership.objects.for_workspace(rep.workspace).filter(pk=rep.pk).count() == 0


def test_manager_tree_indents_reports(admin, rep, workspace):
    boss = make_member(workspace=workspace, role_key="sales_manager", username="boss")
    platform.change_membership(membership=rep, by=admin.user, expected_version=rep.version,
                               manager=boss)  # fmt: skip
    page = browser(admin).get("/settings/tree/").content.decode()
    assert page.index(">boss<") < page.index(">li.na<")
    assert "--depth: 1" in page


def test_teams_create_rename_delete(admin, team):
    client = browser(admin)
    assert client.post("/settings/teams/", {"name": "华南销售部"}).status_code == 302
    duplicate = client.post("/settings/teams/", {"name": "华南销售部"})
    assert duplicate.status_code == 200 and "gx-invalid" in duplicate.content.decode()
    url = f"/settings/teams/{team.public_id}/"
    assert client.post(url, {"name": "华东一部", "version": team.version}).status_code == 302
    team.refresh_from_db()
    assert team.name == "华东一部"
    assert client.post(url + "delete/").status_code == 302
    assert not Team.objects.for_workspace(team.workspace).filter(pk=team.pk).exists()


def test_role_grants_are_edited_in_a_grid(admin, rep):
    client = browser(admin)
    response = client.post("/settings/roles/", {"key": "intern", "name": "实习生",
                                                "copy_from": "sales_rep"})  # fmt: skip
    role = Role.objects.for_workspace(admin.workspace).get(key="intern")
    assert response["Location"] == f"/settings/roles/{role.public_id}/"
    assert (
        role.grants() == Role.objects.for_workspace(admin.workspace).get(key="sales_rep").grants()
    )
    page = client.get(response["Location"]).content.decode()
    assert 'name="grant:customers.contact:view"' in page
    data = {"name": "实习生", "version": role.version}
    for key, grants in role.grants().items():
        for action, scope in grants.items():
            data[f"grant:{key}:{action}"] = scope
    data["grant:customers.contact:view"] = "all"
    assert client.post(response["Location"], data).status_code == 302
    role.refresh_from_db()
    assert role.grants()["customers.contact"]["view"] == "all"
    assert AuditEvent.objects.filter(action="role.permissions_changed", object_id=role.public_id)


def test_custom_fields_and_stages(admin, rep):
    client = browser(admin)
    created = client.post("/settings/fields/", {
        "applies_to": "customers.contact", "key": "wine", "label": "喜欢的酒",
        "field_type": "choice", "choices": "白酒\n红酒\n", "position": 1,
    })  # fmt: skip
    assert created.status_code == 302
    field = CustomField.objects.for_workspace(admin.workspace).get(key="wine")
    assert field.choices == ["白酒", "红酒"]
    empty = client.post("/settings/fields/", {"applies_to": "customers.contact", "key": "x",
                                              "label": "X", "field_type": "choice",
                                              "position": 0})  # fmt: skip
    assert "gx-invalid" in empty.content.decode()
    assert client.post(f"/settings/fields/{field.public_id}/delete/").status_code == 302

    assert client.post("/settings/stages/", {"key": "vip", "name": "贵宾"}).status_code == 302
    vip = LifecycleStage.objects.for_workspace(admin.workspace).get(key="vip")
    lead = LifecycleStage.objects.for_workspace(admin.workspace).get(key="lead")
    contact = customers.create_contact(workspace=admin.workspace, by=rep.user, family_name="赵",
                                       given_name="云", lifecycle_stage="lead")  # fmt: skip
    url = f"/settings/stages/{vip.public_id}/"
    client.post(url, {"name": "贵宾客户", "position": 0, "is_default": "on",
                      "version": vip.version})  # fmt: skip
    vip.refresh_from_db()
    lead.refresh_from_db()
    assert vip.is_default and vip.name == "贵宾客户" and not lead.is_default
    assert client.post(f"/settings/stages/{lead.public_id}/delete/",
                       {"replacement": vip.public_id}).status_code == 302  # fmt: skip
    contact.refresh_from_db()
    assert contact.lifecycle_stage == vip


def test_tokens_show_the_secret_once_and_revoke(rep):
    client = browser(rep)
    page = client.post("/settings/tokens/", {"name": "手机同步"}).content.decode()
    secret = re.search(r'value="(gx_[^"]+)"', page).group(1)
    token = ApiToken.objects.for_workspace(rep.workspace).get(name="手机同步")
    assert platform.authenticate_token(secret, ip=None) == token
    assert secret not in client.get("/settings/tokens/").content.decode()
    assert client.post(f"/settings/tokens/{token.public_id}/revoke/").status_code == 302
    assert platform.authenticate_token(secret, ip=None) is None


def test_other_peoples_tokens_are_not_found(rep, admin):
    token, _secret = platform.create_api_token(membership=admin, name="root's")
    assert browser(rep).post(f"/settings/tokens/{token.public_id}/revoke/").status_code == 404


def test_audit_log_filters_and_pages(admin, rep):
    for i in range(60):
        platform.create_team(workspace=admin.workspace, name=f"组{i}", by=admin.user)
        platform.delete_team(team=Team.objects.for_workspace(admin.workspace).get(name=f"组{i}"),
                             by=admin.user)  # fmt: skip
    client = browser(admin)
    page = client.get("/settings/audit/?action=team.").content.decode()
    assert page.count("team.deleted") == 50 and "cursor=" in page
    cursor = re.search(r'cursor=([^"&]+)', page).group(1)
    older = client.get(f"/settings/audit/?action=team.&cursor={cursor}").content.decode()
    assert older.count("team.deleted") == 10
    assert "team.deleted" not in client.get("/settings/audit/?actor=nobody").content.decode()

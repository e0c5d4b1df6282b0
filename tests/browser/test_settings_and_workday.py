"""In Chromium: settings pages, the column chooser and saved views, editing in place,
notifications and the day view — accessible, usable at phone width, in Chinese."""

from __future__ import annotations

import re

import pytest

from guanxi.customers import services as customers
from guanxi.timeline import services as timeline
from tests.browser.conftest import PASSWORD, axe_violations, horizontal_overflow, sign_in
from tests.browser.test_customer_pages import shot
from tests.factories import make_member, make_team, make_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

SETTINGS = [
    "users",
    "tree",
    "teams",
    "roles",
    "fields",
    "stages",
    "tokens",
    "audit",
    "discount-limits",
]


@pytest.fixture
def office():
    workspace = make_workspace(slug="acme", name="ACME 贸易", language="zh-hans")
    team = make_team(workspace=workspace, name="华东")
    admin = make_member(workspace=workspace, role_key="administrator", username="boss")
    rep = make_member(workspace=workspace, role_key="sales_rep", team=team, username="li.na")
    for member in (admin, rep):
        member.user.set_password(PASSWORD)
        member.user.save()
    contact = customers.create_contact(workspace=workspace, by=rep.user, family_name="张",
                                       given_name="伟", tags=["vip"])  # fmt: skip
    timeline.create_activity(workspace=workspace, by=admin.user, kind="call", subject="回访张伟",
                             contact=contact, assigned_to=rep.user)  # fmt: skip
    return {"admin": admin, "rep": rep, "contact": contact}


def test_settings_pages_are_accessible_and_fit_a_phone(new_page, office):
    page = new_page()
    sign_in(page, "boss")
    for section in SETTINGS:
        page.goto(f"/settings/{section}/")
        assert axe_violations(page) == [], section
    page.goto(f"/settings/roles/{office['rep'].role.public_id}/")
    assert axe_violations(page) == []
    shot(page, "settings-role")
    phone = new_page(width=360, height=740)
    sign_in(phone, "boss")
    for section in ("users", "roles", "tokens", "audit"):
        phone.goto(f"/settings/{section}/")
        assert horizontal_overflow(phone) <= 0, section


def test_administrator_adds_a_team_and_a_user(new_page, office):
    page = new_page()
    sign_in(page, "boss")
    page.goto("/settings/teams/")
    page.fill("#id_name", "华南")
    page.click("form.gx-form button[type=submit]")
    page.locator("td a", has_text="华南").wait_for()
    page.goto("/settings/users/")
    page.fill("#id_username", "wang.fang")
    page.fill("#id_email", "wang.fang@example.cn")
    page.fill("#id_last_name", "王")
    page.fill("#id_first_name", "芳")
    page.fill("#id_password", "another-long-passphrase-7")
    page.select_option("#id_role", "sales_rep")
    page.select_option("#id_team", label="华南")
    page.click("form.gx-form button[type=submit]")
    page.locator("td a", has_text="wang.fang").wait_for()
    shot(page, "settings-users")


def test_rep_sees_no_administration(new_page, office):
    page = new_page()
    sign_in(page, "li.na")
    page.goto("/settings/tokens/")
    assert page.locator("a[href='/settings/audit/']").count() == 0
    page.fill("#id_name", "手机")
    page.click("form.gx-form button[type=submit]")
    assert re.match(r"gx_\S{20,}", page.input_value("#gx-secret"))
    assert page.goto("/settings/audit/").status == 403


def test_columns_and_saved_view(new_page, office):
    page = new_page()
    sign_in(page, "li.na")
    page.goto("/contacts/")
    page.click(".gx-filter-panel > summary")
    page.locator("input[name=col][value=tags]").check()
    page.locator("input[name=col][value=phone]").uncheck()
    page.fill("input[name=tag]", "vip")
    page.click(".gx-filter-body form.gx-filters button[type=submit]")
    page.locator("th", has_text="Tags").wait_for()
    assert page.locator("td[data-label=Tags]", has_text="vip").count() == 1
    page.click(".gx-filter-panel > summary") if not page.locator(
        ".gx-filter-panel[open]"
    ).count() else None
    page.locator(".gx-filter-body input[name=name]").fill("VIP 客户")
    page.click("text=Save view")
    page.locator(".gx-views a[aria-current=page]", has_text="VIP 客户").wait_for()
    assert axe_violations(page) == []
    shot(page, "contacts-view")


def test_edit_in_place_and_notifications(new_page, office):
    page = new_page()
    sign_in(page, "li.na")
    page.locator(".gx-bell .gx-count", has_text="1").wait_for()
    page.click(".gx-bell")
    page.click("text=boss gave you an activity: 回访张伟")
    page.wait_for_url(f"**/contacts/{office['contact'].public_id}/")
    page.click("#gx-fact-occupation .gx-edit")
    page.fill("#gx-inline-occupation", "采购经理")
    page.click("#gx-fact-occupation button[type=submit]")
    page.locator("#gx-fact-occupation dd", has_text="采购经理").wait_for()
    assert axe_violations(page) == []
    office["contact"].refresh_from_db()
    assert office["contact"].occupation == "采购经理"


def test_day_view_in_chinese_fits_a_phone(new_page, office):
    page = new_page(width=360, height=740, locale="zh-CN")
    sign_in(page, "li.na")
    page.goto("/activities/day/")
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    assert "我的一天" in page.locator("h1").inner_text()


def test_role_grid_fits_a_desktop_window(new_page, office):
    page = new_page()
    sign_in(page, "boss")
    page.goto(f"/settings/roles/{office['rep'].role.public_id}/")
    assert horizontal_overflow(page) <= 0


def test_quick_log_finds_the_customer_as_you_type(new_page, office):
    page = new_page(width=360, height=740)
    sign_in(page, "li.na")
    page.goto("/log/")
    page.fill("#gx-quick-q", "zw")
    page.locator("#gx-quick-choices input[type=radio]").first.check()
    page.fill("#gx-quick-subject", "路上接到电话")
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    page.click("form.gx-form button[type=submit]")
    page.wait_for_url(f"**/contacts/{office['contact'].public_id}/")
    page.locator("#gx-timeline-list li", has_text="路上接到电话").wait_for()

"""In Chromium: an administrator adds an assignment rule on the lead routing page; the
page is accessible and fits a phone."""

from __future__ import annotations

import pytest

from guanxi.sales.models import AssignmentRule
from tests.browser.conftest import PASSWORD, axe_violations, horizontal_overflow, sign_in
from tests.factories import make_member, make_team, make_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_add_an_assignment_rule(new_page):
    workspace = make_workspace(slug="acme", name="ACME 贸易")
    team = make_team(workspace=workspace, name="华南")
    admin = make_member(workspace=workspace, role_key="administrator", username="boss")
    admin.user.set_password(PASSWORD)
    admin.user.save()
    page = new_page(width=360, height=740)
    sign_in(page, "boss")
    page.goto("/settings/lead-routing/")
    page.click("text=Add an assignment rule")
    page.fill("#id_name", "广东线索")
    page.fill("#id_regions", "广东, 广西")
    page.select_option("#id_method", "round_robin")
    page.select_option("#id_team", team.public_id)
    page.click("form.gx-form button[type=submit]")
    page.wait_for_url("**/settings/lead-routing/")
    assert page.locator("text=广东线索").is_visible()
    assert axe_violations(page) == []
    assert horizontal_overflow(page) <= 0
    rule = AssignmentRule.objects.for_workspace(workspace).get()
    assert (rule.regions, rule.method, rule.team_id) == (["广东", "广西"], "round_robin", team.pk)

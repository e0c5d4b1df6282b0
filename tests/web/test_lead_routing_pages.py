"""Lead routing settings pages: the section for administrators (read-only for sales
managers, absent for reps), adding, editing, moving and deleting rules, business hours."""

from __future__ import annotations

import pytest

from guanxi.sales.lead_routing import services
from guanxi.sales.models import AssignmentRule, LeadRoutingSettings, ScoringRule
from tests.factories import make_member
from tests.web.test_pages import browser

pytestmark = pytest.mark.django_db


@pytest.fixture
def rules(workspace, admin, rep, team):
    by = admin.user
    services.create_scoring_rule(workspace=workspace, by=by, name="Director", field="title",
                                 operator="contains", value="总监", points=20)  # fmt: skip
    services.create_scoring_rule(workspace=workspace, by=by, name="Visits", field="behaviour",
                                 operator="events", value="inbound", points=3,
                                 half_life_days=14)  # fmt: skip
    first = services.create_assignment_rule(workspace=workspace, by=by, name="South",
                                            regions=["广东"], method="user", user=rep.user)  # fmt: skip
    second = services.create_assignment_rule(workspace=workspace, by=by, name="Team",
                                             method="round_robin", team=team)  # fmt: skip
    services.create_sla_policy(workspace=workspace, by=by, name="4 hours",
                               first_touch_minutes=240)  # fmt: skip
    services.update_routing_settings(workspace=workspace, by=by, fallback_method="queue",
                                     fallback_team=team, holidays=["2026-10-01"])  # fmt: skip
    return first, second


def test_the_section_lists_everything_within_the_query_budget(
    admin, rules, django_assert_max_num_queries
):
    client = browser(admin)
    client.get("/settings/lead-routing/")  # the settings row exists after the first read
    with django_assert_max_num_queries(12):
        response = client.get("/settings/lead-routing/")
    page = response.content.decode()
    assert response.status_code == 200
    assert 'href="/settings/lead-routing/"' in page and 'href="/settings/users/"' in page
    for text in ("Director", "+20 Job title contains 总监", "South", "Team", "4 hours",
                 "2026-10-01", 'value="up"', "+3 per interaction (inbound)", "Add an assignment rule"):  # fmt: skip
        assert text in page, text


@pytest.mark.parametrize("path", ["scoring/new/", "assignment/new/", "sla/new/", "hours/"])
def test_forms_within_the_query_budget(admin, rules, path, django_assert_max_num_queries):
    client = browser(admin)
    with django_assert_max_num_queries(12):
        response = client.get(f"/settings/lead-routing/{path}")
    assert response.status_code == 200


def test_add_edit_move_and_delete_an_assignment_rule(workspace, admin, rep, team, rules):
    client = browser(admin)
    bad = client.post("/settings/lead-routing/assignment/new/",
                      {"name": "Broken", "method": "round_robin", "countries": "China"})  # fmt: skip
    assert bad.status_code == 200
    page = bad.content.decode()
    assert 'id="id_countries-error"' in page and 'id="id_team-error"' in page
    added = client.post("/settings/lead-routing/assignment/new/", {
        "name": "Shanghai big", "cities": "上海, 苏州", "min_score": "40", "sources": ["web"],
        "method": "user", "user": rep.user.username, "is_active": "on",
    })  # fmt: skip
    assert added.status_code == 302
    rule = AssignmentRule.objects.for_workspace(workspace).get(name="Shanghai big")
    assert (rule.cities, rule.min_score, rule.sources, rule.position) == (
        ["上海", "苏州"], 40, ["web"], 2)  # fmt: skip
    edit_url = f"/settings/lead-routing/assignment/{rule.public_id}/"
    form = client.get(edit_url).content.decode()
    assert 'value="上海, 苏州"' in form
    changed = client.post(edit_url, {"name": "Shanghai", "cities": "上海", "method": "queue",
                                     "team": team.public_id, "version": rule.version})  # fmt: skip
    assert changed.status_code == 302
    rule.refresh_from_db()
    assert (rule.name, rule.method, rule.team_id, rule.is_active) == (
        "Shanghai", "queue", team.pk, False)  # fmt: skip
    client.post(f"{edit_url}move/", {"direction": "up"})
    names = list(AssignmentRule.objects.for_workspace(workspace).order_by("position")
                 .values_list("name", flat=True))  # fmt: skip
    assert names == ["South", "Shanghai", "Team"]
    assert client.post(f"{edit_url}delete/").status_code == 302
    assert not AssignmentRule.objects.for_workspace(workspace).filter(pk=rule.pk).exists()


def test_scoring_rule_and_business_hours_forms(workspace, admin, rules):
    client = browser(admin)
    added = client.post("/settings/lead-routing/scoring/new/", {
        "name": "Partners", "field": "source", "operator": "in", "value": "partner, referral",
        "points": "15", "is_active": "on",
    })  # fmt: skip
    assert added.status_code == 302
    rule = ScoringRule.objects.for_workspace(workspace).get(name="Partners")
    assert rule.value == ["partner", "referral"]
    hours = client.post("/settings/lead-routing/hours/", {
        "weekdays": ["0", "1", "2", "3", "4"], "day_start": "08:30", "day_end": "17:30",
        "holidays": "2026-10-01\n2026-10-02", "extra_workdays": "2026-10-10",
        "fallback_method": "", "version": LeadRoutingSettings.objects.for_workspace(workspace)
        .get().version,
    })  # fmt: skip
    assert hours.status_code == 302, hours.content.decode()[:2000]
    row = LeadRoutingSettings.objects.for_workspace(workspace).get()
    assert row.holidays == ["2026-10-01", "2026-10-02"] and row.extra_workdays == ["2026-10-10"]
    assert row.fallback_method == "" and row.day_start.hour == 8
    bad = client.post("/settings/lead-routing/hours/", {
        "weekdays": ["0"], "day_start": "18:00", "day_end": "09:00", "holidays": "2026-13-01",
        "version": row.version,
    })  # fmt: skip
    page = bad.content.decode()
    assert 'id="id_day_end-error"' in page and 'id="id_holidays-error"' in page


def test_sales_managers_read_and_reps_do_not_see_the_section(workspace, rep, rules, team):
    manager = make_member(workspace=workspace, role_key="sales_manager", username="boss")
    client = browser(manager)
    page = client.get("/settings/lead-routing/").content.decode()
    assert "South" in page and "Add an assignment rule" not in page and 'value="up"' not in page
    assert client.get("/settings/lead-routing/assignment/new/").status_code == 403
    first, _second = rules
    assert client.post(f"/settings/lead-routing/assignment/{first.public_id}/delete/"
                       ).status_code == 403  # fmt: skip
    rep_client = browser(rep)
    assert (
        'href="/settings/lead-routing/"' not in rep_client.get("/settings/tokens/").content.decode()
    )
    assert rep_client.get("/settings/lead-routing/").status_code == 403

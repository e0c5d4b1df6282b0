"""Lead routing API: rules, policies and business hours (administrators; sales managers
read), 422 naming the field, optimistic locking, reassigning a lead (its assign action for
every role and relation) and a lead's score with reasons."""

from __future__ import annotations

import pytest

from guanxi.platform.models import Role
from guanxi.sales.lead_routing import services
from guanxi.sales.models import Lead
from tests.authz.harness import RELATIONS, ROLE_KEYS, build_world, expected
from tests.conftest import ApiClient
from tests.factories import make_member
from tests.factories.routing import make_lead

pytestmark = pytest.mark.django_db


def _errors(response) -> set[str]:
    assert response.status_code == 422, response.content
    return {e["field"] for e in response.json()["errors"]}


def test_scoring_rules_crud(api, admin):
    client = api(admin)
    created = client.post("/lead-routing/scoring-rules", {
        "name": "Director", "field": "title", "operator": "contains", "value": "总监",
        "points": 20,
    })  # fmt: skip
    assert created.status_code == 201, created.content
    rule = created.json()
    assert (rule["position"], rule["value"], rule["version"]) == (0, "总监", 1)
    second = client.post("/lead-routing/scoring-rules", {
        "name": "Partners", "field": "source", "operator": "in", "value": ["partner"],
        "points": 5,
    }).json()  # fmt: skip
    assert second["position"] == 1
    listed = client.get("/lead-routing/scoring-rules").json()["items"]
    assert [r["name"] for r in listed] == ["Director", "Partners"]
    path = f"/lead-routing/scoring-rules/{rule['id']}"
    assert client.patch(path, {"points": 30}).status_code == 428
    changed = client.patch(path, {"points": 30, "version": 1})
    assert changed.status_code == 200 and changed.json()["points"] == 30
    assert client.patch(path, {"points": 31, "version": 1}).status_code == 409
    assert client.delete(path).status_code == 204
    assert client.get(path).status_code == 404


def test_validation_names_the_field(api, admin):
    client = api(admin)
    bad = client.post("/lead-routing/scoring-rules",
                      {"name": "x", "field": "shoe_size", "points": 1})  # fmt: skip
    assert _errors(bad) == {"field", "operator"}
    bad = client.post("/lead-routing/assignment-rules",
                      {"name": "x", "method": "user", "user": "nobody"})  # fmt: skip
    assert _errors(bad) == {"user"}
    bad = client.post("/lead-routing/assignment-rules",
                      {"name": "x", "method": "teleport", "sources": ["fax"]})  # fmt: skip
    assert _errors(bad) == {"method", "sources"}
    bad = client.post("/lead-routing/sla-policies",
                      {"name": "x", "first_touch_minutes": 0, "min_score": 50, "max_score": 10})  # fmt: skip
    assert _errors(bad) == {"first_touch_minutes", "max_score"}
    bad = client.patch("/lead-routing/settings", {"day_start": "18:00", "day_end": "09:00",
                                                "holidays": ["2026-02-30"], "weekdays": [7]})  # fmt: skip
    assert _errors(bad) == {"day_end", "holidays", "weekdays"}
    bad = client.post("/lead-routing/scoring-rules", {"name": "x", "points": "many"})
    assert _errors(bad) == {"points"}


def test_assignment_rules_move_and_settings(api, admin, rep, team):
    client = api(admin)
    first = client.post("/lead-routing/assignment-rules", {
        "name": "South", "regions": ["广东"], "method": "user", "user": rep.user.username,
    }).json()  # fmt: skip
    second = client.post("/lead-routing/assignment-rules", {
        "name": "Everyone else", "method": "round_robin", "team": team.public_id,
    }).json()  # fmt: skip
    assert second["team"] == team.public_id and first["user"] == rep.user.username
    moved = client.post(f"/lead-routing/assignment-rules/{second['id']}/move",
                        {"direction": "up"})  # fmt: skip
    assert [r["name"] for r in moved.json()["items"]] == ["Everyone else", "South"]
    settings = client.get("/lead-routing/settings").json()
    assert settings["weekdays"] == [0, 1, 2, 3, 4] and settings["time_zone"] == "Asia/Shanghai"
    put = client.patch("/lead-routing/settings", {
        "holidays": ["2026-10-01"], "extra_workdays": ["2026-10-10"], "day_start": "08:30",
        "fallback_method": "user", "fallback_user": rep.user.username,
    })  # fmt: skip
    assert put.status_code == 200, put.content
    body = put.json()
    assert body["day_start"] == "08:30:00" and body["fallback_user"] == rep.user.username
    stale = client.patch("/lead-routing/settings", {"day_end": "17:00", "version": 1})
    assert stale.status_code == 409
    policy = client.post("/lead-routing/sla-policies",
                         {"name": "4 hours", "first_touch_minutes": 240})  # fmt: skip
    assert policy.status_code == 201 and policy.json()["sources"] == []


def test_sales_managers_read_the_rules_and_reps_do_not(api, workspace, admin, team):
    services.create_scoring_rule(workspace=workspace, by=admin.user, name="Web",
                                 field="source", operator="equals", value="web", points=5)  # fmt: skip
    manager = make_member(workspace=workspace, role_key="sales_manager", username="boss")
    rep = make_member(workspace=workspace, team=team, username="rep")
    assert len(api(manager).get("/lead-routing/scoring-rules").json()["items"]) == 1
    assert api(manager).get("/lead-routing/settings").status_code == 200
    assert api(manager).patch("/lead-routing/settings", {"day_end": "17:00"}).status_code == 403
    assert api(rep).get("/lead-routing/scoring-rules").json()["items"] == []
    assert api(rep).get("/lead-routing/settings").status_code == 403


def test_assign_and_score(api, workspace, admin, rep, team):
    services.create_scoring_rule(workspace=workspace, by=admin.user, name="Director",
                                 field="title", operator="contains", value="总监", points=20)  # fmt: skip
    lead = make_lead(workspace, title="销售总监")
    client = api(admin)
    score = client.get(f"/leads/{lead.public_id}/score").json()
    assert score["score"] == 20
    assert score["details"][0]["reason"] == "title contains 总监"
    assert score["details"][0]["text"] == "+20 Job title contains 总监"
    zh = client.get(f"/leads/{lead.public_id}/score", headers={"Accept-Language": "zh-hans"})
    assert zh.json()["details"][0]["reason"] == "title contains 总监"
    assigned = client.post(f"/leads/{lead.public_id}/assign", {"owner": rep.user.username})
    assert assigned.status_code == 200, assigned.content
    assert assigned.json()["owner"] == rep.user.username and assigned.json()["version"] == 2
    assert _errors(client.post(f"/leads/{lead.public_id}/assign", {})) == {"owner"}
    assert _errors(client.post(f"/leads/{lead.public_id}/assign", {"owner": "ghost"})) == {"owner"}
    queued = client.post(f"/leads/{lead.public_id}/assign",
                         {"team": team.public_id, "method": "queue"})  # fmt: skip
    assert queued.json()["owner"] is None and queued.json()["team"] == team.public_id
    rerun = client.post(f"/leads/{lead.public_id}/assign", {"rerun_rules": True})
    assert rerun.status_code == 200 and rerun.json()["owner"] is None
    assert client.get("/leads/lead_01aaaaaaaaaaaaaaaaaaaaaaaa/score").status_code == 404


# The assign action on leads, for every default role and relation (the lead's other actions
# are covered with lead capture's matrix entry).
ASSIGN_CELLS = [(role, relation) for role in ROLE_KEYS for relation in RELATIONS]


@pytest.mark.parametrize(("role_key", "relation"), ASSIGN_CELLS)
def test_assign_matrix(role_key, relation):
    world = build_world(role_key)
    owner = world.owners[relation]
    lead = Lead.objects.create(workspace=owner.workspace, owner=owner.user, team=owner.team)
    role = Role.objects.for_workspace(world.workspace).get(pk=world.actor.role_id)
    outcome = expected(grants=role.grants()["sales.lead"], action="assign", relation=relation,
                       has_owner=True)  # fmt: skip
    response = ApiClient(world.actor).post(f"/leads/{lead.public_id}/assign",
                                           {"owner": world.actor.user.username})  # fmt: skip
    wanted = {"allowed": 200, "404": 404, "403": 403}[outcome]
    if outcome == "allowed" and role_key in ("analyst", "service_manager", "marketer"):
        wanted = 422  # may assign, but may not own leads themselves
    assert response.status_code == wanted, (outcome, response.content[:300])

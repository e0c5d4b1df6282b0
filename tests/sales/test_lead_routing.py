"""Lead routing services: scoring with reasons and fading behaviour, assignment rules
(first match, territory, round robin, least loaded, skipped members, fallback), the
follow-up time on assignment, first touch, the SLA sweep and rescoring."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from guanxi.platform import services as platform
from guanxi.platform.context import acting_in
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import AuditEvent, Notification
from guanxi.sales.lead_routing import assignment, services
from guanxi.sales.lead_routing import config as routing_config
from guanxi.sales.lead_routing.scoring import BehaviourEvent, set_behaviour_source
from guanxi.sales.models import Lead, LeadResponse
from tests.factories import make_member, make_team
from tests.factories.routing import make_lead, touch_lead

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def _fields(error: ValidationFailed) -> set[str]:
    return {field for field, _message in error.errors}


@pytest.fixture
def east(workspace):
    return make_team(workspace=workspace, name="华东")


@pytest.fixture
def reps(workspace, east):
    return [make_member(workspace=workspace, team=east, username=f"rep{i}") for i in range(3)]


# --- scoring ----------------------------------------------------------------------------------
def test_score_is_the_sum_of_the_rules_met_with_reasons(workspace, admin):
    by = admin.user
    services.create_scoring_rule(workspace=workspace, by=by, name="Decision maker",
                                 field="title", operator="contains", value="总监", points=20)  # fmt: skip
    services.create_scoring_rule(workspace=workspace, by=by, name="Company mail",
                                 field="email_domain", operator="not_free_mail", points=10)  # fmt: skip
    services.create_scoring_rule(workspace=workspace, by=by, name="Partner",
                                 field="source", operator="in", value=["partner", "referral"],
                                 points=15)  # fmt: skip
    services.create_scoring_rule(workspace=workspace, by=by, name="Students",
                                 field="industry", operator="equals", value="Education",
                                 points=-30)  # fmt: skip
    services.create_scoring_rule(workspace=workspace, by=by, name="Consent",
                                 field="consent", operator="is_set", points=5)  # fmt: skip
    lead = make_lead(workspace, title="销售总监", email="wang@guangtong.cn", source="web",
                     industry="education", consent=True)  # fmt: skip
    assert lead.score == 20 + 10 - 30 + 5
    assert [(d["name"], d["points"], d["reason"]) for d in lead.score_details] == [
        ("Decision maker", 20, "title contains 总监"),
        ("Company mail", 10, "email_domain not free mail"),
        ("Students", -30, "industry equals Education"),
        ("Consent", 5, "consent is set"),
    ]
    free = make_lead(workspace, title="Sales Manager", email="x@qq.com", source="partner")
    assert free.score == 15 and free.scored_at is not None
    stored = Lead.objects.for_workspace(workspace).get(pk=lead.pk)
    assert stored.score == 5 and len(stored.score_details) == 4


def test_behaviour_points_halve_every_half_life(workspace, admin):
    now = timezone.now()
    services.create_scoring_rule(workspace=workspace, by=admin.user, name="Inbound",
                                 field="behaviour", operator="events", value="inbound",
                                 points=8, half_life_days=7, max_events=3)  # fmt: skip
    events = {}

    def source(leads):
        return {lead.pk: events.get(lead.public_id, []) for lead in leads}

    previous = set_behaviour_source(source)
    try:
        lead = make_lead(workspace)
        assert lead.score == 0 and lead.score_details == []
        events[lead.public_id] = [
            BehaviourEvent("email", "inbound", now),  # 8
            BehaviourEvent("phone", "inbound", now - dt.timedelta(days=7)),  # 4
            BehaviourEvent("phone", "outbound", now),  # not counted
            BehaviourEvent("web_form", "inbound", now - dt.timedelta(days=14)),  # 2
            BehaviourEvent("wechat", "inbound", now - dt.timedelta(days=30)),  # beyond the cap
        ]
        assert services.rescore_leads(workspace=workspace, now=now) == {"checked": 1, "changed": 1}
        lead.refresh_from_db()
        assert lead.score == 14
        assert lead.score_details[0]["events"] == 3
        # a week later each is worth half
        services.rescore_leads(workspace=workspace, now=now + dt.timedelta(days=7))
        lead.refresh_from_db()
        assert lead.score == 7
    finally:
        set_behaviour_source(previous)


def test_behaviour_is_read_from_interactions_related_to_the_lead(workspace, admin):
    from guanxi.customers import services as customers
    from guanxi.timeline.services import record_interaction

    services.create_scoring_rule(workspace=workspace, by=admin.user, name="Any touch",
                                 field="behaviour", operator="events", value="any", points=3)  # fmt: skip
    lead = make_lead(workspace)
    contact = customers.create_contact(workspace=workspace, by=admin.user, family_name="王",
                                       given_name="小明")  # fmt: skip
    for _ in range(2):
        record_interaction(workspace=workspace, by=admin.user, channel="phone",
                           direction="outbound", contact=contact, lead=lead)  # fmt: skip
    services.rescore_leads(workspace=workspace)
    lead.refresh_from_db()
    assert lead.score == 6


def test_scoring_rule_validation_names_the_field(workspace, admin):
    with pytest.raises(ValidationFailed) as error:
        services.create_scoring_rule(workspace=workspace, by=admin.user, name="",
                                     field="title", operator="not_free_mail", points="x")  # fmt: skip
    assert _fields(error.value) == {"name", "operator", "points"}
    with pytest.raises(ValidationFailed) as error:
        services.create_scoring_rule(workspace=workspace, by=admin.user, name="B",
                                     field="behaviour", operator="events", value="pigeon",
                                     points=1, half_life_days=0)  # fmt: skip
    assert _fields(error.value) == {"value", "half_life_days"}


# --- assignment -------------------------------------------------------------------------------
def test_first_matching_rule_wins_by_territory_and_score(workspace, admin, rep, east, reps):
    by = admin.user
    services.create_assignment_rule(workspace=workspace, by=by, name="Hot Guangdong",
                                    regions=["广东"], min_score=50, method="user", user=rep.user)  # fmt: skip
    services.create_assignment_rule(workspace=workspace, by=by, name="Guangdong",
                                    regions=["广东省"], method="round_robin", team=east)  # fmt: skip
    services.create_scoring_rule(workspace=workspace, by=by, name="Director", field="title",
                                 operator="contains", value="总监", points=60)  # fmt: skip
    hot = make_lead(workspace, region="广东省", title="采购总监")
    assert hot.owner == rep.user and hot.team_id == rep.team_id and hot.assigned_at
    cold = make_lead(workspace, region="广东", city="深圳")
    assert cold.owner_id in {m.user_id for m in reps} and cold.team == east
    elsewhere = make_lead(workspace, region="浙江")
    assert elsewhere.owner_id is None and elsewhere.team_id is None
    audit = AuditEvent.objects.filter(action="lead.assigned", object_id=hot.public_id).get()
    assert audit.data["rule_name"] == "Hot Guangdong" and audit.data["owner"] == rep.user.username
    note = Notification.objects.for_workspace(workspace).get(recipient=rep.user)
    assert note.kind == "sales.lead_assigned"


def test_conditions_on_language_product_industry_country_and_source(workspace, admin, rep):
    services.create_assignment_rule(
        workspace=workspace, by=admin.user, name="English fibre partners",
        countries=["hk", "SG"], languages=["en"], product_interests=["光纤", "fibre"],
        industries=["Telecom"], sources=["partner"], method="user", user=rep.user,
    )  # fmt: skip
    fit = dict(country="HK", language="en-GB", product_interest="Fibre modules",
               industry="telecom", source="partner")  # fmt: skip
    assert make_lead(workspace, **fit).owner == rep.user
    for change in ({"country": "CN"}, {"language": "zh-hans"}, {"product_interest": "服务器"},
                   {"industry": "Retail"}, {"source": "web"}):  # fmt: skip
        assert make_lead(workspace, **(fit | change)).owner_id is None, change


def test_round_robin_takes_turns_and_skips_who_may_not_own_leads(workspace, admin, east, reps):
    analyst = make_member(workspace=workspace, team=east, role_key="analyst", username="ana")
    gone = make_member(workspace=workspace, team=east, username="gone")
    platform.change_membership(membership=gone, by=admin.user, expected_version=gone.version,
                               is_active=False)  # fmt: skip
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="All",
                                    method="round_robin", team=east)  # fmt: skip
    owners = [make_lead(workspace).owner_id for _ in range(7)]
    order = [m.user_id for m in reps]
    start = order.index(owners[0])
    assert owners == [order[(start + i) % 3] for i in range(7)]
    assert analyst.user_id not in owners and gone.user_id not in owners


def test_least_loaded_then_round_robin_on_ties(workspace, admin, east, reps):
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="Load",
                                    method="least_loaded", team=east)  # fmt: skip
    busy, *others = reps
    for _ in range(2):
        Lead.objects.create(workspace=workspace, owner=busy.user, status="working")
    Lead.objects.create(workspace=workspace, owner=others[0].user, status="qualified")  # not load
    owners = [make_lead(workspace).owner_id for _ in range(4)]
    assert busy.user_id not in owners[:4]
    assert sorted(owners) == sorted([others[0].user_id, others[1].user_id] * 2)
    assert make_lead(workspace).owner_id in {m.user_id for m in reps}


def test_a_rule_whose_target_has_nobody_falls_through_to_the_next_then_the_fallback(
    workspace, admin, rep, east
):
    empty = make_team(workspace=workspace, name="空")
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="Empty team",
                                    method="round_robin", team=empty)  # fmt: skip
    services.update_routing_settings(workspace=workspace, by=admin.user,
                                     fallback_method="queue", fallback_team=east)  # fmt: skip
    lead = make_lead(workspace)
    assert lead.owner_id is None and lead.team == east and lead.assigned_at is not None
    services.update_routing_settings(workspace=workspace, by=admin.user,
                                     fallback_method="user", fallback_user=rep.user)  # fmt: skip
    assert make_lead(workspace).owner == rep.user


def test_a_lead_created_with_an_owner_keeps_it(workspace, rep, admin):
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="Admin",
                                    method="user", user=admin.user)  # fmt: skip
    lead = make_lead(workspace, owner=rep.user)
    assert lead.owner == rep.user and lead.assigned_at is not None


def test_assignment_rule_validation(workspace, admin):
    other = make_member(workspace=make_workspace_other(), username="foreigner")
    with pytest.raises(ValidationFailed) as error:
        services.create_assignment_rule(workspace=workspace, by=admin.user, name="x",
                                        countries=["China"], sources=["fax"], method="user",
                                        user=other.user)  # fmt: skip
    assert _fields(error.value) == {"countries", "sources", "user"}
    with pytest.raises(ValidationFailed) as error:
        services.create_assignment_rule(workspace=workspace, by=admin.user, name="x",
                                        method="round_robin")  # fmt: skip
    assert _fields(error.value) == {"team"}


def make_workspace_other():
    from tests.factories import make_workspace

    return make_workspace(slug="other")


def test_moving_rules_changes_which_one_wins(workspace, admin, rep, reps):
    first = services.create_assignment_rule(workspace=workspace, by=admin.user, name="A",
                                            method="user", user=reps[0].user)  # fmt: skip
    second = services.create_assignment_rule(workspace=workspace, by=admin.user, name="B",
                                             method="user", user=rep.user)  # fmt: skip
    assert make_lead(workspace).owner == reps[0].user
    rows = services.move_rule(rule=second, by=admin.user, up=True)
    assert [r.pk for r in rows] == [second.pk, first.pk]
    assert make_lead(workspace).owner == rep.user  # the cached rules were dropped


def test_manual_reassignment(workspace, admin, rep, reps, east):
    lead = make_lead(workspace)
    assert lead.owner_id is None
    lead = services.assign_lead(lead=lead, by=admin.user, owner=rep.user)
    assert lead.owner == rep.user and lead.version == 2
    outsider = make_member(workspace=make_workspace_other(), username="outsider")
    with pytest.raises(ValidationFailed) as error:
        services.assign_lead(lead=lead, by=admin.user, owner=outsider.user, method="user")
    assert _fields(error.value) == {"owner"}
    analyst = make_member(workspace=workspace, role_key="analyst", username="ana")
    with pytest.raises(ValidationFailed) as error:
        services.assign_lead(lead=lead, by=admin.user, owner=analyst.user)
    assert _fields(error.value) == {"owner"}
    lead = services.assign_lead(lead=lead, by=admin.user, team=east, method="round_robin")
    assert lead.owner_id in {m.user_id for m in reps} | {rep.user_id}
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="To rep0",
                                    method="user", user=reps[0].user)  # fmt: skip
    lead = services.assign_lead(lead=lead, by=admin.user, rerun_rules=True)
    assert lead.owner == reps[0].user
    assert (
        AuditEvent.objects.filter(action="lead.reassigned", object_id=lead.public_id).count() == 3
    )


# --- the follow-up SLA --------------------------------------------------------------------------
@pytest.fixture
def sla(workspace, admin):
    services.update_routing_settings(
        workspace=workspace, by=admin.user, weekdays=[0, 1, 2, 3, 4], day_start="09:00",
        day_end="18:00", holidays=["2026-10-01", "2026-10-02"], extra_workdays=["2026-10-10"],
    )  # fmt: skip
    services.create_sla_policy(workspace=workspace, by=admin.user, name="Partners fast",
                               sources=["partner"], first_touch_minutes=60)  # fmt: skip
    return services.create_sla_policy(workspace=workspace, by=admin.user, name="Everyone",
                                      first_touch_minutes=240)  # fmt: skip


def _route_at(workspace, moment, **fields):
    lead = Lead.objects.create(workspace=workspace, **fields)
    services.route_new_lead(lead=lead, now=moment)
    return lead


def test_due_time_counts_working_hours_from_assignment(workspace, rep, sla, admin):
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="Rep",
                                    method="user", user=rep.user)  # fmt: skip
    friday = dt.datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI)
    lead = _route_at(workspace, friday)
    assert lead.sla_due_at == dt.datetime(2026, 12, 7, 12, 0, tzinfo=SHANGHAI)
    partner = _route_at(workspace, friday, source="partner")
    assert partner.sla_due_at == dt.datetime(2026, 12, 4, 18, 0, tzinfo=SHANGHAI)
    night = _route_at(workspace, dt.datetime(2026, 9, 30, 22, 0, tzinfo=SHANGHAI))
    # 1 and 2 October are holidays, 3 and 4 a weekend
    assert night.sla_due_at == dt.datetime(2026, 10, 5, 13, 0, tzinfo=SHANGHAI)
    makeup = _route_at(workspace, dt.datetime(2026, 10, 10, 16, 0, tzinfo=SHANGHAI))
    assert makeup.sla_due_at == dt.datetime(2026, 10, 12, 11, 0, tzinfo=SHANGHAI)


def test_unassigned_leads_have_no_due_time(workspace, sla):
    assert make_lead(workspace).sla_due_at is None


def test_first_touch_records_working_minutes(workspace, rep, sla, admin):
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="Rep",
                                    method="user", user=rep.user)  # fmt: skip
    lead = _route_at(workspace, dt.datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI))
    touch_lead(lead, at=dt.datetime(2026, 12, 7, 10, 30, tzinfo=SHANGHAI), actor=rep.user)
    response = LeadResponse.objects.for_workspace(workspace).get(lead=lead)
    assert (response.working_minutes, response.met, response.owner_id) == (150, True, rep.user_id)
    late = _route_at(workspace, dt.datetime(2026, 12, 4, 17, 0, tzinfo=SHANGHAI))
    touch_lead(late, at=dt.datetime(2026, 12, 7, 15, 0, tzinfo=SHANGHAI))
    assert LeadResponse.objects.for_workspace(workspace).get(lead=late).met is False


def test_sweep_escalates_overdue_untouched_leads_to_the_managers(workspace, east, sla, admin):
    boss = make_member(workspace=workspace, role_key="sales_manager", username="boss")
    worker = make_member(workspace=workspace, team=east, manager=boss, username="worker")
    other = make_member(workspace=workspace, team=east, username="other")
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="Worker",
                                    method="user", user=worker.user)  # fmt: skip
    monday = dt.datetime(2026, 12, 7, 9, 0, tzinfo=SHANGHAI)
    overdue = _route_at(workspace, monday)
    touched = _route_at(workspace, monday)
    touch_lead(touched, at=monday + dt.timedelta(hours=1))
    lost = _route_at(workspace, monday)
    Lead.objects.for_workspace(workspace).filter(pk=lost.pk).update(status="disqualified")
    later = _route_at(workspace, monday + dt.timedelta(hours=3))
    result = services.escalate_overdue_leads(now=monday + dt.timedelta(hours=4, minutes=1))
    assert result == {"escalated": 1, "checked": 1}
    overdue.refresh_from_db()
    assert overdue.escalated_at is not None and overdue.owner == worker.user
    note = Notification.objects.for_workspace(workspace).get(kind="sales.lead_escalated")
    assert note.recipient == boss.user and note.data["owner"] == "worker"
    assert AuditEvent.objects.filter(action="lead.escalated", object_id=overdue.public_id).exists()
    response = LeadResponse.objects.for_workspace(workspace).get(lead=overdue)
    assert response.met is False and response.escalated_at is not None
    # once only; the later one when its time comes
    assert services.escalate_overdue_leads(now=monday + dt.timedelta(hours=5))["escalated"] == 0
    assert services.escalate_overdue_leads(now=monday + dt.timedelta(hours=8))["escalated"] == 1
    later.refresh_from_db()
    assert later.escalated_at is not None
    escalation_notes = Notification.objects.for_workspace(workspace).filter(
        kind="sales.lead_escalated"
    )
    assert set(escalation_notes.values_list("recipient_id", flat=True)) == {boss.user_id}
    assert other.user_id != boss.user_id


def test_escalation_may_reassign(workspace, east, admin, reps):
    services.create_sla_policy(workspace=workspace, by=admin.user, name="Strict",
                               first_touch_minutes=30, reassign_on_escalation=True)  # fmt: skip
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="Team",
                                    method="round_robin", team=east)  # fmt: skip
    monday = dt.datetime(2026, 12, 7, 10, 0, tzinfo=SHANGHAI)
    lead = _route_at(workspace, monday)
    first_owner = lead.owner_id
    services.escalate_overdue_leads(now=monday + dt.timedelta(hours=1))
    lead.refresh_from_db()
    assert lead.owner_id not in (None, first_owner)
    assert lead.escalated_at is not None  # escalated once, not again for the new owner
    assert lead.sla_due_at == monday + dt.timedelta(hours=1, minutes=30)
    # no manager in the tree: the administrators hear of it
    notes = Notification.objects.for_workspace(workspace).filter(kind="sales.lead_escalated")
    assert notes.filter(recipient=admin.user).exists()


def test_commands(workspace, admin, rep, sla, capsys):
    services.create_scoring_rule(workspace=workspace, by=admin.user, name="Web",
                                 field="source", operator="equals", value="web", points=5)  # fmt: skip
    lead = Lead.objects.create(workspace=workspace, source="web", owner=rep.user,
                               assigned_at=timezone.now() - dt.timedelta(days=30),
                               sla_due_at=timezone.now() - dt.timedelta(days=20))  # fmt: skip
    call_command("score_leads", "--workspace", "acme")
    call_command("lead_sla")
    out = capsys.readouterr().out
    assert '"changed": 1' in out and '"escalated": 1' in out
    lead.refresh_from_db()
    assert lead.score == 5 and lead.escalated_at is not None


def test_sweep_uses_the_partial_index_on_postgresql(workspace):
    if connection.vendor != "postgresql":
        pytest.skip("the plan is PostgreSQL's")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        queryset = Lead.objects.dangerously_all_workspaces().filter(
            sla_due_at__isnull=False, first_touched_at__isnull=True, escalated_at__isnull=True,
            sla_due_at__lte=timezone.now(), status__in=Lead.OPEN_STATUSES,
        )  # fmt: skip
        plan = queryset.order_by("sla_due_at", "id").explain()
    assert "lead_sla_open" in plan


# --- the compiled-rules cache -------------------------------------------------------------------
def test_routing_reads_the_rules_once_while_they_stay_the_same(
    workspace, admin, east, reps, django_assert_max_num_queries
):
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="RR",
                                    method="round_robin", team=east)  # fmt: skip
    services.create_scoring_rule(workspace=workspace, by=admin.user, name="Web",
                                 field="source", operator="equals", value="web", points=5)  # fmt: skip
    make_lead(workspace)  # compiles
    lead = Lead.objects.create(workspace=workspace, source="web")
    # stamp + members + turn + lead update + history + audit + notification
    with django_assert_max_num_queries(7):
        services.route_new_lead(lead=lead)
    assert lead.owner_id is not None and lead.score == 5
    before = routing_config.routing_config(workspace.pk)
    services.create_scoring_rule(workspace=workspace, by=admin.user, name="More",
                                 field="source", operator="equals", value="web", points=1)  # fmt: skip
    assert routing_config.routing_config(workspace.pk) is not before
    assert make_lead(workspace).score == 6


# --- many leads at once -----------------------------------------------------------------------
def _routing_world(prefix: str):
    """A workspace with every kind of target: round robin, least loaded (with an existing
    lead), one user, a queue, and a fallback team."""
    from guanxi.platform.services import create_workspace

    workspace = create_workspace(slug=f"{prefix}-ws", name=prefix)
    admin = make_member(workspace=workspace, role_key="administrator", username=f"{prefix}-a")
    teams = {name: make_team(workspace=workspace, name=name) for name in ("rr", "ll", "q", "fb")}
    people = {
        name: [make_member(workspace=workspace, team=team, username=f"{prefix}-{name}{i}")
               for i in range(3)]
        for name, team in teams.items()
    }  # fmt: skip
    by = admin.user
    with acting_in(workspace):
        make_lead(workspace, owner=people["ll"][1].user, status="working")  # one lead of load
        services.create_scoring_rule(workspace=workspace, by=by, name="Buyer", field="title",
                                     operator="contains", value="经理", points=20)  # fmt: skip
        services.create_assignment_rule(workspace=workspace, by=by, name="RR",
                                        regions=["广东省"], method="round_robin", team=teams["rr"])  # fmt: skip
        services.create_assignment_rule(workspace=workspace, by=by, name="LL",
                                        regions=["浙江省"], method="least_loaded", team=teams["ll"])  # fmt: skip
        services.create_assignment_rule(workspace=workspace, by=by, name="VIP", min_score=20,
                                        method="user", user=people["q"][2].user)  # fmt: skip
        services.create_assignment_rule(workspace=workspace, by=by, name="Q", regions=["四川省"],
                                        method="queue", team=teams["q"])  # fmt: skip
        services.update_routing_settings(workspace=workspace, by=by, fallback_method="round_robin",
                                         fallback_team=teams["fb"])  # fmt: skip
        services.create_sla_policy(workspace=workspace, by=by, name="All", first_touch_minutes=240)
    return workspace


INCOMING = [("广东省", ""), ("浙江省", ""), ("广东省", "采购经理"), ("浙江省", ""), ("四川省", ""),
            ("北京市", ""), ("广东省", ""), ("浙江省", ""), ("浙江省", ""), ("北京市", ""),
            ("广东省", ""), ("浙江省", "")]  # fmt: skip


def _outcome(workspace):
    from guanxi.platform.models import AuditEvent, Notification

    with acting_in(workspace):
        leads = Lead.objects.for_workspace(workspace).exclude(status="working").order_by("pk")
        rows = [(lead.owner.username.split("-", 1)[1] if lead.owner else None,
                 lead.team.name if lead.team else None, lead.score, lead.sla_due_at is not None)
                for lead in leads.select_related("owner", "team")]  # fmt: skip
        history = [(row.owner_id, row.score) for row in
                   Lead.history.filter(history_type="+", id__in=leads).order_by("id")]  # fmt: skip
        audits = AuditEvent.objects.filter(workspace=workspace, action="lead.assigned").count()
        notes = Notification.objects.for_workspace(workspace).filter(
            kind="sales.lead_assigned").count()  # fmt: skip
    return rows, [h[1] for h in history], audits, notes, [lead.owner_id for lead in leads]


def test_leads_routed_together_end_as_if_one_by_one():
    from guanxi.sales import leads as lead_services

    one = _routing_world("one")
    many = _routing_world("many")
    with acting_in(one):
        for n, (region, title) in enumerate(INCOMING):
            lead_services.create_lead(workspace=one, by=None, source="web", full_name=f"客户{n}",
                                      phone=f"1391234{n:04d}", region=region, title=title)  # fmt: skip
    with acting_in(many), lead_services.created_together(by=None) as batch:
        for n, (region, title) in enumerate(INCOMING):
            lead_services.create_lead(workspace=many, by=None, source="web", full_name=f"客户{n}",
                                      phone=f"1391234{n:04d}", region=region, title=title)  # fmt: skip
        assert all(lead.owner_id is None for lead in batch)  # routed when the block ends
    first, second = _outcome(one), _outcome(many)
    assert first[:4] == second[:4]
    assert len({row[0] for row in first[0] if row[1] == "rr"}) == 3  # turns went round
    assert second[2] == len(INCOMING)  # each assignment audited
    assert second[3] == len(INCOMING) - 1  # each owner told; the queue's lead has none
    _rows, _scores, _audits, _notes, owners = second
    with acting_in(many):
        history_owners = list(Lead.history.filter(history_type="+", id__in=Lead.objects.filter(
            workspace=many).exclude(status="working")).order_by("id").values_list(
            "owner_id", flat=True))  # fmt: skip
    assert history_owners == owners  # the "created" history rows show them routed


def test_created_together_gives_unrouted_leads_to_who_created_them(workspace, admin):
    from guanxi.sales import leads as lead_services

    with lead_services.created_together(by=admin.user):
        lead = lead_services.create_lead(workspace=workspace, by=admin.user, full_name="周慧",
                                         phone="13612345678")  # fmt: skip
    lead.refresh_from_db()
    assert lead.owner == admin.user and lead.assigned_at is not None


def test_open_loads_count_each_members_new_and_working_leads(workspace, reps):
    user_ids = [rep.user_id for rep in reps]
    make_lead(workspace, owner=reps[0].user, status="working")
    make_lead(workspace, owner=reps[0].user)
    make_lead(workspace, owner=reps[1].user, status="nurturing")  # not open work
    gone = make_lead(workspace, owner=reps[1].user)
    Lead.objects.for_workspace(workspace).filter(pk=gone.pk).update(deleted_at=timezone.now())
    assert assignment.open_loads(workspace.pk, user_ids) == {reps[0].user_id: 2}


@override_settings(LEAD_RULES_CACHE_SECONDS=60)
def test_with_a_cache_time_the_rules_and_members_are_read_once(workspace, admin, east, reps):
    routing_config.forget(workspace.pk)
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="RR",
                                    method="round_robin", team=east)  # fmt: skip
    make_lead(workspace)  # reads the rules and the team
    lead = Lead(workspace=workspace, source="web")
    with CaptureQueriesContext(connection) as queries:
        services.route_unsaved_lead(lead=lead)
    assert len(queries) == 1 and "counter" in queries[0]["sql"]  # the turn alone
    assert lead.owner_id in {rep.user_id for rep in reps}
    # a change of the rules drops what the process kept: rules and members read again
    services.create_scoring_rule(workspace=workspace, by=admin.user, name="Web",
                                 field="source", operator="equals", value="web", points=5)  # fmt: skip
    again = Lead(workspace=workspace, source="web")
    with CaptureQueriesContext(connection) as queries:
        services.route_unsaved_lead(lead=again)
    assert len(queries) > 2 and again.score == 5


@override_settings(LEAD_RULES_CACHE_SECONDS=60)
def test_with_a_cache_time_least_loaded_counts_once_and_keeps_count(workspace, admin, east, reps):
    routing_config.forget(workspace.pk)
    services.create_assignment_rule(workspace=workspace, by=admin.user, name="LL",
                                    method="least_loaded", team=east)  # fmt: skip
    busy = reps[0]
    for _ in range(2):
        make_lead(workspace, owner=busy.user, status="working")
    make_lead(workspace)  # reads the rules, the team and the loads: the lead goes to a free rep
    given = []
    with CaptureQueriesContext(connection) as queries:
        for _ in range(4):
            lead = Lead(workspace=workspace, source="web")
            services.route_unsaved_lead(lead=lead)
            given.append(lead.owner_id)
    assert not any("COUNT(" in q["sql"].upper() for q in queries)  # the kept count, kept up
    assert busy.user_id not in given[:2]  # the others first, as counted plus what it gave
    loads = assignment._loads_kept[(workspace.pk, east.pk)][1]
    assert sum(loads.values()) == 2 + 5  # the two working leads, the five it gave
    assert max(loads.values()) - min(loads.values()) <= 1
    # a change of the rules drops the kept count too
    services.create_scoring_rule(workspace=workspace, by=admin.user, name="Web",
                                 field="source", operator="equals", value="web", points=5)  # fmt: skip
    assert (workspace.pk, east.pk) not in assignment._loads_kept

"""Visits API: a day's visits, check-in and check-out (idempotent, validated), outcome."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from guanxi.customers import services as customers
from guanxi.sales import visits
from guanxi.sales.models import VisitCheckIn
from guanxi.timeline import services as timeline
from guanxi.timeline.models import Activity, Interaction
from tests.conftest import ApiClient
from tests.factories import make_member

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture
def boss(workspace, team):
    return make_member(workspace=workspace, role_key="sales_manager", team=team, username="wang")


@pytest.fixture
def rep(workspace, team, boss):
    return make_member(workspace=workspace, role_key="sales_rep", team=team, manager=boss,
                       username="li.na")  # fmt: skip


@pytest.fixture
def customer(workspace, rep):
    return customers.create_account(workspace=workspace, by=rep.user, name="远景贸易")


def today():
    return timezone.localtime(timezone.now(), SHANGHAI).date()


def plan(member, customer, due_at, subject="拜访远景"):
    return timeline.create_activity(
        workspace=member.workspace, by=member.user, kind="visit", subject=subject,
        account=customer, due_at=due_at,
    )  # fmt: skip


def at(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def test_list_a_day_by_time_and_by_person(rep, boss, customer):
    day = today()
    plan(rep, customer, at(day, 15), "下午")
    plan(rep, customer, at(day, 9), "上午")
    plan(boss, customer, at(day, 10), "经理的")
    plan(rep, customer, at(day + timedelta(days=1), 0, 0), "明天")
    plan(rep, customer, at(day, 23, 59), "深夜")
    mine = ApiClient(rep).get("/visits")
    assert mine.status_code == 200
    assert [v["subject"] for v in mine.json()] == ["上午", "下午", "深夜"]
    first = mine.json()[0]
    assert first["status"] == "planned" and first["customer"]["name"] == "远景贸易"
    assert first["check_in"] is None and first["late"] is False
    team = ApiClient(boss).get("/visits", date=day.isoformat())
    assert [v["subject"] for v in team.json()] == ["上午", "经理的", "下午", "深夜"]
    only_rep = ApiClient(boss).get("/visits", date=day.isoformat(), user_id=rep.user.public_id)
    assert [v["assigned_to"] for v in only_rep.json()] == ["li.na"] * 3
    assert [v["subject"] for v in ApiClient(boss).get("/visits", user_id="me").json()] == ["经理的"]
    tomorrow = ApiClient(rep).get("/visits", date=(day + timedelta(days=1)).isoformat())
    assert [v["subject"] for v in tomorrow.json()] == ["明天"]
    # the rep does not see the manager's visit, even when asking for it
    assert ApiClient(rep).get("/visits", user_id=boss.user.public_id).json() == []


def test_bad_filters_are_422_naming_the_field(rep):
    response = ApiClient(rep).get("/visits", date="2026-02-30")
    assert response.status_code == 422 and "date" in response.json()["errors"][0]["field"]
    response = ApiClient(rep).get("/visits", user_id="usr_nobody")
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "user_id"


def test_check_in_out_and_outcome(rep, customer):
    visit = plan(rep, customer, at(today(), 10))
    api = ApiClient(rep)
    url = f"/visits/{visit.public_id}"
    body = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 25.5,
            "client_time": "2026-12-03T10:02:00+08:00"}  # fmt: skip
    first = api.post(url + "/check-in", body)
    assert first.status_code == 201, first.content
    data = first.json()
    assert data["status"] == "checked_in" and data["check_in"]["has_location"] is True
    assert (
        data["check_in"]["latitude"] == "31.230400"
        or float(data["check_in"]["latitude"]) == 31.2304
    )
    # a retry (slow connection) is harmless: 200, the first check-in unchanged
    again = api.post(url + "/check-in", {"latitude": 1, "longitude": 1})
    assert again.status_code == 200
    assert again.json()["check_in"]["id"] == data["check_in"]["id"]
    assert float(again.json()["check_in"]["latitude"]) == 31.2304
    assert VisitCheckIn.objects.for_workspace(rep.workspace).filter(kind="check_in").count() == 1
    out = api.post(url + "/check-out", {})
    assert out.status_code == 201 and out.json()["status"] == "checked_out"
    assert out.json()["check_out"]["has_location"] is False
    assert out.json()["check_out"]["duration_seconds"] >= 0
    assert api.post(url + "/check-out", {}).status_code == 200
    logged = api.post(url + "/outcome", {"outcome": "met", "note": "客户满意",
                                         "next_step": "报价", "next_on": str(today() + timedelta(days=2)),
                                         "next_kind": "call"})  # fmt: skip
    assert logged.status_code == 200, logged.content
    result = logged.json()
    assert result["visit"]["status"] == "done" and result["visit"]["outcome"] == "met"
    interaction = Interaction.objects.for_workspace(rep.workspace).get(
        public_id=result["interaction_id"]
    )
    assert interaction.channel == "visit" and interaction.account == customer
    assert interaction.related_type == "timeline.activity"
    assert interaction.related_id == visit.public_id and "客户满意" in interaction.body
    follow_up = Activity.objects.for_workspace(rep.workspace).get(public_id=result["follow_up_id"])
    assert (follow_up.kind, follow_up.subject, follow_up.status) == ("call", "报价", "open")
    assert result["visit"]["interaction_id"] == result["interaction_id"]
    # logged once: a second outcome is refused, the timeline keeps one entry
    second = api.post(url + "/outcome", {"outcome": "not_met"})
    assert second.status_code == 422 and second.json()["errors"][0]["field"] == "status"
    # a closed visit takes no new check-in
    assert api.post(url + "/check-in", {}).status_code == 200  # already there: idempotent


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latitude": 90.5, "longitude": 0}, "latitude"),
        ({"latitude": -91, "longitude": 0}, "latitude"),
        ({"latitude": 0, "longitude": 180.01}, "longitude"),
        ({"latitude": 0, "longitude": -181}, "longitude"),
        ({"latitude": 30}, "longitude"),
        ({"latitude": 30, "longitude": 120, "accuracy": -1}, "accuracy"),
        ({"client_time": "yesterday"}, "client_time"),
    ],
)
def test_check_in_validation_names_the_field(rep, customer, body, field):
    visit = plan(rep, customer, at(today(), 10))
    response = ApiClient(rep).post(f"/visits/{visit.public_id}/check-in", body)
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"][0]["field"] == field
    assert not VisitCheckIn.objects.for_workspace(rep.workspace).exists()


def test_order_of_steps_is_enforced(rep, customer):
    visit = plan(rep, customer, at(today(), 10))
    api = ApiClient(rep)
    url = f"/visits/{visit.public_id}"
    response = api.post(url + "/check-out", {})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "check_in"
    api.post(url + "/check-in", {})
    response = api.post(url + "/outcome", {"outcome": "met"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "check_out"
    api.post(url + "/check-out", {})
    response = api.post(url + "/outcome", {"outcome": "maybe"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "outcome"
    response = api.post(url + "/outcome", {"outcome": "met", "next_step": "再来"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "next_on"
    past = str(today() - timedelta(days=1))
    response = api.post(url + "/outcome", {"outcome": "met", "next_on": past})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "next_on"
    visit.refresh_from_db()
    assert visit.status == "open"


def test_cancelled_visit_and_non_visits(rep, customer):
    visit = plan(rep, customer, at(today(), 10))
    timeline.complete_activity(activity=visit, by=rep.user, expected_version=1, cancelled=True)
    response = ApiClient(rep).post(f"/visits/{visit.public_id}/check-in", {})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "status"
    call = timeline.create_activity(workspace=rep.workspace, by=rep.user, kind="call",
                                    subject="电话", account=customer, due_at=at(today(), 11))  # fmt: skip
    assert ApiClient(rep).post(f"/visits/{call.public_id}/check-in", {}).status_code == 404


def test_visibility_other_reps_404_manager_reads_but_does_not_check_in(
    workspace, rep, boss, customer
):
    outsider = make_member(workspace=workspace, role_key="sales_rep", username="zhao")
    visit = plan(rep, customer, at(today(), 10))
    url = f"/visits/{visit.public_id}"
    for path in ("", "/check-in", "/check-out", "/outcome"):
        call = ApiClient(outsider).get if not path else ApiClient(outsider).post
        response = call(url + path) if not path else call(url + path, {"outcome": "met"})
        assert response.status_code == 404, path
    assert ApiClient(boss).get(url).status_code == 200
    response = ApiClient(boss).post(url + "/check-in", {})
    assert response.status_code == 403 and response.json()["code"] == "forbidden"
    assert ApiClient(outsider).get("/visits", user_id=rep.user.public_id).json() == []


def test_late_and_missed_flags(rep, customer):
    day = today() - timedelta(days=1)
    late = plan(rep, customer, at(day, 9), "迟到")
    plan(rep, customer, at(day, 13), "错过")
    mark, _ = visits.check_in(activity=late, by=rep.user)
    VisitCheckIn.objects.for_workspace(rep.workspace).filter(pk=mark.pk).update(at=at(day, 9, 16))
    rows = {v["subject"]: v for v in ApiClient(rep).get("/visits", date=str(day)).json()}
    assert rows["迟到"]["late"] is True and rows["迟到"]["missed"] is False
    assert rows["错过"]["missed"] is True and rows["错过"]["late"] is False
    VisitCheckIn.objects.for_workspace(rep.workspace).filter(pk=mark.pk).update(at=at(day, 9, 14))
    rows = {v["subject"]: v for v in ApiClient(rep).get("/visits", date=str(day)).json()}
    assert rows["迟到"]["late"] is False


def test_list_stays_within_a_fixed_number_of_queries(rep, customer, django_assert_max_num_queries):
    for hour in range(8, 18):
        visit = plan(rep, customer, at(today(), hour), f"拜访{hour}")
        visits.check_in(activity=visit, by=rep.user, latitude=31, longitude=121)
    api = ApiClient(rep)
    with django_assert_max_num_queries(8):
        response = api.get("/visits")
    assert len(response.json()) == 10

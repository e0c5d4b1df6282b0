"""Field visit pages: today's visits on a phone, check-in and out, the outcome, the team."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.customers import services as customers
from guanxi.customers.services import AddressInput, ContactPointInput
from guanxi.sales import visits
from guanxi.sales.models import VisitCheckIn
from guanxi.timeline import services as timeline
from guanxi.timeline.models import Activity, Channel, Interaction
from tests.factories import make_member

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
HTMX = {"HX-Request": "true"}


def browser(member):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(member.user)
    return client


@pytest.fixture
def boss(workspace, team):
    return make_member(workspace=workspace, role_key="sales_manager", team=team, username="wang")


@pytest.fixture
def rep(workspace, team, boss):
    return make_member(workspace=workspace, role_key="sales_rep", team=team, manager=boss,
                       username="li.na")  # fmt: skip


@pytest.fixture
def outsider(workspace):
    return make_member(workspace=workspace, role_key="sales_rep", username="zhao")


@pytest.fixture
def customer(workspace, rep):
    account = customers.create_account(
        workspace=workspace, by=rep.user, name="远景贸易",
        addresses=[AddressInput(country="CN", region="上海市", city="上海市", district="浦东新区",
                                street="世纪大道100号")],
    )  # fmt: skip
    return customers.create_contact(
        workspace=workspace, by=rep.user, family_name="张", given_name="伟", account=account,
        contact_points=[ContactPointInput(kind="phone", value="138 0013 8000")],
    )  # fmt: skip


def local(day, hour, minute=0):
    return datetime.combine(day, time(hour, minute), tzinfo=SHANGHAI)


def plan(member, customer, due_at, subject="拜访张伟"):
    return timeline.create_activity(
        workspace=member.workspace, by=member.user, kind="visit", subject=subject,
        contact=customer, due_at=due_at,
    )  # fmt: skip


def today():
    return timezone.localtime(timezone.now(), SHANGHAI).date()


def test_todays_visits_with_map_links_phone_and_status(
    rep, customer, django_assert_max_num_queries
):
    day = today()
    for hour in (16, 9, 11):
        plan(rep, customer, local(day, hour), subject=f"拜访 {hour}点")
    timeline.create_activity(workspace=rep.workspace, by=rep.user, kind="call", subject="只是电话",
                             contact=customer, due_at=local(day, 10))  # fmt: skip
    client = browser(rep)
    with django_assert_max_num_queries(12):
        response = client.get("/field/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.index("拜访 9点") < page.index("拜访 11点") < page.index("拜访 16点")
    assert "只是电话" not in page
    assert 'href="tel:+8613800138000"' in page
    assert 'href="geo:0,0?q=%E4%B8%8A%E6%B5%B7' in page  # the account's address, URL-encoded
    assert "https://www.openstreetmap.org/search?query=" in page
    assert page.count('class="gx-visit-go"') == 3  # three planned visits, each "Check in"
    assert "<script" in page and "guanxi/field.js" in page and "onclick" not in page


def test_today_is_the_day_in_the_users_time_zone(rep, customer):
    day = today()
    plan(rep, customer, local(day, 0, 5), subject="一早")
    plan(rep, customer, local(day, 23, 55), subject="深夜")
    plan(rep, customer, local(day, 0, 5) - timedelta(minutes=10), subject="昨天深夜")
    plan(rep, customer, local(day + timedelta(days=1), 0, 0), subject="明天零点")
    page = browser(rep).get("/field/").content.decode()
    assert "一早" in page and "深夜" in page
    assert "昨天深夜" not in page and "明天零点" not in page
    tomorrow = browser(rep).get("/field/", {"day": (day + timedelta(days=1)).isoformat()})
    assert "明天零点" in tomorrow.content.decode()
    yesterday = browser(rep).get("/field/", {"day": (day - timedelta(days=1)).isoformat()})
    assert "昨天深夜" in yesterday.content.decode()
    # a user who set their own zone sees their own day: 23:55 in Shanghai is 16:55 in Paris,
    # and 00:05 Shanghai is still yesterday evening there (the day named: between 16:00 and
    # 23:00 UTC, Paris's today is Shanghai's yesterday)
    rep.user.time_zone = "Europe/Paris"
    rep.user.save()
    page = browser(rep).get("/field/", {"day": day.isoformat()}).content.decode()
    assert "深夜" in page and "明天零点" in page and "一早" not in page


def test_check_in_with_location_then_out_then_outcome_with_follow_up(rep, customer):
    visit = plan(rep, customer, local(today(), 10))
    client = browser(rep)
    card = client.post(
        f"/field/visits/{visit.public_id}/check-in/",
        {"latitude": "31.2397", "longitude": "121.4998", "accuracy": "12",
         "client_time": "2026-12-03T10:01:00+08:00"},
        headers=HTMX,
    )  # fmt: skip
    assert card.status_code == 200
    assert "Check out" in card.content.decode() and "location recorded" in card.content.decode()
    mark = VisitCheckIn.objects.for_workspace(rep.workspace).get(kind="check_in")
    assert (float(mark.latitude), float(mark.longitude), mark.accuracy) == (31.2397, 121.4998, 12)
    assert mark.user == rep.user and mark.client_time is not None
    card = client.post(f"/field/visits/{visit.public_id}/check-out/", {}, headers=HTMX)
    assert 'name="outcome" value="order_taken"' in card.content.decode()
    left = VisitCheckIn.objects.for_workspace(rep.workspace).get(kind="check_out")
    assert left.duration_seconds is not None and left.latitude is None
    next_day = today() + timedelta(days=7)
    card = client.post(
        f"/field/visits/{visit.public_id}/outcome/",
        {"outcome": "order_taken", "note": "订了200台", "next_step": "送样品",
         "next_on": next_day.isoformat(), "next_kind": "visit"},
        headers=HTMX,
    )  # fmt: skip
    assert card.status_code == 200 and "订了200台" in card.content.decode()
    visit.refresh_from_db()
    assert visit.status == Activity.Status.DONE and visit.interaction is not None
    interaction = visit.interaction
    assert interaction.channel == Channel.VISIT
    assert interaction.contact == customer and interaction.related_id == visit.public_id
    assert "Order taken" in interaction.body and "订了200台" in interaction.body
    follow_up = Activity.objects.for_workspace(rep.workspace).get(subject="送样品")
    assert follow_up.kind == "visit" and follow_up.assigned_to == rep.user
    assert timezone.localtime(follow_up.due_at, SHANGHAI) == local(next_day, 10)
    left.refresh_from_db()
    assert left.outcome == "order_taken"


def test_check_in_without_location_and_without_javascript(rep, customer):
    visit = plan(rep, customer, local(today(), 10))
    response = browser(rep).post(f"/field/visits/{visit.public_id}/check-in/", {})
    assert response.status_code == 302 and response["Location"].startswith("/field/?day=")
    mark = VisitCheckIn.objects.for_workspace(rep.workspace).get()
    assert mark.latitude is None and mark.longitude is None and mark.accuracy is None
    assert "without location" in browser(rep).get("/field/").content.decode()


def test_bad_positions_and_order_are_refused_on_the_card(rep, customer):
    visit = plan(rep, customer, local(today(), 10))
    client = browser(rep)
    url = f"/field/visits/{visit.public_id}/"
    card = client.post(url + "check-out/", {}, headers=HTMX)
    assert card.status_code == 422 and "check in before checking out" in card.content.decode()
    card = client.post(url + "check-in/", {"latitude": "91", "longitude": "10"}, headers=HTMX)
    assert card.status_code == 422 and "latitude" in card.content.decode()
    card = client.post(url + "outcome/", {"outcome": "met"}, headers=HTMX)
    assert card.status_code == 422 and "check out before" in card.content.decode()
    assert not VisitCheckIn.objects.for_workspace(rep.workspace).exists()


def test_another_reps_visit_is_404_and_the_manager_may_watch_but_not_check_in(
    rep, boss, outsider, customer
):
    visit = plan(rep, customer, local(today(), 10))
    url = f"/field/visits/{visit.public_id}/check-in/"
    assert browser(outsider).post(url, {}).status_code == 404
    assert "拜访张伟" not in browser(outsider).get("/field/team/").content.decode()
    assert browser(boss).post(url, {}).status_code == 403
    assert not VisitCheckIn.objects.for_workspace(rep.workspace).exists()


def test_team_view_marks_late_and_missed(rep, boss, outsider, customer,
                                         django_assert_max_num_queries):  # fmt: skip
    day = today() - timedelta(days=1)
    on_time = plan(rep, customer, local(day, 10), subject="准时")
    late = plan(rep, customer, local(day, 11), subject="迟到")
    plan(rep, customer, local(day, 14), subject="错过")
    plan(outsider, customer, local(day, 10), subject="别人的")
    first, _ = visits.check_in(activity=on_time, by=rep.user, latitude=31.2, longitude=121.5,
                               accuracy=30)  # fmt: skip
    second, _ = visits.check_in(activity=late, by=rep.user)
    VisitCheckIn.objects.for_workspace(rep.workspace).filter(pk=first.pk).update(
        at=local(day, 10, 5)
    )
    VisitCheckIn.objects.for_workspace(rep.workspace).filter(pk=second.pk).update(
        at=local(day, 11, 40)
    )
    client = browser(boss)
    with django_assert_max_num_queries(12):
        response = client.get("/field/team/", {"day": day.isoformat()})
    page = response.content.decode()
    assert "别人的" not in page and "li.na" in page
    rows = [row.split("</tr>")[0] for row in page.split("<tr")[2:]]
    row_of = {name: next(r for r in rows if name in r) for name in ("准时", "迟到", "错过")}
    assert "gx-visit-late" not in row_of["准时"] and "(±30 m)" in row_of["准时"]
    assert "10:05" in row_of["准时"]
    assert "gx-visit-late" in row_of["迟到"] and "not given" in row_of["迟到"]
    assert "gx-visit-missed" in row_of["错过"] and "gx-visit-missed" not in row_of["准时"]
    assert "1 late" in page and "1 missed" in page
    # a rep's team page shows only their own visits
    theirs = browser(outsider).get("/field/team/", {"day": day.isoformat()}).content.decode()
    assert "别人的" in theirs and "准时" not in theirs


def test_plan_a_visit_with_the_quick_log_chooser(rep, customer):
    client = browser(rep)
    choices = client.get("/log/customers/", {"q": "张伟"}).content.decode()
    assert f'value="contacts:{customer.public_id}"' in choices
    day = today() + timedelta(days=1)
    response = client.post("/field/plan/", {"customer": f"contacts:{customer.public_id}",
                                            "day": day.isoformat(), "time": "14:30"})  # fmt: skip
    assert response.status_code == 302 and response["Location"] == f"/field/?day={day}"
    visit = Activity.objects.for_workspace(rep.workspace).get(kind="visit")
    assert timezone.localtime(visit.due_at, SHANGHAI) == local(day, 14, 30)
    assert visit.subject == "Visit 张伟" and visit.assigned_to == rep.user
    refused = client.post("/field/plan/", {"customer": "", "day": day.isoformat(), "time": "25:99"})
    assert refused.status_code == 422
    assert "Choose the customer" in refused.content.decode()
    assert "Give the time" in refused.content.decode()
    assert Activity.objects.for_workspace(rep.workspace).count() == 1


def test_outcome_writes_one_interaction_only(rep, customer):
    visit = plan(rep, customer, local(today(), 10))
    visits.check_in(activity=visit, by=rep.user)
    visits.check_out(activity=visit, by=rep.user)
    client = browser(rep)
    url = f"/field/visits/{visit.public_id}/outcome/"
    assert client.post(url, {"outcome": "not_met"}, headers=HTMX).status_code == 200
    again = client.post(url, {"outcome": "met"}, headers=HTMX)
    assert again.status_code == 422
    assert Interaction.objects.for_workspace(rep.workspace).filter(channel="visit").count() == 1

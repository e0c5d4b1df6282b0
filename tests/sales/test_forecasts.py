"""Forecasts and targets: periods, roll-up along the manager tree, adjustments kept apart,
currencies never mixed, attainment, snapshots, visibility and query counts — every expected
figure worked out by hand from the deals below."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from guanxi.platform.errors import ValidationFailed
from guanxi.sales import forecasts
from guanxi.sales.forecasts import parse_period
from guanxi.sales.models import ForecastSnapshotLine, Opportunity
from tests.factories import make_member
from tests.sales.forecast_world import at, build_org, deal

pytestmark = pytest.mark.django_db
Q4 = "2026-Q4"


@pytest.fixture
def org(workspace):
    org = build_org(workspace)
    # rep_a: commit 100 and best case 50 in Q4; a USD commit of 70; a deal for January
    deal(org, org.rep_a, "negotiation", 100, close=date(2026, 12, 31))
    deal(org, org.rep_a, "proposal", 50, close=date(2026, 10, 1))
    deal(org, org.rep_a, "negotiation", 70, close=date(2026, 11, 15), currency="USD")
    deal(org, org.rep_a, "negotiation", 999, close=date(2027, 1, 1))
    # rep_b: pipeline 30, and a lost deal closed in Q4 (omitted 40)
    deal(org, org.rep_b, "qualification", 30, close=date(2026, 11, 30))
    deal(org, org.rep_b, "closed_lost", 40, closed_at=at(2026, 10, 3, 9, 0))
    # mid's own commit 10
    deal(org, org.mid, "negotiation", 10, close=date(2026, 10, 31))
    # rep_c: won 200 on the last evening of the year (Shanghai), and 500 won just after
    # midnight on 1 January in Shanghai — still 31 December in UTC
    deal(org, org.rep_c, "closed_won", 200, closed_at=at(2026, 12, 31, 23, 30))
    deal(org, org.rep_c, "closed_won", 500, closed_at=at(2027, 1, 1, 0, 30))
    return org


def _amounts(numbers):
    return {k: Decimal(v) for k, v in numbers.items()}


def _cats(pipeline=0, best_case=0, commit=0, closed=0, omitted=0):
    return {k: Decimal(v) for k, v in locals().items()}


@pytest.mark.parametrize(
    ("text", "key", "start", "end"),
    [
        ("2026-12", "2026-12", date(2026, 12, 1), date(2026, 12, 31)),
        ("2026-02", "2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2028-02", "2028-02", date(2028, 2, 1), date(2028, 2, 29)),
        ("2026-Q4", "2026-Q4", date(2026, 10, 1), date(2026, 12, 31)),
        ("2026-q1", "2026-Q1", date(2026, 1, 1), date(2026, 3, 31)),
    ],
)
def test_periods(text, key, start, end):
    period = parse_period(text)
    assert (period.key, period.start, period.end) == (key, start, end)


@pytest.mark.parametrize("text", ["", "2026", "2026-13", "2026-00", "2026-Q5", "Q4-2026", "x"])
def test_bad_periods_name_the_field(text):
    with pytest.raises(ValidationFailed) as caught:
        parse_period(text)
    assert caught.value.errors[0][0] == "period"


def test_custom_ranges_only_where_allowed():
    period = parse_period("2026-01-15..2026-02-14", allow_range=True)
    assert (period.start, period.end) == (date(2026, 1, 15), date(2026, 2, 14))
    with pytest.raises(ValidationFailed):
        parse_period("2026-01-15..2026-02-14")
    with pytest.raises(ValidationFailed):
        parse_period("2026-03-01..2026-02-01", allow_range=True)


def test_roll_up_across_three_levels(org, api):
    body = api(org.boss).get("/forecasts", period=Q4).json()
    assert body["username"] == "boss" and body["currency"] == "CNY"
    assert _amounts(body["totals"]) == _cats(30, 50, 110, 200, 40)
    assert body["other_currencies"] == [
        {"currency": "USD", "totals": {**{k: "0.00" for k in body["totals"]}, "commit": "70.00"}}
    ]
    reports = {r["username"]: r for r in body["reports"]}
    assert list(reports) == ["mid", "rep_c"]
    assert _amounts(reports["mid"]["totals"]) == _cats(30, 50, 110, 0, 40)
    assert reports["mid"]["has_reports"] and not reports["rep_c"]["has_reports"]
    assert _amounts(reports["rep_c"]["totals"]) == _cats(closed=200)
    mid = api(org.mid).get("/forecasts", period=Q4).json()
    assert [r["username"] for r in mid["reports"]] == ["rep_a", "rep_b"]
    assert _amounts(mid["reports"][0]["totals"]) == _cats(0, 50, 100)


def test_period_boundaries_in_the_workspace_time_zone(org, api):
    client = api(org.admin)
    december = client.get("/forecasts", period="2026-12", user_id="boss").json()
    assert Decimal(december["totals"]["commit"]) == 100  # rep_a's deal of 31 December
    assert Decimal(december["totals"]["closed"]) == 200  # 23:30 on 31 December, Shanghai
    january = client.get("/forecasts", period="2027-01", user_id="boss").json()
    assert Decimal(january["totals"]["commit"]) == 999
    assert Decimal(january["totals"]["closed"]) == 500  # 16:30 UTC on 31 December
    q1 = client.get("/forecasts", period="2027-Q1", user_id="rep_c").json()
    assert Decimal(q1["totals"]["closed"]) == 500


def test_adjustments_are_kept_apart_from_the_reps_numbers(org, api):
    boss = api(org.boss)
    response = boss.post(
        "/forecasts/adjustments",
        {"period": Q4, "user_id": org.mid.public_id, "category": "commit", "amount": "90",
         "note": "客户预算推迟"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    assert response.json()["adjusted_by"] == "boss"
    body = boss.get("/forecasts", period=Q4).json()
    mid = body["reports"][0]
    assert Decimal(mid["totals"]["commit"]) == 110  # the reps' numbers, untouched
    assert Decimal(mid["adjusted"]["commit"]) == 90
    assert [(a["category"], a["adjusted_by"], a["note"]) for a in mid["adjustments"]] == [
        ("commit", "boss", "客户预算推迟")
    ]
    assert Decimal(body["totals"]["commit"]) == 110
    assert Decimal(body["adjusted"]["commit"]) == 90  # own 0 + mid 90 + rep_c 0
    assert Decimal(body["adjusted"]["best_case"]) == 50  # not adjusted: the roll-up
    # the rep still sees their own numbers, unadjusted
    rep_a = api(org.rep_a).get("/forecasts", period=Q4).json()
    assert Decimal(rep_a["totals"]["commit"]) == 100
    # a later adjustment wins; the history keeps both
    boss.post("/forecasts/adjustments", {"period": Q4, "user_id": "mid", "category": "commit",
                                         "amount": 95})  # fmt: skip
    again = boss.get("/forecasts", period=Q4).json()
    assert Decimal(again["adjusted"]["commit"]) == 95
    history = boss.get("/forecasts/adjustments", period=Q4, user_id="mid").json()
    assert [Decimal(a["amount"]) for a in history] == [90, 95]


def test_adjustment_validation_and_rights(org, api):
    boss = api(org.boss)
    bad = boss.post("/forecasts/adjustments",
                    {"period": "2026-Q9", "user_id": "mid", "category": "hope", "amount": "-1"})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "period"
    bad = boss.post("/forecasts/adjustments",
                    {"period": Q4, "user_id": "mid", "category": "hope", "amount": "-1"})  # fmt: skip
    assert {e["field"] for e in bad.json()["errors"]} == {"category", "amount"}
    rep = api(org.rep_a)
    own = rep.post("/forecasts/adjustments",
                   {"period": Q4, "user_id": "rep_a", "category": "commit", "amount": 1})  # fmt: skip
    assert own.status_code == 403
    other = rep.post("/forecasts/adjustments",
                     {"period": Q4, "user_id": "rep_b", "category": "commit", "amount": 1})  # fmt: skip
    assert other.status_code == 404


def test_who_sees_whose_forecast(org, api):
    assert api(org.rep_a).get("/forecasts", period=Q4, user_id="rep_b").status_code == 404
    assert api(org.rep_a).get("/forecasts", period=Q4, user_id="nobody").status_code == 404
    assert api(org.mid).get("/forecasts", period=Q4, user_id="boss").status_code == 404
    assert api(org.mid).get("/forecasts", period=Q4, user_id="rep_c").status_code == 404
    assert api(org.mid).get("/forecasts", period=Q4, user_id="rep_a").status_code == 200
    assert (
        api(org.boss).get("/forecasts", period=Q4, user_id=org.rep_a.public_id).status_code == 200
    )
    assert api(org.admin).get("/forecasts", period=Q4, user_id="rep_c").status_code == 200
    assert api(org.boss).get("/forecasts", period="2026-Q5").status_code == 422


def test_targets_attainment_and_roll_up(org, api):
    admin = api(org.admin)
    for who, amount in (("rep_c", "400"), ("mid", "100")):
        response = admin.post("/targets", {"period": Q4, "user_id": who, "amount": amount})
        assert response.status_code == 201, response.content
    rep_c_target = admin.get("/targets", period=Q4, user_id=org.rep_c.public_id).json()
    assert [(t["amount"], t["won"], t["attainment"]) for t in rep_c_target] == [
        ("400.00", "200.00", "0.5000")
    ]
    body = api(org.boss).get("/forecasts", period=Q4).json()
    # the boss has no target of their own: the sum of the reports' (100 + 400)
    assert body["target"]["source"] == "reports" and Decimal(body["target"]["amount"]) == 500
    assert Decimal(body["attainment"]) == Decimal("0.4")  # 200 won ÷ 500
    mid = body["reports"][0]
    assert mid["target"]["source"] == "own" and Decimal(mid["attainment"]) == 0
    # one target per person and period; a change needs the version
    assert admin.post("/targets", {"period": Q4, "user_id": "mid", "amount": 5}).status_code == 422
    target_id = rep_c_target[0]["id"]
    assert admin.patch(f"/targets/{target_id}", {"amount": "250"}).status_code == 428
    changed = admin.patch(f"/targets/{target_id}", {"amount": "250", "version": 1})
    assert changed.status_code == 200 and changed.json()["attainment"] == "0.8000"
    assert admin.post("/targets", {"period": Q4, "amount": 1}).status_code == 422
    assert admin.delete(f"/targets/{target_id}").status_code == 204


def test_team_target_counts_the_teams_deals(org, api):
    team_id = org.rep_c.team.public_id
    response = api(org.admin).post("/targets", {"period": Q4, "team_id": team_id, "amount": 1000})
    assert response.status_code == 201, response.content
    assert (response.json()["won"], response.json()["attainment"]) == ("200.00", "0.2000")


def test_a_manager_sets_targets_only_in_their_tree(org, api):
    mid = api(org.mid)
    assert mid.post("/targets", {"period": Q4, "user_id": "rep_a", "amount": 5}).status_code == 201
    outside = mid.post("/targets", {"period": Q4, "user_id": "rep_c", "amount": 5})
    assert outside.status_code == 422 and outside.json()["errors"][0]["field"] == "user_id"
    assert api(org.rep_a).post("/targets", {"period": Q4, "user_id": "rep_a",
                                            "amount": 5}).status_code == 403  # fmt: skip


def test_snapshots_store_everyones_own_numbers(org, api):
    response = api(org.boss).post("/forecasts/snapshots", {"period": Q4})
    assert response.status_code == 201, response.content
    lines = ForecastSnapshotLine.objects.filter(snapshot__public_id=response.json()["id"])
    by_user = {(line.user.username, line.currency): line for line in lines}
    assert by_user[("rep_a", "CNY")].commit == 100 and by_user[("rep_a", "USD")].commit == 70
    assert by_user[("rep_c", "CNY")].closed == 200
    assert response.json()["lines"] == len(by_user) == 5
    assert api(org.rep_a).post("/forecasts/snapshots", {"period": Q4}).status_code == 403


def test_baseline_snapshot_is_the_one_at_the_start(org):
    period = parse_period("2027-01")
    from django.utils import timezone as tz

    def snap(moment):
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(tz, "now", lambda: moment)
            return forecasts.take_snapshot(workspace=org.workspace, period=period)

    assert forecasts.baseline_snapshot(org.workspace, period) is None
    during = snap(at(2027, 1, 10, 9))
    assert forecasts.baseline_snapshot(org.workspace, period) == during
    early = snap(at(2026, 12, 20, 9))
    first_day = snap(at(2027, 1, 1, 23))
    assert early and forecasts.baseline_snapshot(org.workspace, period) == first_day


def test_forecast_queries_do_not_grow_with_the_tree(org, api, django_assert_max_num_queries):
    boss = api(org.boss)
    boss.get("/forecasts", period=Q4)  # warm the token's membership cache
    for i in range(15):
        member = make_member(workspace=org.workspace, manager=org.rep_a if i % 2 else org.mid,
                             username=f"extra{i}")  # fmt: skip
        deal(org, member, "negotiation", 1, close=date(2026, 11, 1))
    with django_assert_max_num_queries(10):
        body = boss.get("/forecasts", period=Q4).json()
    assert Decimal(body["totals"]["commit"]) == 125
    assert Opportunity.objects.for_workspace(org.workspace).count() > 20


def test_weekly_snapshots_command(org):
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("forecast_snapshots", "--workspace", org.workspace.slug, stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 4  # this and next month, this and next quarter
    out = StringIO()
    call_command("forecast_snapshots", "--period", Q4, stdout=out)
    assert out.getvalue().startswith(f"{org.workspace.slug} 2026-Q4 fsnap_")
    assert out.getvalue().rstrip().endswith("5 lines")


def test_weekly_snapshots_task(org):
    from guanxi.sales.tasks import take_weekly_forecast_snapshots

    assert take_weekly_forecast_snapshots.call() == 4

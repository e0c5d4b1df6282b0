"""Sales metrics against figures worked out by hand: win rate, deal size, cycle length
(median and mean), time in each stage across several moves, the funnel and its extension
point, activities, forecast accuracy, what each person may see, JSON and CSV."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from guanxi.sales import forecasts, metrics, services
from guanxi.sales.forecasts import parse_period
from guanxi.sales.metrics import FunnelRow, FunnelStep, MetricContext
from guanxi.sales.models import StageChange
from guanxi.timeline import services as timeline
from tests.sales.forecast_world import at, build_org, deal, stage

pytestmark = pytest.mark.django_db
Q4 = parse_period("2026-Q4")


@pytest.fixture
def org(workspace):
    return build_org(workspace)


def ctx(member, period=Q4, **filters):
    return MetricContext(membership=member, period=period, **filters)


def rows_by(result, key):
    return {row[key]: row for row in result.rows}


def walk(org, opportunity, moves):
    """Move through ``moves`` [(stage key, moment)], stamping each move's time."""
    for key, moment in moves:
        opportunity = services.move_stage(
            opportunity=opportunity, stage=stage(org.workspace, key), by=org.admin.user,
            expected_version=opportunity.version,
            **({"loss_reason": "价格"} if key == "closed_lost" else {}),
        )  # fmt: skip
        change = StageChange.objects.for_workspace(org.workspace).filter(
            opportunity=opportunity).order_by("-changed_at", "-id").first()  # fmt: skip
        StageChange.objects.for_workspace(org.workspace).filter(pk=change.pk).update(
            changed_at=moment
        )
        if key.startswith("closed"):
            type(opportunity).objects.for_workspace(org.workspace).filter(
                pk=opportunity.pk).update(closed_at=moment)  # fmt: skip
    return opportunity


def test_win_rate_counts_deals_closed_in_the_period(org):
    deal(org, org.rep_a, "closed_won", 100, closed_at=at(2026, 10, 11))
    deal(org, org.rep_a, "closed_won", 300, closed_at=at(2026, 12, 31, 23, 59))
    deal(org, org.rep_a, "closed_lost", 10, closed_at=at(2026, 11, 2))
    deal(org, org.rep_b, "closed_lost", 10, closed_at=at(2026, 11, 2))
    deal(org, org.rep_b, "closed_won", 10, closed_at=at(2027, 1, 1, 0, 1))  # next quarter
    deal(org, org.rep_b, "negotiation", 10, close=date(2026, 11, 1))  # open: not counted
    result = metrics.compute("win_rate", ctx(org.admin))
    rows = rows_by(result, "rep")
    assert (rows["rep_a"]["won"], rows["rep_a"]["lost"]) == (2, 1)
    assert rows["rep_a"]["win_rate"] == Decimal("66.7")
    assert rows["rep_b"]["win_rate"] == Decimal("0.0")
    assert rows["Total"]["win_rate"] == Decimal("50.0")


def test_average_deal_size_per_currency(org):
    deal(org, org.rep_a, "closed_won", 100, closed_at=at(2026, 10, 11))
    deal(org, org.rep_a, "closed_won", 300, closed_at=at(2026, 11, 11))
    deal(org, org.rep_a, "closed_won", 50, closed_at=at(2026, 11, 11), currency="USD")
    result = metrics.compute("average_deal_size", ctx(org.admin))
    found = {(r["rep"], r["currency"]): r["average"] for r in result.rows}
    assert found == {
        ("rep_a", "CNY"): Decimal("200.00"),
        ("rep_a", "USD"): Decimal("50.00"),
        ("Total", "CNY"): Decimal("200.00"),
        ("Total", "USD"): Decimal("50.00"),
    }
    assert result.chart["series"][0]["data"] == [200.0, 200.0]  # CNY only


def test_sales_cycle_median_and_mean(org):
    deal(org, org.rep_a, "closed_won", 1, created_at=at(2026, 10, 1), closed_at=at(2026, 10, 11))
    deal(org, org.rep_a, "closed_won", 1, created_at=at(2026, 10, 1), closed_at=at(2026, 10, 31))
    deal(org, org.rep_c, "closed_won", 1, created_at=at(2026, 9, 1), closed_at=at(2026, 11, 10))
    rows = rows_by(metrics.compute("sales_cycle", ctx(org.admin)), "rep")
    assert (rows["rep_a"]["median_days"], rows["rep_a"]["mean_days"]) == (20, 20)
    assert rows["rep_c"]["median_days"] == 70
    assert rows["Total"]["median_days"] == 30  # of 10, 30 and 70
    assert rows["Total"]["mean_days"] == Decimal("36.7")


def test_stage_durations_across_several_moves(org):
    one = deal(org, org.rep_a, "qualification", 1, created_at=at(2026, 10, 1))
    walk(org, one, [("proposal", at(2026, 10, 4)), ("negotiation", at(2026, 10, 14)),
                    ("closed_won", at(2026, 10, 15, 12))])  # fmt: skip
    two = deal(org, org.rep_b, "qualification", 1, created_at=at(2026, 10, 1))
    walk(org, two, [("proposal", at(2026, 10, 2)), ("negotiation", at(2026, 10, 6))])
    # a stay that ended before the period does not count
    old = deal(org, org.rep_b, "qualification", 1, created_at=at(2026, 1, 1))
    walk(org, old, [("proposal", at(2026, 2, 1))])
    rows = rows_by(metrics.compute("stage_durations", ctx(org.admin)), "stage")
    assert (rows["Qualification"]["stays"], rows["Qualification"]["median_days"]) == (2, 2)
    assert (rows["Proposal"]["median_days"], rows["Proposal"]["mean_days"]) == (7, 7)
    assert (rows["Negotiation"]["stays"], rows["Negotiation"]["median_days"]) == (1, Decimal("1.5"))
    assert "Closed won" not in rows  # still there


def test_funnel_and_its_extension_point(org):
    one = deal(org, org.rep_a, "qualification", 1, created_at=at(2026, 10, 1))
    walk(org, one, [("proposal", at(2026, 10, 4)), ("negotiation", at(2026, 10, 14)),
                    ("closed_won", at(2026, 10, 15))])  # fmt: skip
    two = deal(org, org.rep_a, "qualification", 1, created_at=at(2026, 10, 1))
    walk(org, two, [("negotiation", at(2026, 10, 6))])
    deal(org, org.rep_b, "qualification", 1, created_at=at(2026, 11, 1))
    four = deal(org, org.rep_b, "proposal", 1, created_at=at(2026, 11, 1))
    walk(org, four, [("closed_lost", at(2026, 11, 5))])
    deal(org, org.rep_b, "qualification", 1, created_at=at(2026, 9, 30))  # before the period
    result = metrics.compute("conversion_funnel", ctx(org.admin))
    assert [(r["step"], r["count"]) for r in result.rows] == [
        ("Leads created", 0),  # the lead steps (guanxi.sales.lead_metrics) come first
        ("Leads converted", 0),
        ("Opportunities created", 4),
        ("Reached Needs analysis", 3),
        ("Reached Proposal", 3),
        ("Reached Negotiation", 2),
        ("Won", 1),
    ]
    assert result.rows[0]["of_first"] is None  # no leads: no shares of them
    assert result.rows[-1]["of_previous"] == Decimal("50.0")
    # a step registered before everything else
    step = FunnelStep("visitors", 10, lambda c: [FunnelRow("visitors", "Visitors", 8)])
    metrics.register_funnel_step(step)
    try:
        rows = metrics.compute("conversion_funnel", ctx(org.admin)).rows
    finally:
        metrics._funnel_steps.pop("visitors")
    assert [(r["step"], r["count"], r["of_previous"]) for r in rows[:2]] == [
        ("Visitors", 8, None),
        ("Leads created", 0, Decimal("0.0")),
    ]


def test_activities_per_rep(org):
    contact = org.account  # interactions and activities need a customer
    for _ in range(2):
        activity = timeline.create_activity(workspace=org.workspace, by=org.admin.user,
                                            kind="call", subject="回访", account=contact,
                                            assigned_to=org.rep_a.user)  # fmt: skip
        timeline.complete_activity(activity=activity, by=org.rep_a.user, expected_version=1,
                                   completed_at=at(2026, 11, 3))  # fmt: skip
    timeline.create_activity(workspace=org.workspace, by=org.admin.user, kind="visit",
                             subject="拜访", account=contact, assigned_to=org.rep_a.user)  # fmt: skip
    timeline.record_interaction(workspace=org.workspace, by=org.rep_b.user, channel="phone",
                                direction="outbound", occurred_at=at(2026, 12, 1), account=contact)  # fmt: skip
    rows = rows_by(metrics.compute("activities_per_rep", ctx(org.admin)), "rep")
    assert (rows["rep_a"]["activities"], rows["rep_a"]["interactions"]) == (2, 0)
    assert (rows["rep_b"]["activities"], rows["rep_b"]["interactions"]) == (0, 1)


def test_forecast_accuracy_against_the_snapshot_at_the_start(org, monkeypatch):
    period = parse_period("2026-11")
    deal(org, org.rep_a, "negotiation", 100, close=date(2026, 11, 20))
    deal(org, org.rep_c, "proposal", 40, close=date(2026, 11, 20))  # best case: not forecast
    monkeypatch.setattr(timezone, "now", lambda: at(2026, 10, 31, 18))
    forecasts.take_snapshot(workspace=org.workspace, period=period)
    monkeypatch.undo()
    deal(org, org.rep_a, "closed_won", 80, closed_at=at(2026, 11, 25))
    deal(org, org.rep_c, "closed_won", 40, closed_at=at(2026, 11, 25))
    rows = rows_by(metrics.compute("forecast_accuracy", ctx(org.admin, period)), "rep")
    assert (rows["rep_a"]["forecast"], rows["rep_a"]["won"]) == (100, 80)
    assert (rows["rep_a"]["difference"], rows["rep_a"]["accuracy"]) == (-20, Decimal("80.0"))
    assert rows["rep_c"]["forecast"] == 0 and rows["rep_c"]["accuracy"] is None
    empty = metrics.compute("forecast_accuracy", ctx(org.admin, parse_period("2026-12")))
    assert empty.rows == [] and "snapshot" in empty.note


def test_each_sees_their_own_or_their_tree(org, api):
    deal(org, org.rep_a, "closed_won", 1, closed_at=at(2026, 10, 11))
    deal(org, org.rep_b, "closed_won", 1, closed_at=at(2026, 10, 11))
    deal(org, org.rep_c, "closed_won", 1, closed_at=at(2026, 10, 11))

    def reps(member, **params):
        response = api(member).get("/metrics/win_rate", period="2026-Q4", **params)
        assert response.status_code == 200, response.content
        return {row["rep"] for row in response.json()["rows"]} - {"Total"}

    assert reps(org.rep_a) == {"rep_a"}
    assert reps(org.mid) == {"rep_a", "rep_b"}
    assert reps(org.boss) == {"rep_a", "rep_b", "rep_c"}
    assert reps(org.boss, user_id="mid") == {"rep_a", "rep_b"}
    assert reps(org.admin, team_id=org.rep_c.team.public_id) == {"rep_c"}
    assert api(org.mid).get("/metrics/win_rate", user_id="rep_c").status_code == 404
    assert api(org.mid).get("/metrics/win_rate", period="2026-13").status_code == 422
    assert api(org.mid).get("/metrics/win_rate", team_id="team_x").status_code == 422
    assert api(org.mid).get("/metrics/nothing").status_code == 404


def test_json_and_csv(org, api):
    deal(org, org.rep_a, "negotiation", "1234.50", close=date(2026, 11, 1))
    client = api(org.admin)
    body = client.get("/metrics/pipeline_by_stage", period="2026-10-01..2026-12-31").json()
    assert body["columns"][0] == {"key": "stage", "label": "Stage", "kind": "text"}
    assert body["rows"] == [{"stage": "Negotiation", "currency": "CNY", "count": 1,
                             "amount": "1234.50", "weighted": "987.60"}]  # fmt: skip
    assert body["chart"]["categories"] == ["Negotiation"]
    csv = client.get("/metrics/pipeline_by_stage", period="2026-Q4", format="csv")
    assert csv["Content-Type"].startswith("text/csv")
    text = csv.content.decode("utf-8-sig").splitlines()
    assert text == ["Stage,Currency,Opportunities,Amount,Weighted amount",
                    "Negotiation,CNY,1,1234.50,987.60"]  # fmt: skip
    assert [m["key"] for m in client.get("/metrics").json()][:2] == [
        "pipeline_by_stage",
        "conversion_funnel",
    ]

"""The dashboards' lead numbers against figures worked out by hand: the funnel's lead steps
and the response time against the follow-up SLA, each person seeing their own."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanxi.sales import metrics
from guanxi.sales.forecasts import parse_period
from guanxi.sales.metrics import MetricContext
from guanxi.sales.models import Lead, LeadResponse
from tests.sales.forecast_world import at, build_org, deal

pytestmark = pytest.mark.django_db
Q4 = parse_period("2026-Q4")


def lead(org, owner, *, assigned, due, touched=None, escalated=None, converted=None, minutes=None):
    found = Lead.objects.create(
        workspace=org.workspace, owner=owner.user, display_name="客户", created_at=assigned,
        assigned_at=assigned, sla_due_at=due, first_touched_at=touched, escalated_at=escalated,
        converted_at=converted, status="converted" if converted else "working",
    )  # fmt: skip
    if minutes is not None:
        LeadResponse.objects.create(workspace=org.workspace, lead=found, owner=owner.user,
                                    assigned_at=assigned, due_at=due, first_touched_at=touched,
                                    working_minutes=minutes, met=touched <= due)  # fmt: skip
    return found


@pytest.fixture
def org(workspace):
    org = build_org(workspace)
    # rep_a: one in time (60 working minutes), one late (1,200), one converted in time (30)
    lead(org, org.rep_a, assigned=at(2026, 10, 5, 9), due=at(2026, 10, 5, 13),
         touched=at(2026, 10, 5, 10), minutes=60)  # fmt: skip
    lead(org, org.rep_a, assigned=at(2026, 10, 6, 9), due=at(2026, 10, 6, 13),
         touched=at(2026, 10, 8, 9), minutes=1200)  # fmt: skip
    lead(org, org.rep_a, assigned=at(2026, 11, 2, 9), due=at(2026, 11, 2, 13),
         touched=at(2026, 11, 2, 9, 30), converted=at(2026, 11, 20), minutes=30)  # fmt: skip
    # rep_b: one never touched and escalated, one not yet due, one before the period
    lead(org, org.rep_b, assigned=at(2026, 11, 1, 9), due=at(2026, 11, 1, 13),
         escalated=at(2026, 11, 1, 14))  # fmt: skip
    lead(org, org.rep_b, assigned=at(2026, 12, 1, 9), due=at(2099, 1, 1, 9))
    lead(org, org.rep_b, assigned=at(2026, 9, 30, 9), due=at(2026, 9, 30, 13),
         touched=at(2026, 9, 30, 10), minutes=60)  # fmt: skip
    return org


def test_response_time_against_the_sla(org):
    result = metrics.compute("lead_response", MetricContext(membership=org.admin, period=Q4))
    rows = {row["rep"]: row for row in result.rows}
    a, b, total = rows["rep_a"], rows["rep_b"], rows["Total"]
    assert (a["assigned"], a["met"], a["late"], a["overdue"]) == (3, 2, 1, 0)
    assert a["met_rate"] == Decimal("66.7") and a["median_minutes"] == Decimal("60.0")
    assert (b["assigned"], b["met"], b["overdue"], b["escalated"]) == (2, 0, 1, 1)
    assert b["met_rate"] == Decimal("0.0") and b["median_minutes"] is None
    assert (total["assigned"], total["met"], total["late"], total["overdue"]) == (5, 2, 1, 1)
    assert total["met_rate"] == Decimal("50.0")  # 2 of the 4 that could be judged
    # a rep sees their own row only
    own = metrics.compute("lead_response", MetricContext(membership=org.rep_b, period=Q4))
    assert [row["rep"] for row in own.rows] == ["rep_b", "Total"]


def test_funnel_starts_with_the_leads(org):
    deal(org, org.rep_a, "qualification", 1, created_at=at(2026, 11, 20))
    result = metrics.compute("conversion_funnel", MetricContext(membership=org.admin, period=Q4))
    steps = [(row["step"], row["count"]) for row in result.rows]
    assert steps[:3] == [("Leads created", 5), ("Leads converted", 1), ("Opportunities created", 1)]
    assert result.rows[1]["of_first"] == Decimal("20.0")

"""In Chromium: the sales dashboard draws its charts (ECharts canvases over their tables),
and a manager adjusts a rep's commit inline on the forecast page — accessible, at phone
width too."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import expect

from guanxi.sales.models import ForecastAdjustment
from tests.browser.conftest import PASSWORD, axe_violations, horizontal_overflow, sign_in
from tests.browser.test_customer_pages import shot
from tests.factories import make_workspace
from tests.sales.forecast_world import at, build_org, deal

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def org():
    org = build_org(make_workspace(slug="acme", name="ACME 贸易"))
    org.mid.user.set_password(PASSWORD)
    org.mid.user.save()
    deal(org, org.rep_a, "negotiation", 100, close=date(2026, 12, 31))
    deal(org, org.rep_a, "proposal", 50, close=date(2026, 11, 30), created_at=at(2026, 10, 2))
    deal(org, org.rep_b, "closed_won", 30, created_at=at(2026, 10, 1), closed_at=at(2026, 10, 9))
    deal(org, org.rep_b, "closed_lost", 5, closed_at=at(2026, 11, 9))
    return org


def test_dashboard_charts_and_an_inline_adjustment(new_page, org):
    page = new_page()
    sign_in(page, "mid")
    page.goto("/dashboards/sales/?period=2026-Q4")
    for key in ("pipeline_by_stage", "conversion_funnel", "win_rate"):
        page.locator(f'[data-chart="gx-chart-{key}"] canvas').wait_for()
    # every section loads its table by itself (hx-trigger="load"): wait for all nine
    expect(page.locator("section.gx-metric table")).to_have_count(9)  # lead response included
    assert axe_violations(page) == []
    shot(page, "sales-dashboard")

    page.goto("/forecasts/?period=2026-Q4")
    row = page.locator("tr", has=page.locator("a", has_text="rep_a"))
    row.locator("summary").click()
    row.locator("select[name=category]").select_option("commit")
    row.locator("input[name=amount]").fill("80")
    row.locator("input[name=note]").fill("客户预算推迟")
    row.locator("button[type=submit]").click()
    page.locator(".gx-adjusted", has_text="80.00 by mid").wait_for()
    assert "100.00" in page.locator("tr", has=page.locator("a", has_text="rep_a")).inner_text()
    adjustment = ForecastAdjustment.objects.for_workspace(org.workspace).get()
    assert (adjustment.user_id, adjustment.adjusted_by_id) == (org.rep_a.user_id, org.mid.user_id)
    assert axe_violations(page) == []
    shot(page, "forecast")

    phone = new_page(width=360, height=740)
    sign_in(phone, "mid")
    for path in ("/forecasts/?period=2026-Q4", "/dashboards/sales/?period=2026-Q4"):
        phone.goto(path)
        assert horizontal_overflow(phone) <= 0, path

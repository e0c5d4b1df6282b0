"""Forecast and dashboard pages: what they show, who may see and adjust what, the htmx
partials, CSV, and the query budget of each page and section."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client

from guanxi.sales import metrics
from guanxi.sales.models import ForecastAdjustment
from tests.sales.forecast_world import at, build_org, deal

pytestmark = pytest.mark.django_db
HTMX = {"HX-Request": "true"}


@pytest.fixture
def org(workspace):
    org = build_org(workspace)
    deal(org, org.rep_a, "negotiation", 100, close=date(2026, 12, 31))
    deal(org, org.rep_a, "negotiation", 70, close=date(2026, 11, 15), currency="USD")
    deal(org, org.rep_b, "closed_won", 30, closed_at=at(2026, 10, 9))
    deal(org, org.rep_c, "closed_lost", 5, closed_at=at(2026, 11, 9))
    return org


def browser(member):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(member.user)
    return client


def test_forecast_page_shows_the_tree_and_its_numbers(org, django_assert_max_num_queries):
    client = browser(org.boss)
    client.get("/")
    with django_assert_max_num_queries(12):
        response = client.get("/forecasts/?period=2026-Q4")
    page = response.content.decode()
    assert response.status_code == 200
    assert "100.00" in page and "USD: Commit 70.00" in page
    assert "mid" in page and "rep_c" in page and 'name="amount"' in page
    assert "Show mid" in page  # mid has reports: the row expands
    rows = client.get(f"/forecasts/rows/?period=2026-Q4&user={org.mid.public_id}&level=2",
                      headers=HTMX).content.decode()  # fmt: skip
    assert "rep_a" in rows and "rep_b" in rows and "gx-level-2" in rows


def test_a_manager_adjusts_a_reps_commit_inline(org):
    client = browser(org.mid)
    response = client.post(
        "/forecasts/adjust/",
        {"period": "2026-Q4", "user": org.rep_a.public_id, "category": "commit",
         "amount": "80", "note": "保守", "subject": org.mid.public_id},
        headers=HTMX,
    )  # fmt: skip
    page = response.content.decode()
    assert response.status_code == 200
    assert page.startswith('<div id="gx-forecast">')
    assert "adjusted: 80.00 by mid" in page and "100.00" in page
    assert ForecastAdjustment.objects.for_workspace(org.workspace).get().amount == 80
    bad = client.post("/forecasts/adjust/", {"period": "2026-Q4", "user": org.rep_a.public_id,
                                             "category": "commit", "amount": "lots"}, headers=HTMX)  # fmt: skip
    assert bad.status_code == 422 and "amount" in bad.content.decode()


def test_reps_neither_adjust_nor_see_others(org):
    client = browser(org.rep_a)
    page = client.get("/forecasts/?period=2026-Q4").content.decode()
    assert 'name="amount"' not in page
    own = client.post("/forecasts/adjust/", {"period": "2026-Q4", "user": org.rep_a.public_id,
                                             "category": "commit", "amount": "1"})  # fmt: skip
    assert own.status_code == 403
    assert client.get(f"/forecasts/?user={org.rep_b.public_id}").status_code == 404
    assert client.get("/dashboards/sales/win_rate/?user=rep_b").status_code == 404
    assert "rep_b" not in client.get("/dashboards/sales/win_rate/?period=2026-Q4").content.decode()


def test_dashboard_page_and_its_sections_within_the_query_budget(
    org, django_assert_max_num_queries
):
    client = browser(org.boss)
    client.get("/")
    with django_assert_max_num_queries(12):
        page = client.get("/dashboards/sales/?period=2026-Q4").content.decode()
    assert "echarts-6.1.0.min.js" in page and "sales-charts.js" in page
    for metric in metrics.metrics():
        assert f"/dashboards/sales/{metric.key}/?period=2026-Q4" in page
        with django_assert_max_num_queries(12):
            section = client.get(f"/dashboards/sales/{metric.key}/?period=2026-Q4", headers=HTMX)
        assert section.status_code == 200, metric.key
        assert "<table" in section.content.decode()


def test_a_section_has_its_chart_data_table_and_csv(org):
    client = browser(org.admin)
    section = client.get("/dashboards/sales/win_rate/?period=2026-Q4", headers=HTMX)
    html = section.content.decode()
    assert 'data-chart="gx-chart-win_rate"' in html
    assert '<script id="gx-chart-win_rate" type="application/json">' in html
    assert "onclick" not in html and "<script>" not in html
    assert "/dashboards/sales/win_rate/export/?period=2026-Q4" in html
    full = client.get("/dashboards/sales/win_rate/?period=2026-Q4").content.decode()
    assert "<h1>Win rate</h1>" in full and "gx-chart-win_rate" in full
    csv = client.get("/dashboards/sales/win_rate/export/?period=2026-Q4")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "Sales rep,Won,Lost,Win rate (%)" and "rep_b,1,0,100.0" in lines


def test_custom_ranges_and_bad_filters(org):
    client = browser(org.admin)
    page = client.get("/dashboards/sales/?start=2026-10-01&end=2026-10-31").content.decode()
    assert "From 2026-10-01 to 2026-10-31" in page
    bad = client.get("/dashboards/sales/?period=2026-Q7").content.decode()
    assert "period" in bad and 'role="alert"' in bad
    forecast = client.get("/forecasts/?period=soon").content.decode()
    assert 'role="alert"' in forecast


def test_nav_links(org):
    page = browser(org.rep_a).get("/").content.decode()
    assert 'href="/forecasts/"' in page and 'href="/dashboards/sales/"' in page


def test_junk_in_the_htmx_requests(org):
    client = browser(org.boss)
    rows = client.get(f"/forecasts/rows/?period=2026-Q4&user={org.mid.public_id}&level=x",
                      headers=HTMX)  # fmt: skip
    assert rows.status_code == 200 and "gx-level-1" in rows.content.decode()
    bad = client.post("/forecasts/adjust/", {"period": "someday", "user": org.mid.public_id,
                                             "category": "commit", "amount": "1"}, headers=HTMX)  # fmt: skip
    assert bad.status_code == 422 and "period" in bad.content.decode()

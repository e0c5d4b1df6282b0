"""From a web enquiry to an order, through the public form and the API as a rep and a
manager use them: the lead arrives and is routed, the rep converts it with an opportunity,
prices it from the price book, quotes it (PDF in Chinese and in English), the customer
accepts, the order is booked, and the won deal shows in the forecast and the dashboards."""

from __future__ import annotations

import io
import json
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone
from pypdf import PdfReader

from guanxi.platform import services
from guanxi.platform.context import acting_in
from guanxi.sales import catalogue, web_to_lead
from guanxi.sales.forecasts import period_containing
from guanxi.sales.lead_routing import services as routing
from guanxi.sales.models import Lead, Order
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def _text(pdf: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_web_enquiry_to_order_forecast_and_dashboard(api, workspace, admin, team, rep):
    cache.clear()
    manager = make_member(workspace=workspace, role_key="sales_manager", team=team,
                          username="wang.fang")  # fmt: skip
    with acting_in(workspace, admin):
        services.change_membership(membership=rep, by=admin.user, expected_version=rep.version,
                                   manager=manager)  # fmt: skip
    with acting_in(workspace, admin):
        web_to_lead.update_form_settings(membership=admin, expected_version=None,
                                         is_enabled=True, require_consent=True,
                                         consent_text="我同意被联系。", redirect_hosts="")  # fmt: skip
        routing.create_assignment_rule(workspace=workspace, by=admin.user, name="all to the rep",
                                       method="user", user=rep.user)  # fmt: skip
        routing.create_sla_policy(workspace=workspace, by=admin.user, name="4 working hours",
                                  first_touch_minutes=240)  # fmt: skip
        book = catalogue.create_price_book(workspace=workspace, by=admin.user, name="标准",
                                           is_standard=True)  # fmt: skip
        sfp = catalogue.create_product(workspace=workspace, by=admin.user, sku="SFP-10G",
                                       name="光模块", name_en="SFP module", unit="个")  # fmt: skip
        catalogue.add_entry(book=book, by=admin.user, product=sfp, unit_price="380.00")

    # 1. a visitor sends the web form
    sent = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR="198.51.100.4").post(
        f"/api/v1/web-to-lead/{workspace.slug}",
        json.dumps({"name": "周杰", "company": "星河数据科技", "email": "zhou@xinghe.cn",
                    "phone": "138 0013 8000", "consent": True, "product_interest": "光模块"}),
        content_type="application/json",
    )  # fmt: skip
    assert sent.status_code == 201, sent.content
    lead = Lead.objects.for_workspace(workspace).get()
    assert lead.owner_id == rep.user_id and lead.sla_due_at is not None  # routed

    # 2. the rep converts it with an opportunity
    seller = api(rep)
    converted = seller.post(f"/leads/{lead.public_id}/convert", {
        "create_opportunity": True, "opportunity_name": "星河数据科技 · 光模块", "amount": "0"})  # fmt: skip
    assert converted.status_code == 200, converted.content
    ids = converted.json()
    deal_id = ids["opportunity_id"]
    assert ids["account_id"] and ids["contact_id"]

    # 3. priced from the book, quoted, the PDF in Chinese and in English
    line = seller.post(f"/opportunities/{deal_id}/lines",
                       {"product_id": sfp.public_id, "quantity": "10"})  # fmt: skip
    assert line.status_code == 201 and line.json()["net_amount"] == "3800.00", line.content
    quote = seller.post("/quotes", {"opportunity_id": deal_id})
    assert quote.status_code == 201, quote.content
    quote = quote.json()
    chinese = _text(seller.get(f"/quotes/{quote['id']}/pdf").content)
    assert "光模块" in chinese and "报价单" in chinese and quote["number"] in chinese
    # the buyer asks for it in English: this one is declined, a new one made in English
    declined = seller.post(f"/quotes/{quote['id']}/reject", {"version": quote["version"],
                                                              "reason": "English, please"})  # fmt: skip
    assert declined.status_code == 200, declined.content
    quote = seller.post("/quotes", {"opportunity_id": deal_id, "language": "en"}).json()
    english = _text(seller.get(f"/quotes/{quote['id']}/pdf").content)
    assert "Valid until" in english and "报价单" not in english
    submitted = seller.post(f"/quotes/{quote['id']}/submit", {"version": quote["version"]})
    assert submitted.status_code == 200, submitted.content  # no discount: approved at once
    quote = submitted.json()
    assert quote["status"] == "approved"

    # 4. the customer accepts: the order is booked and the deal is won
    accepted = seller.post(f"/quotes/{quote['id']}/accept", {"version": quote["version"]})
    assert accepted.status_code in (200, 201), accepted.content
    order = Order.objects.for_workspace(workspace).get()
    assert order.amount == Decimal("3800.00") and order.opportunity.public_id == deal_id
    deal = seller.get(f"/opportunities/{deal_id}").json()
    assert deal["stage"]["key"] == "closed_won"

    # 5. the won deal counts in the manager's forecast and in the dashboard's win rate
    period = period_containing(timezone.localdate(), "quarter").key
    forecast = api(manager).get(f"/forecasts?period={period}").json()
    assert Decimal(str(forecast["totals"]["closed"])) == Decimal("3800.00")
    win_rate = api(manager).get(f"/metrics/win_rate?period={period}").json()
    total = next(row for row in win_rate["rows"] if row["rep"] == "Total")
    assert total["won"] == 1
    funnel = api(manager).get(f"/metrics/conversion_funnel?period={period}").json()
    counts = {row["step"]: row["count"] for row in funnel["rows"]}
    assert counts["Leads created"] == 1 and counts["Leads converted"] == 1

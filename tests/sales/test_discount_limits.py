"""Discount limits by role: the defaults, an administrator's settings through the API and
the settings page, who may see and change them, and their effect on a quote's approval."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.test import Client

from guanxi.platform.models import AuditEvent
from guanxi.sales import quotes
from tests.factories import make_member, role

pytestmark = pytest.mark.django_db


def _browser(member):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(member.user)
    return client


def _limits(workspace):
    return {item.role.key: item for item in quotes.discount_limits(workspace.pk)}


def test_defaults_until_an_administrator_sets_them(workspace, admin):
    limits = _limits(workspace)
    assert limits["sales_rep"].max_discount_percent == Decimal(10)
    assert limits["administrator"].max_discount_percent is None and limits["sales_rep"].is_default
    quotes.set_discount_limit(workspace=workspace, role=role(workspace, "sales_rep"),
                              max_discount_percent="15", by=admin.user)  # fmt: skip
    assert _limits(workspace)["sales_rep"].max_discount_percent == Decimal(15)
    assert not _limits(workspace)["sales_rep"].is_default
    assert quotes.discount_limit(make_member(workspace=workspace)) == Decimal(15)


def test_api_lists_and_sets_with_rights(api, workspace, admin, rep):
    manager = make_member(workspace=workspace, role_key="sales_manager")
    listed = api(manager).get("/discount-limits")
    assert listed.status_code == 200
    rows = {row["role"]: row for row in listed.json()}
    assert rows["sales_manager"]["max_discount_percent"] == "25"
    assert rows["sales_manager"]["is_default"] is True
    assert api(rep).get("/discount-limits").status_code == 200  # a rep knows the own limit
    dealer = make_member(workspace=workspace, role_key="dealer_user")
    assert api(dealer).get("/discount-limits").status_code == 403  # dealers see no price books
    assert api(manager).patch("/discount-limits/sales_rep", {"max_discount_percent": 20}
                            ).status_code == 403  # fmt: skip
    changed = api(admin).patch("/discount-limits/sales_rep", {"max_discount_percent": "12.5"})
    assert changed.status_code == 200, changed.content
    assert changed.json() == {"role": "sales_rep", "role_name": changed.json()["role_name"],
                              "max_discount_percent": "12.50", "is_default": False}  # fmt: skip
    unlimited = api(admin).patch("/discount-limits/sales_manager", {"max_discount_percent": None})
    assert unlimited.json()["max_discount_percent"] is None
    bad = api(admin).patch("/discount-limits/sales_rep", {"max_discount_percent": 120})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "max_discount_percent"
    assert api(admin).patch("/discount-limits/nobody", {"max_discount_percent": 1}
                          ).status_code == 404  # fmt: skip
    assert AuditEvent.objects.filter(action="sales.discount_limit.changed").count() == 2


def test_settings_page_shows_and_saves(workspace, admin):
    manager = make_member(workspace=workspace, role_key="sales_manager")
    seen = _browser(manager).get("/settings/discount-limits/")
    assert seen.status_code == 200 and b'name="limit-sales_rep"' not in seen.content
    assert _browser(manager).post("/settings/discount-limits/", {}).status_code == 403
    client = _browser(admin)
    page = client.get("/settings/discount-limits/")
    assert b'name="limit-sales_rep" inputmode="decimal" size="6" value="10"' in page.content
    form = {f"limit-{key}": "" if item.max_discount_percent is None
            else str(item.max_discount_percent) for key, item in _limits(workspace).items()}  # fmt: skip
    saved = client.post("/settings/discount-limits/", {**form, "limit-sales_rep": "8%"})
    assert saved.status_code == 302
    limits = _limits(workspace)
    assert limits["sales_rep"].max_discount_percent == Decimal(8)
    assert limits["sales_manager"].is_default  # left as it was: still the default
    wrong = client.post("/settings/discount-limits/", {**form, "limit-sales_rep": "abc"})
    assert wrong.status_code == 200 and b'aria-invalid="true"' in wrong.content
    assert _limits(workspace)["sales_rep"].max_discount_percent == Decimal(8)

"""In Chromium: a rep adds a product to a deal, makes a quote, downloads its PDF and books the
customer's acceptance as an order — at phone width, accessible."""

from __future__ import annotations

import pytest

from guanxi.customers import services as customers
from guanxi.sales import catalogue, services
from tests.browser.conftest import PASSWORD, axe_violations, horizontal_overflow, sign_in
from tests.factories import make_member, make_team, make_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def deal():
    workspace = make_workspace(slug="acme", name="ACME 贸易")
    team = make_team(workspace=workspace, name="华东")
    admin = make_member(workspace=workspace, role_key="administrator", username="boss")
    rep = make_member(workspace=workspace, role_key="sales_rep", team=team, username="li.na")
    rep.user.set_password(PASSWORD)
    rep.user.save()
    product = catalogue.create_product(workspace=workspace, by=admin.user, sku="SFP-10G",
                                       name="光模块", unit="个")  # fmt: skip
    book = catalogue.create_price_book(workspace=workspace, by=admin.user, name="标准价",
                                       is_standard=True)  # fmt: skip
    catalogue.add_entry(book=book, by=admin.user, product=product, unit_price="120")
    account = customers.create_account(workspace=workspace, by=rep.user, name="远景贸易")
    return services.create_opportunity(workspace=workspace, by=rep.user, name="光纤采购",
                                       account=account)  # fmt: skip


def test_line_quote_pdf_and_acceptance(new_page, deal):
    page = new_page(width=360, height=740)
    sign_in(page, "li.na")
    page.goto(f"/opportunities/{deal.public_id}/quotes/new/")
    page.fill("input[name=quantity]", "3")
    page.click("text=Add product")
    page.locator("#gx-opportunity-extra td", has_text="光模块").wait_for()
    assert "360.00" in page.inner_text("#gx-opportunity-extra")
    page.click("text=Create quote")
    page.wait_for_url("**/quotes/quo_*/")
    assert "406.80" in page.inner_text(".gx-total")  # 360 + 13 % VAT
    assert axe_violations(page) == []
    assert horizontal_overflow(page) <= 0
    pdf = page.request.get(page.get_attribute("a[download]", "href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")
    page.click("text=Submit")
    page.click("text=Accepted by the customer")
    order = page.locator(".gx-order")
    order.wait_for()
    assert order.inner_text().startswith("Q-")
    assert page.locator(".gx-quote-status").inner_text() == "Accepted"

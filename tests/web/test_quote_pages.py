"""Catalogue and quote pages: what they show, who may act, errors, query budgets."""

from __future__ import annotations

import pytest
from django.test import Client

from guanxi.customers import services as customers
from guanxi.platform.context import acting_in
from guanxi.sales import catalogue, quotes, services
from guanxi.sales.models import OpportunityLine, PriceBookEntry, Product, Quote
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def browser(member):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(member.user)
    return client


@pytest.fixture
def manager(workspace, team):
    return make_member(workspace=workspace, role_key="sales_manager", team=team, username="wang")


@pytest.fixture
def catalog(workspace, admin):
    sfp = catalogue.create_product(workspace=workspace, by=admin.user, sku="SFP-10G",
                                   name="光模块", unit="个")  # fmt: skip
    book = catalogue.create_price_book(workspace=workspace, by=admin.user, name="标准价",
                                       is_standard=True)  # fmt: skip
    catalogue.add_entry(book=book, by=admin.user, product=sfp, unit_price="120",
                        tiers=[{"min_quantity": "10", "unit_price": "100"}])  # fmt: skip
    return {"sfp": sfp, "book": book}


@pytest.fixture
def deal(workspace, rep):
    account = customers.create_account(workspace=workspace, by=rep.user, name="远景贸易")
    return services.create_opportunity(workspace=workspace, by=rep.user, name="光纤采购",
                                       account=account)  # fmt: skip


def test_products_and_price_books_pages(manager, rep, catalog, workspace,
                                        django_assert_max_num_queries):  # fmt: skip
    client = browser(manager)
    with django_assert_max_num_queries(12):
        page = client.get("/products/")
    assert "SFP-10G" in page.content.decode() and "Add a product" in page.content.decode()
    created = client.post("/products/", {"sku": "SVC-1", "name": "安装服务", "unit": "hour",
                                         "kind": "service", "is_active": "on"})  # fmt: skip
    assert created.status_code == 302
    clash = client.post("/products/", {"sku": "SVC-1", "name": "x", "unit": "件",
                                       "kind": "product"})  # fmt: skip
    assert clash.status_code == 200 and "another product has this SKU" in clash.content.decode()
    with acting_in(workspace):
        service = Product.objects.get(sku="SVC-1")
    assert service.tax_rate == 6
    with django_assert_max_num_queries(12):
        edit = client.get(f"/products/{service.public_id}/")
    assert edit.status_code == 200
    with django_assert_max_num_queries(12):
        books = client.get("/price-books/")
    assert "标准价" in books.content.decode()
    with django_assert_max_num_queries(12):
        book = client.get(f"/price-books/{catalog['book'].public_id}/")
    assert "from 10: 100.00" in book.content.decode()
    added = client.post(f"/price-books/{catalog['book'].public_id}/",
                        {"product": service.pk, "unit_price": "1.005", "tiers": ""})  # fmt: skip
    assert "use at most two decimal places" in added.content.decode()
    client.post(f"/price-books/{catalog['book'].public_id}/",
                {"product": service.pk, "unit_price": "200", "tiers": "5, 180"})  # fmt: skip
    with acting_in(workspace):
        assert PriceBookEntry.objects.get(product=service).tiers == [
            {"min_quantity": "5", "unit_price": "180.00"}]  # fmt: skip
    # a rep reads but does not add
    reader = browser(rep)
    assert "Add a product" not in reader.get("/products/").content.decode()
    assert reader.post("/products/", {"sku": "R", "name": "r", "unit": "件",
                                      "kind": "product"}).status_code == 403  # fmt: skip


def test_lines_with_htmx_then_a_quote(rep, deal, catalog, workspace,
                                      django_assert_max_num_queries):  # fmt: skip
    client = browser(rep)
    url = f"/opportunities/{deal.public_id}/quotes/new/"
    with django_assert_max_num_queries(12):
        page = client.get(url)
    assert page.status_code == 200 and "No products yet." in page.content.decode()
    fragment = client.post(f"/opportunities/{deal.public_id}/lines/",
                           {"product": catalog["sfp"].public_id, "quantity": "12"},
                           headers={"HX-Request": "true"})  # fmt: skip
    html = fragment.content.decode()
    assert fragment.status_code == 200 and "1200.00" in html and "<html" not in html
    bad = client.post(f"/opportunities/{deal.public_id}/lines/",
                      {"product": catalog["sfp"].public_id, "quantity": "-1"},
                      headers={"HX-Request": "true"})  # fmt: skip
    assert bad.status_code == 422 and "quantity" in bad.content.decode()
    with acting_in(workspace):
        line = OpportunityLine.objects.get()
    changed = client.post(f"/opportunities/{deal.public_id}/lines/{line.public_id}/",
                          {"quantity": "5", "discount_percent": "5", "version": line.version},
                          headers={"HX-Request": "true"})  # fmt: skip
    assert "570.00" in changed.content.decode()  # 5 × 120 less 5 %
    created = client.post(url, {"valid_until": "", "notes": "含运费"})
    assert created.status_code == 302
    with acting_in(workspace):
        quote = Quote.objects.get()
    with django_assert_max_num_queries(12):
        page = client.get(f"/quotes/{quote.public_id}/")
    html = page.content.decode()
    assert quote.number in html and "644.10" in html  # 570 + 13 % VAT
    assert f"/quotes/{quote.public_id}/pdf/" in html and "Submit" in html
    submitted = client.post(f"/quotes/{quote.public_id}/submit/", {"version": quote.version})
    assert submitted.status_code == 302
    quote.refresh_from_db()
    assert quote.status == "approved"  # 5 % is within a rep's limit
    accepted = client.post(f"/quotes/{quote.public_id}/accept/", {"version": quote.version})
    assert accepted.status_code == 302
    page = client.get(f"/quotes/{quote.public_id}/").content.decode()
    assert "is booked" in page and "gx-order" in page


def test_quote_page_shows_conflicts_and_hides_from_strangers(workspace, team, rep, deal,
                                                            catalog, admin):  # fmt: skip
    other = make_member(workspace=workspace, role_key="sales_rep", team=team, username="sun")
    theirs = services.create_opportunity(workspace=workspace, by=other.user, name="另一单",
                                         account=deal.account)  # fmt: skip
    for opportunity, owner, price in ((deal, rep, "120"), (theirs, other, "110")):
        quotes.add_line(opportunity=opportunity, by=owner.user, line=quotes.LineInput(
            product=catalog["sfp"], quantity="1", unit_price=price))  # fmt: skip
    with acting_in(workspace):
        quotes.create_quote(opportunity=theirs, by=other.user)
        mine = quotes.create_quote(opportunity=deal, by=rep.user)
    page = browser(rep).get(f"/quotes/{mine.public_id}/").content.decode()
    assert "Price conflict" in page and "sun" in page
    stranger = make_member(workspace=workspace, role_key="sales_rep", username="stranger")
    assert browser(stranger).get(f"/quotes/{mine.public_id}/").status_code == 404
    assert browser(stranger).get(f"/quotes/{mine.public_id}/pdf/").status_code == 404

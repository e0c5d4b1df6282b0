"""The catalogue: products with their SKUs and tax rates, price books with entries and volume
tiers, and price resolution (dealer > customer group > standard, validity, tiers, the
error that names the product and currency)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from guanxi.customers import services as customers
from guanxi.platform.context import acting_in
from guanxi.sales import catalogue
from guanxi.sales.models import PriceBook, Product
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def manager(workspace, team):
    return make_member(workspace=workspace, role_key="sales_manager", team=team, username="wang")


@pytest.fixture
def sfp(workspace, admin):
    return catalogue.create_product(
        workspace=workspace, by=admin.user, sku="SFP-10G", name="光模块", name_en="SFP module",
        unit="个",
    )  # fmt: skip


@pytest.fixture
def accounts(workspace, rep):
    gold = customers.create_account(workspace=workspace, by=rep.user, name="远景贸易",
                                    value_tier="A")  # fmt: skip
    dealer = customers.create_account(workspace=workspace, by=rep.user, name="华南代理")
    plain = customers.create_account(workspace=workspace, by=rep.user, name="小店")
    return {"gold": gold, "dealer": dealer, "plain": plain}


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def test_products_through_the_api(api, admin, rep):
    client = api(admin)
    created = client.post("/products", {"sku": "SVC-INST", "name": "安装服务", "kind": "service",
                                        "unit": "hour", "translations": {"zh-Hant": "安裝服務"}})  # fmt: skip
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["id"].startswith("prd_") and body["tax_rate"] == "6.00"  # services: 6 % VAT
    assert body["translations"] == {"zh-hant": "安裝服務"}
    assert client.post("/products", {"sku": "X1", "name": "交换机"}).json()["tax_rate"] == "13.00"
    assert "sku" in _fields(client.post("/products", {"sku": "SVC-INST", "name": "重复"}))
    assert "tax_rate" in _fields(client.post("/products", {"sku": "X2", "name": "x",
                                                           "tax_rate": "101"}))  # fmt: skip
    changed = client.patch(f"/products/{body['id']}", {"is_active": False, "version": 1})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    # a rep reads the catalogue but does not change it
    reader = api(rep)
    assert reader.get(f"/products/{body['id']}").status_code == 200
    assert reader.get("/products", q="安装").json()["items"][0]["sku"] == "SVC-INST"
    assert reader.post("/products", {"sku": "R1", "name": "x"}).status_code == 403
    assert client.delete(f"/products/{body['id']}").status_code == 204
    assert reader.get(f"/products/{body['id']}").status_code == 404


def test_price_books_with_entries_and_tiers(api, admin, sfp, accounts):
    client = api(admin)
    book = client.post("/price-books", {"name": "标准价 2026", "is_standard": True})
    assert book.status_code == 201, book.content
    book_id = book.json()["id"]
    assert book.json()["currency"] == "CNY" and book.json()["audience"] == "standard"
    entry = client.post(f"/price-books/{book_id}/entries", {
        "product_id": sfp.public_id, "unit_price": "120.00",
        "tiers": [{"min_quantity": "100", "unit_price": "100"},
                  {"min_quantity": "10", "unit_price": "110.50"}],
    })  # fmt: skip
    assert entry.status_code == 201, entry.content
    assert [t["min_quantity"] for t in entry.json()["tiers"]] == ["10", "100"]  # ascending
    errors = _fields(client.post(f"/price-books/{book_id}/entries", {
        "product_id": sfp.public_id, "unit_price": "1.234", "currency": "USD",
        "tiers": [{"min_quantity": "-1", "unit_price": "1"}],
    }))  # fmt: skip
    assert set(errors) == {"unit_price", "currency", "tiers.0.min_quantity"}
    assert "two decimal" in errors["unit_price"] and "CNY" in errors["currency"]
    assert "dealer_id" in _fields(client.post("/price-books", {"name": "x", "dealer_id": "acc_x"}))
    both = client.post("/price-books", {"name": "x", "dealer_id": accounts["dealer"].public_id,
                                        "customer_group": "A"})  # fmt: skip
    assert "customer_group" in _fields(both)
    listed = client.get("/price-books").json()
    assert [len(b["entries"]) for b in listed] == [1]
    changed = client.patch(f"/price-books/{book_id}/entries/{entry.json()['id']}",
                           {"unit_price": "125", "version": 1})  # fmt: skip
    assert changed.status_code == 200 and changed.json()["unit_price"] == "125.00"
    assert "currency" in _fields(client.patch(f"/price-books/{book_id}",
                                              {"currency": "USD", "version": 1}))  # fmt: skip


def _book(workspace, admin, product, price, **fields):
    book = catalogue.create_price_book(workspace=workspace, by=admin.user, **fields)
    catalogue.add_entry(book=book, by=admin.user, product=product, unit_price=price,
                        tiers=fields.pop("tiers", None))  # fmt: skip
    return book


def test_the_most_specific_valid_book_wins(workspace, admin, sfp, accounts):
    _book(workspace, admin, sfp, "120", name="标准", is_standard=True)
    group = _book(workspace, admin, sfp, "110", name="A 类客户", customer_group="A")
    dealer = _book(workspace, admin, sfp, "90", name="代理价", dealer=accounts["dealer"])
    _book(workspace, admin, sfp, "80", name="过期", dealer=accounts["dealer"],
          valid_to=date(2020, 12, 31))  # fmt: skip
    _book(workspace, admin, sfp, "70", name="停用", is_standard=True, is_active=False)
    with acting_in(workspace):

        def price(account, quantity="1", on=None):
            return catalogue.resolve_price(account=account, product=sfp, currency="CNY",
                                           quantity=Decimal(quantity), on=on)  # fmt: skip

        assert price(accounts["plain"]).unit_price == Decimal("120.00")
        assert (price(accounts["gold"]).unit_price, price(accounts["gold"]).price_book) == (
            Decimal("110.00"),
            group,
        )
        assert price(accounts["dealer"]).price_book == dealer
        assert price(accounts["dealer"], on=date(2020, 6, 1)).unit_price == Decimal("80.00")


def test_volume_tiers_and_the_missing_price(api, workspace, admin, rep, sfp, accounts):
    book = catalogue.create_price_book(workspace=workspace, by=admin.user, name="标准",
                                       is_standard=True)  # fmt: skip
    catalogue.add_entry(book=book, by=admin.user, product=sfp, unit_price="120",
                        tiers=[{"min_quantity": "10", "unit_price": "110"},
                               {"min_quantity": "100", "unit_price": "100"}])  # fmt: skip
    client = api(rep)
    query = {"account_id": accounts["plain"].public_id, "product_id": sfp.public_id}
    answers = {q: client.get("/prices", **query, quantity=q).json() for q in ("9", "10", "250")}
    assert {q: a["unit_price"] for q, a in answers.items()} == {
        "9": "120.00", "10": "110.00", "250": "100.00"}  # fmt: skip
    assert answers["250"]["tier_min_quantity"] == "100" and answers["9"]["audience"] == "standard"
    missing = client.get("/prices", **query, currency="USD", on="2026-12-03")
    assert _fields(missing) == {
        "product_id": "No price for 光模块 SFP-10G in USD in any price book valid on 2026-12-03"
    }
    assert set(_fields(client.get("/prices", **query, quantity="-2", currency="US"))) == {
        "quantity", "currency"}  # fmt: skip


def test_dealers_do_not_read_price_books(api, workspace, admin, sfp):
    dealer = make_member(workspace=workspace, role_key="dealer_user", username="dealer")
    book = catalogue.create_price_book(workspace=workspace, by=admin.user, name="x",
                                       is_standard=True)  # fmt: skip
    client = api(dealer)
    assert client.get(f"/products/{sfp.public_id}").status_code == 200
    assert client.get(f"/price-books/{book.public_id}").status_code == 404
    with acting_in(workspace):
        assert PriceBook.objects.count() == 1 and Product.objects.count() == 1

"""Opportunity lines and quotes: pricing from price books, totals and rounding, numbering
and revisions, discount approval, the PDF, e-mail through a real SMTP server, acceptance
into an order, rejection, and the warning when two reps quote one customer differently."""

from __future__ import annotations

import io
import socket
import time
from datetime import date, timedelta
from decimal import Decimal
from email.header import decode_header, make_header

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.handlers import Message
from django.db import transaction
from django.utils import timezone
from pypdf import PdfReader

from guanxi.customers import services as customers
from guanxi.customers.services import ContactPointInput
from guanxi.platform.context import acting_in
from guanxi.platform.models import AuditEvent, Notification
from guanxi.sales import catalogue, pricing, quotes, services
from guanxi.sales.models import Opportunity, Order, Quote
from guanxi.timeline.models import Interaction
from tests.factories import make_member

pytestmark = pytest.mark.django_db
YEAR = timezone.localdate().year


@pytest.fixture
def manager(workspace, team):
    return make_member(workspace=workspace, role_key="sales_manager", team=team, username="wang")


@pytest.fixture
def seller(workspace, team, manager):
    """A rep who reports to the manager."""
    return make_member(workspace=workspace, role_key="sales_rep", team=team, manager=manager,
                       username="zhao")  # fmt: skip


@pytest.fixture
def products(workspace, admin):
    sfp = catalogue.create_product(workspace=workspace, by=admin.user, sku="SFP-10G",
                                   name="光模块", name_en="SFP module", unit="个")  # fmt: skip
    install = catalogue.create_product(workspace=workspace, by=admin.user, sku="SVC-1",
                                       name="安装服务", kind="service", unit="hour")  # fmt: skip
    book = catalogue.create_price_book(workspace=workspace, by=admin.user, name="标准",
                                       is_standard=True)  # fmt: skip
    catalogue.add_entry(book=book, by=admin.user, product=sfp, unit_price="33.33",
                        tiers=[{"min_quantity": "100", "unit_price": "30.00"}])  # fmt: skip
    catalogue.add_entry(book=book, by=admin.user, product=install, unit_price="200")
    return {"sfp": sfp, "install": install}


@pytest.fixture
def deal(workspace, seller):
    account = customers.create_account(workspace=workspace, by=seller.user, name="远景贸易")
    contact = customers.create_contact(
        workspace=workspace, by=seller.user, family_name="张", given_name="伟", account=account,
        contact_points=[ContactPointInput(kind="email", value="zhang.wei@example.com")],
    )  # fmt: skip
    return services.create_opportunity(workspace=workspace, by=seller.user, name="光纤采购",
                                       account=account, contact=contact)  # fmt: skip


def _fields(response) -> dict[str, str]:
    assert response.status_code == 422, response.content
    return {error["field"]: error["message"] for error in response.json()["errors"]}


def _lines(client, deal, products, discount="0"):
    sfp = client.post(f"/opportunities/{deal.public_id}/lines",
                      {"product_id": products["sfp"].public_id, "quantity": "3",
                       "discount_percent": discount})  # fmt: skip
    assert sfp.status_code == 201, sfp.content
    install = client.post(f"/opportunities/{deal.public_id}/lines",
                          {"product_id": products["install"].public_id, "quantity": "1.5"})  # fmt: skip
    assert install.status_code == 201, install.content
    return sfp.json(), install.json()


def test_lines_are_priced_from_the_book_and_make_the_amount(api, seller, deal, products):
    client = api(seller)
    sfp, install = _lines(client, deal, products)
    assert (sfp["unit_price"], sfp["price_source"], sfp["tax_rate"]) == ("33.33", "price_book",
                                                                         "13.00")  # fmt: skip
    assert (sfp["net_amount"], sfp["tax_amount"]) == ("99.99", "13.00")  # 12.9987 → 13.00
    assert (install["net_amount"], install["tax_rate"]) == ("300.00", "6.00")
    assert client.get(f"/opportunities/{deal.public_id}").json()["amount"] == "399.99"
    # a tier from 100 on; a price by hand
    bulk = client.patch(f"/opportunities/{deal.public_id}/lines/{sfp['id']}",
                        {"quantity": "100", "version": 1})  # fmt: skip
    assert bulk.json()["unit_price"] == "30.00" and bulk.json()["net_amount"] == "3000.00"
    manual = client.patch(f"/opportunities/{deal.public_id}/lines/{install['id']}",
                          {"unit_price": "180", "discount_percent": "5", "version": 1})  # fmt: skip
    assert (manual.json()["price_source"], manual.json()["net_amount"]) == ("manual", "256.50")
    assert client.get(f"/opportunities/{deal.public_id}").json()["amount"] == "3256.50"
    assert (
        client.delete(f"/opportunities/{deal.public_id}/lines/{install['id']}").status_code == 204
    )
    assert [line["sku"] for line in client.get(f"/opportunities/{deal.public_id}/lines").json()] == [
        "SFP-10G"]  # fmt: skip


def test_line_errors_name_their_field(api, seller, deal, products, workspace, admin):
    client = api(seller)
    url = f"/opportunities/{deal.public_id}/lines"
    sfp = products["sfp"].public_id
    assert set(_fields(client.post(url, {"product_id": sfp, "quantity": "-1"}))) == {"quantity"}
    assert set(_fields(client.post(url, {"product_id": sfp, "quantity": "1",
                                         "unit_price": "9.999"}))) == {"unit_price"}  # fmt: skip
    assert "CNY" in _fields(client.post(url, {"product_id": sfp, "quantity": "1",
                                              "currency": "USD"}))["currency"]  # fmt: skip
    assert set(_fields(client.post(url, {"product_id": "prd_x", "quantity": "1"}))) == {
        "product_id"}  # fmt: skip
    unpriced = catalogue.create_product(
        workspace=workspace, by=admin.user, sku="X-1", name="交换机"
    )
    missing = _fields(client.post(url, {"product_id": unpriced.public_id, "quantity": "1"}))
    today = timezone.localdate().isoformat()
    assert missing == {
        "product_id": f"No price for 交换机 X-1 in CNY in any price book valid on {today}"}  # fmt: skip


def test_totals_round_each_line_half_up_then_sum():
    figures = [
        pricing.line_figures(quantity=Decimal("3"), unit_price=Decimal("33.33"),
                             discount_percent=Decimal("12.5"), tax_rate=Decimal("13")),
        pricing.line_figures(quantity=Decimal("1.5"), unit_price=Decimal("0.35"),
                             discount_percent=Decimal("0"), tax_rate=Decimal("6")),
    ]  # fmt: skip
    # 99.99 × 87.5 % = 87.49125 → 87.49; tax 11.3737 → 11.37; 0.525 → 0.53 (half up); tax 0.0318 → 0.03
    assert [(f.gross_amount, f.net_amount, f.tax_amount) for f in figures] == [
        (Decimal("99.99"), Decimal("87.49"), Decimal("11.37")),
        (Decimal("0.53"), Decimal("0.53"), Decimal("0.03")),
    ]

    class Line:
        def __init__(self, figures, rate):
            self.gross_amount, self.net_amount = figures.gross_amount, figures.net_amount
            self.tax_amount, self.tax_rate = figures.tax_amount, Decimal(rate)

    result = pricing.totals([Line(figures[0], 13), Line(figures[1], 6)])
    assert (result.subtotal, result.discount_total, result.net_total, result.tax_total,
            result.total) == (Decimal("100.52"), Decimal("12.50"), Decimal("88.02"),
                              Decimal("11.40"), Decimal("99.42"))  # fmt: skip
    assert result.tax_breakdown == [{"rate": "6.00", "net": "0.53", "tax": "0.03"},
                                    {"rate": "13.00", "net": "87.49", "tax": "11.37"}]  # fmt: skip


def test_numbers_revisions_and_one_active_quote(api, seller, deal, products, workspace):
    client = api(seller)
    _lines(client, deal, products)
    assert client.post("/quotes", {"opportunity_id": deal.public_id, "currency": "USD"}
                       ).status_code == 422  # fmt: skip
    created = client.post("/quotes", {"opportunity_id": deal.public_id})
    assert created.status_code == 201, created.content
    quote = created.json()
    assert (quote["number"], quote["revision"], quote["status"]) == (f"Q-{YEAR}-000001", 1, "draft")
    assert (quote["subtotal"], quote["tax_total"], quote["total"]) == ("399.99", "31.00", "430.99")
    assert [row["rate"] for row in quote["tax"]] == ["6.00", "13.00"]
    assert quote["language"] == "zh-hans" and quote["warnings"] == []
    assert quote["lines"][0]["product_id"] == products["sfp"].public_id
    # one active quote per opportunity
    assert client.post("/quotes", {"opportunity_id": deal.public_id}).status_code == 409
    revised = client.post(f"/quotes/{quote['id']}/revise", {"version": quote["version"]})
    assert revised.status_code == 201, revised.content
    assert (revised.json()["number"], revised.json()["revision"]) == (quote["number"], 2)
    old = client.get(f"/quotes/{quote['id']}").json()
    assert old["status"] == "superseded"
    assert client.post(f"/quotes/{quote['id']}/revise", {"version": old["version"]}
                       ).status_code == 409  # fmt: skip
    # a number rolled back is given again: no gaps
    other = services.create_opportunity(workspace=workspace, by=seller.user, name="第二单",
                                        account=deal.account)  # fmt: skip
    quotes.add_line(opportunity=other, by=seller.user,
                    line=quotes.LineInput(product=products["sfp"], quantity="1"))  # fmt: skip
    with acting_in(workspace):
        try:
            with transaction.atomic():
                quotes.create_quote(opportunity=other, by=seller.user)
                raise RuntimeError("roll back")
        except RuntimeError:
            pass
        assert quotes.create_quote(opportunity=other, by=seller.user).number == f"Q-{YEAR}-000002"


def test_a_discount_above_the_limit_needs_the_managers_approval(api, seller, manager, deal,
                                                                products, workspace):  # fmt: skip
    client = api(seller)
    _lines(client, deal, products, discount="15")  # a rep may give 10 %
    quote = client.post("/quotes", {"opportunity_id": deal.public_id}).json()
    assert quote["needs_approval"] is True
    assert client.post(f"/quotes/{quote['id']}/send", {"version": quote["version"]}
                       ).status_code == 409  # fmt: skip
    submitted = client.post(f"/quotes/{quote['id']}/submit", {"version": quote["version"]})
    assert submitted.json()["status"] == "pending_approval"
    with acting_in(workspace):
        (note,) = Notification.objects.filter(kind="quote.approval_requested")
        assert note.recipient_id == manager.user_id and note.data["discount"] == "15"
    assert client.post(f"/quotes/{quote['id']}/approve",
                       {"version": submitted.json()["version"]}).status_code == 403  # fmt: skip
    boss = api(manager)
    declined = boss.post(f"/quotes/{quote['id']}/reject-approval",
                         {"version": submitted.json()["version"]})  # fmt: skip
    assert set(_fields(declined)) == {"reason"}
    declined = boss.post(f"/quotes/{quote['id']}/reject-approval",
                         {"version": submitted.json()["version"], "reason": "折扣太高"})  # fmt: skip
    assert declined.json()["status"] == "draft" and declined.json()["approval_note"] == "折扣太高"
    again = client.post(f"/quotes/{quote['id']}/submit", {"version": declined.json()["version"]})
    approved = boss.post(f"/quotes/{quote['id']}/approve", {"version": again.json()["version"],
                                                            "note": "战略客户"})  # fmt: skip
    assert approved.status_code == 200, approved.content
    assert (approved.json()["status"], approved.json()["decided_by"]) == ("approved", "wang")
    with acting_in(workspace):
        actions = list(AuditEvent.objects.filter(object_id=quote["id"]).values_list("action",
                                                                                   flat=True))  # fmt: skip
    assert {"sales.quote.approval_requested", "sales.quote.approval_declined",
            "sales.quote.approved"} <= set(actions)  # fmt: skip


def test_a_manager_escalates_beyond_their_own_limit(workspace, seller, manager, deal, products,
                                                   admin):  # fmt: skip
    quotes.add_line(opportunity=deal, by=seller.user,
                    line=quotes.LineInput(product=products["sfp"], quantity="1",
                                          discount_percent="40"))  # fmt: skip
    with acting_in(workspace):
        quote = quotes.create_quote(opportunity=deal, by=seller.user)
        assert quotes.approvers(quote, Decimal(15)) == [manager.user]
        assert quotes.approvers(quote, Decimal(40)) == [admin.user]  # 40 % > the manager's 25 %


class Inbox(Message):
    def __init__(self) -> None:
        super().__init__()
        self.messages = []

    def handle_message(self, message) -> None:
        self.messages.append(message)


@pytest.fixture
def smtp(settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", port
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    yield inbox
    controller.stop()


def _pdf_text(data: bytes) -> str:
    return "".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_pdf_email_accept_into_an_order(api, seller, deal, products, workspace, smtp):
    client = api(seller)
    _lines(client, deal, products)
    quote = client.post("/quotes", {"opportunity_id": deal.public_id}).json()
    pdf = client.get(f"/quotes/{quote['id']}/pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    text = _pdf_text(pdf.content)
    assert "光模块" in text and "430.99" in text and quote["number"] in text
    sent = client.post(f"/quotes/{quote['id']}/send", {"version": quote["version"]})
    assert sent.status_code == 200, sent.content
    assert (sent.json()["status"], sent.json()["sent_to"]) == ("sent", "zhang.wei@example.com")
    for _ in range(50):
        if smtp.messages:
            break
        time.sleep(0.05)
    (message,) = smtp.messages
    subject = str(make_header(decode_header(message["Subject"])))  # Chinese: RFC 2047 words
    assert message["To"] == "zhang.wei@example.com" and quote["number"] in subject
    (attachment,) = [part for part in message.walk() if part.get_filename()]
    assert attachment.get_content_type() == "application/pdf"
    assert "光模块" in _pdf_text(attachment.get_payload(decode=True))
    with acting_in(workspace):
        logged = Interaction.objects.get(related_id=quote["id"])
        assert (logged.channel, logged.direction, logged.contact_id) == (
            "email", "outbound", deal.contact_id)  # fmt: skip
    accepted = client.post(f"/quotes/{quote['id']}/accept", {"version": sent.json()["version"]})
    assert accepted.status_code == 200, accepted.content
    order = accepted.json()
    assert order["number"] == quote["number"] and order["amount"] == "399.99"
    assert order["quote"]["status"] == "accepted" and order["quote"]["order_id"] == order["id"]
    with acting_in(workspace):
        stored = Order.objects.get(public_id=order["id"])
        assert (stored.source, stored.lines.count(), stored.opportunity_id) == ("quote", 2, deal.pk)
        won = Opportunity.objects.select_related("stage").get(pk=deal.pk)
        assert won.stage.is_won and won.stage_changes.count() == 2
    assert client.post(f"/quotes/{quote['id']}/accept", {"version": order["quote"]["version"]}
                       ).status_code == 409  # fmt: skip


def test_the_customer_rejects_with_a_reason_and_quotes_expire(api, seller, deal, products,
                                                             workspace):  # fmt: skip
    client = api(seller)
    _lines(client, deal, products)
    quote = client.post("/quotes", {"opportunity_id": deal.public_id}).json()
    url = f"/quotes/{quote['id']}/reject"
    assert set(_fields(client.post(url, {"version": quote["version"]}))) == {"reason"}
    rejected = client.post(url, {"version": quote["version"], "reason": "价格高于竞品"})
    assert (rejected.json()["status"], rejected.json()["rejection_reason"]) == ("rejected",
                                                                                 "价格高于竞品")  # fmt: skip
    # a rejected quote is not active: a new one may be made, and it expires when overdue
    fresh = client.post("/quotes", {"opportunity_id": deal.public_id}).json()
    with acting_in(workspace):
        Quote.objects.filter(public_id=fresh["id"]).update(valid_until=date.today() - timedelta(1))
    # the periodic job does it in every workspace (``guanxi worker`` schedules it hourly)
    from guanxi.platform import periodic

    assert "expire_quotes" in periodic.enqueue_due()
    with acting_in(workspace):
        assert Quote.objects.get(public_id=fresh["id"]).status == "expired"
        assert quotes.expire_overdue_quotes(workspace=workspace) == 0


def test_two_reps_quoting_one_customer_differently_are_warned(api, workspace, team, seller,
                                                             products, deal):  # fmt: skip
    other_rep = make_member(workspace=workspace, role_key="sales_rep", team=team, username="sun")
    subsidiary = customers.create_account(workspace=workspace, by=other_rep.user,
                                          name="远景贸易上海分公司", parent=deal.account)  # fmt: skip
    theirs = services.create_opportunity(workspace=workspace, by=other_rep.user, name="分公司采购",
                                         account=subsidiary)  # fmt: skip
    mine_client, their_client = api(seller), api(other_rep)
    their_client.post(f"/opportunities/{theirs.public_id}/lines",
                      {"product_id": products["sfp"].public_id, "quantity": "5",
                       "unit_price": "31.00"})  # fmt: skip
    first = their_client.post("/quotes", {"opportunity_id": theirs.public_id}).json()
    assert first["warnings"] == []
    _lines(mine_client, deal, products)
    mine = mine_client.post("/quotes", {"opportunity_id": deal.public_id}).json()
    (warning,) = mine["warnings"]
    assert (warning["sku"], warning["net_unit_price"], warning["other_net_unit_price"]) == (
        "SFP-10G", "33.33", "31.00")  # fmt: skip
    assert warning["other_quote"] == first["number"] and warning["other_owner"] == "sun"
    with acting_in(workspace):
        told = set(Notification.objects.filter(kind="quote.price_conflict")
                   .values_list("recipient_id", flat=True))  # fmt: skip
    assert told == {seller.user_id, other_rep.user_id}
    # the other quote shows it too, from its side
    (theirs_warning,) = their_client.get(f"/quotes/{first['id']}").json()["warnings"]
    assert theirs_warning["other_quote"] == mine["number"]


@pytest.mark.django_db(transaction=True)
def test_quotes_made_at_once_get_consecutive_numbers(transactional_db, workspace, seller,
                                                     products):  # fmt: skip
    """Four quotes of four deals at the same moment: four numbers, none twice, none skipped
    (on PostgreSQL the counter row is locked by the first and the others wait for it)."""
    from threading import Barrier, Thread

    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("SQLite serializes writers: the quotes cannot overlap")
    account = customers.create_account(workspace=workspace, by=seller.user, name="并发客户")
    deals = []
    for n in range(4):
        deal = services.create_opportunity(workspace=workspace, by=seller.user, name=f"单 {n}",
                                           account=account)  # fmt: skip
        quotes.add_line(opportunity=deal, by=seller.user,
                        line=quotes.LineInput(product=products["sfp"], quantity="1"))  # fmt: skip
        deals.append(deal)
    barrier, numbers, failures = Barrier(4), [], []

    def make(deal) -> None:
        try:
            with acting_in(workspace):
                barrier.wait()
                numbers.append(quotes.create_quote(opportunity=deal, by=seller.user).number)
        except Exception as exc:
            failures.append(exc)
        finally:
            connection.close()

    threads = [Thread(target=make, args=(deal,)) for deal in deals]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    assert sorted(numbers) == [f"Q-{YEAR}-{n:06d}" for n in range(1, 5)]

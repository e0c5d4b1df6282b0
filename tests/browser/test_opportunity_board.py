"""The opportunity board in a real browser: drag a card to another stage and see the column
totals change, the keyboard's "Move to…" menu, accessibility, and the phone width (the
board scrolls sideways, the page does not)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from guanxi.customers import services as customers
from guanxi.sales import services
from guanxi.sales.models import Stage
from tests.browser.conftest import PASSWORD, axe_violations, horizontal_overflow, sign_in
from tests.factories import make_member, make_team, make_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def world():
    workspace = make_workspace(slug="acme", name="ACME 贸易")
    team = make_team(workspace=workspace, name="华东")
    rep = make_member(workspace=workspace, role_key="sales_rep", team=team, username="li.na")
    rep.user.set_password(PASSWORD)
    rep.user.save()
    account = customers.create_account(workspace=workspace, by=rep.user, name="远景贸易")
    stages = {s.key: s for s in Stage.objects.for_workspace(workspace)}
    deals = [
        services.create_opportunity(
            workspace=workspace,
            by=rep.user,
            name=name,
            account=account,
            amount=amount,
            stage=stages[key],
        )
        for name, amount, key in [
            ("光纤采购", 2000, "qualification"),
            ("交换机升级", 1000, "qualification"),
            ("机房扩容", 5000, "proposal"),
        ]
    ]
    return {"stages": stages, "deals": deals}


def column(page, stage):
    return page.locator(f".gx-column[data-stage='{stage.public_id}']")


def count_of(page, stage) -> str:
    return column(page, stage).locator(".gx-count").get_attribute("data-count")


def test_drag_a_card_and_the_totals_follow(new_page, world):
    qualification, proposal = world["stages"]["qualification"], world["stages"]["proposal"]
    page = new_page()
    sign_in(page, "li.na")
    page.goto("/opportunities/board/")
    assert count_of(page, qualification) == "2" and count_of(page, proposal) == "1"
    assert axe_violations(page) == []

    card = page.locator(".gx-card", has_text="光纤采购")
    card.drag_to(column(page, proposal))
    page.wait_for_function(
        "id => document.querySelector(`.gx-column[data-stage='${id}'] .gx-count`)"
        ".dataset.count === '2'",
        arg=proposal.public_id,
    )
    assert count_of(page, qualification) == "1"
    assert Decimal(column(page, proposal).locator(".gx-total").get_attribute("data-total")) == 7000
    assert column(page, proposal).locator(".gx-card", has_text="光纤采购").count() == 1

    # the keyboard's way: the card's own "Move to…" menu
    other = page.locator(".gx-card", has_text="交换机升级")
    other.locator("select").select_option(proposal.public_id)
    other.locator("button", has_text="Move").click()
    page.wait_for_function(
        "id => document.querySelector(`.gx-column[data-stage='${id}'] .gx-count`)"
        ".dataset.count === '3'",
        arg=proposal.public_id,
    )
    assert count_of(page, qualification) == "0"

    # lost asks for the reason in a dialog
    lost = world["stages"]["closed_lost"]
    card = page.locator(".gx-card", has_text="机房扩容")
    card.locator("select").select_option(lost.public_id)
    card.locator("button", has_text="Move").click()
    page.locator("#gx-dialog dialog textarea[name=loss_reason]").fill("预算取消")
    assert axe_violations(page) == []
    page.locator("#gx-dialog dialog button[type=submit]").click()
    page.wait_for_function(
        "id => document.querySelector(`.gx-column[data-stage='${id}'] .gx-count`)"
        ".dataset.count === '1'",
        arg=lost.public_id,
    )


def test_the_board_scrolls_sideways_at_phone_width(new_page, world):
    page = new_page(width=360, height=740)
    sign_in(page, "li.na")
    page.goto("/opportunities/board/")
    assert horizontal_overflow(page) <= 0  # the page itself does not scroll sideways
    board = page.locator(".gx-board")
    assert board.evaluate("el => el.scrollWidth > el.clientWidth")  # the board does
    board.evaluate("el => { el.scrollLeft = el.scrollWidth; }")
    assert board.evaluate("el => el.scrollLeft") > 0
    assert axe_violations(page) == []


def test_the_sales_menu_leads_to_the_board_by_keyboard(world, new_page):
    page = new_page()
    sign_in(page, "li.na")
    menu = page.locator("nav.gx-nav details.gx-menu")
    assert not menu.locator("a[href='/opportunities/board/']").is_visible()  # closed
    menu.locator("summary").focus()
    page.keyboard.press("Enter")
    link = menu.locator("a[href='/opportunities/board/']")
    assert link.is_visible()
    link.focus()
    page.keyboard.press("Enter")
    page.wait_for_url("**/opportunities/board/")
    assert page.locator(".gx-column").count() >= 4
    assert axe_violations(page) == []

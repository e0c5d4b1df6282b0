"""In Chromium at 360 px with the phone's position granted: check in, check out and log the
outcome of today's visit, accessible and without sideways scrolling."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from guanxi.customers import services as customers
from guanxi.customers.services import AddressInput, ContactPointInput
from guanxi.sales.models import VisitCheckIn
from guanxi.timeline import services as timeline
from guanxi.timeline.models import Activity
from tests.browser.conftest import PASSWORD, axe_violations, horizontal_overflow, sign_in
from tests.browser.test_customer_pages import shot
from tests.factories import make_member, make_team, make_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
SHANGHAI = ZoneInfo("Asia/Shanghai")
WHERE = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 20}


@pytest.fixture
def day_of_visits():
    workspace = make_workspace(slug="acme", name="ACME 贸易")
    rep = make_member(workspace=workspace, role_key="sales_rep",
                      team=make_team(workspace=workspace, name="华东"), username="li.na")  # fmt: skip
    rep.user.set_password(PASSWORD)
    rep.user.save()
    account = customers.create_account(
        workspace=workspace, by=rep.user, name="上海远景贸易有限公司",
        addresses=[AddressInput(country="CN", region="上海市", city="上海市", district="浦东新区",
                                street="世纪大道100号")],
    )  # fmt: skip
    contact = customers.create_contact(
        workspace=workspace, by=rep.user, family_name="张", given_name="伟", account=account,
        contact_points=[ContactPointInput(kind="phone", value="138 0013 8000")],
    )  # fmt: skip
    # the first visit is due about now, the others later today (when today has room left)
    now = timezone.localtime(timezone.now(), SHANGHAI).replace(second=0, microsecond=0)
    start = datetime.combine(now.date(), time.min, tzinfo=SHANGHAI)
    planned = []
    for minutes, subject in ((-5, "介绍新产品"), (90, "送样品"), (180, "收集反馈")):
        due_at = max(start, now + timedelta(minutes=minutes))
        visit = timeline.create_activity(
            workspace=workspace, by=rep.user, kind="visit", subject=subject, contact=contact,
            due_at=due_at,
        )  # fmt: skip
        planned.append(visit)
    return rep, planned


def test_check_in_out_and_outcome_on_a_phone(chromium, live_server, day_of_visits):
    rep, (first, *_rest) = day_of_visits
    context = chromium.new_context(
        viewport={"width": 360, "height": 740}, locale="en-US", base_url=live_server.url,
        geolocation=WHERE, permissions=["geolocation"], timezone_id="Asia/Shanghai",
    )  # fmt: skip
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, "li.na")
        page.click("nav.gx-nav a[href='/field/']")
        card = page.locator(f"#visit-{first.public_id}")
        card.wait_for()
        assert card.locator("a[href^='tel:+86138']").count() == 1
        assert card.locator("a[href^='geo:0,0?q=']").count() == 1
        assert horizontal_overflow(page) <= 0
        assert axe_violations(page) == []
        card.locator("button.gx-visit-go").click()  # check in: the position goes with it
        card.locator(".gx-visit-go", has_text="Check out").wait_for()
        mark = VisitCheckIn.objects.for_workspace(rep.workspace).get(kind="check_in")
        assert (float(mark.latitude), float(mark.longitude)) == (31.2304, 121.4737)
        assert mark.accuracy == 20 and mark.client_time is not None
        shot(page, "field-visits")
        card.locator("button.gx-visit-go").click()  # check out
        card.locator("button[name=outcome][value=met]").wait_for()
        assert axe_violations(page) == []  # the outcome form too
        card.locator("textarea[name=note]").fill("客户对新产品感兴趣")
        card.locator("input[name=next_step]").fill("送报价单")
        card.locator("input[name=next_on]").fill("2099-01-15")
        card.locator("button[name=outcome][value=met]").click()
        page.locator(f"#visit-{first.public_id}.gx-visit-done").wait_for()
        assert "客户对新产品感兴趣" in page.locator(f"#visit-{first.public_id}").inner_text()
        first.refresh_from_db()
        assert first.status == Activity.Status.DONE and first.interaction.channel == "visit"
        follow_up = Activity.objects.for_workspace(rep.workspace).get(subject="送报价单")
        assert follow_up.kind == "visit"
        assert horizontal_overflow(page) <= 0
        assert axe_violations(page) == []
    finally:
        context.close()


def test_without_the_position_the_check_in_still_goes_through(chromium, live_server, day_of_visits):
    rep, (first, *_rest) = day_of_visits
    context = chromium.new_context(
        viewport={"width": 360, "height": 740}, locale="en-US", base_url=live_server.url
    )  # no geolocation permission: the browser declines, or never answers
    context.set_default_timeout(15_000)
    try:
        page = context.new_page()
        sign_in(page, "li.na")
        page.goto("/field/")
        card = page.locator(f"#visit-{first.public_id}")
        card.locator("button.gx-visit-go").click()
        card.locator(".gx-visit-go", has_text="Check out").wait_for()
        mark = VisitCheckIn.objects.for_workspace(rep.workspace).get(kind="check_in")
        assert mark.latitude is None and mark.client_time is not None
    finally:
        context.close()

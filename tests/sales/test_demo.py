"""The demo's deals: every stage has some, closed ones have a past with moves in order, won
ones became orders of the same amount, and the same seed gives the same data."""

from __future__ import annotations

import pytest
from django.utils import timezone

from guanxi.customers import services as customers
from guanxi.platform.context import acting_in
from guanxi.sales.demo import DEALS, load_demo_sales
from guanxi.sales.models import Opportunity, Order, StageChange
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def test_demo_deals_have_a_plausible_past(workspace, admin, rep):
    with acting_in(workspace):
        _check(workspace, admin, rep)


def _check(workspace, admin, rep):
    manager = make_member(workspace=workspace, role_key="sales_manager", username="wang.fang")
    with acting_in(workspace):
        for n in range(6):
            account = customers.create_account(workspace=workspace, by=admin.user,
                                               name=f"演示客户 {n}")  # fmt: skip
            customers.create_contact(workspace=workspace, by=admin.user, family_name="陈",
                                     given_name=f"{n}号", account=account)  # fmt: skip
    counts = load_demo_sales(workspace=workspace, owners=[rep, manager])
    assert counts["opportunities"] == DEALS == Opportunity.objects.count()
    assert counts["won"] > 5 and counts["lost"] > 2
    deals = Opportunity.objects.select_related("stage")
    assert {d.stage.key for d in deals} >= {"qualification", "proposal", "closed_won"}
    assert {d.owner_id for d in deals} == {rep.user_id, manager.user_id}
    now = timezone.now()
    for deal in deals:
        moves = list(StageChange.objects.filter(opportunity=deal).order_by("id"))
        times = [m.changed_at for m in moves]
        assert times == sorted(times) and times[0] == deal.created_at and times[-1] <= now
        assert moves[-1].to_stage_id == deal.stage_id
        assert (deal.closed_at is not None) == deal.stage.is_closed
        if deal.stage.is_lost:
            assert deal.loss_reason
    won = deals.filter(stage__is_won=True)
    assert Order.objects.count() == won.count() == counts["orders"]
    for order in Order.objects.select_related("opportunity"):
        assert order.amount == order.opportunity.amount
        assert order.ordered_at == timezone.localtime(order.opportunity.closed_at).date()


def test_demo_catalogue_web_form_routing_and_leads(workspace, admin, rep):
    from guanxi.platform.models import Team
    from guanxi.sales import web_to_lead
    from guanxi.sales.demo import LEADS, PRODUCTS, load_demo_catalogue_and_leads
    from guanxi.sales.models import Lead, PriceBookEntry
    from tests.factories import make_team

    south = make_team(workspace=workspace, name="华南销售部")
    southerner = make_member(workspace=workspace, role_key="sales_rep", team=south,
                             username="chen.jie")  # fmt: skip
    with acting_in(workspace, admin):
        counts = load_demo_catalogue_and_leads(
            workspace=workspace, admin=admin,
            teams={"华南销售部": south, "华东销售部": Team.objects.get(pk=rep.team_id)},
        )  # fmt: skip
        assert counts == {"products": len(PRODUCTS), "leads": len(LEADS)}
        assert PriceBookEntry.objects.count() == len(PRODUCTS)
        assert web_to_lead.form_settings(workspace).is_enabled
        leads = {lead.company: lead for lead in Lead.objects.all()}
    assert leads["星河数据科技"].owner_id == southerner.user_id  # 广东 → the south
    assert leads["蓝海云计算"].owner_id == rep.user_id  # elsewhere → the east
    assert leads["星河数据科技"].score == 30  # 总监 +20, web +10
    assert all(lead.sla_due_at for lead in leads.values())

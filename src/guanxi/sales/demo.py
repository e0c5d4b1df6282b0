"""The demo workspace's sales: a year of deals for the demo's sales people — open ones in
every stage, won and lost ones with their stage history — and the orders the won ones
became, so the board, forecasts and dashboards have something to show from the start.

Deals go through the services (validation, stage changes, field history); afterwards their
timestamps are moved into the past, as if the year had happened. The same seed gives the
same data.
"""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from guanxi.customers.models import Account
from guanxi.platform.context import acting_in
from guanxi.platform.models import Membership, Workspace
from guanxi.sales import orders, services
from guanxi.sales.models import Opportunity, Stage, StageChange

DEALS = 80
PRODUCTS = (
    ("光模块 SFP-10G", "SFP-10G", Decimal("380")),
    ("光模块 QSFP-100G", "QSFP-100G", Decimal("2600")),
    ("光纤跳线 LC-LC 3m", "LC-3M", Decimal("18")),
    ("交换机 GX-48", "GX-48", Decimal("12800")),
    ("安装调试服务", "SVC-INST", Decimal("3000")),
)
NAMES = ("数据中心扩容", "园区网络升级", "年度备件采购", "机房改造", "Fibre backbone refresh",
         "5G 前传项目", "Branch office rollout", "光传输设备替换")  # fmt: skip
COMPETITORS = ("华为", "中兴", "Cisco", "烽火", "")
LOSS_REASONS = ("价格偏高", "选择了竞争对手", "项目取消", "Budget cut")


def _when(today: date, days_ago: int, rng: random.Random) -> datetime:
    moment = datetime.combine(today - timedelta(days=days_ago), datetime.min.time())
    return timezone.make_aware(moment.replace(hour=rng.randint(9, 17), minute=rng.randint(0, 59)))


def load_demo_sales(
    *, workspace: Workspace, owners: list[Membership], seed: int = 20261203
) -> dict[str, int]:
    """Deals and orders for ``owners``; returns counts."""
    with acting_in(workspace):
        return _load(workspace, owners, random.Random(seed))


def _load(workspace: Workspace, owners: list[Membership], rng: random.Random) -> dict[str, int]:
    today = timezone.localdate()
    pipeline = services.default_pipeline(workspace)
    stages = list(Stage.objects.filter(pipeline=pipeline, deleted_at__isnull=True))
    open_stages = [s for s in stages if not s.is_closed]
    won = next(s for s in stages if s.is_won)
    lost = next(s for s in stages if s.is_lost)
    accounts = list(Account.objects.for_workspace(workspace).order_by("id")[:60])
    counts = {"opportunities": 0, "won": 0, "lost": 0, "orders": 0}
    if not accounts or not owners:
        return counts
    for n in range(DEALS):
        member = owners[n % len(owners)]
        account = rng.choice(accounts)
        link = account.memberships.select_related("contact").order_by("id").first()
        product, sku, price = rng.choice(PRODUCTS)
        quantity = rng.choice((1, 2, 5, 10, 20, 50, 100))
        amount = (price * quantity).quantize(Decimal("0.01"))
        # a third closed (two won for one lost), the rest open in some stage
        outcome = rng.random()
        final = won if outcome < 0.22 else lost if outcome < 0.33 else rng.choice(open_stages)
        age = rng.randint(20, 330) if final.is_closed else rng.randint(3, 120)
        created = _when(today, age, rng)
        close_in = rng.randint(-10, 120) if not final.is_closed else 0
        with acting_in(workspace, member):
            opportunity = services.create_opportunity(
                workspace=workspace, by=member.user, owner=member.user,
                name=f"{account.name} · {rng.choice(NAMES)}", account=account,
                contact=link.contact if link else None,
                amount=amount, expected_close_date=today + timedelta(days=close_in),
                competitors=rng.choice(COMPETITORS), lead_source=rng.choice(("web", "展会", "转介绍")),
                next_step="" if final.is_closed else rng.choice(("发送报价", "安排技术交流", "Demo")),
            )  # fmt: skip
            if final.is_closed:
                path = [*open_stages[1 : rng.randint(1, len(open_stages))], final]
            else:
                path = [s for s in open_stages[1:] if s.position <= final.position]
            for stage in path:
                services.move_stage(
                    opportunity=opportunity, stage=stage, by=member.user,
                    expected_version=opportunity.version,
                    loss_reason=rng.choice(LOSS_REASONS) if stage.is_lost else None,
                )  # fmt: skip
        counts["opportunities"] += 1
        # the history happened over the deal's age: spread its moves between then and now
        changes = list(StageChange.objects.filter(opportunity=opportunity).order_by("id"))
        span = max(age - (0 if not final.is_closed else rng.randint(0, min(age, 60))), 1)
        moments = sorted(created + timedelta(days=span * i / len(changes)) for i in
                         range(len(changes)))  # fmt: skip
        for change, moment in zip(changes, moments, strict=True):
            StageChange.objects.filter(pk=change.pk).update(changed_at=moment, created_at=moment)
        closed_at = moments[-1] if final.is_closed else None
        Opportunity.objects.filter(pk=opportunity.pk).update(
            created_at=created, closed_at=closed_at,
            expected_close_date=closed_at.date() if closed_at else opportunity.expected_close_date,
        )  # fmt: skip
        if final.is_won:
            counts["won"] += 1
            with acting_in(workspace, member):
                orders.upsert_order(
                    workspace=workspace, by=member.user, number=f"SO-DEMO-{n + 1:04d}",
                    account=account, opportunity=opportunity, ordered_at=closed_at.date(),
                    status="fulfilled", source="demo", owner=member.user,
                    fulfilled_on=closed_at.date() + timedelta(days=rng.randint(3, 20)),
                    lines=[orders.LineInput(product_name=product, sku=sku, quantity=quantity,
                                            unit_price=price)],
                )  # fmt: skip
            counts["orders"] += 1
        elif final.is_lost:
            counts["lost"] += 1
    return counts


LEADS = (
    # (family, given, company, title, region, city, source, product interest, e-mail)
    ("周", "杰伦", "星河数据科技", "采购总监", "广东", "深圳", "web", "光模块", "zhou@xinghe.cn"),
    ("吴", "婷", "东方网络工程", "项目经理", "上海", "上海", "trade_show", "交换机", ""),
    ("郑", "浩", "蓝海云计算", "IT 经理", "浙江", "杭州", "web", "光纤跳线", "zheng@lanhai.cn"),
    (
        "Miller",
        "Anna",
        "Northwind Systems",
        "Procurement Director",
        "",
        "Hong Kong",
        "referral",
        "QSFP-100G",
        "anna.miller@northwind.example",
    ),
    ("冯", "磊", "珠江智造", "总经理", "广东", "广州", "business_card", "安装调试服务", ""),
    ("何", "静", "长江光电", "采购", "湖北", "武汉", "web", "光模块", "hejing@cjgd.cn"),
)


def load_demo_catalogue_and_leads(
    *, workspace: Workspace, admin: Membership | None, teams: dict[str, Any]
) -> dict[str, int]:
    """Products with a standard price book, the web form open (with consent), routing rules
    (southern provinces to 华南销售部, the rest to 华东销售部, first touch within 4 working
    hours, points for senior titles and web enquiries) and a few leads from several channels,
    routed as they arrive."""
    from guanxi.sales import catalogue, leads, web_to_lead
    from guanxi.sales.lead_routing import services as routing

    by = admin.user if admin else None
    book = catalogue.create_price_book(workspace=workspace, by=by, name="标准价格表 Standard",
                                       is_standard=True)  # fmt: skip
    for name, sku, price in PRODUCTS:
        product = catalogue.create_product(
            workspace=workspace, by=by, sku=sku, name=name,
            kind="service" if sku.startswith("SVC") else "product",
            unit="次" if sku.startswith("SVC") else "个",
        )  # fmt: skip
        catalogue.add_entry(book=book, by=by, product=product, unit_price=price,
                            tiers=[{"min_quantity": "100",
                                    "unit_price": str((price * Decimal("0.9")).quantize(
                                        Decimal("0.01")))}])  # fmt: skip
    if admin is not None:
        web_to_lead.update_form_settings(
            membership=admin, expected_version=None, is_enabled=True, require_consent=True,
            consent_text="我同意演示贸易有限公司就产品信息与我联系。I agree to be contacted.",
            redirect_hosts="",
        )  # fmt: skip
    south, east = teams.get("华南销售部"), teams.get("华东销售部")
    if south is not None:
        routing.create_assignment_rule(workspace=workspace, by=by, name="华南：广东、广西、海南",
                                       regions=["广东", "广西", "海南"], method="round_robin",
                                       team=south)  # fmt: skip
    if east is not None:
        routing.create_assignment_rule(workspace=workspace, by=by, name="其他：华东销售部",
                                       method="least_loaded", team=east)  # fmt: skip
    routing.create_sla_policy(workspace=workspace, by=by, name="首次跟进 4 个工作小时",
                              first_touch_minutes=240)  # fmt: skip
    routing.create_scoring_rule(workspace=workspace, by=by, name="高级职位", field="title",
                                operator="contains", value="总监", points=20)  # fmt: skip
    routing.create_scoring_rule(workspace=workspace, by=by, name="网站询盘", field="source",
                                operator="equals", value="web", points=10)  # fmt: skip
    for family, given, company, title, region, city, source, interest, email in LEADS:
        leads.create_lead(
            workspace=workspace, by=None if source == "web" else by, source=source,
            family_name=family, given_name=given, company=company, title=title,
            region=region, city=city, product_interest=interest, email=email,
            country="HK" if city == "Hong Kong" else "CN",
            phone="" if email else "+86 138 0013 " + f"{len(company):04d}",
            consent=source == "web", consent_at=timezone.now() if source == "web" else None,
        )  # fmt: skip
    return {"products": len(PRODUCTS), "leads": len(LEADS)}


def demo_loader(*, workspace: Workspace, members: dict[str, Membership]) -> str:
    """The ``guanxi demo`` hook: the sales people's deals (after the customers' loader),
    the catalogue, the web form, routing rules and leads."""
    owners = [m for m in members.values() if m.role.key in ("sales_rep", "sales_manager")]
    counts = load_demo_sales(workspace=workspace, owners=owners)
    teams = {m.team.name: m.team for m in members.values() if m.team_id}
    # the administrator joins after the loaders: the marketer opens the web form
    admin = next((m for m in members.values() if m.role.key == "marketer"), None)
    with acting_in(workspace, admin):
        more = load_demo_catalogue_and_leads(workspace=workspace, admin=admin, teams=teams)
    return (
        f"loaded {counts['opportunities']} opportunities ({counts['won']} won, "
        f"{counts['lost']} lost), {counts['orders']} orders, {more['products']} products "
        f"in a price book and {more['leads']} leads"
    )

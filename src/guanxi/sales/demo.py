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


def demo_loader(*, workspace: Workspace, members: dict[str, Membership]) -> str:
    """The ``guanxi demo`` hook: the sales people's deals (after the customers' loader)."""
    owners = [m for m in members.values() if m.role.key in ("sales_rep", "sales_manager")]
    counts = load_demo_sales(workspace=workspace, owners=owners)
    return (
        f"loaded {counts['opportunities']} opportunities ({counts['won']} won, "
        f"{counts['lost']} lost) and {counts['orders']} orders"
    )

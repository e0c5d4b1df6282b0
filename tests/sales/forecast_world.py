"""A small sales organisation for forecast and metric tests: three levels of managers, a
few deals whose expected totals are worked out by hand in the tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from guanxi.customers import services as customers
from guanxi.platform.models import Membership, Workspace
from guanxi.sales import services
from guanxi.sales.models import Opportunity, Stage, StageChange
from tests.factories import make_member, make_team

SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass
class Org:
    """boss ─┬─ mid ─┬─ rep_a
    │       └─ rep_b
    └─ rep_c          (admin and a stranger outside the tree)"""

    workspace: Workspace
    boss: Membership
    mid: Membership
    rep_a: Membership
    rep_b: Membership
    rep_c: Membership
    admin: Membership
    account: object


def build_org(workspace: Workspace) -> Org:
    east = make_team(workspace=workspace, name="华东")
    south = make_team(workspace=workspace, name="华南")
    boss = make_member(workspace=workspace, role_key="sales_manager", team=east, username="boss")
    mid = make_member(
        workspace=workspace, role_key="sales_manager", team=east, manager=boss, username="mid"
    )
    rep_a = make_member(workspace=workspace, team=east, manager=mid, username="rep_a")
    rep_b = make_member(workspace=workspace, team=east, manager=mid, username="rep_b")
    rep_c = make_member(workspace=workspace, team=south, manager=boss, username="rep_c")
    admin = make_member(workspace=workspace, role_key="administrator", username="admin")
    account = customers.create_account(workspace=workspace, by=admin.user, name="远景贸易")
    return Org(workspace, boss, mid, rep_a, rep_b, rep_c, admin, account)


def stage(workspace: Workspace, key: str) -> Stage:
    return Stage.objects.for_workspace(workspace).get(key=key)


def deal(
    org: Org,
    owner: Membership,
    stage_key: str,
    amount: str | int,
    *,
    close: date | None = None,
    closed_at: datetime | None = None,
    created_at: datetime | None = None,
    currency: str | None = None,
) -> Opportunity:
    """A deal created straight in ``stage_key``; ``closed_at`` / ``created_at`` are set
    afterwards (the services stamp "now")."""
    extra = {"loss_reason": "价格"} if stage_key == "closed_lost" else {}
    opportunity = services.create_opportunity(
        workspace=org.workspace,
        by=org.admin.user,
        name=f"{owner.user.username} {stage_key} {amount}",
        account=org.account,
        stage=stage(org.workspace, stage_key),
        amount=Decimal(str(amount)),
        currency=currency,
        expected_close_date=close,
        owner=owner.user,
        **extra,
    )
    changes = {}
    if closed_at is not None:
        changes["closed_at"] = closed_at
    if created_at is not None:
        changes["created_at"] = created_at
    if changes:
        Opportunity.objects.for_workspace(org.workspace).filter(pk=opportunity.pk).update(**changes)
        if created_at is not None:
            StageChange.objects.for_workspace(org.workspace).filter(opportunity=opportunity).update(
                changed_at=created_at
            )
        opportunity.refresh_from_db()
    return opportunity


def at(*args: int) -> datetime:
    """A moment in Shanghai time."""
    return datetime(*args, tzinfo=SHANGHAI)

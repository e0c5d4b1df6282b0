"""The opportunity totals the database keeps (triggers): after every kind of write they are
what summing the deals gives, and the board's columns read from them show the same numbers
as columns summed from the deals, for every scope and owner filter."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import connection
from django.db.models import Count, F, Sum

from guanxi.customers import services as customers
from guanxi.platform.ids import new_public_id
from guanxi.platform.models import Membership
from guanxi.sales import board, services, totals
from guanxi.sales.models import Opportunity, OpportunityTotal, Pipeline, Stage
from tests.factories import make_member, make_team, make_workspace

pytestmark = pytest.mark.django_db


def kept() -> dict[tuple, tuple]:
    return {
        (r.workspace_id, r.stage_id, r.owner_key, r.team_key, r.currency): (
            r.deals, Decimal(r.amount), Decimal(r.weighted)
        )
        for r in OpportunityTotal.objects.all()
        if r.deals
    }  # fmt: skip


def summed() -> dict[tuple, tuple]:
    rows = (
        Opportunity.objects.dangerously_all_workspaces()
        .order_by()
        .values("workspace_id", "stage_id", "owner_id", "team_id", "currency")
        .annotate(n=Count("id"), total=Sum("amount"), weighted=Sum(F("amount") * F("probability")))
    )
    return {
        (r["workspace_id"], r["stage_id"], r["owner_id"] or 0, r["team_id"] or 0, r["currency"]): (
            r["n"], Decimal(r["total"]), Decimal(r["weighted"])
        )
        for r in rows
    }  # fmt: skip


@pytest.fixture
def account(workspace, admin):
    return customers.create_account(workspace=workspace, by=admin.user, name="远景贸易")


@pytest.fixture
def stages(workspace):
    pipeline = Pipeline.objects.for_workspace(workspace).get(key="sales")
    return {s.key: s for s in Stage.objects.for_workspace(workspace).filter(pipeline=pipeline)}


def test_triggers_are_installed_by_migrate():
    assert totals.installed(connection)


def test_every_kind_of_write_keeps_the_totals(workspace, admin, rep, team, account, stages):
    other = make_member(workspace=workspace, role_key="sales_rep", username="wang.fang")
    made = [
        services.create_opportunity(
            workspace=workspace,
            by=rep.user,
            name=f"deal {n}",
            account=account,
            amount=Decimal("1000.50") * (n + 1),
        )
        for n in range(4)
    ]
    usd = services.create_opportunity(
        workspace=workspace, by=rep.user, name="export", account=account, amount="700",
        currency="USD",
    )  # fmt: skip
    assert kept() == summed() and len(kept()) == 2
    # a move, an amount and probability change, a new owner, a soft delete
    deal = services.move_stage(
        opportunity=made[0], stage=stages["proposal"], by=rep.user, expected_version=1
    )
    services.update_opportunity(
        opportunity=made[1], by=rep.user, expected_version=1, amount=Decimal("99.99"),
        probability=35,
    )  # fmt: skip
    services.update_opportunity(
        opportunity=made[2], by=admin.user, expected_version=1, owner=other.user
    )
    services.delete_opportunity(opportunity=usd, by=rep.user)
    assert kept() == summed()
    # writes that bypass the services: a queryset update, a bulk insert, a row deleted, a
    # soft-deleted row brought back, and an owner's user removed (owner set to NULL)
    Opportunity.objects.dangerously_all_workspaces().filter(pk=made[3].pk).update(
        stage=stages["closed_won"], probability=100, amount=Decimal("5")
    )
    Opportunity.objects.bulk_create(
        [
            Opportunity(
                workspace=workspace,
                public_id=new_public_id("opp"),
                name=f"bulk {n}",
                account=account,
                pipeline=stages["proposal"].pipeline,
                stage=stages["proposal"],
                amount=n,
                currency="CNY",
                probability=50,
                owner=rep.user,
                team=team,
            )
            for n in range(3)
        ]
    )
    Opportunity.objects.dangerously_all_workspaces(include_deleted=True).filter(pk=usd.pk).update(
        deleted_at=None
    )
    Opportunity.objects.dangerously_all_workspaces().filter(pk=deal.pk).delete()
    other.user.delete()
    assert kept() == summed()
    assert sum(n for n, _total, _weighted in kept().values()) == 4 + 1 + 3 - 1


def test_a_rebuild_counts_again_and_migrate_puts_back_lost_triggers(
    workspace, rep, account, stages
):
    services.create_opportunity(
        workspace=workspace, by=rep.user, name="x", account=account, amount="10"
    )
    expected = summed()
    # as if a later migration had rebuilt the table on SQLite (triggers dropped with it)
    totals.uninstall(connection)
    assert not totals.installed(connection)
    services.create_opportunity(
        workspace=workspace, by=rep.user, name="y", account=account, amount="20"
    )
    assert kept() == expected != summed()  # written while the triggers were missing
    totals.ensure_installed(using=connection.alias)
    assert totals.installed(connection) and kept() == summed()
    totals.ensure_installed(using=connection.alias)  # nothing to do the second time
    assert kept() == summed()


def _columns(membership, filters, stages, *, kept_sums: bool):
    """The board's columns with totals read from the kept totals or summed from the deals."""
    visible = board.with_scope_ids(Opportunity.objects.visible_to(membership, "view"), membership)
    rows = board.apply_filters(visible, membership, filters, date_today())
    ids = [stage.pk for stage in stages]
    source = board.kept_totals(membership, filters, ids) if kept_sums else None
    if kept_sums:
        assert source is not None
    columns = board.board_columns(queryset=rows, stages=stages, currency="CNY", totals=source)
    return [(c.stage.key, c.count, c.total, c.weighted, c.other) for c in columns]


def date_today():
    from django.utils import timezone

    return timezone.localdate()


@pytest.mark.parametrize(
    ("who", "owner"),
    [
        ("admin", ""), ("admin", "me"), ("admin", "team"), ("admin", "reports"),
        ("admin", "li.na"), ("admin", "nobody"), ("manager", ""), ("manager", "reports"),
        ("manager", "li.na"), ("lead", ""), ("lead", "team"), ("rep", ""), ("rep", "me"),
        ("rep", "zhao.lei"), ("agent", ""), ("loner", ""), ("loner", "team"),
    ],
)  # fmt: skip
def test_board_totals_from_the_kept_sums_match_the_deals(
    workspace, admin, team, account, stages, who, owner
):
    north = make_team(workspace=workspace, name="华北销售部")
    manager = make_member(workspace=workspace, role_key="sales_manager", username="chen.jie")
    lead = make_member(workspace=workspace, role_key="sales_manager", team=team, username="he.min",
                       manager=manager)  # fmt: skip
    rep = make_member(workspace=workspace, role_key="sales_rep", team=team, username="li.na",
                      manager=lead)  # fmt: skip
    far = make_member(workspace=workspace, role_key="sales_rep", team=north, username="zhao.lei")
    agent = make_member(workspace=workspace, role_key="service_agent", username="gu.wen")
    loner = make_member(workspace=workspace, role_key="sales_rep", username="lu.xun")  # no team
    amounts = iter(range(1, 100))
    for owner_member in (rep, far, lead, manager, admin, loner):
        for key in ("qualification", "proposal", "closed_won"):
            for currency in ("CNY", "USD"):
                services.create_opportunity(
                    workspace=workspace, by=owner_member.user, name=f"{key} {currency}",
                    account=account, stage=stages[key], currency=currency,
                    amount=Decimal(next(amounts)) * 1000, owner=owner_member.user,
                )  # fmt: skip
    membership = {"admin": admin, "manager": manager, "lead": lead, "rep": rep,
                  "agent": agent, "loner": loner}[who]  # fmt: skip
    membership = (
        Membership.objects.for_workspace(workspace).select_related("role").get(pk=membership.pk)
    )
    user_id = (
        Membership.objects.for_workspace(workspace).filter(user__username=owner)
        .values_list("user_id", flat=True).first()
    )  # fmt: skip
    filters = board.Filters(owner=owner, owner_user_id=user_id)
    ordered = list(stages.values())
    live = _columns(membership, filters, ordered, kept_sums=False)
    assert _columns(membership, filters, ordered, kept_sums=True) == live
    if who == "admin" and owner == "":
        assert sum(count for _key, count, *_rest in live) == 36


def test_close_date_and_search_filters_are_summed_from_the_deals(admin, stages):
    ids = [stage.pk for stage in stages.values()]
    assert board.kept_totals(admin, board.Filters(close="this_month"), ids) is None
    assert board.kept_totals(admin, board.Filters(q="光纤"), ids) is None
    assert board.kept_totals(admin, board.Filters(owner="me"), ids) is not None


def test_totals_of_another_workspace_are_not_counted(workspace, admin, account, stages):
    elsewhere = make_workspace(slug="elsewhere")
    stranger = make_member(workspace=elsewhere, role_key="administrator")
    foreign = customers.create_account(workspace=elsewhere, by=stranger.user, name="别家")
    services.create_opportunity(
        workspace=elsewhere, by=stranger.user, name="theirs", account=foreign, amount="5"
    )
    services.create_opportunity(
        workspace=workspace, by=admin.user, name="ours", account=account, amount="7"
    )
    ids = [stage.pk for stage in stages.values()]
    rows = list(board.kept_totals(admin, board.Filters(), ids))
    assert [(r["n"], Decimal(r["total"])) for r in rows] == [(1, Decimal(7))]

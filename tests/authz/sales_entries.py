"""Matrix entries of the sales app: pipelines, opportunities and orders."""

from __future__ import annotations

from datetime import date

from guanxi.customers import services as customers
from guanxi.platform.models import Membership
from guanxi.sales import orders, services
from guanxi.sales.models import Pipeline, Stage
from tests.authz.harness import MatrixEntry, register


def _pipeline_for(owner: Membership):
    return Pipeline.objects.for_workspace(owner.workspace).get(key="sales")


def _opportunity_for(owner: Membership):
    account = customers.create_account(
        workspace=owner.workspace, by=owner.user, name=f"Account of {owner.user}"
    )
    return services.create_opportunity(
        workspace=owner.workspace, by=owner.user, name=f"Deal of {owner.user}", account=account
    )


def _new_owner(opportunity) -> str:
    """Someone in the workspace who does not own the record yet."""
    return "mate" if opportunity.owner.username == "stranger" else "stranger"


def _reopen(api, opportunity):
    """Win the deal (its owner may), then try to take it back to an open stage."""
    won = Stage.objects.for_workspace(opportunity.workspace_id).get(
        pipeline=opportunity.pipeline, key="closed_won"
    )
    opportunity = services.move_stage(
        opportunity=opportunity, stage=won, by=opportunity.owner, expected_version=1
    )
    return api.patch(
        f"/opportunities/{opportunity.public_id}",
        {"stage": "negotiation", "reason": "客户撤单", "version": opportunity.version},
    )


def _add_opportunity(api):
    account = api.post("/accounts", {"name": "New Co"})
    account_id = account.json()["id"] if account.status_code == 201 else "acc_none"
    return api.post("/opportunities", {"name": "New deal", "account_id": account_id})


register(
    MatrixEntry(
        object_type="sales.pipeline",
        make_record=_pipeline_for,
        calls={"view": lambda api, p: api.get(f"/pipelines/{p.public_id}")},
    )
)
register(
    MatrixEntry(
        object_type="sales.opportunity",
        make_record=_opportunity_for,
        calls={
            "view": lambda api, o: api.get(f"/opportunities/{o.public_id}"),
            "change": lambda api, o: api.patch(
                f"/opportunities/{o.public_id}", {"next_step": "约见", "version": o.version}
            ),
            "delete": lambda api, o: api.delete(f"/opportunities/{o.public_id}"),
            "assign": lambda api, o: api.patch(
                f"/opportunities/{o.public_id}", {"owner": _new_owner(o), "version": o.version}
            ),
            "reopen": _reopen,
        },
        add=_add_opportunity,
    )
)


def _order_for(owner: Membership):
    account = customers.create_account(
        workspace=owner.workspace, by=owner.user, name=f"Customer of {owner.user}",
        external_id=f"K-{owner.user.username}",
    )  # fmt: skip
    return orders.upsert_order(
        workspace=owner.workspace, by=owner.user, number=f"SO-{owner.user.username}",
        account=account, ordered_at=date(2024, 3, 15), amount="100",
    ).order  # fmt: skip


def _add_order(api):
    account = api.post("/accounts", {"name": "New Co"})
    account_id = account.json()["id"] if account.status_code == 201 else "acc_none"
    return api.post(
        "/orders",
        {"number": "SO-new", "account_id": account_id, "ordered_at": "2024-03-15", "amount": "1"},
    )


register(
    MatrixEntry(
        object_type="sales.order",
        make_record=_order_for,
        calls={
            "view": lambda api, o: api.get(f"/orders/{o.public_id}"),
            "change": lambda api, o: api.patch(
                f"/orders/{o.public_id}", {"status": "fulfilled", "version": o.version}
            ),
            "delete": lambda api, o: api.delete(f"/orders/{o.public_id}"),
        },
        add=_add_order,
    )
)


# --- forecasts and targets --------------------------------------------------------------------
def _forecast_of(owner: Membership):
    """A forecast is a person's numbers: the record is the member whose forecast it is."""
    return owner


register(
    MatrixEntry(
        object_type="sales.forecast",
        make_record=_forecast_of,
        calls={
            "view": lambda api, m: api.get("/forecasts", period="2026-Q4", user_id=m.public_id),
            "adjust": lambda api, m: api.post(
                "/forecasts/adjustments",
                {"period": "2026-Q4", "user_id": m.public_id, "category": "commit", "amount": 1},
            ),
        },
        success={"adjust": 201},
    )
)


def _target_for(owner: Membership):
    from guanxi.sales.models import Target

    target = Target(workspace=owner.workspace, user=owner.user, period="2026-Q4", amount=100,
                    currency="CNY")  # fmt: skip
    target.save()
    return target


register(
    MatrixEntry(
        object_type="sales.target",
        make_record=_target_for,
        calls={
            "view": lambda api, t: api.get(f"/targets/{t.public_id}"),
            "change": lambda api, t: api.patch(
                f"/targets/{t.public_id}", {"amount": "120", "version": t.version}
            ),
            "delete": lambda api, t: api.delete(f"/targets/{t.public_id}"),
        },
        add=lambda api: api.post(
            "/targets", {"period": "2026-Q4", "user_id": "actor", "amount": "100"}
        ),
    )
)

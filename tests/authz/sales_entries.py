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


def _visit_for(owner: Membership):
    """A visit planned for ``owner``: the check-ins of a visit follow its assignee."""
    from django.utils import timezone

    from guanxi.timeline import services as timeline

    account = customers.create_account(
        workspace=owner.workspace, by=owner.user, name=f"Visited by {owner.user}"
    )
    return timeline.create_activity(
        workspace=owner.workspace, by=owner.user, kind="visit", subject="拜访",
        account=account, due_at=timezone.now(),
    )  # fmt: skip


register(
    MatrixEntry(
        object_type="sales.visit_check_in",
        make_record=_visit_for,
        calls={
            "view": lambda api, v: api.get(f"/visits/{v.public_id}"),
            "add": lambda api, v: api.post(
                f"/visits/{v.public_id}/check-in", {"latitude": 31.23, "longitude": 121.47}
            ),
        },
    )
)


# --- leads ------------------------------------------------------------------------------------
def _lead_for(owner: Membership):
    from guanxi.sales import leads

    return leads.create_lead(
        workspace=owner.workspace, by=owner.user, full_name=f"Lead of {owner.user}",
        company=f"Company of {owner.user}", phone="13800138000",
    )  # fmt: skip


def _add_lead(api):
    return api.post("/leads", {"name": "王芳", "phone": "13912345678"})


register(
    MatrixEntry(
        object_type="sales.lead",
        make_record=_lead_for,
        calls={
            "view": lambda api, lead: api.get(f"/leads/{lead.public_id}"),
            "change": lambda api, lead: api.patch(
                f"/leads/{lead.public_id}", {"title": "采购经理", "version": lead.version}
            ),
            "delete": lambda api, lead: api.delete(f"/leads/{lead.public_id}"),
            "assign": lambda api, lead: api.patch(
                f"/leads/{lead.public_id}", {"owner": _new_owner(lead), "version": lead.version}
            ),
            "convert": lambda api, lead: api.post(
                f"/leads/{lead.public_id}/convert", {"create_opportunity": False}
            ),
        },
        add=_add_lead,
    )
)


# --- catalogue and quotes ---------------------------------------------------------------------
def _product_for(owner: Membership):
    from guanxi.sales import catalogue

    return catalogue.create_product(
        workspace=owner.workspace, by=owner.user, sku=f"SKU-{owner.user.username}", name="光模块"
    )


def _price_book_for(owner: Membership):
    from guanxi.sales import catalogue

    return catalogue.create_price_book(
        workspace=owner.workspace, by=owner.user, name=f"Prices of {owner.user}", is_standard=True
    )


register(
    MatrixEntry(
        object_type="sales.product",
        make_record=_product_for,
        calls={
            "view": lambda api, p: api.get(f"/products/{p.public_id}"),
            "change": lambda api, p: api.patch(
                f"/products/{p.public_id}", {"unit": "台", "version": p.version}
            ),
            "delete": lambda api, p: api.delete(f"/products/{p.public_id}"),
        },
        add=lambda api: api.post("/products", {"sku": "NEW-1", "name": "交换机"}),
    )
)
register(
    MatrixEntry(
        object_type="sales.pricebook",
        make_record=_price_book_for,
        calls={
            "view": lambda api, b: api.get(f"/price-books/{b.public_id}"),
            "change": lambda api, b: api.patch(
                f"/price-books/{b.public_id}", {"name": "renamed", "version": b.version}
            ),
            "delete": lambda api, b: api.delete(f"/price-books/{b.public_id}"),
        },
        add=lambda api: api.post("/price-books", {"name": "New prices"}),
    )
)


def _quote_for(owner: Membership):
    from guanxi.sales import quotes

    opportunity = _opportunity_for(owner)
    quotes.add_line(
        opportunity=opportunity,
        by=owner.user,
        line=quotes.LineInput(product=_product_for(owner), quantity="2", unit_price="100"),
    )
    return quotes.create_quote(opportunity=opportunity, by=owner.user)


def _approve(api, quote):
    """A quote waiting for approval (its discount is within everyone's limit, so that who
    may approve is decided by the right alone)."""
    from guanxi.sales.models import Quote

    Quote.objects.for_workspace(quote.workspace_id).filter(pk=quote.pk).update(
        status="pending_approval"
    )
    return api.post(f"/quotes/{quote.public_id}/approve", {"version": quote.version})


def _add_quote(api):
    from guanxi.sales import catalogue

    product = catalogue.create_product(
        workspace=api.membership.workspace, by=None, sku="Q-NEW", name="光模块"
    )
    opportunity = _add_opportunity(api)
    opportunity_id = opportunity.json()["id"] if opportunity.status_code == 201 else "opp_none"
    api.post(
        f"/opportunities/{opportunity_id}/lines",
        {"product_id": product.public_id, "quantity": "1", "unit_price": "10"},
    )
    return api.post("/quotes", {"opportunity_id": opportunity_id})


register(
    MatrixEntry(
        object_type="sales.quote",
        make_record=_quote_for,
        calls={
            "view": lambda api, q: api.get(f"/quotes/{q.public_id}"),
            "change": lambda api, q: api.post(
                f"/quotes/{q.public_id}/reject", {"reason": "预算取消", "version": q.version}
            ),
            "delete": lambda api, q: api.delete(f"/quotes/{q.public_id}"),
            "approve": _approve,
            "send": lambda api, q: api.post(
                f"/quotes/{q.public_id}/send", {"to": "buyer@example.com", "version": q.version}
            ),
        },
        add=_add_quote,
    )
)


# --- lead routing: the rules administrators keep (sales managers read them) ------------------------
def _assignment_rule_for(owner: Membership):
    from guanxi.sales.lead_routing import services as routing

    return routing.create_assignment_rule(
        workspace=owner.workspace, by=owner.user, name=f"Rule of {owner.user}", method="user",
        user=owner.user,
    )  # fmt: skip


register(
    MatrixEntry(
        object_type="sales.leadrule",
        make_record=_assignment_rule_for,
        calls={
            "view": lambda api, r: api.get(f"/lead-routing/assignment-rules/{r.public_id}"),
            "change": lambda api, r: api.patch(
                f"/lead-routing/assignment-rules/{r.public_id}",
                {"min_score": 10, "version": r.version},
            ),
            "delete": lambda api, r: api.delete(f"/lead-routing/assignment-rules/{r.public_id}"),
        },
        add=lambda api: api.post(
            "/lead-routing/scoring-rules",
            {
                "name": "Director",
                "field": "title",
                "operator": "contains",
                "value": "总监",
                "points": 20,
            },
        ),
    )
)


# Contact roles of a deal: their scopes reach through the deal's owner and team.
def _deal_with_role(owner: Membership):
    from guanxi.sales import contact_roles

    deal = _opportunity_for(owner)
    contact = customers.create_contact(
        workspace=owner.workspace, by=owner.user, family_name="张", given_name="伟",
        account=deal.account,
    )  # fmt: skip
    role, _created = contact_roles.set_contact_role(
        opportunity=deal, contact=contact, role="decision_maker", by=owner.user
    )
    return role


def _add_contact_role(api):
    account = api.post("/accounts", {"name": "Role Co"})
    account_id = account.json()["id"] if account.status_code == 201 else "acc_none"
    deal = api.post("/opportunities", {"name": "Role deal", "account_id": account_id})
    deal_id = deal.json()["id"] if deal.status_code == 201 else "opp_none"
    contact = api.post("/contacts", {"family_name": "李", "given_name": "娜"})
    contact_id = contact.json()["id"] if contact.status_code == 201 else "con_none"
    return api.post(f"/opportunities/{deal_id}/contact-roles", {"contact_id": contact_id})


register(
    MatrixEntry(
        object_type="sales.opportunitycontactrole",
        make_record=_deal_with_role,
        calls={
            "view": lambda api, r: api.get(
                f"/opportunities/{r.opportunity.public_id}/contact-roles"
            ),
            "delete": lambda api, r: api.delete(
                f"/opportunities/{r.opportunity.public_id}/contact-roles/{r.public_id}"
            ),
        },
        add=_add_contact_role,
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

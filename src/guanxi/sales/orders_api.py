"""Order endpoints: the ERP pushes orders (idempotent by order number) and anyone who may see
them reads them back with their lines."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from guanxi.customers.models import Account, Contact
from guanxi.platform.apiframework import CursorPage, Problem, keyset_page, with_etag
from guanxi.platform.errors import Forbidden, NotFound, ValidationFailed
from guanxi.platform.models import Membership
from guanxi.platform.versioning import expected_version
from guanxi.platform.visibility import can, get_visible_or_404, require_add
from guanxi.sales import orders as services
from guanxi.sales.models import Opportunity, Order, OrderLine

router = Router(tags=["orders"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
ORDERINGS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
}


class OrderLineIn(Schema):
    product_name: str = Field(description="The product as the ERP names it.")
    sku: str = ""
    quantity: Decimal = Field(description="More than 0, at most 4 decimals.")
    unit_price: Decimal = Field(description="Not negative, at most 4 decimals.")
    discount_percent: Decimal = Field(Decimal(0), description="0–100.")


class OrderIn(Schema):
    number: str = Field(description="The ERP's order number: the order's external id.")
    account_id: str | None = Field(None, description="The account's id…")
    account_external_id: str | None = Field(None, description="…or its external id.")
    contact_id: str | None = None
    opportunity_id: str | None = None
    ordered_at: date | None = None
    status: str = Field("confirmed", description="draft, confirmed, fulfilled, cancelled, returned")
    currency: str | None = Field(None, description="ISO 4217; default: the workspace's.")
    amount: Decimal | None = Field(
        None, description="Required without lines; with lines it is their sum (or left out)."
    )
    fulfilled_on: date | None = None
    source: str = Field("erp", description="Where the order comes from: erp, import, quote…")
    lines: list[OrderLineIn] = Field(
        default_factory=list, description="The whole order's lines: they replace stored ones."
    )


class OrderLineOut(Schema):
    product_name: str
    sku: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    amount: Decimal


class OrderOut(Schema):
    id: str
    number: str
    account_id: str
    account_name: str
    contact_id: str | None
    opportunity_id: str | None
    ordered_at: date
    status: str
    currency: str
    amount: Decimal
    fulfilled_on: date | None
    source: str
    owner: str | None
    team: str | None
    lines: list[OrderLineOut]
    created_at: datetime
    updated_at: datetime
    version: int


def order_out(order: Order) -> dict[str, Any]:
    return {
        "id": order.public_id,
        "number": order.number,
        "account_id": order.account.public_id,
        "account_name": order.account.name,
        "contact_id": order.contact.public_id if order.contact_id else None,
        "opportunity_id": order.opportunity.public_id if order.opportunity_id else None,
        "ordered_at": order.ordered_at,
        "status": order.status,
        "currency": order.currency,
        "amount": order.amount,
        "fulfilled_on": order.fulfilled_on,
        "source": order.source,
        "owner": order.owner.username if order.owner_id else None,
        "team": order.team.public_id if order.team_id else None,
        "lines": [
            {
                "product_name": line.product_name,
                "sku": line.sku,
                "quantity": line.quantity.normalize(),
                "unit_price": line.unit_price.normalize(),
                "discount_percent": line.discount_percent.normalize(),
                "amount": line.amount,
            }
            for line in order.lines.all()
        ],
        "created_at": order.created_at,
        "updated_at": order.updated_at,
        "version": order.version,
    }


def orders(*, user: Any, action: str = "view") -> QuerySet[Order]:
    """Orders the caller may see, with what the API shows of them in a fixed few queries."""
    return (
        Order.objects.visible_to(user, action)
        .select_related("account", "contact", "opportunity", "owner", "team")
        .prefetch_related(Prefetch("lines", queryset=OrderLine.objects.order_by("position", "id")))
    )


def _account(membership: Membership, payload: OrderIn) -> Account | None:
    """The account by id or by external id, among those the caller may see; an invisible
    one is as good as missing."""
    visible = Account.objects.visible_to(membership, "view")
    if payload.account_id:
        return visible.filter(public_id=payload.account_id).first()
    if payload.account_external_id:
        return (
            visible.filter(external_id=payload.account_external_id.strip())
            .exclude(external_id="")
            .first()
        )
    return None


def _resolve(membership: Membership, payload: OrderIn) -> dict[str, Any]:
    errors: list[tuple[str, str]] = []
    account = _account(membership, payload)
    if account is None:
        field = "account_external_id" if payload.account_external_id else "account_id"
        if not payload.account_id and not payload.account_external_id:
            errors.append(("account_id", _("give the account's id or external id")))
        else:
            errors.append((field, _("no such account")))
    contact = opportunity = None
    if payload.contact_id:
        contact = (
            Contact.objects.visible_to(membership, "view")
            .filter(public_id=payload.contact_id)
            .first()
        )
        if contact is None:
            errors.append(("contact_id", _("no such contact")))
    if payload.opportunity_id:
        opportunity = (
            Opportunity.objects.visible_to(membership, "view")
            .filter(public_id=payload.opportunity_id)
            .first()
        )
        if opportunity is None:
            errors.append(("opportunity_id", _("no such opportunity")))
    if not payload.lines and payload.amount is None:
        errors.append(("amount", _("give the amount, or the lines it is the sum of")))
    if errors:
        raise ValidationFailed(errors)
    return {"account": account, "contact": contact, "opportunity": opportunity}


@router.post(
    "/orders",
    response={200: OrderOut, 201: OrderOut, **ERRORS},
    summary="Push an order (create or update by number)",
)
def push_order(request: HttpRequest, payload: OrderIn, response: HttpResponse) -> Status:
    """The ERP's push: 201 when the number is new, 200 when an order with this number is
    updated in place (or was already exactly so). The payload is the whole order: its lines
    replace the stored ones and the amount is their sum."""
    membership: Membership = request.auth
    existing = services.find_order(membership.workspace_id, payload.number or "")
    if existing is None:
        require_add(membership, Order.object_type)
    elif not can(membership, "view", existing):
        # an order the caller may not see answers like a missing one would on its page
        raise NotFound(Order._meta.verbose_name)
    elif not can(membership, "change", existing):
        raise Forbidden(action="change", object_type=Order.object_type)
    result = services.upsert_order(
        workspace=membership.workspace,
        by=request.user,
        existing=existing,
        **_resolve(membership, payload),
        **payload.dict(
            exclude={"account_id", "account_external_id", "contact_id", "opportunity_id", "lines"}
        ),
        lines=[services.LineInput(**line.dict()) for line in payload.lines],
    )
    order = orders(user=membership).get(pk=result.order.pk)
    with_etag(response, order)
    return Status(201 if result.created else 200, order_out(order))


class OrderFilters(Schema):
    account_id: str | None = None
    status: Literal["draft", "confirmed", "fulfilled", "cancelled", "returned"] | None = None
    ordered_after: date | None = Field(None, description="Ordered on or after")
    ordered_before: date | None = Field(None, description="Ordered on or before")
    sort: Literal["created_at", "-created_at", "updated_at", "-updated_at"] = "-created_at"
    cursor: str | None = None
    limit: int | None = None


@router.get("/orders", response={200: CursorPage[OrderOut], **ERRORS}, summary="List orders")
def list_orders(request: HttpRequest, filters: OrderFilters = Query(...)) -> dict:  # noqa: B008
    queryset = orders(user=request.auth)
    if filters.account_id:
        queryset = queryset.filter(account__public_id=filters.account_id)
    if filters.status:
        queryset = queryset.filter(status=filters.status)
    if filters.ordered_after:
        queryset = queryset.filter(ordered_at__gte=filters.ordered_after)
    if filters.ordered_before:
        queryset = queryset.filter(ordered_at__lte=filters.ordered_before)
    rows, next_cursor = keyset_page(
        queryset, ordering=ORDERINGS[filters.sort], cursor=filters.cursor, limit=filters.limit
    )
    return {"items": [order_out(row) for row in rows], "next_cursor": next_cursor}


@router.get("/orders/{order_id}", response={200: OrderOut, **ERRORS}, summary="One order")
def get_order(request: HttpRequest, order_id: str, response: HttpResponse) -> dict:
    order = get_visible_or_404(
        Order, user=request.auth, public_id=order_id, queryset=orders(user=request.auth)
    )
    with_etag(response, order)
    return order_out(order)


class OrderUpdate(Schema):
    status: str | None = Field(None, description="draft, confirmed, fulfilled, cancelled, returned")
    fulfilled_on: date | None = None
    version: int | None = None


@router.patch("/orders/{order_id}", response={200: OrderOut, **ERRORS, 428: Problem},
              summary="Change an order's status")  # fmt: skip
def update_order(
    request: HttpRequest, order_id: str, payload: OrderUpdate, response: HttpResponse
) -> dict:
    """Mark an order fulfilled, cancelled or returned by hand (the ERP's push does the same
    by number). Send the version you read (If-Match or `version`)."""
    order = get_visible_or_404(
        Order, user=request.auth, public_id=order_id, action="change",
        queryset=orders(user=request.auth),
    )  # fmt: skip
    given = payload.model_fields_set
    services.upsert_order(
        workspace=order.workspace, by=request.user, existing=order, number=order.number,
        account=order.account, contact=order.contact, opportunity=order.opportunity,
        ordered_at=order.ordered_at, currency=order.currency, source=order.source,
        status=payload.status if payload.status is not None else order.status,
        fulfilled_on=payload.fulfilled_on if "fulfilled_on" in given else order.fulfilled_on,
        expected_version=expected_version(
            if_match=request.headers.get("If-Match"), body_version=payload.version
        ),
    )  # fmt: skip
    order = orders(user=request.auth).get(pk=order.pk)
    with_etag(response, order)
    return order_out(order)


@router.delete("/orders/{order_id}", response={204: None, **ERRORS}, summary="Delete an order")
def delete_order(request: HttpRequest, order_id: str) -> Status:
    order = get_visible_or_404(Order, user=request.auth, public_id=order_id, action="delete")
    services.delete_order(order=order, by=request.user)
    return Status(204, None)

"""Quote endpoints: an opportunity's line items, quotes made from them, their revisions,
approval, the PDF, sending, acceptance into an order and rejection."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from guanxi.customers.models import Contact
from guanxi.platform.apiframework import Problem, with_etag
from guanxi.platform.errors import Forbidden, NotFound, ValidationFailed
from guanxi.platform.models import Membership, Role
from guanxi.platform.permissions import Scope
from guanxi.platform.versioning import expected_version
from guanxi.platform.visibility import get_visible_or_404, require_action, require_add
from guanxi.sales import pricing, quote_documents, quotes, selectors
from guanxi.sales.models import Opportunity, OpportunityLine, Product, Quote, QuoteLine

router = Router(tags=["quotes"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
WRITE_ERRORS = {**ERRORS, 428: Problem}


# --- schemas ----------------------------------------------------------------------------------
class LineIn(Schema):
    product_id: str
    quantity: Decimal = Field(description="More than 0, at most 4 decimals.")
    unit_price: Decimal | None = Field(
        None, description="Before tax, at most 2 decimals; default: from the price book."
    )
    discount_percent: Decimal = Field(Decimal(0), description="0–100.")
    tax_rate: Decimal | None = Field(None, description="Percent; default: the product's.")
    currency: str | None = Field(None, description="If given, must be the opportunity's.")


class LineUpdate(Schema):
    product_id: str | None = None
    quantity: Decimal | None = None
    unit_price: Decimal | None = Field(None, description="null: from the price book again")
    discount_percent: Decimal | None = None
    tax_rate: Decimal | None = None
    currency: str | None = None
    version: int | None = None


class LineOut(Schema):
    id: str
    product_id: str
    sku: str
    product_name: str
    unit: str
    quantity: Decimal
    unit_price: Decimal
    price_source: str = Field(description="price_book or manual")
    price_book_id: str | None
    discount_percent: Decimal
    tax_rate: Decimal
    gross_amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal
    version: int


class QuoteIn(Schema):
    opportunity_id: str
    valid_until: date | None = Field(None, description="Default: 30 days from today.")
    contact_id: str | None = Field(None, description="Default: the opportunity's contact.")
    currency: str | None = Field(None, description="If given, must be the opportunity's.")
    language: str | None = Field(
        None, description="zh-hans, zh-hant or en; default: the contact's, else the workspace's."
    )
    notes: str = ""


class QuoteLineOut(Schema):
    product_id: str
    sku: str
    product_name: str
    product_label: str = Field(description="The name in the quote's language")
    unit: str
    quantity: Decimal
    unit_price: Decimal
    discount_percent: Decimal
    net_unit_price: Decimal
    tax_rate: Decimal
    gross_amount: Decimal
    net_amount: Decimal
    tax_amount: Decimal


class TaxRow(Schema):
    rate: Decimal
    net: Decimal
    tax: Decimal


class QuoteWarning(Schema):
    code: str
    message: str
    product: str
    sku: str
    net_unit_price: Decimal
    other_quote_id: str
    other_quote: str
    other_owner: str
    other_net_unit_price: Decimal
    account: str


class QuoteOut(Schema):
    id: str
    number: str
    revision: int
    label: str
    status: str
    opportunity_id: str
    account_id: str
    account_name: str
    contact_id: str | None
    valid_until: date
    currency: str
    language: str
    lines: list[QuoteLineOut]
    subtotal: Decimal
    discount_total: Decimal
    net_total: Decimal
    tax: list[TaxRow]
    tax_total: Decimal
    total: Decimal
    notes: str
    owner: str | None
    needs_approval: bool
    approval_note: str
    decided_by: str | None
    sent_at: datetime | None
    sent_to: str
    rejection_reason: str
    order_id: str | None
    order_number: str | None
    warnings: list[QuoteWarning]
    created_at: datetime
    updated_at: datetime
    version: int


class VersionIn(Schema):
    version: int | None = None


class ReviseIn(VersionIn):
    valid_until: date | None = None
    notes: str | None = None


class ReasonIn(VersionIn):
    reason: str = ""


class ApproveIn(VersionIn):
    note: str = ""


class SendIn(VersionIn):
    to: str | None = Field(None, description="Default: the contact's e-mail address.")
    message: str = Field("", description="The e-mail's text; default: a short cover note.")


class OrderRef(Schema):
    id: str
    number: str
    amount: Decimal
    currency: str
    quote: QuoteOut


# --- helpers ----------------------------------------------------------------------------------
def line_out(line: OpportunityLine) -> dict[str, Any]:
    return {
        "id": line.public_id, "product_id": line.product.public_id, "sku": line.product.sku,
        "product_name": line.product.name, "unit": line.product.unit,
        "quantity": pricing.plain(line.quantity), "unit_price": line.unit_price,
        "price_source": line.price_source,
        "price_book_id": line.price_book.public_id if line.price_book_id else None,
        "discount_percent": line.discount_percent, "tax_rate": line.tax_rate,
        "gross_amount": line.gross_amount, "net_amount": line.net_amount,
        "tax_amount": line.tax_amount, "version": line.version,
    }  # fmt: skip


def quote_queryset(*, user: Any, action: str = "view") -> QuerySet[Quote]:
    return (
        Quote.objects.visible_to(user, action)
        .select_related("opportunity", "account", "contact", "owner", "decided_by", "order",
                        "workspace")
        .prefetch_related(Prefetch("lines", queryset=QuoteLine.objects.order_by("position", "id")))
    )  # fmt: skip


def quote_out(quote: Quote, warnings: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    lines = list(quote.lines.all())
    return {
        "id": quote.public_id, "number": quote.number, "revision": quote.revision,
        "label": quote.label, "status": quote.status,
        "opportunity_id": quote.opportunity.public_id, "account_id": quote.account.public_id,
        "account_name": quote.account.name,
        "contact_id": quote.contact.public_id if quote.contact_id else None,
        "valid_until": quote.valid_until, "currency": quote.currency,
        "language": quote.language,
        "lines": [
            {"product_id": "", "sku": line.sku, "product_name": line.product_name,
             "product_label": line.product_label, "unit": line.unit,
             "quantity": pricing.plain(line.quantity), "unit_price": line.unit_price,
             "discount_percent": line.discount_percent, "net_unit_price": line.net_unit_price,
             "tax_rate": line.tax_rate, "gross_amount": line.gross_amount,
             "net_amount": line.net_amount, "tax_amount": line.tax_amount}
            for line in lines
        ],
        "subtotal": quote.subtotal, "discount_total": quote.discount_total,
        "net_total": quote.net_total, "tax": quote.tax_breakdown,
        "tax_total": quote.tax_total, "total": quote.total, "notes": quote.notes,
        "owner": quote.owner.username if quote.owner_id else None,
        "needs_approval": quote.status in ("draft", "pending_approval")
        and quotes.needs_approval(quote, lines),
        "approval_note": quote.approval_note,
        "decided_by": quote.decided_by.username if quote.decided_by_id else None,
        "sent_at": quote.sent_at, "sent_to": quote.sent_to,
        "rejection_reason": quote.rejection_reason,
        "order_id": quote.order.public_id if quote.order_id else None,
        "order_number": quote.order.number if quote.order_id else None,
        "warnings": warnings if warnings is not None
        else [c.as_dict() for c in quotes.price_conflicts(quote, lines)],
        "created_at": quote.created_at, "updated_at": quote.updated_at,
        "version": quote.version,
    }  # fmt: skip


def _with_product_ids(body: dict[str, Any], quote: Quote) -> dict[str, Any]:
    ids = dict(
        Product.objects.filter(pk__in=[line.product_id for line in quote.lines.all()]).values_list(
            "pk", "public_id"
        )
    )
    for out, line in zip(body["lines"], quote.lines.all(), strict=True):
        out["product_id"] = ids.get(line.product_id, "")
    return body


def _quote(request: HttpRequest, quote_id: str, action: str = "view") -> Quote:
    return get_visible_or_404(Quote, user=request.auth, public_id=quote_id, action=action,
                              queryset=quote_queryset(user=request.auth))  # fmt: skip


def _answer(request: HttpRequest, quote: Quote, response: HttpResponse | None = None,
            *, warn: bool = False) -> dict[str, Any]:  # fmt: skip
    quote = quote_queryset(user=request.auth).get(pk=quote.pk)
    warnings = quotes.warn_of_conflicts(quote, by=request.user) if warn else None
    if response is not None:
        with_etag(response, quote)
    return _with_product_ids(quote_out(quote, warnings), quote)


def _version(request: HttpRequest, body: VersionIn) -> int:
    return expected_version(if_match=request.headers.get("If-Match"), body_version=body.version)


def _opportunity(request: HttpRequest, opportunity_id: str, action: str = "view") -> Opportunity:
    return get_visible_or_404(Opportunity, user=request.auth, public_id=opportunity_id,
                              action=action, queryset=selectors.opportunities(user=request.auth))  # fmt: skip


def _product(membership: Membership, public_id: str | None) -> Product | None:
    if not public_id:
        return None
    return Product.objects.visible_to(membership, "view").filter(public_id=public_id).first() or (
        # products are read by everyone who sells; a role that cannot see them still prices
        # lines with the workspace's products
        Product.objects.for_workspace(membership.workspace_id).filter(public_id=public_id).first()
    )


# --- opportunity lines ------------------------------------------------------------------------
@router.get("/opportunities/{opportunity_id}/lines", response={200: list[LineOut], **ERRORS},
            summary="An opportunity's line items")  # fmt: skip
def list_lines(request: HttpRequest, opportunity_id: str) -> list[dict]:
    opportunity = _opportunity(request, opportunity_id)
    return [line_out(line) for line in quotes.opportunity_lines(opportunity)]


@router.post("/opportunities/{opportunity_id}/lines", response={201: LineOut, **WRITE_ERRORS},
             summary="Add a product to an opportunity")  # fmt: skip
def add_line(request: HttpRequest, opportunity_id: str, payload: LineIn) -> Status:
    """Priced from the price books (the most specific valid one, the quantity's tier) unless
    `unit_price` is given. The opportunity's amount becomes the sum of its lines."""
    opportunity = _opportunity(request, opportunity_id, "change")
    line = quotes.add_line(
        opportunity=opportunity, by=request.user,
        line=quotes.LineInput(product=_product(request.auth, payload.product_id),
                              **payload.dict(exclude={"product_id"})),
    )  # fmt: skip
    return Status(201, line_out(line))


def _line(opportunity: Opportunity, line_id: str) -> OpportunityLine:
    line = (
        OpportunityLine.objects.for_workspace(opportunity.workspace_id)
        .filter(opportunity=opportunity, public_id=line_id)
        .select_related("product", "price_book", "opportunity__account")
        .first()
    )
    if line is None:
        raise NotFound(OpportunityLine._meta.verbose_name)
    return line


@router.patch("/opportunities/{opportunity_id}/lines/{line_id}",
              response={200: LineOut, **WRITE_ERRORS}, summary="Change a line item")  # fmt: skip
def update_line(
    request: HttpRequest, opportunity_id: str, line_id: str, payload: LineUpdate
) -> dict:
    opportunity = _opportunity(request, opportunity_id, "change")
    line = _line(opportunity, line_id)
    changes = payload.dict(exclude_unset=True, exclude={"version", "product_id"})
    if "product_id" in payload.model_fields_set:
        changes["product"] = _product(request.auth, payload.product_id)
    for name in ("quantity", "discount_percent"):
        if name in changes and changes[name] is None:
            raise ValidationFailed([(name, "must not be null")])
    line = quotes.update_line(line=line, by=request.user, expected_version=_version(request, payload),
                              **changes)  # fmt: skip
    return line_out(_line(opportunity, line.public_id))


@router.delete("/opportunities/{opportunity_id}/lines/{line_id}",
               response={204: None, **ERRORS}, summary="Remove a line item")  # fmt: skip
def delete_line(request: HttpRequest, opportunity_id: str, line_id: str) -> Status:
    opportunity = _opportunity(request, opportunity_id, "change")
    quotes.delete_line(line=_line(opportunity, line_id), by=request.user)
    return Status(204, None)


# --- quotes -----------------------------------------------------------------------------------
@router.post("/quotes", response={201: QuoteOut, **WRITE_ERRORS}, summary="Quote an opportunity")
def create_quote(request: HttpRequest, payload: QuoteIn) -> Status:
    """Copies the opportunity's lines into revision 1 of a new number (Q-2026-000123).
    `warnings` lists other reps' open quotes to the same customer at other prices."""
    membership: Membership = request.auth
    require_add(membership, Quote.object_type)
    opportunity = _opportunity(request, payload.opportunity_id, "change")
    contact = None
    if payload.contact_id:
        contact = (
            Contact.objects.visible_to(membership, "view").filter(public_id=payload.contact_id)
            .first()
        )  # fmt: skip
        if contact is None:
            raise ValidationFailed([("contact_id", "no such contact")])
    quote = quotes.create_quote(
        opportunity=opportunity, by=request.user, valid_until=payload.valid_until,
        contact=contact, currency=payload.currency, notes=payload.notes,
        language=payload.language,
    )  # fmt: skip
    return Status(201, _answer(request, quote, warn=True))


@router.get("/quotes/{quote_id}", response={200: QuoteOut, **ERRORS}, summary="One quote")
def get_quote(request: HttpRequest, quote_id: str, response: HttpResponse) -> dict:
    quote = _quote(request, quote_id)
    with_etag(response, quote)
    return _with_product_ids(quote_out(quote), quote)


@router.delete("/quotes/{quote_id}", response={204: None, **ERRORS}, summary="Delete a quote")
def delete_quote(request: HttpRequest, quote_id: str) -> Status:
    quotes.delete_quote(quote=_quote(request, quote_id, "delete"), by=request.user)
    return Status(204, None)


@router.post("/quotes/{quote_id}/revise", response={201: QuoteOut, **WRITE_ERRORS},
             summary="Revise: the next revision of the same number")  # fmt: skip
def revise_quote(request: HttpRequest, quote_id: str, payload: ReviseIn) -> Status:
    """From the opportunity's lines as they are now; the revised quote is superseded."""
    quote = _quote(request, quote_id, "change")
    revision = quotes.revise_quote(quote=quote, by=request.user,
                                   expected_version=_version(request, payload),
                                   valid_until=payload.valid_until, notes=payload.notes)  # fmt: skip
    return Status(201, _answer(request, revision, warn=True))


@router.post("/quotes/{quote_id}/submit", response={200: QuoteOut, **WRITE_ERRORS},
             summary="Submit: approved, or pending approval of a discount")  # fmt: skip
def submit_quote(request: HttpRequest, quote_id: str, payload: VersionIn,
                 response: HttpResponse) -> dict:  # fmt: skip
    quote = _quote(request, quote_id, "change")
    quote = quotes.submit_quote(quote=quote, by=request.user,
                                expected_version=_version(request, payload))  # fmt: skip
    return _answer(request, quote, response)


@router.post("/quotes/{quote_id}/approve", response={200: QuoteOut, **WRITE_ERRORS},
             summary="Approve the discounts")  # fmt: skip
def approve_quote(request: HttpRequest, quote_id: str, payload: ApproveIn,
                  response: HttpResponse) -> dict:  # fmt: skip
    quote = _quote(request, quote_id, "approve")
    quote = quotes.approve_quote(quote=quote, by=request.user, note=payload.note,
                                 expected_version=_version(request, payload))  # fmt: skip
    return _answer(request, quote, response)


@router.post("/quotes/{quote_id}/reject-approval", response={200: QuoteOut, **WRITE_ERRORS},
             summary="Decline the discounts (back to draft)")  # fmt: skip
def decline_approval(request: HttpRequest, quote_id: str, payload: ReasonIn,
                     response: HttpResponse) -> dict:  # fmt: skip
    quote = _quote(request, quote_id, "approve")
    quote = quotes.decline_approval(quote=quote, by=request.user, reason=payload.reason,
                                    expected_version=_version(request, payload))  # fmt: skip
    return _answer(request, quote, response)


@router.post("/quotes/{quote_id}/send", response={200: QuoteOut, **WRITE_ERRORS, 502: Problem},
             summary="E-mail the quote as a PDF")  # fmt: skip
def send_quote(request: HttpRequest, quote_id: str, payload: SendIn,
               response: HttpResponse) -> dict:  # fmt: skip
    """To the contact's e-mail address (or `to`), through the configured mail server; the
    e-mail is logged on the customer's timeline."""
    quote = _quote(request, quote_id, "send")
    result = quotes.send_quote(quote=quote, by=request.user, to=payload.to,
                               message=payload.message,
                               expected_version=_version(request, payload))  # fmt: skip
    return _answer(request, result.quote, response, warn=True)


@router.post("/quotes/{quote_id}/accept", response={200: OrderRef, **WRITE_ERRORS},
             summary="The customer accepted: book the order")  # fmt: skip
def accept_quote(request: HttpRequest, quote_id: str, payload: VersionIn) -> dict:
    """Creates the order (number from the quote, lines copied, source "quote") and moves the
    opportunity to its pipeline's won stage."""
    quote = _quote(request, quote_id, "change")
    require_action(request.auth, "change", quote.opportunity)
    quote = quotes.accept_quote(quote=quote, by=request.user,
                                expected_version=_version(request, payload))  # fmt: skip
    body = _answer(request, quote)
    order = quote.order
    return {"id": order.public_id, "number": order.number, "amount": order.amount,
            "currency": order.currency, "quote": body}  # fmt: skip


@router.post("/quotes/{quote_id}/reject", response={200: QuoteOut, **WRITE_ERRORS},
             summary="The customer rejected the quote")  # fmt: skip
def reject_quote(request: HttpRequest, quote_id: str, payload: ReasonIn,
                 response: HttpResponse) -> dict:  # fmt: skip
    quote = _quote(request, quote_id, "change")
    quote = quotes.reject_quote(quote=quote, by=request.user, reason=payload.reason,
                                expected_version=_version(request, payload))  # fmt: skip
    return _answer(request, quote, response)


@router.get("/quotes/{quote_id}/pdf", response={200: None, **ERRORS}, summary="The quote as PDF")
def quote_pdf(request: HttpRequest, quote_id: str) -> HttpResponse:
    quote = _quote(request, quote_id)
    response = HttpResponse(quote_documents.render_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{quote_documents.file_name(quote)}"'
    return response


# --- discount limits ---------------------------------------------------------------------------
class DiscountLimitOut(Schema):
    role: str
    role_name: str
    max_discount_percent: Decimal | None = Field(
        description="The largest discount (%) on a line without approval; null: no limit."
    )
    is_default: bool


class DiscountLimitIn(Schema):
    max_discount_percent: Decimal | None = Field(description="0–100; null: no limit.")


def _limits_out(workspace_id: int) -> list[dict[str, Any]]:
    return [
        {"role": item.role.key, "role_name": item.role.name,
         "max_discount_percent": item.max_discount_percent, "is_default": item.is_default}
        for item in quotes.discount_limits(workspace_id)
    ]  # fmt: skip


def _require(membership: Membership, object_type: str, action: str) -> None:
    if membership.scope_for(object_type, action) == Scope.NONE:
        raise Forbidden(action=action, object_type=object_type)


@router.get("/discount-limits", response={200: list[DiscountLimitOut], **ERRORS},
            summary="Discount limits by role")  # fmt: skip
def list_discount_limits(request: HttpRequest) -> list[dict[str, Any]]:
    """Each role's largest line discount without a manager's approval. Seen by whoever may
    see price books."""
    _require(request.auth, "sales.pricebook", "view")
    return _limits_out(request.auth.workspace_id)


@router.patch("/discount-limits/{role}", response={200: DiscountLimitOut, **ERRORS},
            summary="Set a role's discount limit")  # fmt: skip
def set_discount_limit(request: HttpRequest, role: str, payload: DiscountLimitIn) -> dict:
    """Administrators (who may change the workspace) set it; quotes above it wait for approval."""
    membership: Membership = request.auth
    _require(membership, "platform.workspace", "change")
    target = Role.objects.for_workspace(membership.workspace_id).filter(key=role).first()
    if target is None:
        raise NotFound(_("role"))
    quotes.set_discount_limit(workspace=membership.workspace, role=target,
                              max_discount_percent=payload.max_discount_percent,
                              by=request.user)  # fmt: skip
    return next(item for item in _limits_out(membership.workspace_id) if item["role"] == role)

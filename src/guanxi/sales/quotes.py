"""Writes of opportunity lines and quotes: pricing lines from price books, numbering and
revising quotes, discount approval, sending, acceptance into an order, and the warning when
two reps quote one customer different prices (REQUIREMENTS §2.1, 004 pain point)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers.models import Account, Contact, ContactPoint
from guanxi.platform import notifications
from guanxi.platform.audit import record_audit
from guanxi.platform.errors import Conflict, Forbidden, ValidationFailed
from guanxi.platform.models import Membership, User, Workspace
from guanxi.platform.versioning import save_versioned
from guanxi.platform.visibility import can
from guanxi.sales import orders, pricing, services
from guanxi.sales.catalogue import resolve_price
from guanxi.sales.models import (
    DiscountLimit,
    Opportunity,
    OpportunityLine,
    Product,
    Quote,
    QuoteCounter,
    QuoteLine,
    Stage,
)

APPROVE, SEND = "approve", "send"
DEFAULT_VALIDITY_DAYS = 30

notifications.register_kind(
    "quote.approval_requested",
    gettext_lazy("%(actor)s asks you to approve quote %(quote)s (discount up to %(discount)s %%)"),
)
notifications.register_kind(
    "quote.approved", gettext_lazy("%(actor)s approved your quote %(quote)s")
)
notifications.register_kind(
    "quote.approval_declined",
    gettext_lazy("%(actor)s declined to approve your quote %(quote)s: %(reason)s"),
)
notifications.register_kind(
    "quote.price_conflict",
    gettext_lazy("Price conflict: %(product)s is quoted to %(account)s at %(price)s in %(quote)s "
                 "and at %(other_price)s in %(other_quote)s (%(other_owner)s)"),
)  # fmt: skip


# --- discount limits --------------------------------------------------------------------------
def discount_limit(membership: Membership | None) -> Decimal | None:
    """The largest discount (%) the member may give without approval; None: no limit."""
    if membership is None:
        return Decimal(0)
    stored = (
        DiscountLimit.objects.for_workspace(membership.workspace_id)
        .filter(role_id=membership.role_id)
        .first()
    )
    if stored is not None:
        return stored.max_discount_percent
    return pricing.DEFAULT_DISCOUNT_LIMITS.get(membership.role.key, Decimal(0))


@transaction.atomic
def set_discount_limit(
    *, workspace: Workspace, role: Any, max_discount_percent: Any, by: User
) -> DiscountLimit:
    """An administrator's setting: the role's largest discount without approval (None: no
    limit)."""
    errors: pricing.Errors = []
    value = None
    if max_discount_percent not in (None, ""):
        value = pricing.percent(max_discount_percent, "max_discount_percent", errors)
    if errors:
        raise ValidationFailed(errors)
    limit, _created = DiscountLimit.objects.for_workspace(workspace).update_or_create(
        workspace=workspace, role=role,
        defaults={"max_discount_percent": value, "updated_by": by, "created_by": by},
    )  # fmt: skip
    record_audit(action="sales.discount_limit.changed", actor=by, workspace=workspace,
                 obj=limit, data={"role": role.key, "max": None if value is None else str(value)})  # fmt: skip
    return limit


@dataclass(frozen=True)
class RoleDiscount:
    role: Any
    max_discount_percent: Decimal | None  # None: no limit
    is_default: bool  # no setting stored: the built-in default for the role


def discount_limits(workspace_id: int) -> list[RoleDiscount]:
    """Every role of the workspace with its largest discount without approval (two queries)."""
    from guanxi.platform.models import Role

    stored = {
        limit.role_id: limit.max_discount_percent
        for limit in DiscountLimit.objects.for_workspace(workspace_id)
    }
    return [
        RoleDiscount(role, stored[role.pk], False) if role.pk in stored
        else RoleDiscount(role, pricing.DEFAULT_DISCOUNT_LIMITS.get(role.key, Decimal(0)), True)
        for role in Role.objects.for_workspace(workspace_id).order_by("name")
    ]  # fmt: skip


def _exceeds(discount: Decimal, limit: Decimal | None) -> bool:
    return limit is not None and discount > limit


# --- opportunity lines ------------------------------------------------------------------------
@dataclass(frozen=True)
class LineInput:
    product: Product | None
    quantity: Any
    unit_price: Any = None  # None: from the price book
    discount_percent: Any = 0
    tax_rate: Any = None  # None: the product's
    currency: str | None = None  # when given, must be the opportunity's


def _line_values(
    opportunity: Opportunity, line: LineInput, errors: pricing.Errors, prefix: str = ""
) -> dict[str, Any] | None:
    product = line.product
    if product is None or product.workspace_id != opportunity.workspace_id or product.is_deleted:
        errors.append((f"{prefix}product_id", _("no such product")))
        product = None
    elif not product.is_active:
        errors.append((f"{prefix}product_id", _("the product is no longer sold")))
    if (
        line.currency not in (None, "")
        and str(line.currency).strip().upper() != opportunity.currency
    ):
        errors.append((f"{prefix}currency", _("must be the opportunity's currency (%(currency)s)")
                       % {"currency": opportunity.currency}))  # fmt: skip
    quantity = pricing.quantity(line.quantity, f"{prefix}quantity", errors)
    discount = pricing.percent(line.discount_percent, f"{prefix}discount_percent", errors)
    unit_price = None
    if line.unit_price not in (None, ""):
        unit_price = pricing.money(line.unit_price, f"{prefix}unit_price", errors)
    tax_rate = None
    if line.tax_rate not in (None, ""):
        tax_rate = pricing.percent(line.tax_rate, f"{prefix}tax_rate", errors)
    if errors or product is None or quantity is None or discount is None:
        return None
    source, book = OpportunityLine.PriceSource.MANUAL, None
    if line.unit_price in (None, ""):
        resolved = resolve_price(
            account=opportunity.account, product=product, currency=opportunity.currency,
            quantity=quantity, field=f"{prefix}product_id",
        )  # fmt: skip
        unit_price, source, book = (
            resolved.unit_price,
            OpportunityLine.PriceSource.PRICE_BOOK,
            resolved.price_book,
        )
    assert unit_price is not None
    tax_rate = product.tax_rate if tax_rate is None else tax_rate
    figures = pricing.line_figures(quantity=quantity, unit_price=unit_price,
                                   discount_percent=discount, tax_rate=tax_rate)  # fmt: skip
    return {
        "product": product, "quantity": quantity, "unit_price": unit_price,
        "discount_percent": discount, "tax_rate": tax_rate, "price_source": source,
        "price_book": book, "gross_amount": figures.gross_amount,
        "net_amount": figures.net_amount, "tax_amount": figures.tax_amount,
    }  # fmt: skip


def opportunity_lines(opportunity: Opportunity) -> list[OpportunityLine]:
    return list(
        OpportunityLine.objects.for_workspace(opportunity.workspace_id)
        .filter(opportunity=opportunity)
        .select_related("product", "price_book")
        .order_by("position", "id")
    )


def _sync_amount(opportunity: Opportunity, by: User) -> Opportunity:
    """The opportunity's amount follows its lines (net, before tax) when it has lines."""
    lines = OpportunityLine.objects.for_workspace(opportunity.workspace_id).filter(
        opportunity=opportunity
    )
    amounts = list(lines.values_list("net_amount", flat=True))
    if not amounts:
        return opportunity
    total = sum(amounts, Decimal("0.00"))
    current = Opportunity.objects.for_workspace(opportunity.workspace_id).get(pk=opportunity.pk)
    if current.amount == total:
        return current
    return services.update_opportunity(
        opportunity=current, by=by, expected_version=current.version, amount=total
    )


@transaction.atomic
def add_line(*, opportunity: Opportunity, by: User, line: LineInput) -> OpportunityLine:
    """A product on the opportunity, priced from the price books unless a price is given."""
    errors: pricing.Errors = []
    values = _line_values(opportunity, line, errors)
    if errors or values is None:
        raise ValidationFailed(errors)
    last = (
        OpportunityLine.objects.for_workspace(opportunity.workspace_id)
        .filter(opportunity=opportunity)
        .order_by("-position")
        .values_list("position", flat=True)
        .first()
    )
    created = OpportunityLine(
        workspace_id=opportunity.workspace_id, opportunity=opportunity,
        position=0 if last is None else last + 1, created_by=by, updated_by=by, **values,
    )  # fmt: skip
    created.save()
    _sync_amount(opportunity, by)
    return created


@transaction.atomic
def update_line(
    *, line: OpportunityLine, by: User, expected_version: int, **changes: Any
) -> OpportunityLine:
    """Change quantity, price, discount or tax rate; ``unit_price=None`` prices it from the
    price books again."""
    allowed = {"product", "quantity", "unit_price", "discount_percent", "tax_rate", "currency"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed([(name, _("cannot be changed")) for name in sorted(unknown)])
    keep_price = "unit_price" not in changes and line.price_source == "manual"
    merged = LineInput(
        product=changes.get("product", line.product),
        quantity=changes.get("quantity", line.quantity),
        unit_price=changes.get("unit_price", line.unit_price if keep_price else None),
        discount_percent=changes.get("discount_percent", line.discount_percent),
        tax_rate=changes.get("tax_rate", line.tax_rate if "product" not in changes else None),
        currency=changes.get("currency"),
    )  # fmt: skip
    errors: pricing.Errors = []
    values = _line_values(line.opportunity, merged, errors)
    if errors or values is None:
        raise ValidationFailed(errors)
    for name, value in values.items():
        setattr(line, name, value)
    save_versioned(line, expected_version=expected_version, by=by)
    _sync_amount(line.opportunity, by)
    return line


@transaction.atomic
def delete_line(*, line: OpportunityLine, by: User) -> None:
    opportunity = line.opportunity
    line.delete()
    _sync_amount(opportunity, by)


# --- numbering --------------------------------------------------------------------------------
def next_quote_number(workspace: Workspace, year: int) -> str:
    """Q-2026-000123: the workspace's next number of the year. The counter row is updated in
    SQL inside the caller's transaction (the row stays locked until it commits), so two
    quotes made at once get two numbers, and a quote that is rolled back gives its number
    back: the numbers have no gaps."""
    counters = QuoteCounter.objects.filter(workspace=workspace, year=year)
    if not counters.update(last=F("last") + 1):
        try:
            with transaction.atomic():
                QuoteCounter.objects.create(workspace=workspace, year=year, last=1)
        except IntegrityError:  # created by a concurrent first quote of the year
            counters.update(last=F("last") + 1)
    last = counters.values_list("last", flat=True).get()
    return f"Q-{year}-{last:06d}"


# --- quotes -----------------------------------------------------------------------------------
def _primary_email(contact: Contact | None) -> str:
    if contact is None:
        return ""
    points = ContactPoint.objects.for_workspace(contact.workspace_id).filter(
        contact=contact, kind=ContactPoint.Kind.EMAIL
    )
    point = points.order_by("-is_primary", "id").first()
    return point.value if point else ""


def _copy_lines(quote: Quote, lines: list[OpportunityLine]) -> None:
    QuoteLine.objects.bulk_create(
        QuoteLine(
            quote=quote, position=position, product=line.product,
            product_name=line.product.name, product_label=line.product.name_in(quote.language),
            sku=line.product.sku, unit=line.product.unit, quantity=line.quantity,
            unit_price=line.unit_price, discount_percent=line.discount_percent,
            tax_rate=line.tax_rate, gross_amount=line.gross_amount,
            net_amount=line.net_amount, tax_amount=line.tax_amount,
        )
        for position, line in enumerate(lines)
    )  # fmt: skip
    figures = pricing.totals(lines)
    for name in ("subtotal", "discount_total", "net_total", "tax_total", "total",
                 "tax_breakdown"):  # fmt: skip
        setattr(quote, name, getattr(figures, name))
    quote.save(update_fields=["subtotal", "discount_total", "net_total", "tax_total", "total",
                              "tax_breakdown"])  # fmt: skip


def _check_open(opportunity: Opportunity) -> list[OpportunityLine]:
    lines = opportunity_lines(opportunity)
    if not lines:
        raise ValidationFailed([("opportunity_id", _("add products to the opportunity first"))])
    return lines


@transaction.atomic
def create_quote(
    *, opportunity: Opportunity, by: User, valid_until: date | None = None,
    contact: Contact | None = None, currency: str | None = None, notes: str = "",
    language: str | None = None,
) -> Quote:  # fmt: skip
    """A quote of the opportunity's lines as they are now, revision 1 of a new number. The
    opportunity may have one active quote: revise that one instead."""
    errors: pricing.Errors = []
    today = timezone.localdate()
    if currency not in (None, "") and str(currency).strip().upper() != opportunity.currency:
        errors.append(("currency", _("must be the opportunity's currency (%(currency)s)")
                       % {"currency": opportunity.currency}))  # fmt: skip
    if valid_until is not None and valid_until < today:
        errors.append(("valid_until", _("must not be in the past")))
    contact = contact or opportunity.contact
    if contact is not None and (
        contact.workspace_id != opportunity.workspace_id or contact.is_deleted
    ):
        errors.append(("contact_id", _("no such contact")))
    if language not in (None, "") and language not in pricing.QUOTE_LANGUAGES:
        errors.append(("language", _("one of %(values)s")
                       % {"values": ", ".join(pricing.QUOTE_LANGUAGES)}))  # fmt: skip
    if errors:
        raise ValidationFailed(errors)
    lines = _check_open(opportunity)
    active = Quote.objects.for_workspace(opportunity.workspace_id).filter(
        opportunity=opportunity, status__in=Quote.ACTIVE
    )
    if active.exists():
        raise Conflict(_("The opportunity has an active quote (%(quote)s): revise it instead.")
                       % {"quote": active.first().label})  # fmt: skip
    workspace = opportunity.workspace
    quote = Quote(
        workspace=workspace, opportunity=opportunity, account=opportunity.account,
        contact=contact, number=next_quote_number(workspace, today.year), revision=1,
        valid_until=valid_until or today + timedelta(days=DEFAULT_VALIDITY_DAYS),
        currency=opportunity.currency, notes=(notes or "").strip(),
        language=language or pricing.quote_language(
            contact.preferred_language if contact else "", workspace.language
        ),
        owner=opportunity.owner, team=opportunity.team, created_by=by, updated_by=by,
    )  # fmt: skip
    try:
        with transaction.atomic():
            quote.save()
    except IntegrityError:  # another quote of the opportunity made at the same moment
        raise Conflict(_("The opportunity has an active quote: revise it instead.")) from None
    _copy_lines(quote, lines)
    record_audit(action="sales.quote.created", actor=by, workspace=workspace, obj=quote,
                 data={"number": quote.number, "opportunity": opportunity.public_id})  # fmt: skip
    return quote


REVISABLE = ("draft", "pending_approval", "approved", "sent", "rejected", "expired")


@transaction.atomic
def revise_quote(
    *, quote: Quote, by: User, expected_version: int, valid_until: date | None = None,
    notes: str | None = None,
) -> Quote:  # fmt: skip
    """The next revision of the same number from the opportunity's lines as they are now;
    the revised one is superseded and read-only from then on."""
    if quote.status not in REVISABLE:
        raise Conflict(_("A %(status)s quote cannot be revised.")
                       % {"status": quote.get_status_display()})  # fmt: skip
    if valid_until is not None and valid_until < timezone.localdate():
        raise ValidationFailed([("valid_until", _("must not be in the past"))])
    latest = (
        Quote.objects.for_workspace(quote.workspace_id)
        .filter(number=quote.number)
        .order_by("-revision")
        .first()
    )
    if latest is not None and latest.pk != quote.pk:
        raise Conflict(_("Only the latest revision (%(quote)s) can be revised.")
                       % {"quote": latest.label})  # fmt: skip
    lines = _check_open(quote.opportunity)
    quote.status = Quote.Status.SUPERSEDED
    save_versioned(quote, expected_version=expected_version, by=by, fields=["status"])
    today = timezone.localdate()
    revision = Quote(
        workspace_id=quote.workspace_id, opportunity=quote.opportunity, account=quote.account,
        contact=quote.contact, number=quote.number, revision=quote.revision + 1,
        valid_until=valid_until or max(quote.valid_until, today + timedelta(days=1)),
        currency=quote.currency, language=quote.language,
        notes=quote.notes if notes is None else notes.strip(),
        owner=quote.owner, team=quote.team, created_by=by, updated_by=by,
    )  # fmt: skip
    revision.save()
    _copy_lines(revision, lines)
    record_audit(action="sales.quote.revised", actor=by, obj=revision,
                 data={"number": quote.number, "revision": revision.revision})  # fmt: skip
    return revision


def quote_lines(quote: Quote) -> list[QuoteLine]:
    return list(QuoteLine.objects.filter(quote=quote).order_by("position", "id"))


def max_discount(quote: Quote, lines: list[QuoteLine] | None = None) -> Decimal:
    lines = quote_lines(quote) if lines is None else lines
    return max((line.discount_percent for line in lines), default=Decimal(0))


def _owner_membership(quote: Quote) -> Membership | None:
    if quote.owner_id is None:
        return None
    return (
        Membership.objects.for_workspace(quote.workspace_id)
        .select_related("role", "user")
        .filter(user_id=quote.owner_id, is_active=True)
        .first()
    )


def needs_approval(quote: Quote, lines: list[QuoteLine] | None = None) -> bool:
    """A line's discount is above what the quote's owner may give."""
    return _exceeds(max_discount(quote, lines), discount_limit(_owner_membership(quote)))


def approvers(quote: Quote, discount: Decimal) -> list[User]:
    """Who is asked: the owner's manager, or further up the tree the first manager whose own
    limit covers the discount; the administrators when nobody in the tree may."""
    member = _owner_membership(quote)
    chain_ids = [int(x) for x in (member.path if member else "/").strip("/").split("/") if x]
    chain = {
        m.pk: m
        for m in Membership.objects.for_workspace(quote.workspace_id)
        .select_related("role", "user")
        .filter(pk__in=chain_ids, is_active=True)
    }
    for membership_id in reversed(chain_ids[:-1]):  # the owner's manager first, then up
        manager = chain.get(membership_id)
        if manager is not None and not _exceeds(discount, discount_limit(manager)):
            return [manager.user]
    admins = (
        Membership.objects.for_workspace(quote.workspace_id)
        .select_related("user")
        .filter(role__key="administrator", is_active=True)
    )
    return [m.user for m in admins]


def _require(by: User, action: str, quote: Quote) -> None:
    if not can(by, action, quote):
        raise Forbidden(action=action, object_type=quote.object_type)


def _require_status(quote: Quote, *allowed: str, doing: str) -> None:
    if quote.status not in allowed:
        raise Conflict(_("A %(status)s quote cannot be %(doing)s.")
                       % {"status": quote.get_status_display(), "doing": doing})  # fmt: skip


def _expire_if_overdue(quote: Quote) -> None:
    if quote.is_open and quote.valid_until < timezone.localdate():
        Quote.objects.for_workspace(quote.workspace_id).filter(pk=quote.pk).update(
            status=Quote.Status.EXPIRED, version=F("version") + 1
        )
        raise Conflict(_("The quote expired on %(date)s: revise it with a new validity.")
                       % {"date": quote.valid_until.isoformat()})  # fmt: skip


@transaction.atomic
def submit_quote(*, quote: Quote, by: User, expected_version: int) -> Quote:
    """Ready to send: approved at once when every discount is within the owner's limit;
    otherwise pending approval, and the approvers are notified."""
    _require_status(quote, "draft", doing=_("submitted"))
    _expire_if_overdue(quote)
    lines = quote_lines(quote)
    quote.submitted_at = timezone.now()
    if needs_approval(quote, lines):
        quote.status = Quote.Status.PENDING_APPROVAL
        discount = max_discount(quote, lines)
        save_versioned(quote, expected_version=expected_version, by=by)
        for approver in approvers(quote, discount):
            notifications.notify(
                workspace=quote.workspace_id, recipient=approver, kind="quote.approval_requested",
                by=by, data={"quote": quote.label, "discount": str(pricing.plain(discount))},
                url=quote_url(quote),
            )  # fmt: skip
        record_audit(action="sales.quote.approval_requested", actor=by, obj=quote,
                     data={"discount": str(discount)})  # fmt: skip
    else:
        quote.status = Quote.Status.APPROVED
        save_versioned(quote, expected_version=expected_version, by=by)
        record_audit(action="sales.quote.submitted", actor=by, obj=quote)
    return quote


@transaction.atomic
def approve_quote(*, quote: Quote, by: User, expected_version: int, note: str = "") -> Quote:
    _require(by, APPROVE, quote)
    _require_status(quote, "pending_approval", doing=_("approved"))
    if quote.owner_id == by.pk and needs_approval(quote):
        raise Forbidden(action=APPROVE, object_type=quote.object_type)  # nobody approves own
    quote.status, quote.decided_by, quote.decided_at = Quote.Status.APPROVED, by, timezone.now()
    quote.approval_note = (note or "").strip()
    save_versioned(quote, expected_version=expected_version, by=by)
    record_audit(action="sales.quote.approved", actor=by, obj=quote,
                 data={"discount": str(max_discount(quote)), "note": quote.approval_note})  # fmt: skip
    if quote.owner is not None:
        notifications.notify(workspace=quote.workspace_id, recipient=quote.owner,
                             kind="quote.approved", by=by, data={"quote": quote.label},
                             url=quote_url(quote))  # fmt: skip
    return quote


@transaction.atomic
def decline_approval(*, quote: Quote, by: User, expected_version: int, reason: str) -> Quote:
    """Back to draft with the approver's reason; the rep changes the lines and revises."""
    _require(by, APPROVE, quote)
    _require_status(quote, "pending_approval", doing=_("declined"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([("reason", _("say why the discount is not approved"))])
    quote.status, quote.decided_by, quote.decided_at = Quote.Status.DRAFT, by, timezone.now()
    quote.approval_note = reason
    save_versioned(quote, expected_version=expected_version, by=by)
    record_audit(action="sales.quote.approval_declined", actor=by, obj=quote,
                 data={"reason": reason})  # fmt: skip
    if quote.owner is not None:
        notifications.notify(workspace=quote.workspace_id, recipient=quote.owner,
                             kind="quote.approval_declined", by=by,
                             data={"quote": quote.label, "reason": reason},
                             url=quote_url(quote))  # fmt: skip
    return quote


def quote_url(quote: Quote) -> str:
    return f"/quotes/{quote.public_id}/"


@dataclass(frozen=True)
class SendResult:
    quote: Quote
    to: str


def send_quote(
    *, quote: Quote, by: User, expected_version: int, to: str | None = None,
    message: str = "",
) -> SendResult:  # fmt: skip
    """E-mail the quote as a PDF to its contact (or ``to``); then it is sent and the e-mail
    is on the customer's timeline. A draft within the discount limits is approved on the
    way; one that needs approval must be approved first."""
    from guanxi.sales import quote_documents  # WeasyPrint is loaded when a quote is rendered

    _require(by, SEND, quote)
    _require_status(quote, "draft", "approved", "sent", doing=_("sent"))
    if quote.status == "draft" and needs_approval(quote):
        raise Conflict(_("A discount is above the owner's limit: submit the quote for approval."))
    address = (to or "").strip() or _primary_email(quote.contact)
    if not address or "@" not in address:
        raise ValidationFailed([("to", _("the quote's contact has no e-mail address: give one"))])
    with transaction.atomic():
        current = (
            Quote.objects.for_workspace(quote.workspace_id).select_for_update().get(pk=quote.pk)
        )
        if current.version != expected_version:
            save_versioned(current, expected_version=expected_version)  # raises the 409
        _expire_if_overdue(current)
    pdf = quote_documents.render_pdf(quote)
    quote_documents.email_quote(quote=quote, pdf=pdf, to=address, by=by, message=message)
    with transaction.atomic():
        quote.status, quote.sent_at, quote.sent_to = Quote.Status.SENT, timezone.now(), address
        save_versioned(quote, expected_version=expected_version, by=by)
        quote_documents.log_email(quote=quote, to=address, by=by)
        record_audit(action="sales.quote.sent", actor=by, obj=quote, data={"to": address})
    return SendResult(quote=quote, to=address)


@transaction.atomic
def accept_quote(*, quote: Quote, by: User, expected_version: int) -> Quote:
    """The customer accepted: the order is booked (number from the quote, its lines, source
    "quote"), the opportunity moves to its pipeline's won stage, the quote is accepted."""
    _require_status(quote, "approved", "sent", doing=_("accepted"))
    _expire_if_overdue(quote)
    lines = quote_lines(quote)
    result = orders.upsert_order(
        workspace=quote.workspace, by=by, number=quote.number, account=quote.account,
        contact=quote.contact, opportunity=quote.opportunity,
        ordered_at=timezone.localdate(), status="confirmed", currency=quote.currency,
        source="quote", owner=quote.owner, team=quote.team,
        lines=[
            orders.LineInput(product_name=line.product_name, sku=line.sku,
                             quantity=line.quantity, unit_price=line.unit_price,
                             discount_percent=line.discount_percent)
            for line in lines
        ],
    )  # fmt: skip
    quote.status, quote.closed_at, quote.order = Quote.Status.ACCEPTED, timezone.now(), result.order
    save_versioned(quote, expected_version=expected_version, by=by)
    opportunity = (
        Opportunity.objects.for_workspace(quote.workspace_id)
        .select_related("stage", "pipeline")
        .get(pk=quote.opportunity_id)
    )
    if not opportunity.stage.is_won:
        won = (
            Stage.objects.for_workspace(quote.workspace_id)
            .filter(pipeline=opportunity.pipeline, is_won=True)
            .order_by("position", "id")
            .first()
        )
        if won is not None:
            services.move_stage(opportunity=opportunity, stage=won, by=by,
                                expected_version=opportunity.version,
                                reason=_("Quote %(quote)s accepted") % {"quote": quote.label})  # fmt: skip
    record_audit(action="sales.quote.accepted", actor=by, obj=quote,
                 data={"order": result.order.public_id, "number": result.order.number})  # fmt: skip
    return quote


@transaction.atomic
def reject_quote(*, quote: Quote, by: User, expected_version: int, reason: str) -> Quote:
    """The customer declined, for ``reason``. The opportunity stays where it is: a revised
    quote may follow."""
    _require_status(quote, "draft", "pending_approval", "approved", "sent", doing=_("rejected"))
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed([("reason", _("say why the customer rejected the quote"))])
    quote.status, quote.closed_at, quote.rejection_reason = (
        Quote.Status.REJECTED,
        timezone.now(),
        reason,
    )
    save_versioned(quote, expected_version=expected_version, by=by)
    record_audit(action="sales.quote.rejected", actor=by, obj=quote, data={"reason": reason})
    return quote


@transaction.atomic
def delete_quote(*, quote: Quote, by: User) -> None:
    if quote.status == Quote.Status.ACCEPTED:
        raise Conflict(_("An accepted quote has an order: it cannot be deleted."))
    quote.deleted_at, quote.deleted_by = timezone.now(), by
    quote.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="sales.quote.deleted", actor=by, obj=quote)


def expire_overdue_quotes(*, workspace: Workspace | int) -> int:
    """Open quotes past their validity become expired (run daily)."""
    return (
        Quote.objects.for_workspace(workspace)
        .filter(status__in=Quote.OPEN, valid_until__lt=timezone.localdate())
        .update(status=Quote.Status.EXPIRED, version=F("version") + 1)
    )


# --- price conflicts --------------------------------------------------------------------------
@dataclass(frozen=True)
class PriceConflict:
    product: str
    sku: str
    net_unit_price: Decimal
    other_quote_id: str
    other_quote: str
    other_owner: str
    other_owner_id: int | None
    other_net_unit_price: Decimal
    account: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": "price_conflict", "product": self.product, "sku": self.sku,
            "net_unit_price": str(self.net_unit_price), "other_quote_id": self.other_quote_id,
            "other_quote": self.other_quote, "other_owner": self.other_owner,
            "other_net_unit_price": str(self.other_net_unit_price), "account": self.account,
            "message": _("%(product)s is also quoted to %(account)s at %(price)s by %(owner)s "
                         "(%(quote)s); this quote says %(mine)s.")
            % {"product": f"{self.product} {self.sku}", "account": self.account,
               "price": self.other_net_unit_price, "owner": self.other_owner,
               "quote": self.other_quote, "mine": self.net_unit_price},
        }  # fmt: skip


def price_conflicts(quote: Quote, lines: list[QuoteLine] | None = None) -> list[PriceConflict]:
    """Other reps' open quotes to the same customer (the account, its parent or its
    subsidiaries) with one of this quote's products at another net unit price."""
    lines = quote_lines(quote) if lines is None else lines
    mine = {line.product_id: line for line in lines}
    if not mine or not quote.is_open:
        return []
    account = quote.account
    others = (
        QuoteLine.objects.filter(
            quote__workspace_id=quote.workspace_id, quote__deleted_at__isnull=True,
            quote__status__in=Quote.OPEN, quote__currency=quote.currency,
            product_id__in=list(mine),
        )
        .filter(_quote_family(account))
        .exclude(quote__opportunity_id=quote.opportunity_id)
        .exclude(quote__owner_id=quote.owner_id)
        .select_related("quote", "quote__owner")
        .order_by("quote__number", "position")
    )  # fmt: skip
    found = []
    for other in others:
        line = mine[other.product_id]
        if other.net_unit_price == line.net_unit_price:
            continue
        owner = other.quote.owner
        found.append(PriceConflict(
            product=line.product_name, sku=line.sku, net_unit_price=line.net_unit_price,
            other_quote_id=other.quote.public_id, other_quote=other.quote.label,
            other_owner=(owner.get_full_name() or owner.username) if owner else "—",
            other_owner_id=owner.pk if owner else None,
            other_net_unit_price=other.net_unit_price, account=account.name,
        ))  # fmt: skip
    return found


def _quote_family(account: Account) -> Q:
    family = Q(quote__account_id=account.pk) | Q(quote__account__parent_id=account.pk)
    if account.parent_id:
        family |= Q(quote__account_id=account.parent_id)
    return family


def warn_of_conflicts(quote: Quote, *, by: User | None) -> list[dict[str, Any]]:
    """The conflicts as API warnings; both reps are told (once per pair of quotes and
    product while unread)."""
    conflicts = price_conflicts(quote)
    for conflict in conflicts:
        data = {"product": f"{conflict.product} {conflict.sku}", "account": conflict.account,
                "quote": quote.label, "price": str(conflict.net_unit_price),
                "other_quote": conflict.other_quote, "other_owner": conflict.other_owner,
                "other_price": str(conflict.other_net_unit_price)}  # fmt: skip
        key = f"quote.conflict:{min(quote.number, conflict.other_quote)}:{conflict.sku}"
        recipients = {quote.owner_id, conflict.other_owner_id} - {None}
        for user in User.objects.filter(pk__in=recipients):
            notifications.notify(workspace=quote.workspace_id, recipient=user,
                                 kind="quote.price_conflict", by=None, data=data,
                                 url=quote_url(quote), merge_key=key)  # fmt: skip
    return [conflict.as_dict() for conflict in conflicts]

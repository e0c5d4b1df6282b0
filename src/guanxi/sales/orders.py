"""Writes of orders: an order pushed by the ERP, an import or a quote is created, or updated
in place when its number (the ERP's external id) is known already. Sending the same order
twice changes nothing the second time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Account, Contact
from guanxi.platform.audit import record_audit
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import Team, User, Workspace
from guanxi.platform.versioning import save_versioned
from guanxi.sales.models import Opportunity, Order, OrderLine
from guanxi.sales.services import CURRENCY, _owner_and_team

CENT = Decimal("0.01")
MAX_MONEY = Decimal(10) ** 16
STATUSES = tuple(Order.Status.values)


@dataclass(frozen=True)
class LineInput:
    """One line as the caller gives it; the line amount is worked out."""

    product_name: str
    quantity: Any
    unit_price: Any
    sku: str = ""
    discount_percent: Any = 0


@dataclass
class UpsertResult:
    order: Order
    created: bool
    changed: bool


def _decimal(value: Any, path: str, errors: list[tuple[str, str]]) -> Decimal | None:
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        errors.append((path, _("must be a number")))
        return None
    if not number.is_finite():
        errors.append((path, _("must be a number")))
        return None
    if abs(number) >= MAX_MONEY:
        errors.append((path, _("is too large")))
        return None
    return number


def line_amount(quantity: Decimal, unit_price: Decimal, discount_percent: Decimal) -> Decimal:
    """quantity × unit price less the discount, to the cent (half up, as invoices round)."""
    gross = quantity * unit_price * (Decimal(100) - discount_percent) / Decimal(100)
    return gross.quantize(CENT, rounding=ROUND_HALF_UP)


def clean_lines(lines: list[LineInput], errors: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """Lines checked field by field (``lines.2.quantity``), with their amounts."""
    cleaned = []
    for index, line in enumerate(lines):
        path = f"lines.{index}"
        name = (line.product_name or "").strip()
        if not name:
            errors.append((f"{path}.product_name", _("must not be empty")))
        elif len(name) > 300:
            errors.append((f"{path}.product_name", _("at most 300 characters")))
        sku = (line.sku or "").strip()
        if len(sku) > 100:
            errors.append((f"{path}.sku", _("at most 100 characters")))
        quantity = _decimal(line.quantity, f"{path}.quantity", errors)
        if quantity is not None and quantity <= 0:
            errors.append((f"{path}.quantity", _("must be more than 0")))
            quantity = None
        price = _decimal(line.unit_price, f"{path}.unit_price", errors)
        if price is not None and price < 0:
            errors.append((f"{path}.unit_price", _("must not be negative")))
            price = None
        discount = _decimal(line.discount_percent or 0, f"{path}.discount_percent", errors)
        if discount is not None and not 0 <= discount <= 100:
            errors.append((f"{path}.discount_percent", _("must be from 0 to 100")))
            discount = None
        for value, field, places in ((quantity, "quantity", 4), (price, "unit_price", 4),
                                     (discount, "discount_percent", 2)):  # fmt: skip
            if value is not None and value.as_tuple().exponent < -places:  # type: ignore[operator]
                errors.append((f"{path}.{field}", _("use at most %(n)d decimal places")
                               % {"n": places}))  # fmt: skip
        if quantity is None or price is None or discount is None:
            continue
        cleaned.append({
            "position": index, "product_name": name, "sku": sku,
            "quantity": quantity, "unit_price": price, "discount_percent": discount,
            "amount": line_amount(quantity, price, discount),
        })  # fmt: skip
    return cleaned


def _line_key(line: dict[str, Any]) -> tuple:
    return (line["product_name"], line["sku"], Decimal(line["quantity"]).normalize(),
            Decimal(line["unit_price"]).normalize(),
            Decimal(line["discount_percent"]).normalize(), Decimal(line["amount"]))  # fmt: skip


def stored_lines(order: Order) -> list[dict[str, Any]]:
    return list(
        OrderLine.objects.filter(order=order)
        .order_by("position", "id")
        .values("position", "product_name", "sku", "quantity", "unit_price",
                "discount_percent", "amount")
    )  # fmt: skip


def replace_lines(order: Order, lines: list[dict[str, Any]]) -> None:
    OrderLine.objects.filter(order=order).delete()
    OrderLine.objects.bulk_create(
        OrderLine(order=order, **{**line, "position": position})
        for position, line in enumerate(lines)
    )


def find_order(workspace: Workspace | int, number: str) -> Order | None:
    """The live order with this number in the workspace (visibility not applied: the
    caller decides what an invisible one means)."""
    return Order.objects.for_workspace(workspace).filter(number=number.strip()).first()


@transaction.atomic
def upsert_order(
    *,
    workspace: Workspace,
    by: User | None,
    number: str,
    account: Account | None,
    ordered_at: date | None,
    contact: Contact | None = None,
    opportunity: Opportunity | None = None,
    status: str = Order.Status.CONFIRMED,
    currency: str | None = None,
    amount: Any = None,
    fulfilled_on: date | None = None,
    source: str = "",
    owner: User | None = None,
    team: Team | None = None,
    lines: list[LineInput] | None = None,
    existing: Order | None = None,
    expected_version: int | None = None,
) -> UpsertResult:
    """Create the order, or update the one with this number in place: fields and lines as
    given (``lines=None`` keeps the stored lines; ``expected_version`` refuses a stale edit). The amount is the sum of the lines when
    there are lines. Nothing is written when nothing differs."""
    errors: list[tuple[str, str]] = []
    number = (number or "").strip()
    if not number:
        errors.append(("number", _("must not be empty")))
    elif len(number) > 100:
        errors.append(("number", _("at most 100 characters")))
    if account is None or account.workspace_id != workspace.pk or account.is_deleted:
        errors.append(("account_id", _("no such account")))
    if contact is not None and (contact.workspace_id != workspace.pk or contact.is_deleted):
        errors.append(("contact_id", _("no such contact")))
    if opportunity is not None and (
        opportunity.workspace_id != workspace.pk or opportunity.is_deleted
    ):
        errors.append(("opportunity_id", _("no such opportunity")))
    if ordered_at is None:
        errors.append(("ordered_at", _("say when it was ordered")))
    if status not in STATUSES:
        errors.append(("status", _("one of %(statuses)s") % {"statuses": ", ".join(STATUSES)}))
    code = str(workspace.currency if currency in (None, "") else currency).strip().upper()
    if not CURRENCY.match(code):
        errors.append(("currency", _("must be a three-letter ISO 4217 code, e.g. CNY or USD")))
    if fulfilled_on is not None and ordered_at is not None and fulfilled_on < ordered_at:
        errors.append(("fulfilled_on", _("must not be before the order date")))
    source = (source or "").strip()
    if len(source) > 20:
        errors.append(("source", _("at most 20 characters")))
    cleaned = clean_lines(lines, errors) if lines is not None else None
    total = None
    if amount not in (None, ""):
        total = _decimal(amount, "amount", errors)
        if total is not None and total < 0:
            errors.append(("amount", _("must not be negative")))
        elif total is not None and total.as_tuple().exponent < -2:  # type: ignore[operator]
            errors.append(("amount", _("use at most two decimal places")))
    if cleaned:
        summed = sum((line["amount"] for line in cleaned), Decimal(0))
        if total is not None and total != summed and not errors:
            errors.append(("amount", _("is not the sum of the lines (%(sum)s)") % {"sum": summed}))
        total = summed
    if errors:
        raise ValidationFailed(errors)
    order = existing if existing is not None else find_order(workspace, number)
    if order is None:
        order_owner, order_team = _owner_and_team(workspace, owner=owner or by, team=team)
        order = Order(
            workspace=workspace, number=number, account=account, contact=contact,
            opportunity=opportunity, ordered_at=ordered_at, status=status, currency=code,
            amount=total or Decimal(0), fulfilled_on=fulfilled_on, source=source,
            owner=order_owner, team=order_team, created_by=by, updated_by=by,
        )  # fmt: skip
        try:
            with transaction.atomic():
                order.save()
        except IntegrityError:
            # The same number pushed twice at once (an ERP retrying): the other push
            # created it, this one updates it.
            order = find_order(workspace, number)
            if order is None:
                raise
        else:
            replace_lines(order, cleaned or [])
            record_audit(action="sales.order.created", actor=by, workspace=workspace,
                         obj=order, data={"number": number, "source": source})  # fmt: skip
            return UpsertResult(order=order, created=True, changed=True)
    if expected_version is None:
        # a push is the ERP's word: the last one wins, so wait for a concurrent one to
        # commit and compare with what it stored
        order = Order.objects.for_workspace(workspace).select_for_update().get(pk=order.pk)
    values: dict[str, Any] = {
        "account": account, "contact": contact, "opportunity": opportunity,
        "ordered_at": ordered_at, "status": status, "currency": code,
        "fulfilled_on": fulfilled_on,
    }  # fmt: skip
    if total is not None:
        values["amount"] = total
    elif cleaned is not None:  # an empty list of lines: the order has none and no amount
        values["amount"] = Decimal(0)
    if source:
        values["source"] = source
    if owner is not None or team is not None:
        owner, team = _owner_and_team(workspace, owner=owner or order.owner, team=team)
        values["owner"], values["team"] = owner, team
    changed = [name for name, value in values.items() if getattr(order, name) != value]
    lines_changed = cleaned is not None and [_line_key(x) for x in cleaned] != [
        _line_key(x) for x in stored_lines(order)
    ]
    if not changed and not lines_changed:
        return UpsertResult(order=order, created=False, changed=False)
    for name in changed:
        setattr(order, name, values[name])
    save_versioned(
        order,
        expected_version=order.version if expected_version is None else expected_version,
        by=by,
    )
    if lines_changed:
        replace_lines(order, cleaned or [])
    record_audit(action="sales.order.updated", actor=by, workspace=workspace, obj=order,
                 data={"number": number, "fields": changed, "lines": bool(lines_changed)})  # fmt: skip
    return UpsertResult(order=order, created=False, changed=True)


@transaction.atomic
def delete_order(*, order: Order, by: User) -> None:
    """Soft delete: gone from lists; its history stays, and its number is free again."""
    order.deleted_at, order.deleted_by = timezone.now(), by
    order.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="sales.order.deleted", actor=by, obj=order)

"""Writes and price resolution of the catalogue: products, price books, their entries and
volume tiers, and the price a customer pays for a quantity of a product on a day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.models import Account
from guanxi.platform.audit import record_audit
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import User, Workspace
from guanxi.platform.versioning import save_versioned
from guanxi.sales import pricing
from guanxi.sales.models import DEFAULT_TAX_RATE, PriceBook, PriceBookEntry, Product

PRODUCT_FIELDS = ("sku", "name", "name_en", "translations", "unit", "kind", "tax_rate",
                  "is_active", "description")  # fmt: skip
BOOK_FIELDS = ("name", "currency", "customer_group", "dealer", "is_standard", "is_active",
               "valid_from", "valid_to")  # fmt: skip
ENTRY_FIELDS = ("product", "unit_price", "tiers", "valid_from", "valid_to")


class NoPrice(ValidationFailed):
    """No price book valid on the day has the product in the currency."""

    code = "no_price"

    def __init__(self, *, product: Product, currency: str, on: date, field: str) -> None:
        self.message = _(
            "No price for %(product)s in %(currency)s in any price book valid on %(date)s"
        ) % {"product": f"{product.name} {product.sku}", "currency": currency,
             "date": on.isoformat()}  # fmt: skip
        super().__init__([(field, self.message)])
        self.detail = self.message


# --- products ---------------------------------------------------------------------------------
def _clean_product(values: dict[str, Any], errors: pricing.Errors) -> dict[str, Any]:
    cleaned = dict(values)
    for name, limit in (("sku", 100), ("name", 300), ("name_en", 300), ("unit", 20)):
        if name in cleaned:
            cleaned[name] = str(cleaned[name] or "").strip()
            if len(cleaned[name]) > limit:
                errors.append((name, _("at most %(n)d characters") % {"n": limit}))
    for name in ("sku", "name", "unit"):
        if name in cleaned and not cleaned[name]:
            errors.append((name, _("must not be empty")))
    if "kind" in cleaned and cleaned["kind"] not in Product.Kind.values:
        errors.append(("kind", _("one of %(values)s") % {"values": ", ".join(Product.Kind.values)}))
    if "tax_rate" in cleaned:
        cleaned["tax_rate"] = pricing.percent(cleaned["tax_rate"], "tax_rate", errors)
    if "translations" in cleaned:
        translations = cleaned["translations"] or {}
        if not isinstance(translations, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in translations.items()
        ):
            errors.append(("translations", _("an object of language code -> name")))
        else:
            cleaned["translations"] = {
                pricing.quote_language(k): v.strip() for k, v in translations.items() if v.strip()
            }
    if "description" in cleaned:
        cleaned["description"] = str(cleaned["description"] or "").strip()
    return cleaned


def _sku_taken(workspace: Workspace, sku: str, exclude: int | None = None) -> bool:
    clash = Product.objects.for_workspace(workspace).filter(sku=sku)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    return clash.exists()


@transaction.atomic
def create_product(*, workspace: Workspace, by: User | None, **values: Any) -> Product:
    """A product or service; its tax rate defaults to 13 % for products, 6 % for services."""
    unknown = set(values) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationFailed([(name, _("unknown field")) for name in sorted(unknown)])
    values.setdefault("kind", Product.Kind.PRODUCT)
    if values.get("tax_rate") is None:
        values["tax_rate"] = DEFAULT_TAX_RATE.get(values["kind"], 13)
    values.setdefault("unit", "件")
    values = {k: v for k, v in values.items() if v is not None}
    errors: pricing.Errors = []
    cleaned = _clean_product({"sku": "", "name": "", **values}, errors)
    if not errors and _sku_taken(workspace, cleaned["sku"]):
        errors.append(("sku", _("another product has this SKU")))
    if errors:
        raise ValidationFailed(errors)
    product = Product(workspace=workspace, created_by=by, updated_by=by, **cleaned)
    try:
        with transaction.atomic():
            product.save()
    except IntegrityError:  # the same SKU saved at the same moment
        raise ValidationFailed([("sku", _("another product has this SKU"))]) from None
    record_audit(action="sales.product.created", actor=by, workspace=workspace, obj=product,
                 data={"sku": product.sku})  # fmt: skip
    return product


@transaction.atomic
def update_product(*, product: Product, by: User, expected_version: int, **changes: Any) -> Product:
    unknown = set(changes) - set(PRODUCT_FIELDS)
    if unknown:
        raise ValidationFailed([(name, _("cannot be changed")) for name in sorted(unknown)])
    errors: pricing.Errors = []
    cleaned = _clean_product(changes, errors)
    if (
        "sku" in cleaned
        and not errors
        and _sku_taken(product.workspace, cleaned["sku"], product.pk)
    ):
        errors.append(("sku", _("another product has this SKU")))
    if errors:
        raise ValidationFailed(errors)
    for name, value in cleaned.items():
        setattr(product, name, value)
    save_versioned(product, expected_version=expected_version, by=by)
    record_audit(action="sales.product.updated", actor=by, obj=product,
                 data={"fields": sorted(cleaned)})  # fmt: skip
    return product


@transaction.atomic
def delete_product(*, product: Product, by: User) -> None:
    """Soft delete; lines and quotes that name it keep it."""
    product.deleted_at, product.deleted_by = timezone.now(), by
    product.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="sales.product.deleted", actor=by, obj=product)


# --- price books ------------------------------------------------------------------------------
def _clean_period(values: dict[str, Any], errors: pricing.Errors, prefix: str = "") -> None:
    start, end = values.get("valid_from"), values.get("valid_to")
    if start is not None and end is not None and end < start:
        errors.append((f"{prefix}valid_to", _("must not be before valid_from")))


def _clean_book(workspace: Workspace, values: dict[str, Any], errors: pricing.Errors) -> dict:
    cleaned = dict(values)
    if "name" in cleaned:
        cleaned["name"] = str(cleaned["name"] or "").strip()
        if not cleaned["name"]:
            errors.append(("name", _("must not be empty")))
        elif len(cleaned["name"]) > 200:
            errors.append(("name", _("at most %(n)d characters") % {"n": 200}))
    if "currency" in cleaned:
        cleaned["currency"] = pricing.currency_code(cleaned["currency"], "currency", errors)
    if "customer_group" in cleaned:
        cleaned["customer_group"] = str(cleaned["customer_group"] or "").strip()[:20]
    dealer = cleaned.get("dealer")
    if dealer is not None and (dealer.workspace_id != workspace.pk or dealer.is_deleted):
        errors.append(("dealer_id", _("no such account")))
    _clean_period(cleaned, errors)
    return cleaned


def _check_audience(book: PriceBook, errors: pricing.Errors) -> None:
    if book.dealer_id and book.customer_group:
        errors.append(("customer_group", _("a dealer's price book has no customer group")))
    if book.is_standard and (book.dealer_id or book.customer_group):
        errors.append(("is_standard", _("a standard price book is for every customer")))
    if book.valid_from and book.valid_to and book.valid_to < book.valid_from:
        errors.append(("valid_to", _("must not be before valid_from")))


@transaction.atomic
def create_price_book(*, workspace: Workspace, by: User | None, **values: Any) -> PriceBook:
    unknown = set(values) - set(BOOK_FIELDS)
    if unknown:
        raise ValidationFailed([(name, _("unknown field")) for name in sorted(unknown)])
    values = {k: v for k, v in values.items() if v is not None or k == "dealer"}
    values.setdefault("currency", workspace.currency)
    errors: pricing.Errors = []
    cleaned = _clean_book(workspace, {"name": "", **values}, errors)
    book = PriceBook(workspace=workspace, created_by=by, updated_by=by, **cleaned)
    _check_audience(book, errors)
    if errors:
        raise ValidationFailed(errors)
    book.save()
    record_audit(action="sales.pricebook.created", actor=by, workspace=workspace, obj=book)
    return book


@transaction.atomic
def update_price_book(
    *, book: PriceBook, by: User, expected_version: int, **changes: Any
) -> PriceBook:
    unknown = set(changes) - set(BOOK_FIELDS)
    if unknown:
        raise ValidationFailed([(name, _("cannot be changed")) for name in sorted(unknown)])
    errors: pricing.Errors = []
    cleaned = _clean_book(book.workspace, changes, errors)
    if "currency" in cleaned and cleaned["currency"] != book.currency and book.entries.exists():
        errors.append(("currency", _("the book has prices: make a new book for another currency")))
    for name, value in cleaned.items():
        setattr(book, name, value)
    _check_audience(book, errors)
    if errors:
        raise ValidationFailed(errors)
    save_versioned(book, expected_version=expected_version, by=by)
    record_audit(action="sales.pricebook.updated", actor=by, obj=book,
                 data={"fields": sorted(cleaned)})  # fmt: skip
    return book


@transaction.atomic
def delete_price_book(*, book: PriceBook, by: User) -> None:
    book.deleted_at, book.deleted_by = timezone.now(), by
    book.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="sales.pricebook.deleted", actor=by, obj=book)


def _clean_tiers(tiers: Any, errors: pricing.Errors) -> list[dict[str, str]]:
    if tiers in (None, ""):
        return []
    if not isinstance(tiers, list):
        errors.append(("tiers", _("a list of {min_quantity, unit_price}")))
        return []
    cleaned = []
    for index, tier in enumerate(tiers):
        path = f"tiers.{index}"
        if not isinstance(tier, dict):
            errors.append((path, _("a list of {min_quantity, unit_price}")))
            continue
        minimum = pricing.quantity(tier.get("min_quantity"), f"{path}.min_quantity", errors)
        price = pricing.money(tier.get("unit_price"), f"{path}.unit_price", errors)
        if minimum is not None and price is not None:
            cleaned.append((minimum, price))
    minimums = [minimum for minimum, _price in cleaned]
    if len(set(minimums)) != len(minimums):
        errors.append(("tiers", _("two tiers start at the same quantity")))
    return [
        {"min_quantity": str(pricing.plain(minimum)), "unit_price": str(price)}
        for minimum, price in sorted(cleaned)
    ]


def _clean_entry(
    book: PriceBook, values: dict[str, Any], errors: pricing.Errors, currency: str | None
) -> dict[str, Any]:
    cleaned = dict(values)
    if currency is not None and currency.strip().upper() != book.currency:
        errors.append(("currency", _("the price book's currency is %(currency)s")
                       % {"currency": book.currency}))  # fmt: skip
    product = cleaned.get("product")
    if "product" in cleaned and (
        product is None or product.workspace_id != book.workspace_id or product.is_deleted
    ):
        errors.append(("product_id", _("no such product")))
    if "unit_price" in cleaned:
        cleaned["unit_price"] = pricing.money(cleaned["unit_price"], "unit_price", errors)
    if "tiers" in cleaned:
        cleaned["tiers"] = _clean_tiers(cleaned["tiers"], errors)
    _clean_period(cleaned, errors)
    return cleaned


@transaction.atomic
def add_entry(
    *, book: PriceBook, by: User | None, product: Product | None, unit_price: Any,
    tiers: Any = None, valid_from: date | None = None, valid_to: date | None = None,
    currency: str | None = None,
) -> PriceBookEntry:  # fmt: skip
    """A product's price in the book (in the book's currency: another ``currency`` is a 422)."""
    errors: pricing.Errors = []
    cleaned = _clean_entry(book, {"product": product, "unit_price": unit_price, "tiers": tiers,
                                  "valid_from": valid_from, "valid_to": valid_to},
                           errors, currency)  # fmt: skip
    if errors:
        raise ValidationFailed(errors)
    entry = PriceBookEntry(workspace_id=book.workspace_id, price_book=book, created_by=by,
                           updated_by=by, **cleaned)  # fmt: skip
    entry.save()
    record_audit(action="sales.pricebook.entry_added", actor=by, obj=book,
                 data={"entry": entry.public_id, "product": product.sku if product else ""})  # fmt: skip
    return entry


@transaction.atomic
def update_entry(
    *, entry: PriceBookEntry, by: User, expected_version: int, currency: str | None = None,
    **changes: Any,
) -> PriceBookEntry:  # fmt: skip
    unknown = set(changes) - set(ENTRY_FIELDS)
    if unknown:
        raise ValidationFailed([(name, _("cannot be changed")) for name in sorted(unknown)])
    errors: pricing.Errors = []
    cleaned = _clean_entry(entry.price_book, changes, errors, currency)
    if errors:
        raise ValidationFailed(errors)
    for name, value in cleaned.items():
        setattr(entry, name, value)
    if entry.valid_from and entry.valid_to and entry.valid_to < entry.valid_from:
        raise ValidationFailed([("valid_to", _("must not be before valid_from"))])
    save_versioned(entry, expected_version=expected_version, by=by)
    record_audit(action="sales.pricebook.entry_changed", actor=by, obj=entry.price_book,
                 data={"entry": entry.public_id, "fields": sorted(cleaned)})  # fmt: skip
    return entry


@transaction.atomic
def delete_entry(*, entry: PriceBookEntry, by: User) -> None:
    entry.deleted_at, entry.deleted_by = timezone.now(), by
    entry.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="sales.pricebook.entry_deleted", actor=by, obj=entry.price_book,
                 data={"entry": entry.public_id})  # fmt: skip


# --- resolution -------------------------------------------------------------------------------
SPECIFICITY = {"dealer": 3, "customer_group": 2, "standard": 1}


@dataclass(frozen=True)
class ResolvedPrice:
    unit_price: Decimal
    price_book: PriceBook
    entry: PriceBookEntry
    min_quantity: Decimal  # the tier's start (1 for the entry's own price)
    audience: str


def _valid_on(prefix: str, on: date) -> Q:
    return (Q(**{f"{prefix}valid_from__isnull": True}) | Q(**{f"{prefix}valid_from__lte": on})) & (
        Q(**{f"{prefix}valid_to__isnull": True}) | Q(**{f"{prefix}valid_to__gte": on})
    )


def tier_price(entry: PriceBookEntry, quantity: Decimal) -> tuple[Decimal, Decimal]:
    """(unit price, tier start) for ``quantity``: the highest tier it reaches, else the
    entry's own price."""
    price, start = entry.unit_price, Decimal(1)
    for tier in entry.tiers or []:
        minimum = Decimal(tier["min_quantity"])
        if quantity >= minimum:
            price, start = Decimal(tier["unit_price"]), minimum
    return price, start


def resolve_price(
    *, account: Account, product: Product, currency: str, quantity: Decimal,
    on: date | None = None, field: str = "product_id",
) -> ResolvedPrice:  # fmt: skip
    """The unit price ``account`` pays for ``quantity`` of ``product`` in ``currency`` on
    ``on`` (today by default): the most specific active book valid that day that lists the
    product — the account's own dealer book, then its customer group's (value tier), then a
    standard book; within one level, the book that became valid last. ``NoPrice`` (422,
    naming the product, currency and date) when none has it."""
    on = on or timezone.localdate()
    audiences = Q(price_book__is_standard=True) | Q(price_book__dealer=account)
    if account.value_tier:
        audiences |= Q(price_book__customer_group=account.value_tier)
    entries = list(
        PriceBookEntry.objects.for_workspace(account.workspace_id)
        .filter(product=product, price_book__currency=currency, price_book__is_active=True,
                price_book__deleted_at__isnull=True)
        .filter(audiences, _valid_on("", on), _valid_on("price_book__", on))
        .select_related("price_book")
    )  # fmt: skip

    def rank(entry: PriceBookEntry) -> tuple:
        book = entry.price_book
        level = SPECIFICITY.get(book.audience, 0)
        if book.audience == "customer_group" and book.customer_group != account.value_tier:
            level = 0
        return (level, book.valid_from or date.min, entry.valid_from or date.min, entry.pk)

    ranked = sorted((e for e in entries if rank(e)[0] > 0), key=rank, reverse=True)
    if not ranked:
        raise NoPrice(product=product, currency=currency, on=on, field=field)
    best = ranked[0]
    price, start = tier_price(best, quantity)
    return ResolvedPrice(unit_price=price, price_book=best.price_book, entry=best,
                         min_quantity=start, audience=best.price_book.audience)  # fmt: skip

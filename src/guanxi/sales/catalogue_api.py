"""Catalogue endpoints: products, price books with their entries and tiers, and the price a
customer pays (price resolution)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from guanxi.customers.models import Account
from guanxi.platform.apiframework import CursorPage, Problem, keyset_page, with_etag
from guanxi.platform.errors import Forbidden, NotFound, ValidationFailed
from guanxi.platform.models import Membership
from guanxi.platform.versioning import expected_version
from guanxi.platform.visibility import get_visible_or_404, require_add
from guanxi.sales import catalogue, pricing
from guanxi.sales.models import PriceBook, PriceBookEntry, Product

router = Router(tags=["catalogue"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
WRITE_ERRORS = {**ERRORS, 428: Problem}
ORDERING = ("-created_at", "-id")


# --- products ---------------------------------------------------------------------------------
class ProductIn(Schema):
    sku: str = Field(description="Unique in the workspace.")
    name: str = Field(description="The name as the company writes it, e.g. 光模块.")
    name_en: str = ""
    translations: dict[str, str] = Field(
        default_factory=dict, description='Names by language: {"zh-hant": "光模組"}.'
    )
    unit: str = Field("件", description="件, 台, 套, hour…")
    kind: str = Field("product", description="product or service")
    tax_rate: Decimal | None = Field(
        None, description="VAT in percent; default 13 for products, 6 for services."
    )
    is_active: bool = True
    description: str = ""


class ProductUpdate(Schema):
    sku: str | None = None
    name: str | None = None
    name_en: str | None = None
    translations: dict[str, str] | None = None
    unit: str | None = None
    kind: str | None = None
    tax_rate: Decimal | None = None
    is_active: bool | None = None
    description: str | None = None
    version: int | None = None


class ProductOut(Schema):
    id: str
    sku: str
    name: str
    name_en: str
    translations: dict[str, str]
    unit: str
    kind: str
    tax_rate: Decimal
    is_active: bool
    description: str
    created_at: datetime
    updated_at: datetime
    version: int


def product_out(product: Product) -> dict[str, Any]:
    return {
        "id": product.public_id, "sku": product.sku, "name": product.name,
        "name_en": product.name_en, "translations": product.translations or {},
        "unit": product.unit, "kind": product.kind, "tax_rate": product.tax_rate,
        "is_active": product.is_active, "description": product.description,
        "created_at": product.created_at, "updated_at": product.updated_at,
        "version": product.version,
    }  # fmt: skip


def _product(request: HttpRequest, product_id: str, action: str = "view") -> Product:
    return get_visible_or_404(Product, user=request.auth, public_id=product_id, action=action)


class ProductFilters(Schema):
    q: str | None = Field(None, description="Part of the SKU or name")
    active: bool | None = None
    cursor: str | None = None
    limit: int | None = None


@router.get("/products", response={200: CursorPage[ProductOut], **ERRORS}, summary="Products")
def list_products(request: HttpRequest, filters: ProductFilters = Query(...)) -> dict:  # noqa: B008
    queryset = Product.objects.visible_to(request.auth, "view")
    if filters.q:
        from django.db.models import Q

        queryset = queryset.filter(
            Q(sku__icontains=filters.q) | Q(name__icontains=filters.q)
            | Q(name_en__icontains=filters.q)
        )  # fmt: skip
    if filters.active is not None:
        queryset = queryset.filter(is_active=filters.active)
    rows, next_cursor = keyset_page(
        queryset, ordering=ORDERING, cursor=filters.cursor, limit=filters.limit
    )
    return {"items": [product_out(p) for p in rows], "next_cursor": next_cursor}


@router.post("/products", response={201: ProductOut, **WRITE_ERRORS}, summary="Add a product")
def create_product(request: HttpRequest, payload: ProductIn) -> Status:
    membership: Membership = request.auth
    require_add(membership, Product.object_type)
    product = catalogue.create_product(
        workspace=membership.workspace, by=request.user, **payload.dict()
    )
    return Status(201, product_out(product))


@router.get("/products/{product_id}", response={200: ProductOut, **ERRORS}, summary="Product")
def get_product(request: HttpRequest, product_id: str, response: HttpResponse) -> dict:
    product = _product(request, product_id)
    with_etag(response, product)
    return product_out(product)


@router.patch("/products/{product_id}", response={200: ProductOut, **WRITE_ERRORS},
              summary="Change a product")  # fmt: skip
def update_product(
    request: HttpRequest, product_id: str, payload: ProductUpdate, response: HttpResponse
) -> dict:
    product = _product(request, product_id, "change")
    changes = payload.dict(exclude_unset=True, exclude={"version"})
    for name in ("sku", "name", "unit", "kind", "is_active"):
        if name in changes and changes[name] is None:
            raise ValidationFailed([(name, "must not be null")])
    product = catalogue.update_product(
        product=product, by=request.user,
        expected_version=expected_version(if_match=request.headers.get("If-Match"),
                                          body_version=payload.version),
        **changes,
    )  # fmt: skip
    with_etag(response, product)
    return product_out(product)


@router.delete("/products/{product_id}", response={204: None, **ERRORS}, summary="Delete")
def delete_product(request: HttpRequest, product_id: str) -> Status:
    catalogue.delete_product(product=_product(request, product_id, "delete"), by=request.user)
    return Status(204, None)


# --- price books ------------------------------------------------------------------------------
class TierIO(Schema):
    min_quantity: Decimal = Field(description="From this quantity on…")
    unit_price: Decimal = Field(description="…this unit price (at most 2 decimals).")


class EntryIn(Schema):
    product_id: str
    unit_price: Decimal = Field(description="Not negative, at most 2 decimals, before tax.")
    currency: str | None = Field(None, description="If given, must be the book's currency.")
    tiers: list[TierIO] = Field(default_factory=list, description="Volume tiers.")
    valid_from: date | None = None
    valid_to: date | None = None


class EntryUpdate(Schema):
    unit_price: Decimal | None = None
    currency: str | None = None
    tiers: list[TierIO] | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    version: int | None = None


class EntryOut(Schema):
    id: str
    price_book_id: str
    product_id: str
    product_sku: str
    product_name: str
    currency: str
    unit_price: Decimal
    tiers: list[TierIO]
    valid_from: date | None
    valid_to: date | None
    version: int


class PriceBookIn(Schema):
    name: str
    currency: str | None = Field(None, description="ISO 4217; default: the workspace's.")
    customer_group: str = Field("", description="A value tier of accounts (A, B, VIP…).")
    dealer_id: str | None = Field(None, description="A partner account: its own prices.")
    is_standard: bool = Field(False, description="For every customer.")
    is_active: bool = True
    valid_from: date | None = None
    valid_to: date | None = None


class PriceBookUpdate(Schema):
    name: str | None = None
    currency: str | None = None
    customer_group: str | None = None
    dealer_id: str | None = None
    is_standard: bool | None = None
    is_active: bool | None = None
    valid_from: date | None = None
    valid_to: date | None = None
    version: int | None = None


class PriceBookOut(Schema):
    id: str
    name: str
    currency: str
    audience: str = Field(description="dealer, customer_group, standard or none")
    customer_group: str
    dealer_id: str | None
    dealer_name: str | None
    is_standard: bool
    is_active: bool
    valid_from: date | None
    valid_to: date | None
    entries: list[EntryOut]
    version: int


def entry_out(entry: PriceBookEntry, book: PriceBook | None = None) -> dict[str, Any]:
    book = book or entry.price_book
    return {
        "id": entry.public_id, "price_book_id": book.public_id,
        "product_id": entry.product.public_id, "product_sku": entry.product.sku,
        "product_name": entry.product.name, "currency": book.currency,
        "unit_price": entry.unit_price, "tiers": entry.tiers or [],
        "valid_from": entry.valid_from, "valid_to": entry.valid_to, "version": entry.version,
    }  # fmt: skip


def book_entries(book: PriceBook) -> list[PriceBookEntry]:
    return list(
        PriceBookEntry.objects.for_workspace(book.workspace_id)
        .filter(price_book=book)
        .select_related("product")
        .order_by("product__sku", "id")
    )


def book_out(book: PriceBook, entries: list[PriceBookEntry] | None = None) -> dict[str, Any]:
    entries = book_entries(book) if entries is None else entries
    return {
        "id": book.public_id, "name": book.name, "currency": book.currency,
        "audience": book.audience, "customer_group": book.customer_group,
        "dealer_id": book.dealer.public_id if book.dealer_id else None,
        "dealer_name": book.dealer.name if book.dealer_id else None,
        "is_standard": book.is_standard, "is_active": book.is_active,
        "valid_from": book.valid_from, "valid_to": book.valid_to,
        "entries": [entry_out(e, book) for e in entries], "version": book.version,
    }  # fmt: skip


def _dealer(membership: Membership, public_id: str | None) -> Account | None:
    if not public_id:
        return None
    account = Account.objects.visible_to(membership, "view").filter(public_id=public_id).first()
    if account is None:
        raise ValidationFailed([("dealer_id", f"no account {public_id!r}")])
    return account


def _book(request: HttpRequest, book_id: str, action: str = "view") -> PriceBook:
    return get_visible_or_404(
        PriceBook, user=request.auth, public_id=book_id, action=action,
        queryset=PriceBook.objects.visible_to(request.auth, "view").select_related("dealer"),
    )  # fmt: skip


@router.get("/price-books", response={200: list[PriceBookOut], **ERRORS}, summary="Price books")
def list_price_books(request: HttpRequest) -> list[dict]:
    books = list(
        PriceBook.objects.visible_to(request.auth, "view")
        .select_related("dealer")
        .order_by("name", "id")
    )
    entries: dict[int, list[PriceBookEntry]] = {book.pk: [] for book in books}
    for entry in (
        PriceBookEntry.objects.visible_to(request.auth, "view")
        .filter(price_book_id__in=list(entries))
        .select_related("product")
        .order_by("product__sku", "id")
    ):
        entries[entry.price_book_id].append(entry)
    return [book_out(book, entries[book.pk]) for book in books]


@router.post("/price-books", response={201: PriceBookOut, **WRITE_ERRORS},
             summary="Add a price book")  # fmt: skip
def create_price_book(request: HttpRequest, payload: PriceBookIn) -> Status:
    membership: Membership = request.auth
    require_add(membership, PriceBook.object_type)
    book = catalogue.create_price_book(
        workspace=membership.workspace, by=request.user,
        dealer=_dealer(membership, payload.dealer_id),
        **payload.dict(exclude={"dealer_id"}),
    )  # fmt: skip
    return Status(201, book_out(book, []))


@router.get("/price-books/{book_id}", response={200: PriceBookOut, **ERRORS},
            summary="A price book with its entries")  # fmt: skip
def get_price_book(request: HttpRequest, book_id: str, response: HttpResponse) -> dict:
    book = _book(request, book_id)
    with_etag(response, book)
    return book_out(book)


@router.patch("/price-books/{book_id}", response={200: PriceBookOut, **WRITE_ERRORS},
              summary="Change a price book")  # fmt: skip
def update_price_book(
    request: HttpRequest, book_id: str, payload: PriceBookUpdate, response: HttpResponse
) -> dict:
    membership: Membership = request.auth
    book = _book(request, book_id, "change")
    changes = payload.dict(exclude_unset=True, exclude={"version", "dealer_id"})
    if "dealer_id" in payload.model_fields_set:
        changes["dealer"] = _dealer(membership, payload.dealer_id)
    book = catalogue.update_price_book(
        book=book, by=request.user,
        expected_version=expected_version(if_match=request.headers.get("If-Match"),
                                          body_version=payload.version),
        **changes,
    )  # fmt: skip
    with_etag(response, book)
    return book_out(book)


@router.delete("/price-books/{book_id}", response={204: None, **ERRORS}, summary="Delete")
def delete_price_book(request: HttpRequest, book_id: str) -> Status:
    catalogue.delete_price_book(book=_book(request, book_id, "delete"), by=request.user)
    return Status(204, None)


def _entry(request: HttpRequest, book: PriceBook, entry_id: str) -> PriceBookEntry:
    entry = (
        PriceBookEntry.objects.for_workspace(book.workspace_id)
        .filter(price_book=book, public_id=entry_id)
        .select_related("product", "price_book")
        .first()
    )
    if entry is None:
        raise NotFound(PriceBookEntry._meta.verbose_name)
    return entry


@router.post("/price-books/{book_id}/entries", response={201: EntryOut, **WRITE_ERRORS},
             summary="Add a product's price")  # fmt: skip
def add_entry(request: HttpRequest, book_id: str, payload: EntryIn) -> Status:
    book = _book(request, book_id, "change")
    product = (
        Product.objects.visible_to(request.auth, "view")
        .filter(public_id=payload.product_id)
        .first()
    )
    entry = catalogue.add_entry(
        book=book, by=request.user, product=product, unit_price=payload.unit_price,
        tiers=[tier.dict() for tier in payload.tiers], valid_from=payload.valid_from,
        valid_to=payload.valid_to, currency=payload.currency,
    )  # fmt: skip
    return Status(201, entry_out(entry, book))


@router.patch("/price-books/{book_id}/entries/{entry_id}",
              response={200: EntryOut, **WRITE_ERRORS}, summary="Change a price")  # fmt: skip
def update_entry(request: HttpRequest, book_id: str, entry_id: str, payload: EntryUpdate) -> dict:
    book = _book(request, book_id, "change")
    entry = _entry(request, book, entry_id)
    changes = payload.dict(exclude_unset=True, exclude={"version", "currency"})
    if "tiers" in changes:
        changes["tiers"] = [tier.dict() for tier in payload.tiers or []]
    entry = catalogue.update_entry(
        entry=entry, by=request.user, currency=payload.currency,
        expected_version=expected_version(if_match=request.headers.get("If-Match"),
                                          body_version=payload.version),
        **changes,
    )  # fmt: skip
    return entry_out(entry, book)


@router.delete("/price-books/{book_id}/entries/{entry_id}", response={204: None, **ERRORS},
               summary="Remove a price")  # fmt: skip
def delete_entry(request: HttpRequest, book_id: str, entry_id: str) -> Status:
    book = _book(request, book_id, "change")
    catalogue.delete_entry(entry=_entry(request, book, entry_id), by=request.user)
    return Status(204, None)


# --- resolution -------------------------------------------------------------------------------
class PriceQuery(Schema):
    account_id: str
    product_id: str
    currency: str | None = Field(None, description="ISO 4217; default: the workspace's.")
    quantity: Decimal = Field(Decimal(1), description="More than 0; picks the volume tier.")
    on: date | None = Field(None, description="The day; default today.")


class PriceOut(Schema):
    account_id: str
    product_id: str
    currency: str
    quantity: Decimal
    unit_price: Decimal
    price_book_id: str
    price_book_name: str
    audience: str = Field(description="dealer, customer_group or standard: why this book")
    tier_min_quantity: Decimal
    on: date


@router.get("/prices", response={200: PriceOut, **ERRORS}, summary="Resolve a price")
def resolve_price(request: HttpRequest, query: PriceQuery = Query(...)) -> dict:  # noqa: B008
    """The unit price an account pays for a quantity of a product: the most specific price
    book valid on the day (the account's dealer book, then its value tier's, then a standard
    one), the volume tier the quantity reaches."""
    membership: Membership = request.auth
    if membership.scope_for(PriceBook.object_type, "view") == "none":
        raise Forbidden(action="view", object_type=PriceBook.object_type)
    errors: pricing.Errors = []
    currency = pricing.currency_code(query.currency or membership.workspace.currency,
                                     "currency", errors)  # fmt: skip
    quantity = pricing.quantity(query.quantity, "quantity", errors)
    account = (
        Account.objects.visible_to(membership, "view").filter(public_id=query.account_id).first()
    )
    if account is None:
        errors.append(("account_id", "no such account"))
    product = (
        Product.objects.visible_to(membership, "view").filter(public_id=query.product_id).first()
    )
    if product is None:
        errors.append(("product_id", "no such product"))
    if errors:
        raise ValidationFailed(errors)
    assert account is not None and product is not None and currency and quantity
    resolved = catalogue.resolve_price(
        account=account, product=product, currency=currency, quantity=quantity, on=query.on
    )
    return {
        "account_id": account.public_id, "product_id": product.public_id,
        "currency": currency, "quantity": quantity, "unit_price": resolved.unit_price,
        "price_book_id": resolved.price_book.public_id,
        "price_book_name": resolved.price_book.name, "audience": resolved.audience,
        "tier_min_quantity": resolved.min_quantity, "on": query.on or timezone.localdate(),
    }  # fmt: skip

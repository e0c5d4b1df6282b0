"""Catalogue and quote pages: products, price books with their entries, an opportunity's line
items (htmx) and its quotes, a quote with its actions, the PDF.

Other pages embed an opportunity's lines and quotes with
``{% include "web/sales/_opportunity_extra.html" %}`` and the context of
``opportunity_extra_context(request, opportunity)``.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.platform.errors import Forbidden, GuanxiError, ValidationFailed
from guanxi.platform.models import Membership, Workspace
from guanxi.platform.visibility import can
from guanxi.sales import catalogue, quote_documents, quotes, selectors
from guanxi.sales.models import (
    Opportunity,
    OpportunityLine,
    PriceBook,
    PriceBookEntry,
    Product,
    Quote,
    QuoteLine,
)
from guanxi.web.common import is_htmx, may, visible_or_404
from guanxi.web.common import membership_of as _membership

LIST_LIMIT = 200


# --- forms ------------------------------------------------------------------------------------
class ProductForm(forms.Form):
    sku = forms.CharField(label=gettext_lazy("SKU"), max_length=100)
    name = forms.CharField(label=gettext_lazy("Name"), max_length=300)
    name_en = forms.CharField(label=gettext_lazy("English name"), max_length=300, required=False)
    unit = forms.CharField(label=gettext_lazy("Unit"), max_length=20, initial="件")
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=Product.Kind.choices)
    tax_rate = forms.DecimalField(
        label=gettext_lazy("Tax rate (%)"), required=False,
        help_text=gettext_lazy("Leave empty for the usual rate: 13 for products, 6 for services."),
    )  # fmt: skip
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    description = forms.CharField(
        label=gettext_lazy("Description"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class PriceBookForm(forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, initial="CNY")
    is_standard = forms.BooleanField(
        label=gettext_lazy("Standard price book (every customer)"), required=False
    )
    customer_group = forms.CharField(
        label=gettext_lazy("Customer group (value tier)"), max_length=20, required=False
    )
    valid_from = forms.DateField(
        label=gettext_lazy("Valid from"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    valid_to = forms.DateField(
        label=gettext_lazy("Valid to"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )


class EntryForm(forms.Form):
    product = forms.ModelChoiceField(label=gettext_lazy("Product"), queryset=Product.objects.all())
    unit_price = forms.DecimalField(label=gettext_lazy("Unit price"))
    tiers = forms.CharField(
        label=gettext_lazy("Volume tiers"), required=False,
        help_text=gettext_lazy("One per line: from quantity, unit price (e.g. 100, 90.00)."),
        widget=forms.Textarea(attrs={"rows": 2}),
    )  # fmt: skip


def _show_errors(form: forms.Form, exc: ValidationFailed) -> None:
    for field, message in exc.errors:
        name = field.split(".")[0].removesuffix("_id")
        form.add_error(name if name in form.fields else None, f"{field}: {message}")


def _parse_tiers(text: str) -> list[dict[str, str]]:
    tiers = []
    for row in (text or "").splitlines():
        if row.strip():
            minimum, _sep, price = row.replace("，", ",").partition(",")
            tiers.append({"min_quantity": minimum.strip(), "unit_price": price.strip()})
    return tiers


# --- products ---------------------------------------------------------------------------------
@login_required
def product_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    if not may(membership, "view", Product):
        raise PermissionDenied(_("Your role does not show products."))
    may_add = may(membership, "add", Product)
    form = ProductForm(request.POST or None)
    if request.method == "POST":
        if not may_add:
            raise PermissionDenied(_("Your role does not allow adding products."))
        if form.is_valid():
            try:
                product = catalogue.create_product(workspace=membership.workspace,
                                                   by=request.user, **form.cleaned_data)  # fmt: skip
            except ValidationFailed as exc:
                _show_errors(form, exc)
            else:
                messages.success(request, _("Product %(sku)s added.") % {"sku": product.sku})
                return redirect("web:product_list")
    rows = Product.objects.visible_to(membership, "view").order_by("sku", "id")
    q = request.GET.get("q", "").strip()
    if q:
        rows = rows.filter(sku__icontains=q) | rows.filter(name__icontains=q)
    return render(request, "web/quotes/products.html",
                  {"products": list(rows[:LIST_LIMIT]), "form": form, "may_add": may_add,
                   "q": q, "limit": LIST_LIMIT})  # fmt: skip


@login_required
def product_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = _membership(request)
    product = visible_or_404(Product, membership, public_id)
    may_change = can(membership, "change", product)
    initial = {name: getattr(product, name) for name in ProductForm.base_fields}
    form = ProductForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied(_("Your role does not allow changing products."))
        if form.is_valid():
            try:
                catalogue.update_product(product=product, by=request.user,
                                         expected_version=int(request.POST.get("version") or 0),
                                         **form.cleaned_data)  # fmt: skip
            except ValidationFailed as exc:
                _show_errors(form, exc)
            except GuanxiError as exc:
                form.add_error(None, str(exc))
            else:
                messages.success(request, _("Product saved."))
                return redirect("web:product_list")
    return render(request, "web/quotes/product_form.html",
                  {"product": product, "form": form, "may_change": may_change})  # fmt: skip


# --- price books ------------------------------------------------------------------------------
@login_required
def price_book_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    if not may(membership, "view", PriceBook):
        raise PermissionDenied(_("Your role does not show price books."))
    may_add = may(membership, "add", PriceBook)
    form = PriceBookForm(request.POST or None, initial={"currency": membership.workspace.currency})
    if request.method == "POST":
        if not may_add:
            raise PermissionDenied(_("Your role does not allow adding price books."))
        if form.is_valid():
            try:
                book = catalogue.create_price_book(workspace=membership.workspace,
                                                   by=request.user, **form.cleaned_data)  # fmt: skip
            except ValidationFailed as exc:
                _show_errors(form, exc)
            else:
                return redirect("web:price_book", book.public_id)
    books = (
        PriceBook.objects.visible_to(membership, "view")
        .select_related("dealer")
        .order_by("name", "id")
    )
    return render(request, "web/quotes/price_books.html",
                  {"books": list(books[:LIST_LIMIT]), "form": form, "may_add": may_add})  # fmt: skip


@login_required
def price_book_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = _membership(request)
    book = visible_or_404(PriceBook, membership, public_id,
                          queryset=PriceBook.objects.visible_to(membership, "view")
                          .select_related("dealer"))  # fmt: skip
    may_change = can(membership, "change", book)
    form = EntryForm(request.POST or None)
    form.fields["product"].queryset = Product.objects.for_workspace(book.workspace_id).filter(
        is_active=True
    )
    if request.method == "POST":
        if not may_change:
            raise PermissionDenied(_("Your role does not allow changing price books."))
        if request.POST.get("delete"):
            entry = (
                PriceBookEntry.objects.for_workspace(book.workspace_id)
                .filter(price_book=book, public_id=request.POST["delete"])
                .first()
            )
            if entry is not None:
                catalogue.delete_entry(entry=entry, by=request.user)
            return redirect("web:price_book", book.public_id)
        if form.is_valid():
            try:
                catalogue.add_entry(book=book, by=request.user,
                                    product=form.cleaned_data["product"],
                                    unit_price=form.cleaned_data["unit_price"],
                                    tiers=_parse_tiers(form.cleaned_data["tiers"]))  # fmt: skip
            except ValidationFailed as exc:
                _show_errors(form, exc)
            else:
                return redirect("web:price_book", book.public_id)
    entries = (
        PriceBookEntry.objects.for_workspace(book.workspace_id)
        .filter(price_book=book)
        .select_related("product")
        .order_by("product__sku", "id")
    )
    return render(request, "web/quotes/price_book.html",
                  {"book": book, "entries": list(entries), "form": form,
                   "may_change": may_change})  # fmt: skip


# --- an opportunity's lines and quotes --------------------------------------------------------
def _opportunity(request: HttpRequest, public_id: str, action: str = "view") -> Opportunity:
    membership = _membership(request)
    return visible_or_404(Opportunity, membership, public_id, action=action,
                          queryset=selectors.opportunities(user=membership))  # fmt: skip


def opportunity_extra_context(request: HttpRequest, opportunity: Opportunity) -> dict[str, Any]:
    """What ``web/sales/_opportunity_extra.html`` needs beside ``opportunity``: its lines,
    its quotes (newest first), the products to add, and whether the reader may change the
    lines and make quotes. Four queries."""
    membership: Membership = _membership(request)
    lines = quotes.opportunity_lines(opportunity)
    return {
        "opportunity_lines": lines,
        "opportunity_quotes": list(
            Quote.objects.visible_to(membership, "view")
            .filter(opportunity=opportunity)
            .order_by("-created_at", "-id")[:20]
        ),
        "line_products": list(
            Product.objects.for_workspace(opportunity.workspace_id)
            .filter(is_active=True)
            .order_by("sku", "id")[:LIST_LIMIT]
        ),
        "may_change_lines": can(membership, "change", opportunity),
        "may_quote": may(membership, "add", Quote),
    }


def _lines_fragment(
    request: HttpRequest, opportunity: Opportunity, error: str = ""
) -> HttpResponse:
    context = {"opportunity": opportunity, "line_error": error,
               **opportunity_extra_context(request, opportunity)}  # fmt: skip
    return render(request, "web/sales/_opportunity_extra.html", context,
                  status=422 if error else 200)  # fmt: skip


def _after_line_change(request: HttpRequest, opportunity: Opportunity,
                       error: str = "") -> HttpResponse:  # fmt: skip
    if is_htmx(request):
        opportunity = _opportunity(request, opportunity.public_id)  # the amount changed
        return _lines_fragment(request, opportunity, error)
    if error:
        messages.error(request, error)
    return redirect(request.POST.get("next") or "web:quote_new", opportunity.public_id)


def _errors_text(exc: GuanxiError) -> str:
    if isinstance(exc, ValidationFailed):
        return "; ".join(f"{field}: {message}" for field, message in exc.errors)
    return str(exc)


@login_required
@require_POST
def line_add(request: HttpRequest, public_id: str) -> HttpResponse:
    opportunity = _opportunity(request, public_id, "change")
    product = (
        Product.objects.for_workspace(opportunity.workspace_id)
        .filter(public_id=request.POST.get("product", ""))
        .first()
    )
    try:
        quotes.add_line(opportunity=opportunity, by=request.user, line=quotes.LineInput(
            product=product, quantity=request.POST.get("quantity", ""),
            unit_price=request.POST.get("unit_price") or None,
            discount_percent=request.POST.get("discount_percent") or 0,
        ))  # fmt: skip
    except GuanxiError as exc:
        return _after_line_change(request, opportunity, _errors_text(exc))
    return _after_line_change(request, opportunity)


@login_required
@require_POST
def line_change(request: HttpRequest, public_id: str, line_id: str) -> HttpResponse:
    opportunity = _opportunity(request, public_id, "change")
    line = (
        OpportunityLine.objects.for_workspace(opportunity.workspace_id)
        .filter(opportunity=opportunity, public_id=line_id)
        .select_related("product", "opportunity__account")
        .first()
    )
    if line is None:
        return _after_line_change(request, opportunity, _("The line is gone."))
    try:
        if request.POST.get("delete"):
            quotes.delete_line(line=line, by=request.user)
        else:
            changes = {"quantity": request.POST.get("quantity", ""),
                       "discount_percent": request.POST.get("discount_percent") or 0}  # fmt: skip
            if request.POST.get("unit_price"):
                changes["unit_price"] = request.POST["unit_price"]
            quotes.update_line(line=line, by=request.user,
                               expected_version=int(request.POST.get("version") or 0),
                               **changes)  # fmt: skip
    except GuanxiError as exc:
        return _after_line_change(request, opportunity, _errors_text(exc))
    return _after_line_change(request, opportunity)


@login_required
def quote_new(request: HttpRequest, public_id: str) -> HttpResponse:
    """Make a quote of the opportunity's lines (editable here first)."""
    opportunity = _opportunity(request, public_id)
    membership = _membership(request)
    error = ""
    if request.method == "POST":
        if not may(membership, "add", Quote) or not can(membership, "change", opportunity):
            raise PermissionDenied(_("Your role does not allow making quotes of this deal."))
        try:
            valid_until = date.fromisoformat(request.POST["valid_until"]) if request.POST.get(
                "valid_until") else None  # fmt: skip
        except ValueError:
            valid_until, error = None, _("valid_until: not a valid date")
        if not error:
            try:
                quote = quotes.create_quote(opportunity=opportunity, by=request.user,
                                            valid_until=valid_until,
                                            notes=request.POST.get("notes", ""))  # fmt: skip
            except GuanxiError as exc:
                error = _errors_text(exc)
            else:
                for warning in quotes.warn_of_conflicts(quote, by=request.user):
                    messages.warning(request, warning["message"])
                return redirect("web:quote_detail", quote.public_id)
    context = {"opportunity": opportunity, "error": error,
               **opportunity_extra_context(request, opportunity)}  # fmt: skip
    return render(request, "web/quotes/quote_new.html", context, status=422 if error else 200)


# --- a quote ----------------------------------------------------------------------------------
def _quote(request: HttpRequest, public_id: str, action: str = "view") -> Quote:
    membership = _membership(request)
    queryset = Quote.objects.visible_to(membership, "view").select_related(
        "opportunity", "account", "contact", "owner", "decided_by", "order", "workspace"
    )
    return visible_or_404(Quote, membership, public_id, action=action, queryset=queryset)


@login_required
def quote_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = _membership(request)
    quote = _quote(request, public_id)
    lines = list(QuoteLine.objects.filter(quote=quote).order_by("position", "id"))
    revisions = list(
        Quote.objects.for_workspace(quote.workspace_id)
        .filter(number=quote.number)
        .order_by("revision")
        .values("public_id", "revision", "status")
    )
    for revision in revisions:
        revision["label"] = Quote.Status(revision["status"]).label
    changeable = can(membership, "change", quote)
    actions = {
        "submit": changeable and quote.status == "draft",
        "approve": quote.status == "pending_approval" and can(membership, "approve", quote),
        "send": quote.status in ("draft", "approved", "sent") and can(membership, "send", quote),
        "accept": changeable and quote.status in ("approved", "sent"),
        "reject": changeable and quote.is_open,
        "revise": changeable and quote.status in quotes.REVISABLE and
        revisions[-1]["revision"] == quote.revision,
    }  # fmt: skip
    return render(request, "web/quotes/quote.html", {
        "quote": quote, "lines": lines, "revisions": revisions, "actions": actions,
        "warnings": [c.as_dict() for c in quotes.price_conflicts(quote, lines)],
        "needs_approval": quote.status in ("draft", "pending_approval")
        and quotes.needs_approval(quote, lines),
        "tax_rows": quote.tax_breakdown,
    })  # fmt: skip


ACTIONS = ("submit", "approve", "reject-approval", "send", "accept", "reject", "revise")


@login_required
@require_POST
def quote_action(request: HttpRequest, public_id: str, action: str) -> HttpResponse:
    right = {"approve": "approve", "reject-approval": "approve", "send": "send"}.get(
        action, "change"
    )
    quote = _quote(request, public_id, right)
    version = int(request.POST.get("version") or 0)
    reason = request.POST.get("reason", "")
    by = request.user
    try:
        if action == "submit":
            quote = quotes.submit_quote(quote=quote, by=by, expected_version=version)
        elif action == "approve":
            quote = quotes.approve_quote(quote=quote, by=by, expected_version=version,
                                         note=reason)  # fmt: skip
        elif action == "reject-approval":
            quote = quotes.decline_approval(quote=quote, by=by, expected_version=version,
                                            reason=reason)  # fmt: skip
        elif action == "send":
            quotes.send_quote(quote=quote, by=by, expected_version=version,
                              to=request.POST.get("to") or None)  # fmt: skip
            for warning in quotes.warn_of_conflicts(quote, by=by):
                messages.warning(request, warning["message"])
            messages.success(request, _("The quote was sent by e-mail."))
        elif action == "accept":
            if not can(_membership(request), "change", quote.opportunity):
                raise Forbidden(action="change", object_type=Opportunity.object_type)
            quote = quotes.accept_quote(quote=quote, by=by, expected_version=version)
            messages.success(request, _("Accepted: order %(number)s is booked.")
                             % {"number": quote.order.number})  # fmt: skip
        elif action == "reject":
            quote = quotes.reject_quote(quote=quote, by=by, expected_version=version,
                                        reason=reason)  # fmt: skip
        elif action == "revise":
            quote = quotes.revise_quote(quote=quote, by=by, expected_version=version)
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except GuanxiError as exc:
        messages.error(request, _errors_text(exc))
    return redirect("web:quote_detail", quote.public_id)


@login_required
def quote_pdf(request: HttpRequest, public_id: str) -> HttpResponse:
    quote = _quote(request, public_id)
    response = HttpResponse(quote_documents.render_pdf(quote), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{quote_documents.file_name(quote)}"'
    return response


# --- settings: discount limits ----------------------------------------------------------------
@login_required
def discount_limits(request: HttpRequest) -> HttpResponse:
    """Each role's largest line discount without approval; administrators change them (an
    empty box: no limit). Quotes above the owner's limit wait for a manager's approval."""
    from guanxi.web.setup import _page

    membership = _membership(request)
    editable = may(membership, "change", Workspace)
    rows = quotes.discount_limits(membership.workspace_id)
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        for row in rows:
            text = request.POST.get(f"limit-{row.role.key}", "").strip().rstrip("%％")
            if _same_number(text, row.max_discount_percent):
                continue  # unchanged (a default left as it is stays the default)
            try:
                quotes.set_discount_limit(workspace=membership.workspace, role=row.role,
                                          max_discount_percent=text or None, by=request.user)  # fmt: skip
            except ValidationFailed as exc:
                errors[row.role.key] = "; ".join(str(message) for _p, message in exc.errors)
        if not errors:
            messages.success(request, _("Saved."))
            return redirect("web:settings_discounts")
        rows = quotes.discount_limits(membership.workspace_id)
    return _page(request, "discounts", "discounts.html", rows=rows, editable=editable,
                 errors=errors, posted=request.POST)  # fmt: skip


def _same_number(text: str, value: Any) -> bool:
    if value is None:
        return text == ""
    try:
        return Decimal(text) == value
    except (InvalidOperation, ValueError):
        return False

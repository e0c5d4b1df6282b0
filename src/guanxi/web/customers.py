"""Pages of the customer master: lists, record pages (the 360), the search box.

The web app composes the others: customer records with the timeline and activities of the
``timeline`` app, which the customer master itself never imports.
"""

from __future__ import annotations

import itertools
from typing import Any

from django.conf import settings as django_settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.customers import identity, normalize, selectors
from guanxi.customers import services as customer_services
from guanxi.customers.columns import custom_cell
from guanxi.customers.errors import ContactPointClash
from guanxi.customers.models import Account, Contact, ContactPoint
from guanxi.customers.panels import get_panel, panels
from guanxi.customers.search import search
from guanxi.customers.services import ContactPointInput
from guanxi.platform.apiframework import keyset_page
from guanxi.platform.errors import (
    GuanxiError,
    ValidationFailed,
    VersionConflict,
)
from guanxi.platform.models import CustomField, Membership
from guanxi.platform.visibility import can
from guanxi.timeline import selectors as timeline_selectors
from guanxi.timeline import services as timeline_services
from guanxi.timeline.models import Activity, Channel, Interaction
from guanxi.web.common import is_htmx as _is_htmx
from guanxi.web.common import may as _may
from guanxi.web.common import membership_of as _membership
from guanxi.web.common import visible_or_404
from guanxi.web.forms import AccountForm, ContactForm, NewAccountForm, NewContactForm

TIMELINE_PAGE = 20
KINDS = {"contacts": Contact, "accounts": Account}


def _record(request: HttpRequest, model: type, public_id: str, action: str = "view") -> Any:
    membership = _membership(request)
    details = selectors.contacts if model is Contact else selectors.accounts
    return visible_or_404(
        model, membership, public_id, action=action, queryset=details(user=membership)
    )


HISTORY_ROWS = 10
HISTORY_HIDDEN = {"version", "updated_at", "updated_by", "search_document", "sort_key"}


def _field_history(customer: Any) -> list[dict[str, Any]]:
    """The latest changes of the record's fields: who, when, which field, old → new
    (related records by name: lifecycle stage, owner, team)."""
    records = list(customer.history.select_related("history_user")[: HISTORY_ROWS + 1])
    changes, related = [], {}
    for newer, older in itertools.pairwise(records):
        fields = []
        for change in newer.diff_against(older).changes:
            if change.field in HISTORY_HIDDEN:
                continue
            field = customer._meta.get_field(change.field)
            if field.is_relation:
                related.setdefault(field.related_model, set()).update({change.old, change.new})
            fields.append({"model": field.related_model if field.is_relation else None,
                           "field": field.verbose_name, "old": change.old, "new": change.new})  # fmt: skip
        if fields:
            changes.append(
                {"when": newer.history_date, "who": newer.history_user, "fields": fields}
            )
    names = {
        model: {obj.pk: str(obj) for obj in model._base_manager.filter(pk__in=pks - {None})}
        for model, pks in related.items()
    }
    for change in changes:
        for field in change["fields"]:
            if field["model"] is not None:
                lookup = names[field["model"]]
                field["old"], field["new"] = lookup.get(field["old"]), lookup.get(field["new"])
    return changes


def _timeline_page(
    customer: Any, cursor: str | None, channel: str = ""
) -> tuple[list[Interaction], str | None]:
    return keyset_page(
        timeline_selectors.timeline(customer=customer, channels=[channel] if channel else None),
        ordering=("-occurred_at", "-id"),
        cursor=cursor,
        limit=TIMELINE_PAGE,
    )


@login_required
def customer_detail(request: HttpRequest, kind: str, public_id: str) -> HttpResponse:
    model = KINDS[kind]
    customer = _record(request, model, public_id)
    membership = _membership(request)
    interactions, next_cursor = _timeline_page(customer, None)
    activities = list(timeline_selectors.open_activities(customer=customer, user=membership)[:10])
    definitions = CustomField.objects.for_workspace(membership.workspace_id).filter(
        applies_to=customer.object_type
    )
    custom = [
        (definition.label, custom_cell(customer.custom_fields.get(definition.key)))
        for definition in definitions.order_by("position", "id")
        if customer.custom_fields.get(definition.key) not in (None, "", [])
    ]
    context = {
        "kind": kind,
        "customer": customer,
        "facts": _facts(customer, model),
        "panels": [panel for panel in panels() if panel.template],
        "custom": custom,
        "history": _field_history(customer),
        "channel": "",
        "points": selectors.related(customer, "contact_points"),
        "addresses": selectors.related(customer, "addresses"),
        "links": selectors.related(customer, "memberships") if model is Contact else [],
        "interactions": interactions,
        "next_cursor": next_cursor,
        "activities": activities,
        "channels": Channel.choices,
        "directions": Interaction.Direction.choices,
        "can_log": _may(membership, "add", Interaction),
        "can_change": can(membership, "change", customer),
        "can_add_contact": _may(membership, "add", Contact),
        "can_plan": _may(membership, "add", Activity),
        "activity_kinds": Activity.Kind.choices,
        "now": timezone.now(),
    }
    return render(request, "web/customers/detail.html", context)


@login_required
def customer_timeline(request: HttpRequest, kind: str, public_id: str) -> HttpResponse:
    customer = _record(request, KINDS[kind], public_id)
    channel = request.GET.get("channel", "")
    if channel not in Channel.values:
        channel = ""
    try:
        interactions, next_cursor = _timeline_page(customer, request.GET.get("cursor"), channel)
    except GuanxiError as exc:
        raise Http404(str(exc)) from exc
    return render(
        request,
        "web/customers/_timeline.html",
        {"kind": kind, "customer": customer, "interactions": interactions,
         "next_cursor": next_cursor, "channel": channel},
    )  # fmt: skip


@login_required
@require_POST
def log_interaction(request: HttpRequest, kind: str, public_id: str) -> HttpResponse:
    """ "Log a call / add a note" from the record page; answers the refreshed timeline."""
    customer = _record(request, KINDS[kind], public_id)
    membership = _membership(request)
    if not _may(membership, "add", Interaction):
        raise Http404
    errors: list[str] = []
    channel = request.POST.get("channel", "phone")
    direction = request.POST.get("direction", "outbound")
    subject = request.POST.get("subject", "").strip()
    if not subject:
        errors.append(_("Say in a few words what it was about."))
    if not errors:
        try:
            timeline_services.record_interaction(
                workspace=membership.workspace,
                by=request.user,
                channel=channel,
                direction=direction,
                subject=subject,
                body=request.POST.get("body", ""),
                contact=customer if isinstance(customer, Contact) else None,
                account=customer if isinstance(customer, Account) else None,
            )
        except GuanxiError as exc:
            errors.append(str(exc))
    interactions, next_cursor = _timeline_page(customer, None)
    response = render(
        request,
        "web/customers/_timeline.html",
        {"kind": kind, "customer": customer, "interactions": interactions,
         "next_cursor": next_cursor, "errors": errors, "logged": not errors},
    )  # fmt: skip
    if not _is_htmx(request):
        return redirect(request.path.rsplit("log/", 1)[0])
    return response


@login_required
def search_page(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    q = request.GET.get("q", "").strip()
    results = search(user=membership, q=q, limit=20) if q else []
    context = {"q": q, "results": results}
    if _is_htmx(request):
        return render(request, "web/_search_results.html", context)
    return render(request, "web/search.html", context)


# --- create and edit --------------------------------------------------------------------------
CONTACT_EDIT_FIELDS = (
    "family_name", "given_name", "gender", "occupation", "preferred_language", "lifecycle_stage",
)  # fmt: skip
ACCOUNT_EDIT_FIELDS = ("name", "legal_name", "industry", "size", "website", "lifecycle_stage")


def _point_inputs(data: dict[str, Any]) -> list[ContactPointInput]:
    kinds = (("phone", "phone"), ("email", "email"), ("wechat", "wechat"))
    return [
        ContactPointInput(kind=kind, value=data[name]) for name, kind in kinds if data.get(name)
    ]


@login_required
def customer_new(request: HttpRequest, kind: str) -> HttpResponse:
    model = KINDS[kind]
    membership = _membership(request)
    if not _may(membership, "add", model):
        raise PermissionDenied
    account = None
    if model is Contact and request.GET.get("account"):
        account = _record(request, Account, request.GET["account"])
    form_class = NewContactForm if model is Contact else NewAccountForm
    form = form_class(request.POST or None, workspace_id=membership.workspace_id)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        points = _point_inputs(data)
        for name in ("phone", "email", "wechat"):
            data.pop(name, None)
        data["lifecycle_stage"] = data["lifecycle_stage"] or None
        try:
            if model is Contact:
                record = customer_services.create_contact(
                    workspace=membership.workspace, by=request.user, account=account,
                    contact_points=points, **data,
                )  # fmt: skip
            else:
                record = customer_services.create_account(
                    workspace=membership.workspace, by=request.user, contact_points=points,
                    **data,
                )  # fmt: skip
        except ValidationFailed as exc:
            form.add_service_errors(exc.errors)
        except ContactPointClash as exc:
            form.add_service_errors([(exc.field, exc.message)])
        else:
            return redirect("web:customer_detail", kind, record.public_id)
    return render(
        request,
        "web/customers/form.html",
        {"kind": kind, "form": form, "account": account, "creating": True,
         "title": _("New contact") if model is Contact else _("New account")},
    )  # fmt: skip


@login_required
def customer_edit(request: HttpRequest, kind: str, public_id: str) -> HttpResponse:
    """Edit with optimistic locking: a save over someone else's newer one is refused, shows
    who changed what, and keeps the user's input so they can review and save it again."""
    model = KINDS[kind]
    record = _record(request, model, public_id, action="change")
    membership = _membership(request)
    names = CONTACT_EDIT_FIELDS if model is Contact else ACCOUNT_EDIT_FIELDS
    form_class = ContactForm if model is Contact else AccountForm

    def current_values(obj: Any) -> dict[str, Any]:
        values = {name: getattr(obj, name) for name in names if name != "lifecycle_stage"}
        values["lifecycle_stage"] = obj.lifecycle_stage.key if obj.lifecycle_stage_id else ""
        return values

    initial = {**current_values(record), "version": record.version}
    form = form_class(request.POST or None, initial=initial, workspace_id=membership.workspace_id)
    conflict = None
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in names}
        changes["lifecycle_stage"] = changes["lifecycle_stage"] or None
        update = (
            customer_services.update_contact if model is Contact
            else customer_services.update_account
        )  # fmt: skip
        try:
            update(
                **{"contact" if model is Contact else "account": record},
                by=request.user,
                expected_version=form.cleaned_data["version"] or 0,
                **changes,
            )
        except VersionConflict:
            fresh = _record(request, model, public_id)
            theirs = current_values(fresh)
            conflict = {
                "by": fresh.updated_by,
                "at": fresh.updated_at,
                # what is saved now, where it differs from what the user is saving
                "changes": [
                    (form.fields[name].label, theirs[name])
                    for name in names
                    if (theirs[name] or "") != (form.cleaned_data[name] or "")
                ],
            }
            # saving again means "apply mine over theirs", knowingly
            data = request.POST.copy()
            data["version"] = fresh.version
            form = form_class(data, initial=initial, workspace_id=membership.workspace_id)
            form.is_valid()
        except ValidationFailed as exc:
            form.add_service_errors(exc.errors)
        else:
            return redirect("web:customer_detail", kind, public_id)
    return render(
        request,
        "web/customers/form.html",
        {"kind": kind, "form": form, "customer": record, "conflict": conflict,
         "title": _("Edit %(name)s") % {"name": record}},
    )  # fmt: skip


@login_required
def possible_duplicates(request: HttpRequest) -> HttpResponse:
    """While a new customer is typed: who already has this phone or e-mail (certain), and
    for a contact, who might be the same person (similar name with the same company, city
    or identifiers; scored, with the reasons)."""
    membership = _membership(request)
    region = membership.workspace.region or "CN"
    wanted, saved_as = [], []
    for kind in ("phone", "email"):
        value = request.GET.get(kind, "").strip()
        if not value:
            continue
        try:
            normalized, _extra = normalize.normalize_contact_value(
                kind=kind, value=value, region=region
            )
        except normalize.InvalidContactValue:
            continue
        key = normalize.email_match_key(normalized) if kind == "email" else normalized
        wanted.append((kind, key))
        if normalized != value:
            saved_as.append((kind, normalized))
    found, hidden = [], 0
    for kind, key in wanted:
        points = (
            ContactPoint.objects.for_workspace(membership.workspace_id)
            .filter(kind=kind, match_key=key)
            .select_related("contact", "account")[:5]
        )
        for point in points:
            holder = point.contact or point.account
            if holder.deleted_at is None and can(membership, "view", holder):
                found.append((point, holder))
            else:
                hidden += 1
    similar = []
    family, given = request.GET.get("family_name", "").strip(), request.GET.get("given_name", "")
    if family or given.strip():
        candidates, _others = identity.match_contacts(
            user=membership, family_name=family, given_name=given.strip(),
            phone=request.GET.get("phone", ""), email=request.GET.get("email", ""), limit=5,
        )  # fmt: skip
        exact = {holder.pk for _point, holder in found if isinstance(holder, Contact)}
        similar = [c for c in candidates if c.contact.pk not in exact]
    return render(
        request,
        "web/customers/_duplicates.html",
        {"found": found, "hidden": hidden, "similar": similar, "saved_as": saved_as},
    )


# --- inline editing of one field on the record page -------------------------------------------
def _fact_value(customer: Any, name: str) -> str:
    if name == "lifecycle_stage":
        return customer.lifecycle_stage.name if customer.lifecycle_stage_id else ""
    display = getattr(customer, f"get_{name}_display", None)
    if display is not None and getattr(customer, name):
        return display()
    if name == "preferred_language":
        return dict(django_settings.LANGUAGES).get(customer.preferred_language, "")
    return getattr(customer, name) or ""


def _edit_fields(model: type) -> tuple[tuple[str, ...], type]:
    if model is Contact:
        return CONTACT_EDIT_FIELDS, ContactForm
    return ACCOUNT_EDIT_FIELDS, AccountForm


def _facts(customer: Any, model: type) -> list[dict[str, Any]]:
    names, form_class = _edit_fields(model)
    labels = {name: field.label for name, field in form_class.base_fields.items()}
    return [{"name": n, "label": labels[n], "value": _fact_value(customer, n)} for n in names]


def _stored(customer: Any, name: str) -> Any:
    if name == "lifecycle_stage":
        return customer.lifecycle_stage.key if customer.lifecycle_stage_id else ""
    return getattr(customer, name)


@login_required
def customer_field(request: HttpRequest, kind: str, public_id: str, name: str) -> HttpResponse:
    """One field of the record page, edited in place: GET the editor with the value and
    version saved now; POST saves it if nobody saved the record since, else shows who did and
    what is saved, and lets the user apply theirs over it."""
    model = KINDS[kind]
    names, form_class = _edit_fields(model)
    if name not in names:
        raise Http404
    record = _record(request, model, public_id, action="change")
    membership = _membership(request)
    fact = {"name": name, "label": form_class.base_fields[name].label}
    context: dict[str, Any] = {"kind": kind, "customer": record, "fact": fact}
    if request.method == "GET" and request.GET.get("cancel") != "1":
        initial = {name: _stored(record, name), "version": record.version}
        context["form"] = _one_field_form(form_class, name, None, initial, membership)
        return render(request, "web/customers/_fact_form.html", context)
    if request.method == "POST":
        form = _one_field_form(form_class, name, request.POST, {}, membership)
        if not form.is_valid():
            return render(request, "web/customers/_fact_form.html", context | {"form": form})
        value = form.cleaned_data[name]
        if name == "lifecycle_stage":
            value = value or None
        update = (
            customer_services.update_contact if model is Contact
            else customer_services.update_account
        )  # fmt: skip
        try:
            record = update(
                **{"contact" if model is Contact else "account": record},
                by=request.user,
                expected_version=form.cleaned_data["version"] or 0,
                **{name: value},
            )
        except VersionConflict:
            fresh = _record(request, model, public_id)
            data = request.POST.copy()
            data["version"] = fresh.version
            context["conflict"] = {
                "by": fresh.updated_by, "at": fresh.updated_at,
                "value": _fact_value(fresh, name),
            }  # fmt: skip
            form = _one_field_form(form_class, name, data, {}, membership)
            form.is_valid()
            return render(request, "web/customers/_fact_form.html", context | {"form": form})
        except ValidationFailed as exc:
            form.add_service_errors(exc.errors)
            return render(request, "web/customers/_fact_form.html", context | {"form": form})
        record = _record(request, model, public_id)
    fact["value"] = _fact_value(record, name)
    return render(request, "web/customers/_fact.html", context | {"can_change": True})


def _one_field_form(
    form_class: type, name: str, data: Any, initial: dict, membership: Membership
) -> Any:
    form = form_class(data, initial=initial, workspace_id=membership.workspace_id,
                      auto_id="gx-inline-%s")  # fmt: skip
    for other in list(form.fields):
        if other not in (name, "version"):
            del form.fields[other]
    return form


@login_required
def customer_panel(request: HttpRequest, kind: str, public_id: str, key: str) -> HttpResponse:
    """A panel another app registered for the record page, loaded after the page (so the
    page's own queries stay fixed however many apps add panels)."""
    panel = get_panel(key)
    if panel is None or not panel.template:
        raise Http404
    customer = _record(request, KINDS[kind], public_id)
    data = panel.render(customer=customer, user=_membership(request))
    return render(
        request, panel.template, {"panel": panel, "data": data, "customer": customer, "kind": kind}
    )

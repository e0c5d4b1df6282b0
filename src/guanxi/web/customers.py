"""Pages of the customer master: lists, record pages (the 360), the search box.

The web app composes the others: customer records with the timeline and activities of the
``timeline`` app, which the customer master itself never imports.
"""

from __future__ import annotations

import itertools
from datetime import datetime, time
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.customers import normalize, selectors
from guanxi.customers import services as customer_services
from guanxi.customers.errors import ContactPointClash
from guanxi.customers.handover import reassign_customers
from guanxi.customers.models import Account, Contact, ContactPoint, LifecycleStage
from guanxi.customers.search import search
from guanxi.customers.services import ContactPointInput
from guanxi.platform.apiframework import keyset_page
from guanxi.platform.errors import (
    GuanxiError,
    ValidationFailed,
    VersionConflict,
)
from guanxi.platform.models import CustomField, Membership, Team
from guanxi.platform.services import get_or_create_tags
from guanxi.platform.visibility import can
from guanxi.timeline import selectors as timeline_selectors
from guanxi.timeline import services as timeline_services
from guanxi.timeline.models import Activity, Channel, Interaction
from guanxi.web.common import is_htmx as _is_htmx
from guanxi.web.common import may as _may
from guanxi.web.common import membership_of as _membership
from guanxi.web.common import query_date, visible_or_404
from guanxi.web.forms import AccountForm, ContactForm, NewAccountForm, NewContactForm

PAGE_SIZE = 50
TIMELINE_PAGE = 20
KINDS = {"contacts": Contact, "accounts": Account}
SORT_LABELS = {"name": gettext_lazy("Name"), "-updated_at": gettext_lazy("Recently updated")}


def _record(request: HttpRequest, model: type, public_id: str, action: str = "view") -> Any:
    membership = _membership(request)
    details = selectors.contacts if model is Contact else selectors.accounts
    return visible_or_404(
        model, membership, public_id, action=action, queryset=details(user=membership)
    )


COUNT_LIMIT = 10_000


def _filtered(request: HttpRequest, model: type, membership: Membership) -> tuple[Any, dict]:
    """The list's rows the user may see, with the filters of the query string applied."""
    owner = request.user.get_username() if request.GET.get("owner") == "me" else None
    stage = request.GET.get("stage") or None
    team = request.GET.get("team") or None
    tag = request.GET.get("tag", "").strip() or None
    since = query_date(request.GET.get("updated_since"))
    filtered = selectors.filter_customers(
        model.objects.visible_to(membership, "view"),
        owner=owner,
        lifecycle_stage=stage,
        team=team,
        tag=tag,
        updated_after=datetime.combine(since, time.min, tzinfo=timezone.get_current_timezone())
        if since
        else None,
    )
    filters = {
        "owner": request.GET.get("owner", ""),
        "stage": stage or "",
        "team": team or "",
        "tag": tag or "",
        "updated_since": since.isoformat() if since else "",
    }
    return filtered, filters


@login_required
def customer_count(request: HttpRequest, kind: str) -> HttpResponse:
    """The list's count, fetched after the page so the page never waits for it."""
    membership = _membership(request)
    filtered, _filters = _filtered(request, KINDS[kind], membership)
    return render(
        request,
        "web/customers/_count.html",
        {"count": _bounded_count(filtered), "count_limit": COUNT_LIMIT},
    )


def _bounded_count(queryset: Any) -> int:
    """Exact up to COUNT_LIMIT, else COUNT_LIMIT + 1 ("10,000+"): counting a million rows
    on every page costs more than the page."""
    return queryset.order_by().values("pk")[: COUNT_LIMIT + 1].count()


@login_required
def customer_list(request: HttpRequest, kind: str) -> HttpResponse:
    model = KINDS[kind]
    membership = _membership(request)
    sort = request.GET.get("sort", "name")
    if sort not in SORT_LABELS:
        sort = "name"
    filtered, filters = _filtered(request, model, membership)
    queryset = filtered.select_related("owner", "lifecycle_stage")
    if model is Contact:
        queryset = selectors.with_contact_details(queryset)
    else:
        queryset = selectors.with_account_details(queryset)
    try:
        rows, next_cursor = keyset_page(
            queryset,
            ordering=selectors.ordering_for(sort),
            cursor=request.GET.get("cursor"),
            limit=PAGE_SIZE,
        )
    except GuanxiError:
        return redirect(request.path)  # a stale or tampered cursor: start again
    for row in rows:
        phones = [p.value for p in selectors.related(row, "contact_points") if p.kind == "phone"]
        row.phone = phones[0] if phones else ""
        if model is Contact:
            companies = [link.account.name for link in selectors.related(row, "memberships")]
            row.company = companies[0] if companies else ""
    context = {
        "kind": kind,
        "rows": rows,
        "next_cursor": next_cursor,
        "sort": sort,
        "sorts": SORT_LABELS,
        **filters,
        "query": request.GET.urlencode(),
        "stages": LifecycleStage.objects.for_workspace(membership.workspace_id),
        "teams": Team.objects.for_workspace(membership.workspace_id).order_by("name"),
        "members": Membership.objects.for_workspace(membership.workspace_id)
        .filter(is_active=True)
        .select_related("user")
        .order_by("user__username"),
        "can_add": _may(membership, "add", model),
        "title": model._meta.verbose_name_plural,
    }
    template = "web/customers/_rows.html" if _is_htmx(request) else "web/customers/list.html"
    return render(request, template, context)


HISTORY_ROWS = 10
HISTORY_HIDDEN = {"version", "updated_at", "updated_by", "search_document", "sort_key"}


def _custom_value(value: Any) -> str:
    if isinstance(value, dict) and "amount" in value:
        return f"{value['amount']} {value.get('currency', '')}".strip()
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    return str(value)


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
        (definition.label, _custom_value(customer.custom_fields.get(definition.key)))
        for definition in definitions.order_by("position", "id")
        if customer.custom_fields.get(definition.key) not in (None, "", [])
    ]
    context = {
        "kind": kind,
        "customer": customer,
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
            form.add_service_errors([(exc.field, str(exc))])
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
    """While a new customer is typed: who already has this phone or e-mail. (Identity
    resolution will add fuzzy matches; exact contact points are certain ones.)"""
    membership = _membership(request)
    region = membership.workspace.region or "CN"
    wanted = []
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
    return render(request, "web/customers/_duplicates.html", {"found": found, "hidden": hidden})


BULK_LIMIT = 200


@login_required
@require_POST
def bulk_action(request: HttpRequest, kind: str) -> HttpResponse:
    """Change the stage, add a tag or assign an owner on the ticked rows of a list. Each row
    is checked against the user's rights; the ones not allowed are counted, not changed."""
    model = KINDS[kind]
    membership = _membership(request)
    ids = request.POST.getlist("ids")[:BULK_LIMIT]
    action = request.POST.get("action", "")
    records = list(model.objects.visible_to(membership, "view").filter(public_id__in=ids))
    allowed = [
        r for r in records if can(membership, "assign" if action == "owner" else "change", r)
    ]
    skipped = len(ids) - len(allowed)
    try:
        if action == "stage":
            stage = request.POST.get("stage") or None
            update = (
                customer_services.update_contact if model is Contact
                else customer_services.update_account
            )  # fmt: skip
            for record in allowed:
                update(
                    **{"contact" if model is Contact else "account": record},
                    by=request.user,
                    expected_version=record.version,
                    lifecycle_stage=stage,
                )
        elif action == "tag":
            name = request.POST.get("tag", "").strip()
            tags = get_or_create_tags(workspace=membership.workspace, names=[name], by=request.user)
            for record in allowed:
                record.tags.add(*tags)
        elif action == "owner":
            target = (
                Membership.objects.for_workspace(membership.workspace_id)
                .select_related("user")
                .filter(public_id=request.POST.get("owner", ""), is_active=True)
                .first()
            )
            if target is None:
                raise ValidationFailed([("owner", _("Choose the new owner."))])
            reassign_customers(customers=allowed, to_user=target.user, by=request.user)
        else:
            raise ValidationFailed([("action", _("Choose what to do."))])
    except (ValidationFailed, VersionConflict) as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("%(count)s changed.") % {"count": len(allowed)})
        if skipped:
            messages.warning(
                request,
                _("%(count)s not changed: you may not change them.") % {"count": skipped},
            )
    return redirect("web:customer_list", kind)

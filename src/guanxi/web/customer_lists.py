"""The account and contact lists: filters, sort, columns, saved views, counts, bulk actions.

Everything a list shows is in its query string (filters, ``sort``, ``cols``), so a list can
be bookmarked, shared as a link or saved as a view. Rows come a page at a time by keyset,
which keeps the last page of a million rows as fast as the first.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import (
    HttpRequest,
    HttpResponse,
    QueryDict,
)
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.customers import export_jobs, exports, selectors
from guanxi.customers import services as customer_services
from guanxi.customers.columns import (
    CUSTOM_PREFIX,
    DEFAULT_COLUMNS,
    NEEDS,
    Column,
    available_columns,
)
from guanxi.customers.handover import reassign_customers
from guanxi.customers.models import Account, Contact, LifecycleStage
from guanxi.platform import services as platform
from guanxi.platform.apiframework import keyset_page
from guanxi.platform.errors import GuanxiError, ValidationFailed, VersionConflict
from guanxi.platform.models import CustomField, Membership, SavedView, Team
from guanxi.platform.services import get_or_create_tags
from guanxi.platform.visibility import can
from guanxi.web.common import is_htmx, may, membership_of, query_date, visible_or_404

PAGE_SIZE = 50
COUNT_LIMIT = 10_000
BULK_LIMIT = 200
KINDS = {"contacts": Contact, "accounts": Account}
SORT_LABELS = {"name": gettext_lazy("Name"), "-updated_at": gettext_lazy("Recently updated")}
# query-string keys of the filters (besides cf.<key>), and the date ones among them
FILTER_KEYS = (
    "owner", "team", "stage", "tier", "tag", "created_since", "created_until", "updated_since",
    "updated_until",
)  # fmt: skip
DATE_KEYS = ("created_since", "created_until", "updated_since", "updated_until")


def _chosen_columns(
    request: HttpRequest, membership: Membership, kind: str, available: dict[str, Column]
) -> list[str]:
    """The columns in the query string, else the member's last choice, else the defaults."""
    if "col" in request.GET:  # the column chooser's ticks
        wanted = request.GET.getlist("col")
    elif "cols" in request.GET:  # a link or saved view
        wanted = [c for c in request.GET.get("cols", "").split(",") if c]
    else:
        wanted = (membership.preferences or {}).get("columns", {}).get(kind) or []
    chosen = [c for c in wanted if c in available]
    return chosen or DEFAULT_COLUMNS[kind]


def _bounds(day: date | None, *, end: bool) -> datetime | None:
    if day is None:
        return None
    zone = timezone.get_current_timezone()
    return datetime.combine(day + timedelta(days=1) if end else day, time.min, tzinfo=zone)


def _filter_args(
    request: HttpRequest, definitions: list[CustomField]
) -> tuple[dict[str, Any], dict]:  # fmt: skip
    """The query string's filters as ``selectors.filter_customers`` takes them, and as the
    page shows them."""
    get = request.GET
    filters: dict[str, Any] = {key: get.get(key, "").strip() for key in FILTER_KEYS}
    days = {key: query_date(filters[key]) for key in DATE_KEYS}
    for key, day in days.items():
        filters[key] = day.isoformat() if day else ""
    owner = filters["owner"]
    custom = {
        d.key: get[CUSTOM_PREFIX + d.key].strip()
        for d in definitions
        if get.get(CUSTOM_PREFIX + d.key, "").strip()
    }
    args = {
        "owner": request.user.get_username() if owner == "me" else owner or None,
        "lifecycle_stage": filters["stage"] or None,
        "value_tier": filters["tier"] or None,
        "team": filters["team"] or None,
        "tag": filters["tag"] or None,
        "created_after": _bounds(days["created_since"], end=False),
        "created_before": _bounds(days["created_until"], end=True),
        "updated_after": _bounds(days["updated_since"], end=False),
        "updated_before": _bounds(days["updated_until"], end=True),
        "custom": custom,
    }
    filters["custom"] = custom
    return args, filters


def _filtered(
    request: HttpRequest, model: type, membership: Membership, definitions: list[CustomField],
    action: str = "view",
) -> tuple[QuerySet, dict]:  # fmt: skip
    """The list's rows the user may see (or export), with the query string's filters."""
    args, filters = _filter_args(request, definitions)
    queryset = selectors.filter_customers(model.objects.visible_to(membership, action), **args)
    return queryset, filters


def _definitions(membership: Membership, model: type) -> list[CustomField]:
    return list(
        CustomField.objects.for_workspace(membership.workspace_id)
        .filter(applies_to=model.object_type)
        .order_by("position", "id")
    )


@login_required
def customer_count(request: HttpRequest, kind: str) -> HttpResponse:
    """The list's count, fetched after the page so the page never waits for it. Exact up
    to 10,000, else "10,000+" unless the user asks for the exact figure."""
    model = KINDS[kind]
    membership = membership_of(request)
    filtered, _filters = _filtered(request, model, membership, _definitions(membership, model))
    exact = request.GET.get("exact") == "1"
    count = filtered.order_by().count() if exact else _bounded_count(filtered)
    query = request.GET.copy()
    query["exact"] = "1"
    return render(
        request,
        "web/customers/_count.html",
        {
            "count": count,
            "count_limit": COUNT_LIMIT,
            "exact": exact,
            "kind": kind,
            "exact_query": query.urlencode(),
        },
    )


def _bounded_count(queryset: QuerySet) -> int:
    """Exact up to COUNT_LIMIT, else COUNT_LIMIT + 1 ("10,000+"): counting a million rows
    on every page costs more than the page."""
    return queryset.order_by().values("pk")[: COUNT_LIMIT + 1].count()


def _views(membership: Membership, kind: str) -> QuerySet[SavedView]:
    """The member's own views of this list and the ones others shared."""
    return (
        SavedView.objects.for_workspace(membership.workspace_id)
        .filter(list_key=kind)
        .filter(Q(owner_id=membership.user_id) | Q(is_shared=True))
        .select_related("owner")
        .order_by("name", "id")
    )


def _page_query(request: HttpRequest, columns: list[str]) -> QueryDict:
    """The list's query string without the cursor, with the columns spelled out."""
    query = request.GET.copy()
    for key in ("cursor", "view", "col"):
        query.pop(key, None)
    query["cols"] = ",".join(columns)
    return query


@login_required
def customer_list(request: HttpRequest, kind: str) -> HttpResponse:
    model = KINDS[kind]
    membership = membership_of(request)
    sort = request.GET.get("sort", "name")
    if sort not in SORT_LABELS:
        sort = "name"
    definitions = _definitions(membership, model)
    available = available_columns(kind, definitions)
    columns = _chosen_columns(request, membership, kind, available)
    remembered = (membership.preferences or {}).get("columns", {}).get(kind)
    if ("col" in request.GET or "cols" in request.GET) and columns != remembered:
        platform.set_preference(membership=membership, key="columns", name=kind, value=columns)
    filtered, filters = _filtered(request, model, membership, definitions)
    parts = {NEEDS[c] for c in columns if c in NEEDS}
    try:
        rows, next_cursor = keyset_page(
            selectors.with_details(filtered, parts=parts),
            ordering=selectors.ordering_for(sort),
            cursor=request.GET.get("cursor"),
            limit=PAGE_SIZE,
        )
    except GuanxiError:
        return redirect(request.path)  # a stale or tampered cursor: start again
    for row in rows:
        row.cells = [(available[c][0], available[c][1](row)) for c in columns]
    query = _page_query(request, columns)
    context = {
        "kind": kind,
        "rows": rows,
        "next_cursor": next_cursor,
        "columns": [(c, available[c][0]) for c in columns],
        "query": query.urlencode(),
    }
    if is_htmx(request):
        return render(request, "web/customers/_rows.html", context)
    views = list(_views(membership, kind))
    context |= {
        "filters": filters,
        "views": views,
        "current_view": next((v for v in views if v.public_id == request.GET.get("view")), None),
        "can_add": may(membership, "add", model),
        "can_export": may(membership, "export", model),
        "title": model._meta.verbose_name_plural,
    }
    return render(request, "web/customers/list.html", context)


@login_required
def customer_filters(request: HttpRequest, kind: str) -> HttpResponse:
    """The filter, column and save-view forms of a list, loaded when the user opens them
    (their choices — members, teams, stages — cost queries the list itself need not make)."""
    model = KINDS[kind]
    membership = membership_of(request)
    definitions = _definitions(membership, model)
    available = available_columns(kind, definitions)
    columns = _chosen_columns(request, membership, kind, available)
    _queryset, filters = _filtered(request, model, membership, definitions)
    sort = request.GET.get("sort", "name")
    current = _views(membership, kind).filter(public_id=request.GET.get("view", "")).first()
    context = {
        "kind": kind,
        "filters": filters,
        "sort": sort if sort in SORT_LABELS else "name",
        "sorts": SORT_LABELS,
        "custom_filters": [
            (d, filters["custom"].get(d.key, ""))
            for d in definitions
            if d.field_type in ("choice", "multi_choice", "boolean", "text")
        ],
        "available": [(c, label, c in columns) for c, (label, _v) in available.items()],
        "current_view": current,
        "query": _page_query(request, columns).urlencode(),
        "stages": LifecycleStage.objects.for_workspace(membership.workspace_id),
        "teams": Team.objects.for_workspace(membership.workspace_id).order_by("name"),
        "members": Membership.objects.for_workspace(membership.workspace_id)
        .filter(is_active=True)
        .select_related("user")
        .order_by("user__username"),
        "can_save_view": may(membership, "add", SavedView),
    }
    return render(request, "web/customers/_filters.html", context)


# --- export -----------------------------------------------------------------------------------
@login_required
def customer_export(request: HttpRequest, kind: str) -> HttpResponse:
    """The list as it is filtered, with its columns, as CSV, XLSX or vCard: streamed, or —
    asked for (``background=1``) or longer than ``EXPORT_BACKGROUND_ROWS`` — written in the
    background and downloaded from the exports page."""
    model = KINDS[kind]
    membership = membership_of(request)
    if not may(membership, "export", model):
        raise PermissionDenied
    definitions = _definitions(membership, model)
    queryset, _filters = _filtered(request, model, membership, definitions, action="export")
    limit = export_jobs.background_rows()
    if request.GET.get("background") == "1" or (
        queryset.order_by().values("pk")[: limit + 1].count() > limit
    ):
        return _export_in_background(request, kind, membership, definitions)
    return _export(request, kind, membership, queryset, definitions, request.GET.get("format"))


def _export_in_background(
    request: HttpRequest, kind: str, membership: Membership, definitions: list[CustomField]
) -> HttpResponse:
    args, _filters = _filter_args(request, definitions)
    available = available_columns(kind, definitions)
    query = request.GET.copy()
    query.pop("background", None)
    try:
        export_jobs.start_export(
            membership=membership, kind=kind, fmt=request.GET.get("format") or "csv",
            filters=args, custom=args["custom"],
            columns=_chosen_columns(request, membership, kind, available),
            query=query.urlencode(),
        )  # fmt: skip
    except GuanxiError as exc:
        messages.error(request, str(exc))
        return redirect("web:customer_list", kind)
    messages.success(
        request,
        _("The list is being exported in the background; you will be notified when the file "
          "is ready to download here."),
    )  # fmt: skip
    return redirect("web:export_list")


def _export(
    request: HttpRequest, kind: str, membership: Membership, queryset: QuerySet,
    definitions: list[CustomField], fmt: str | None,
) -> HttpResponse:  # fmt: skip
    model = KINDS[kind]
    fmt = fmt or "csv"
    available = available_columns(kind, definitions)
    try:
        return exports.response(
            membership=membership, model=model, kind=kind, queryset=queryset, fmt=fmt,
            available=available, keys=_chosen_columns(request, membership, kind, available),
            query=request.GET.urlencode() if request.method == "GET" else "",
        )  # fmt: skip
    except ValidationFailed as exc:
        messages.error(request, "; ".join(message for _path, message in exc.errors))
        return redirect("web:customer_list", kind)


# --- saved views ------------------------------------------------------------------------------
@login_required
@require_POST
def save_view(request: HttpRequest, kind: str) -> HttpResponse:
    membership = membership_of(request)
    if not may(membership, "add", SavedView):
        raise PermissionDenied
    query = QueryDict(request.POST.get("query", ""), mutable=True)
    for key in ("cursor", "view", "exact"):
        query.pop(key, None)
    try:
        view = platform.save_view(
            membership=membership,
            list_key=kind,
            name=request.POST.get("name", ""),
            query=query.urlencode(),
            is_shared=request.POST.get("is_shared") == "on",
        )
    except ValidationFailed as exc:
        messages.error(request, "; ".join(message for _path, message in exc.errors))
        return redirect(f"{request.path.rsplit('views/', 1)[0]}?{query.urlencode()}")
    messages.success(request, _("View “%(name)s” saved.") % {"name": view.name})
    return redirect(_view_url(kind, view))


def _view_url(kind: str, view: SavedView) -> str:
    separator = "&" if view.query else ""
    return (
        f"{reverse('web:customer_list', args=[kind])}?{view.query}{separator}view={view.public_id}"
    )


@login_required
@require_POST
def delete_view(request: HttpRequest, kind: str, public_id: str) -> HttpResponse:
    view = visible_or_404(SavedView, membership_of(request), public_id, action="delete")
    platform.delete_view(view=view, by=request.user)
    messages.success(request, _("View “%(name)s” deleted.") % {"name": view.name})
    return redirect("web:customer_list", kind)


# --- bulk actions -----------------------------------------------------------------------------
@login_required
@require_POST
def bulk_action(request: HttpRequest, kind: str) -> HttpResponse:
    """Change the stage, add a tag or assign an owner on the ticked rows of a list. Each row
    is checked against the user's rights; the ones not allowed are counted, not changed."""
    model = KINDS[kind]
    membership = membership_of(request)
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
        elif action == "export":
            exportable = exports.exportable(model, membership).filter(
                pk__in=[r.pk for r in records]
            )
            return _export(request, kind, membership, exportable,
                           _definitions(membership, model), request.POST.get("format"))  # fmt: skip
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
    back = request.POST.get("back", "")
    url = reverse("web:customer_list", args=[kind])
    return redirect(f"{url}?{back}" if back else url)

"""Pages of opportunities: the board (a pipeline's stages as columns, cards moved between
them), the list (sort, filter, keyset pages, CSV), the record page (stage path, history,
contact roles) and the forms to create and edit a deal.

Every write goes through ``guanxi.sales.services`` (versions checked, moves recorded,
reopening won deals guarded); every read through the sales selectors, visibility first.
"""

from __future__ import annotations

from decimal import Decimal
from html import escape
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, QueryDict, StreamingHttpResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.customers.exports import csv_chunks
from guanxi.customers.models import Account, AccountContact, Contact
from guanxi.platform.apiframework import keyset_page
from guanxi.platform.audit import record_audit
from guanxi.platform.errors import Forbidden, GuanxiError, ValidationFailed, VersionConflict
from guanxi.platform.models import Membership
from guanxi.platform.names import user_label
from guanxi.platform.permissions import Scope
from guanxi.platform.queryplans import planned_for_values
from guanxi.platform.visibility import can
from guanxi.sales import board, contact_roles, selectors, services
from guanxi.sales.models import Opportunity, OpportunityContactRole, Pipeline, Stage
from guanxi.sales.permissions import REOPEN
from guanxi.timeline import selectors as timeline_selectors
from guanxi.web.common import (
    is_htmx,
    may,
    membership_of,
    query_date,
    short_date,
    visible_or_404,
)
from guanxi.web.forms import ServiceErrorsMixin
from guanxi.web.templatetags.opportunities import money

LIST_PAGE = 50
EXPORT_LIMIT = 50_000
STATUSES = {
    "open": gettext_lazy("Open"),
    "won": gettext_lazy("Won"),
    "lost": gettext_lazy("Lost"),
}
PERIOD_LABELS = {
    "": gettext_lazy("Any time"),
    "overdue": gettext_lazy("Overdue"),
    "this_month": gettext_lazy("This month"),
    "next_month": gettext_lazy("Next month"),
    "this_quarter": gettext_lazy("This quarter"),
    "next_quarter": gettext_lazy("Next quarter"),
    "this_year": gettext_lazy("This year"),
}
OWNER_LABELS = {
    "": gettext_lazy("Everyone I can see"),
    "me": gettext_lazy("Mine"),
    "team": gettext_lazy("My team"),
    "reports": gettext_lazy("My reports"),
}
SORT_LABELS = {
    "name": gettext_lazy("Name"),
    "account": gettext_lazy("Account"),
    "stage": gettext_lazy("Stage"),
    "amount": gettext_lazy("Amount"),
    "probability": gettext_lazy("Probability"),
    "close": gettext_lazy("Close date"),
    "owner": gettext_lazy("Owner"),
    "updated": gettext_lazy("Updated"),
}
OWNER_MENU = 200  # people offered in the owner filter


# --- helpers ----------------------------------------------------------------------------------
def _pipelines(membership: Membership) -> list[Pipeline]:
    """Visible pipelines with their stages (two queries)."""
    return list(selectors.pipelines(user=membership))


def _chosen_pipeline(pipelines: list[Pipeline], key: str) -> Pipeline:
    if not pipelines:
        raise Http404(_("This workspace has no pipeline."))
    for pipeline in pipelines:
        if pipeline.key == key:
            return pipeline
    return next((p for p in pipelines if p.is_default), pipelines[0])


def _owner_menu(membership: Membership, selected: str) -> str:
    """The people a member may pick in the owner filter, as the filter's ``<option>``s:
    everyone they may see deals of, within reason (their reports, their team;
    administrators the first 200). Rendered here: 200 options through the template
    language were a fifth of the board's time."""
    members = (
        Membership.objects.for_workspace(membership.workspace_id)
        .filter(is_active=True)
        .order_by("user__username")
    )
    scope = membership.scope_for(Opportunity.object_type, "view")
    if scope == Scope.SUBTREE:
        members = members.filter(path__startswith=membership.path)
    elif scope in (Scope.TEAM, Scope.OWN):
        if membership.team_id is None or scope == Scope.OWN:
            members = members.filter(pk=membership.pk)
        else:
            members = members.filter(team_id=membership.team_id)
    people = members.values_list("user__username", "user__first_name", "user__last_name")
    return mark_safe("".join(  # every value escaped
        f'<option value="{escape(username)}"{" selected" if username == selected else ""}>'
        f"{escape(user_label(first, last, username))}</option>"
        for username, first, last in people[:OWNER_MENU]
    ))  # fmt: skip


def _filters(request: HttpRequest, membership: Membership) -> tuple[board.Filters, dict]:
    """The query string's filters, checked, as the selectors take them and as the page shows
    them."""
    get = request.GET
    owner = get.get("owner", "").strip()
    owner_user_id = None
    if owner and owner not in board.OWNER_CHOICES:
        found = (
            Membership.objects.for_workspace(membership.workspace_id)
            .filter(user__username=owner)
            .values_list("user_id", flat=True)
            .first()
        )
        owner_user_id = found
    close = get.get("close", "")
    if close not in board.CLOSE_PERIODS:
        close = ""
    after, before = query_date(get.get("close_after")), query_date(get.get("close_before"))
    filters = board.Filters(
        owner=owner, owner_user_id=owner_user_id, close=close, close_after=after,
        close_before=before, q=get.get("q", "").strip()[:100],
    )  # fmt: skip
    shown = {
        "owner": owner, "close": close, "q": filters.q,
        "close_after": after.isoformat() if after else "",
        "close_before": before.isoformat() if before else "",
    }  # fmt: skip
    return filters, shown


def _query(request: HttpRequest, *drop: str) -> str:
    query = request.GET.copy()
    for key in ("cursor", *drop):
        query.pop(key, None)
    return query.urlencode()


CARD_HTML = (
    '<li class="gx-card" draggable="true" data-id="{id}">\n'
    '  <a href="{url}" class="gx-card-name">{name}</a>\n'
    '  <span class="gx-muted">{account}</span>\n'
    '  <span class="gx-card-amount">{amount}</span>\n'
    '  <span class="gx-muted">{meta}</span>\n'
    '  <form class="gx-move" method="post" action="{url}move/" hx-post="{url}move/" '
    'hx-target="#gx-board" hx-swap="outerHTML">{csrf}<input type="hidden" name="version" '
    'value="{version}"><input type="hidden" name="back" value="{back}">\n'
    '    <label for="gx-move-{id}" class="gx-sr">{label}</label>\n'
    '    <select id="gx-move-{id}" name="stage">{options}</select>\n'
    '    <button type="submit">{move}</button>\n'
    "  </form>\n</li>"
)


def _cards_html(request: HttpRequest, cards: list[board.Card], stages: list[Stage],
                stage: Stage, back: str) -> str:  # fmt: skip
    """The cards of a column as HTML. A board shows up to a hundred cards, each with its
    "Move to…" form (the keyboard's and screen reader's way to move it); one format string
    a card, every value escaped, instead of the template language keeps that to a few
    milliseconds."""
    pattern = reverse("web:opportunity_detail", args=["opp_" + "0" * 26])
    options = format_html_join(
        "", '<option value="{}"{}>{}</option>',
        ((s.public_id, mark_safe(" selected") if s.pk == stage.pk else "", s.display_name)
         for s in stages),
    )  # fmt: skip
    constant = {"csrf": _csrf_input(request), "options": options, "move": escape(_("Move")),
                "back": escape(back)}  # fmt: skip
    label = _("Move %(name)s to")
    html = []
    for card in cards:
        close = short_date(card.expected_close_date) if card.expected_close_date else ""
        html.append(CARD_HTML.format(
            id=escape(card.public_id), name=escape(card.name), account=escape(card.account_name),
            url=escape(pattern.replace("opp_" + "0" * 26, card.public_id)),
            amount=escape(f"{money(card.amount)} {card.currency}"),
            meta=escape(f"{close} · {card.owner_name}" if close else card.owner_name),
            version=card.version, label=escape(label % {"name": card.name}), **constant,
        ))  # fmt: skip
    return mark_safe("".join(html))


def _csrf_input(request: HttpRequest) -> str:
    return format_html(
        '<input type="hidden" name="csrfmiddlewaretoken" value="{}">', get_token(request)
    )


# --- the board --------------------------------------------------------------------------------
def _board_context(request: HttpRequest, membership: Membership, query: QueryDict) -> dict:
    pipelines = _pipelines(membership)
    pipeline = _chosen_pipeline(pipelines, query.get("pipeline", ""))
    request_get, request.GET = request.GET, query
    try:
        filters, shown = _filters(request, membership)
    finally:
        request.GET = request_get
    stages = list(pipeline.stages.all())
    visible = board.with_scope_ids(selectors.opportunities(user=membership), membership)
    rows = board.apply_filters(visible, membership, filters, timezone.localdate())
    currency = membership.workspace.currency
    totals = board.kept_totals(membership, filters, [stage.pk for stage in stages])
    with planned_for_values():  # how many deals an owner or a close range holds varies
        columns = board.board_columns(
            queryset=rows, stages=stages, currency=currency, totals=totals
        )
    query = query.copy()
    query["pipeline"] = pipeline.key
    query.pop("cursor", None)
    open_columns = [c for c in columns if not c.stage.is_closed]
    for column in open_columns:
        column.html = _cards_html(request, column.cards, stages, column.stage, query.urlencode())
    closed_columns = [c for c in columns if c.stage.is_closed]
    return {
        "pipelines": pipelines,
        "pipeline": pipeline,
        "stages": stages,
        "open_columns": open_columns,
        "closed_columns": closed_columns,
        "currency": currency,
        "filters": shown,
        "query": query.urlencode(),
        "periods": PERIOD_LABELS,
        "owner_labels": OWNER_LABELS,
        "can_add": may(membership, "add", Opportunity),
        "can_reopen": membership.scope_for(Opportunity.object_type, REOPEN) != Scope.NONE,
        "user_id": membership.user_id,
        "csrf_input": _csrf_input(request),
    }


@login_required
def opportunity_board(request: HttpRequest) -> HttpResponse:
    """Columns are the pipeline's open stages (won and lost collapsed to their counts and
    totals); each shows its first cards, biggest first, and "Show more"."""
    membership = membership_of(request)
    context = _board_context(request, membership, request.GET)
    if is_htmx(request) and request.GET.get("partial") == "board":
        return render(request, "web/opportunities/_board.html", context)
    context["owner_options"] = _owner_menu(membership, context["filters"]["owner"])
    return render(request, "web/opportunities/board.html", context)


@login_required
def board_column(request: HttpRequest, stage_id: str) -> HttpResponse:
    """The next cards of one column (htmx "Show more")."""
    membership = membership_of(request)
    stage = (
        Stage.objects.for_workspace(membership.workspace_id)
        .select_related("pipeline")
        .filter(public_id=stage_id)
        .first()
    )
    if stage is None or stage.is_closed:
        raise Http404
    filters, _shown = _filters(request, membership)
    visible = board.with_scope_ids(selectors.opportunities(user=membership), membership)
    rows = board.apply_filters(visible, membership, filters, timezone.localdate())
    try:
        cards, next_cursor = board.more_cards(rows, stage=stage, cursor=request.GET["cursor"])
    except (KeyError, GuanxiError) as exc:
        raise Http404 from exc
    stages = list(
        Stage.objects.for_workspace(membership.workspace_id)
        .filter(pipeline_id=stage.pipeline_id)
        .order_by("position", "id")
    )
    query = _query(request)
    return render(
        request,
        "web/opportunities/_cards.html",
        {"cards_html": _cards_html(request, cards, stages, stage, query),
         "next_cursor": next_cursor, "column": {"stage": stage}, "query": query},
    )  # fmt: skip


def _stage_of(opportunity: Opportunity, key: str) -> Stage | None:
    return (
        Stage.objects.for_workspace(opportunity.workspace_id)
        .filter(pipeline_id=opportunity.pipeline_id, public_id=key)
        .first()
    )


@login_required
@require_POST
def opportunity_move(request: HttpRequest, public_id: str) -> HttpResponse:
    """Move a card (drag and drop, or the "Move to…" menu, or the stage path of the record
    page). A move made stale by someone else's save answers 409 and reloads; a move to lost
    asks for the reason, a won deal taken back asks for the reason and needs the reopen
    right (a small dialog, answered 422 until the reason is given)."""
    membership = membership_of(request)
    opportunity = visible_or_404(
        Opportunity, membership, public_id, action="change",
        queryset=selectors.opportunities(user=membership),
    )  # fmt: skip
    stage = _stage_of(opportunity, request.POST.get("stage", ""))
    if stage is None:
        raise Http404(_("No such stage."))
    back = QueryDict(request.POST.get("back", ""))
    on_record = request.POST.get("from") == "record"
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = 0
    reason = request.POST.get("reason", "")
    loss_reason = request.POST.get("loss_reason")
    message, status, dialog = "", 200, None
    try:
        services.move_stage(
            opportunity=opportunity, stage=stage, by=request.user, expected_version=version,
            reason=reason, loss_reason=loss_reason,
        )  # fmt: skip
    except VersionConflict:
        message, status = (
            _("This opportunity was changed by someone else. The board is reloaded: check it "
              "and move it again."),
            409,
        )  # fmt: skip
    except Forbidden:
        message, status = (
            _("Only someone with the right to reopen won deals may move this one."),
            403,
        )
    except ValidationFailed as exc:
        fields = {name for name, _message in exc.errors}
        if fields & {"loss_reason", "reason"}:
            dialog = {
                "opportunity": opportunity, "stage": stage, "version": version,
                "needs_loss_reason": "loss_reason" in fields, "needs_reason": "reason" in fields,
                "errors": exc.errors if (reason or loss_reason) else [],
                "back": request.POST.get("back", ""), "from": request.POST.get("from", ""),
            }  # fmt: skip
            status = 422
        else:
            message, status = str(exc), 422
    if dialog is not None:
        template = "web/opportunities/_move_dialog.html"
        if not is_htmx(request):
            template = "web/opportunities/move.html"
        response = render(request, template, {"dialog": dialog}, status=status)
        if is_htmx(request):
            response["HX-Retarget"] = "#gx-dialog"
            response["HX-Reswap"] = "innerHTML"
        return response
    if on_record:
        url = reverse("web:opportunity_detail", args=[opportunity.public_id])
        if message:
            messages.error(request, message)
        if is_htmx(request):
            response = HttpResponse(status=204 if not message else 200)
            response["HX-Redirect"] = url
            return response
        return redirect(url)
    if not is_htmx(request):
        if message:
            messages.error(request, message)
        return redirect(f"{reverse('web:opportunity_board')}?{back.urlencode()}")
    context = _board_context(request, membership, back)
    context["message"] = message
    response = render(request, "web/opportunities/_board.html", context, status=status)
    response["HX-Retarget"] = "#gx-board"
    response["HX-Reswap"] = "outerHTML"
    return response


# --- the list ---------------------------------------------------------------------------------
ROW_HTML = (
    "<tr>\n"
    '  <td data-label="{l_name}"><a href="{url}">{name}</a></td>\n'
    '  <td data-label="{l_account}">{account}</td>\n'
    '  <td data-label="{l_stage}">{stage}</td>\n'
    '  <td data-label="{l_amount}">{amount}</td>\n'
    '  <td data-label="{l_probability}">{probability}%</td>\n'
    '  <td data-label="{l_close}">{close}</td>\n'
    '  <td data-label="{l_owner}">{owner}</td>\n'
    '  <td data-label="{l_updated}"><time datetime="{updated_iso}">{updated}</time></td>\n'
    "</tr>"
)


def _rows_html(rows: list[Opportunity]) -> str:
    """The list's rows as HTML: one format string a row, every value escaped (50 rows of
    eight cells through the template language were a third of the page's time)."""
    labels = {
        "l_name": _("Name"), "l_account": _("Account"), "l_stage": _("Stage"),
        "l_amount": _("Amount"), "l_probability": _("Probability"), "l_close": _("Close date"),
        "l_owner": _("Owner"), "l_updated": _("Updated"),
    }  # fmt: skip
    labels = {key: escape(str(label)) for key, label in labels.items()}
    pattern = reverse("web:opportunity_detail", args=["opp_" + "0" * 26])
    html = []
    for row in rows:
        updated = timezone.localtime(row.updated_at)
        close = row.expected_close_date
        owner = row.owner
        html.append(ROW_HTML.format(
            url=escape(pattern.replace("opp_" + "0" * 26, row.public_id)),
            name=escape(row.name), account=escape(row.account.name),
            stage=escape(str(row.stage.display_name)),
            amount=escape(f"{money(row.amount)} {row.currency}"), probability=row.probability,
            close=escape(short_date(close)) if close else "—",
            owner=escape(user_label(owner.first_name, owner.last_name, owner.username))
            if owner else "—",
            updated_iso=updated.isoformat(), updated=escape(short_date(updated)), **labels,
        ))  # fmt: skip
    return mark_safe("".join(html))  # every value escaped


def _list_rows(request: HttpRequest, membership: Membership, action: str = "view") -> tuple:
    pipelines = _pipelines(membership)
    filters, shown = _filters(request, membership)
    pipeline = next((p for p in pipelines if p.key == request.GET.get("pipeline")), None)
    stages = [s for p in pipelines for s in p.stages.all()]
    if pipeline is not None:
        stages = list(pipeline.stages.all())
        filters.pipeline_id = pipeline.pk
    stage_key = request.GET.get("stage", "")
    status = request.GET.get("status", "")
    chosen = stages
    if stage_key:
        chosen = [s for s in stages if s.public_id == stage_key]
    if status == "open":
        chosen = [s for s in chosen if not s.is_closed]
    elif status == "won":
        chosen = [s for s in chosen if s.is_won]
    elif status == "lost":
        chosen = [s for s in chosen if s.is_lost]
    else:
        status = ""
    if stage_key or status:
        filters.stage_ids = [s.pk for s in chosen]
    queryset = Opportunity.objects.visible_to(membership, action)
    rows = board.apply_filters(queryset, membership, filters, timezone.localdate())
    shown |= {
        "pipeline": pipeline.key if pipeline else "",
        "stage": stage_key,
        "status": status,
    }
    return rows, shown, pipelines, stages


@login_required
def opportunity_list(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    sort = request.GET.get("sort", board.DEFAULT_LIST_SORT)
    if sort not in board.LIST_SORTS:
        sort = board.DEFAULT_LIST_SORT
    rows, shown, pipelines, stages = _list_rows(request, membership)
    queryset, ordering = board.list_rows(rows, sort)
    try:
        page, next_cursor = keyset_page(
            queryset, ordering=ordering, cursor=request.GET.get("cursor"), limit=LIST_PAGE
        )
    except GuanxiError:
        return redirect(request.path)  # a stale or tampered cursor: start again
    context = {
        "rows_html": _rows_html(page),
        "next_cursor": next_cursor,
        "query": _query(request),
        "sort": sort,
    }
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "web/opportunities/_rows.html", context)
    without_sort = _query(request, "sort")
    context |= {
        "filters": shown,
        "pipelines": pipelines,
        "stages": stages,
        "statuses": STATUSES,
        "periods": PERIOD_LABELS,
        "owner_labels": OWNER_LABELS,
        "owner_options": _owner_menu(membership, shown["owner"]),
        "sorts": [
            (
                key,
                label,
                sort.lstrip("-") == key,
                sort.startswith("-"),
                f"{without_sort}&sort={'-' if sort == key else ''}{key}".lstrip("&"),
            )
            for key, label in SORT_LABELS.items()
        ],
        "can_add": may(membership, "add", Opportunity),
        "can_export": may(membership, "view", Opportunity),
    }
    return render(request, "web/opportunities/list.html", context)


EXPORT_HEADER = (
    "id", "name", "account", "pipeline", "stage", "amount", "currency", "probability",
    "expected_close_date", "owner", "next_step", "updated_at",
)  # fmt: skip


@login_required
def opportunity_export(request: HttpRequest) -> HttpResponse:
    """The list as it is filtered, as CSV (UTF-8 with BOM, cells neutralized against formula
    injection, like the customer exports); streamed in keyset batches; audited."""
    membership = membership_of(request)
    rows, _shown, _pipelines, _stages = _list_rows(request, membership)
    rows = rows.select_related("account", "pipeline", "stage", "owner")

    def records() -> Any:
        last, written = 0, 0
        while written < EXPORT_LIMIT:
            batch = list(rows.filter(pk__gt=last).order_by("pk")[:2000])
            if not batch:
                return
            for row in batch:
                written += 1
                yield [
                    row.public_id, row.name, row.account.name, row.pipeline.display_name,
                    row.stage.display_name, row.amount, row.currency, row.probability,
                    row.expected_close_date or "", row.owner.username if row.owner_id else "",
                    row.next_step, timezone.localtime(row.updated_at).isoformat(),
                ]  # fmt: skip
            last = batch[-1].pk

    record_audit(
        action="opportunity.exported", actor=request.user, workspace=membership.workspace,
        data={"format": "csv", "query": request.GET.urlencode()},
    )  # fmt: skip
    response = StreamingHttpResponse(
        csv_chunks(list(EXPORT_HEADER), records()), content_type="text/csv; charset=utf-8"
    )
    name = f"opportunities-{timezone.localdate().isoformat()}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


# --- the record page --------------------------------------------------------------------------
def _opportunity(request: HttpRequest, public_id: str, action: str = "view") -> Opportunity:
    membership = membership_of(request)
    return visible_or_404(
        Opportunity, membership, public_id, action=action,
        queryset=selectors.opportunities(user=membership),
    )  # fmt: skip


def _history(opportunity: Opportunity) -> list[dict[str, Any]]:
    """Stage changes, oldest first, each with how long the deal stayed in that stage."""
    changes = list(selectors.stage_history(opportunity=opportunity))
    now = timezone.now()
    rows = []
    for index, change in enumerate(changes):
        until = changes[index + 1].changed_at if index + 1 < len(changes) else None
        if until is None and not change.to_stage.is_closed:
            until = now
        rows.append({"change": change, "until": until})
    return rows


@login_required
def opportunity_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    opportunity = _opportunity(request, public_id)
    stages = list(
        Stage.objects.for_workspace(opportunity.workspace_id)
        .filter(pipeline_id=opportunity.pipeline_id)
        .order_by("position", "id")
    )
    can_change = can(membership, "change", opportunity)
    roles_visible = contact_roles.covers(membership, "view", opportunity)
    roles = list(contact_roles.contact_roles(opportunity=opportunity)) if roles_visible else []
    can_edit_roles = roles_visible and contact_roles.covers(membership, "add", opportunity)
    account_visible = can(membership, "view", opportunity.account)
    timeline = []
    candidates: list[Contact] = []
    if account_visible:
        timeline = list(timeline_selectors.timeline(customer=opportunity.account)
                        .order_by("-occurred_at", "-id")[:5])  # fmt: skip
    if can_edit_roles:
        taken = {role.contact_id for role in roles}
        links = (
            AccountContact.objects.for_workspace(opportunity.workspace_id)
            .filter(account_id=opportunity.account_id, contact__deleted_at__isnull=True)
            .filter(contact__in=Contact.objects.visible_to(membership, "view").values("pk"))
            .select_related("contact")
            .order_by("contact__sort_key")[:50]
        )
        candidates = [link.contact for link in links if link.contact_id not in taken]
    context = {
        "opportunity": opportunity,
        "stages": stages,
        "history": _history(opportunity),
        "roles": roles,
        "roles_visible": roles_visible,
        "can_edit_roles": can_edit_roles,
        "role_choices": OpportunityContactRole.Role.choices,
        "candidates": candidates,
        "account_visible": account_visible,
        "timeline": timeline,
        "can_change": can_change,
        "weighted": opportunity.amount * opportunity.probability / Decimal(100),
    }
    return render(request, "web/opportunities/detail.html", context)


@login_required
@require_POST
def contact_role_add(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    opportunity = _opportunity(request, public_id)
    try:
        contact_roles.check_roles_access(membership, opportunity, "add")
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except GuanxiError as exc:
        raise Http404 from exc
    contact = visible_or_404(Contact, membership, request.POST.get("contact", ""))
    try:
        contact_roles.set_contact_role(
            opportunity=opportunity, contact=contact, role=request.POST.get("role", ""),
            is_primary=request.POST.get("is_primary") == "on", by=request.user,
        )  # fmt: skip
    except ValidationFailed as exc:
        messages.error(request, str(exc))
    return redirect("web:opportunity_detail", public_id)


@login_required
@require_POST
def contact_role_remove(request: HttpRequest, public_id: str, role_id: str) -> HttpResponse:
    membership = membership_of(request)
    opportunity = _opportunity(request, public_id)
    try:
        contact_roles.check_roles_access(membership, opportunity, "delete")
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except GuanxiError as exc:
        raise Http404 from exc
    role = contact_roles.contact_roles(opportunity=opportunity).filter(public_id=role_id).first()
    if role is None:
        raise Http404
    contact_roles.remove_contact_role(role=role, by=request.user)
    return redirect("web:opportunity_detail", public_id)


# --- create and edit --------------------------------------------------------------------------
class OpportunityForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=300)
    stage = forms.ChoiceField(label=gettext_lazy("Stage"), required=False)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount"), min_value=0, decimal_places=2, max_digits=18,
        required=False,
    )  # fmt: skip
    currency = forms.CharField(label=gettext_lazy("Currency"), max_length=3, required=False)
    probability = forms.IntegerField(
        label=gettext_lazy("Probability (%)"), min_value=0, max_value=100, required=False,
        help_text=gettext_lazy("Empty: the stage's."),
    )  # fmt: skip
    expected_close_date = forms.DateField(
        label=gettext_lazy("Expected close date"), required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )  # fmt: skip
    next_step = forms.CharField(label=gettext_lazy("Next step"), max_length=300, required=False)
    lead_source = forms.CharField(label=gettext_lazy("Lead source"), max_length=100, required=False)
    competitors = forms.CharField(
        label=gettext_lazy("Competitors"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    loss_reason = forms.CharField(
        label=gettext_lazy("Loss reason"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, pipelines: list[Pipeline], editing: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.fields["stage"].choices = [
            (p.display_name, [(s.public_id, s.display_name) for s in p.stages.all()])
            for p in pipelines
        ]
        if editing:
            del self.fields["stage"]  # moves go through the stage path


@login_required
def opportunity_new(request: HttpRequest) -> HttpResponse:
    """A new deal, from the navigation (choose the account) or from an account or contact
    page (``?account=`` / ``?contact=``)."""
    membership = membership_of(request)
    if not may(membership, "add", Opportunity):
        raise PermissionDenied
    source = request.POST if request.method == "POST" else request.GET
    account = contact = None
    if source.get("contact"):
        contact = visible_or_404(Contact, membership, source["contact"])
    if source.get("account"):
        account = visible_or_404(Account, membership, source["account"])
    elif contact is not None:
        link = (
            AccountContact.objects.for_workspace(membership.workspace_id)
            .filter(contact=contact, account__deleted_at__isnull=True)
            .select_related("account")
            .order_by("-is_primary", "id")
            .first()
        )
        account = link.account if link and can(membership, "view", link.account) else None
    pipelines = _pipelines(membership)
    initial = {"currency": membership.workspace.currency}
    form = OpportunityForm(
        request.POST or None, initial=initial, pipelines=pipelines, editing=False
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        stage = next(
            (s for p in pipelines for s in p.stages.all() if s.public_id == data["stage"]), None
        )
        if account is None:
            form.add_error(None, _("Choose the account the deal is with."))
        else:
            try:
                opportunity = services.create_opportunity(
                    workspace=membership.workspace, by=request.user, name=data["name"],
                    account=account, contact=contact,
                    pipeline=stage.pipeline if stage else None, stage=stage,
                    amount=data["amount"] or 0, currency=data["currency"] or None,
                    probability=data["probability"],
                    expected_close_date=data["expected_close_date"],
                    next_step=data["next_step"], lead_source=data["lead_source"],
                    competitors=data["competitors"], loss_reason=data["loss_reason"],
                )  # fmt: skip
            except ValidationFailed as exc:
                form.add_service_errors(exc.errors)
            else:
                return redirect("web:opportunity_detail", opportunity.public_id)
    accounts = []
    q = request.GET.get("account_q", "").strip()
    if account is None and q:
        accounts = list(
            Account.objects.visible_to(membership, "view")
            .filter(name__icontains=q)
            .order_by("sort_key", "id")[:20]
        )
    return render(
        request,
        "web/opportunities/form.html",
        {"form": form, "account": account, "contact": contact, "creating": True,
         "accounts": accounts, "account_q": q, "title": _("New opportunity")},
    )  # fmt: skip


@login_required
def account_choices(request: HttpRequest) -> HttpResponse:
    """Accounts matching what is typed in the new-opportunity form (htmx)."""
    membership = membership_of(request)
    q = request.GET.get("account_q", "").strip()
    accounts = []
    if q:
        accounts = list(
            Account.objects.visible_to(membership, "view")
            .filter(name__icontains=q)
            .order_by("sort_key", "id")[:20]
        )
    return render(
        request, "web/opportunities/_account_choices.html", {"accounts": accounts, "account_q": q}
    )


EDIT_FIELDS = (
    "name", "amount", "currency", "probability", "expected_close_date", "next_step",
    "lead_source", "competitors", "loss_reason",
)  # fmt: skip


@login_required
def opportunity_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    """Edit with optimistic locking: a save over someone else's newer one is refused, shows
    what they saved, and keeps the input so it can be saved again knowingly."""
    opportunity = _opportunity(request, public_id, action="change")
    saved_name = opportunity.name  # the heading: what is stored, not what is being typed
    pipelines: list[Pipeline] = []
    initial = {name: getattr(opportunity, name) for name in EDIT_FIELDS}
    initial["version"] = opportunity.version
    form = OpportunityForm(request.POST or None, initial=initial, pipelines=pipelines, editing=True)
    conflict = None
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        changes = {name: data[name] for name in EDIT_FIELDS if data[name] != initial[name]}
        if "amount" in changes and changes["amount"] is None:
            changes["amount"] = Decimal(0)
        if "currency" in changes and not changes["currency"]:
            changes.pop("currency")
        if "probability" in changes and changes["probability"] is None:
            changes.pop("probability")
        try:
            services.update_opportunity(
                opportunity=opportunity, by=request.user,
                expected_version=data["version"] or 0, **changes,
            )  # fmt: skip
        except VersionConflict:
            fresh = _opportunity(request, public_id)
            conflict = {
                "by": fresh.updated_by,
                "at": fresh.updated_at,
                # what is saved now, where it differs from what the user is saving
                "changes": [
                    (form.fields[name].label, getattr(fresh, name))
                    for name in EDIT_FIELDS
                    if (getattr(fresh, name) or "") != (data[name] or "")
                ],
            }
            saved_name = fresh.name
            data = request.POST.copy()
            data["version"] = fresh.version
            form = OpportunityForm(data, initial=initial, pipelines=pipelines, editing=True)
            form.is_valid()
        except ValidationFailed as exc:
            form.add_service_errors(exc.errors)
        else:
            return redirect("web:opportunity_detail", public_id)
    return render(
        request,
        "web/opportunities/form.html",
        {"form": form, "opportunity": opportunity, "conflict": conflict,
         "title": _("Edit %(name)s") % {"name": saved_name}},
    )  # fmt: skip

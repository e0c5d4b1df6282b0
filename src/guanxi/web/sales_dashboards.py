"""Forecast and sales dashboard pages: the forecast of a person and their reports with
inline adjustments (htmx), and the dashboard whose sections (an ECharts chart and its
table) load one metric each."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.platform.errors import Forbidden, GuanxiError, NotFound
from guanxi.platform.models import Membership, Team
from guanxi.sales import forecasts, metrics
from guanxi.sales.forecasts import CATEGORIES, Period, parse_period
from guanxi.web.common import is_htmx, membership_of


def category_labels() -> list[tuple[str, str]]:
    labels = {
        "pipeline": _("Pipeline"),
        "best_case": _("Best case"),
        "commit": _("Commit"),
        "closed": _("Closed"),
        "omitted": _("Omitted"),
    }
    return [(key, labels[key]) for key in CATEGORIES]


def _today(membership: Membership) -> date:
    return timezone.localdate(timezone=ZoneInfo(membership.workspace.time_zone))


def period_choices(membership: Membership, chosen: Period) -> list[tuple[str, str]]:
    """Quarters from a year back to two ahead, then months from half a year back to three
    ahead; the chosen period is always among them."""
    today = _today(membership)
    current_quarter = forecasts.period_containing(today, "quarter")
    current_month = forecasts.period_containing(today, "month")
    choices: list[Period] = []
    for kind, current, back, ahead in (
        ("quarter", current_quarter, 4, 2),
        ("month", current_month, 6, 3),
    ):
        first = current
        for _step in range(back):
            first = forecasts.period_containing(
                first.start.replace(day=1) - timedelta(days=1), kind
            )
        period = first
        for _step in range(back + ahead + 1):
            choices.append(period)
            period = forecasts.following(period)
    keys = [p.key for p in choices]
    if chosen.key not in keys:
        keys.insert(0, chosen.key)
    return [(key, key) for key in keys]


def _chosen_period(request: HttpRequest, membership: Membership, *, allow_range: bool) -> Period:
    text = request.GET.get("period") or request.POST.get("period") or ""
    start, end = request.GET.get("start", ""), request.GET.get("end", "")
    if allow_range and start and end:
        text = f"{start}..{end}"
    if not text:
        return forecasts.period_containing(_today(membership), "quarter")
    return parse_period(text, allow_range=allow_range)


def _fmt(value: Any, kind: str = "money") -> str:
    if value is None:
        return "—"
    if kind == "money":
        return f"{Decimal(value):,.2f}"
    if kind == "percent":
        return f"{value} %"
    if kind == "int":
        return f"{value:,}"
    return str(value)


# --- the forecast page -----------------------------------------------------------------------
def _row_view(row: forecasts.ForecastRow, result: forecasts.Forecast, level: int) -> dict:
    labels = dict(category_labels())
    cells = []
    for key in CATEGORIES:
        adjustment = row.adjustments.get(key)
        adjusted = row.adjusted[key]
        cells.append(
            {
                "key": key,
                "label": labels[key],
                "amount": _fmt(row.totals[key]),
                "adjusted": _fmt(adjusted) if adjusted != row.totals[key] or adjustment else "",
                "adjustment": adjustment,
            }
        )
    return {
        "person": row.person,
        "level": level,
        "cells": cells,
        "other_currencies": [
            (currency, [(labels[k], _fmt(v)) for k, v in numbers.items() if v])
            for currency, numbers in row.other_currencies.items()
        ],
        "target": row.target,
        "target_amount": _fmt(row.target.amount) if row.target else "—",
        "won": _fmt(row.won),
        "attainment": f"{(row.attainment * 100).quantize(Decimal('0.1'))} %"
        if row.attainment is not None
        else "—",
        "has_reports": row.has_reports,
        "may_adjust": row.person.user_id in result.may_adjust,
    }


def _forecast_context(request: HttpRequest, membership: Membership, period: Period) -> dict:
    subject = request.GET.get("user") or request.POST.get("subject") or None
    try:
        result = forecasts.forecast(user=membership, period=period, person_key=subject)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    top = _row_view(result.row, result, 0)
    return {
        "result": result,
        "period": period,
        "subject": result.row.person,
        "top": top,
        "rows": [_row_view(r, result, 1) for r in result.reports],
        "categories": category_labels(),
        "currency": result.currency,
        "may_adjust_any": bool(result.may_adjust),
    }


@login_required
def forecast_page(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    error = ""
    try:
        period = _chosen_period(request, membership, allow_range=False)
    except GuanxiError as exc:
        error = str(exc)
        period = forecasts.period_containing(_today(membership), "quarter")
    context = _forecast_context(request, membership, period)
    manager = None
    if context["subject"].manager_id and context["subject"].user_id != membership.user_id:
        manager = context["subject"].manager_id
    return render(
        request,
        "web/sales_dashboards/forecast.html",
        {**context, "periods": period_choices(membership, period), "error": error,
         "has_manager": manager is not None},
    )  # fmt: skip


@login_required
def forecast_rows(request: HttpRequest) -> HttpResponse:
    """The rows of one person's direct reports, under that person's row (tree expand)."""
    membership = membership_of(request)
    try:
        period = _chosen_period(request, membership, allow_range=False)
        result = forecasts.forecast(
            user=membership, period=period, person_key=request.GET.get("user") or None
        )
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except GuanxiError as exc:
        return HttpResponse(str(exc), status=exc.status)
    level = request.GET.get("level", "")
    level = min(int(level), 12) if level.isdigit() else 1
    return render(
        request,
        "web/sales_dashboards/_forecast_rows.html",
        {
            "rows": [_row_view(r, result, level) for r in result.reports],
            "period": period,
            "categories": category_labels(),
            "subject": request.GET.get("subject", ""),
            "may_adjust_any": bool(result.may_adjust),
        },
    )


@login_required
@require_POST
def forecast_adjust(request: HttpRequest) -> HttpResponse:
    """A manager's adjustment entered in a row; answers the forecast table anew."""
    membership = membership_of(request)
    error = ""
    try:
        period = parse_period(request.POST.get("period"))
        forecasts.adjust_forecast(
            user=membership,
            period=period,
            person_key=request.POST.get("user", ""),
            category=request.POST.get("category", ""),
            amount=request.POST.get("amount", "").replace(",", "").strip(),
            note=request.POST.get("note", "").strip(),
        )
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except GuanxiError as exc:
        error = str(exc)
        try:
            period = _chosen_period(request, membership, allow_range=False)
        except GuanxiError:
            period = forecasts.period_containing(_today(membership), "quarter")
    context = _forecast_context(request, membership, period)
    response = render(
        request, "web/sales_dashboards/_forecast_table.html", {**context, "error": error}
    )
    if error:
        response.status_code = 422
        response["HX-Reswap"] = "outerHTML"  # show the error with the table
    return response


# --- the dashboard ---------------------------------------------------------------------------
def _filters_query(request: HttpRequest) -> str:
    keep = {
        k: request.GET[k] for k in ("period", "start", "end", "team", "user") if request.GET.get(k)
    }
    return urlencode(keep)


def _context(request: HttpRequest, membership: Membership) -> metrics.MetricContext:
    period = _chosen_period(request, membership, allow_range=True)
    return metrics.context_for(
        user=membership,
        period=period.key,
        team_id=request.GET.get("team") or None,
        user_id=request.GET.get("user") or None,
    )


@login_required
def sales_dashboard(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    error = ""
    try:
        ctx = _context(request, membership)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except GuanxiError as exc:
        error = str(exc)
        ctx = metrics.context_for(user=membership)
    tree = forecasts.load_tree(membership.workspace_id)
    scope = membership.scope_for(forecasts.FORECAST, "view")
    people = [p for p in tree.people if forecasts.covers(membership, scope, p)]
    return render(
        request,
        "web/sales_dashboards/dashboard.html",
        {
            "ctx": ctx,
            "error": error,
            "metrics": metrics.metrics(),
            "query": "" if error else _filters_query(request),
            "periods": period_choices(membership, ctx.period)
            if ctx.period.kind != "range"
            else period_choices(membership, forecasts.period_containing(ctx.period.start)),
            "teams": list(Team.objects.for_workspace(membership.workspace_id).order_by("name")),
            "people": sorted(people, key=lambda p: p.name.casefold()),
            "chosen_team": request.GET.get("team", ""),
            "chosen_user": request.GET.get("user", ""),
        },
    )


def _table(result: metrics.MetricResult) -> list[list[tuple[str, str]]]:
    return [
        [(str(c.label), _fmt(row.get(c.key), c.kind) if c.kind != "text" else str(row.get(c.key)))
         for c in result.columns]
        for row in result.rows
    ]  # fmt: skip


def metric_section(request: HttpRequest, ctx: metrics.MetricContext, key: str) -> dict[str, Any]:
    metric = metrics.get_metric(key)
    result = metric.compute(ctx)
    return {
        "metric": metric,
        "key": key,
        "result": result,
        "headers": [str(c.label) for c in result.columns],
        "table": _table(result),
        "chart": {**result.chart, "title": str(metric.title)},
        "has_chart": bool(result.chart.get("categories")),
        "chart_id": f"gx-chart-{key}",
        "query": _filters_query(request),
    }


@login_required
def dashboard_metric(request: HttpRequest, key: str) -> HttpResponse:
    """One section: the partial for htmx, a page of its own otherwise (without script)."""
    membership = membership_of(request)
    try:
        ctx = _context(request, membership)
        section = metric_section(request, ctx, key)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except GuanxiError as exc:
        return render(request, "web/message.html",
                      {"heading": _("The figures could not be computed"), "message": str(exc)},
                      status=exc.status)  # fmt: skip
    template = section["metric"].template
    if is_htmx(request):
        return render(request, template, section)
    return render(
        request,
        "web/sales_dashboards/metric_page.html",
        {**section, "ctx": ctx, "template": template},
    )


@login_required
def dashboard_export(request: HttpRequest, key: str) -> HttpResponse:
    membership = membership_of(request)
    try:
        ctx = _context(request, membership)
        result = metrics.compute(key, ctx)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    except GuanxiError as exc:
        return HttpResponse(str(exc), status=exc.status, content_type="text/plain; charset=utf-8")
    response = HttpResponse(metrics.csv_bytes(result), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{metrics.csv_filename(key, ctx)}"'
    return response

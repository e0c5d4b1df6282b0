"""Sales performance metrics (REQUIREMENTS §2.1: "sales activity monitoring, quantified
performance management, win rate, sales cycle length"): a registry of metrics, each
computed with a few aggregate queries for a period, a team and a person, limited to what
the caller may see (the ``sales.forecast`` view scope: a rep their own numbers, a manager
their subtree, administrators and analysts everything).

Every metric gives a table (columns and rows: the page's table, the API's JSON, the CSV)
and a chart spec that the dashboard draws with ECharts. Another app adds a metric with
``register_metric`` (one function) and, if the standard section does not suit it, one
template; a step of the conversion funnel with ``register_funnel_step``.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Max,
    Q,
    QuerySet,
    Sum,
    Window,
)
from django.db.models.functions import Lead
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.platform.errors import NotFound, ValidationFailed
from guanxi.platform.models import Membership, Team, Workspace
from guanxi.platform.visibility import resolve_membership
from guanxi.sales import forecasts
from guanxi.sales.forecasts import Period, covers, parse_period
from guanxi.sales.models import ForecastSnapshotLine, Opportunity, Stage, StageChange, display_name

HUNDRED = Decimal(100)


# --- filters ----------------------------------------------------------------------------------
@dataclass
class MetricContext:
    """What a metric is computed for: the caller, the period and the optional team and
    person (with everyone under them) — already checked against what the caller may see."""

    membership: Membership
    period: Period
    team: Team | None = None
    person: Membership | None = None

    @property
    def workspace(self) -> Workspace:
        return self.membership.workspace

    @property
    def currency(self) -> str:
        return self.workspace.currency

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return self.period.bounds(self.workspace.time_zone)

    def owners_q(self, owner_field: str) -> Q:
        """Rows owned (``owner_field``) by people the caller may see, narrowed to the team
        and the person's subtree when given."""
        condition = forecasts.owner_scope_q(self.membership, owner_field) or Q()
        members = Membership.objects.for_workspace(self.workspace.pk)
        if self.person is not None:
            below = members.filter(path__startswith=self.person.path).values("user_id")
            condition &= Q(**{f"{owner_field}__in": below})
        if self.team is not None:
            in_team = members.filter(team_id=self.team.pk).values("user_id")
            condition &= Q(**{f"{owner_field}__in": in_team})
        return condition

    def opportunities(self) -> QuerySet[Opportunity]:
        return Opportunity.objects.for_workspace(self.workspace).filter(self.owners_q("owner_id"))

    def closed_in_period(self) -> QuerySet[Opportunity]:
        start, end = self.bounds
        return self.opportunities().filter(
            stage__is_closed=True, closed_at__gte=start, closed_at__lt=end
        )


def default_period(workspace: Workspace) -> Period:
    today = timezone.localdate(timezone=ZoneInfo(workspace.time_zone))
    return forecasts.period_containing(today, "quarter")


def context_for(
    *,
    user: Any,
    period: str | None = None,
    team_id: str | None = None,
    user_id: str | None = None,
) -> MetricContext:
    """Parse the filters: a bad period is 422 (``period``), an unknown team 422
    (``team_id``), a person the caller may not see 404 like a missing one."""
    membership = resolve_membership(user)
    if membership is None:
        raise NotFound(_("dashboard"))
    chosen = (
        parse_period(period, allow_range=True) if period else default_period(membership.workspace)
    )
    team = None
    if team_id:
        team = Team.objects.for_workspace(membership.workspace_id).filter(public_id=team_id).first()
        if team is None:
            raise ValidationFailed([("team_id", _("no team %(id)s") % {"id": team_id})])
    person = None
    if user_id:
        members = Membership.objects.for_workspace(membership.workspace_id)
        person = (
            members.filter(Q(public_id=user_id) | Q(user__username=user_id))
            .select_related("user")
            .first()
        )
        scope = membership.scope_for(forecasts.FORECAST, "view")
        if person is None or not covers(membership, scope, person):  # type: ignore[arg-type]
            raise NotFound(_("person"))
    return MetricContext(membership=membership, period=chosen, team=team, person=person)


# --- results and the registry ----------------------------------------------------------------
@dataclass(frozen=True)
class Column:
    key: str
    label: Any
    kind: str = "text"  # text, int, money, percent, days


@dataclass
class MetricResult:
    columns: list[Column]
    rows: list[dict[str, Any]]
    # {"type": "bar" | "funnel", "categories": [...], "series": [{"name", "data"}],
    #  "stack": bool}: what the dashboard's script turns into an ECharts option
    chart: dict[str, Any]
    note: str = ""


@dataclass(frozen=True)
class Metric:
    key: str
    title: Any
    definition: Any
    compute: Callable[[MetricContext], MetricResult]
    order: int = 100
    # the page section; a metric that needs more than a chart and a table names its own
    template: str = "web/sales_dashboards/_metric.html"


_registry: dict[str, Metric] = {}


def register_metric(metric: Metric) -> Metric:
    _registry[metric.key] = metric
    return metric


def metrics() -> list[Metric]:
    return sorted(_registry.values(), key=lambda m: (m.order, m.key))


def get_metric(key: str) -> Metric:
    if key not in _registry:
        raise NotFound(_("metric"))
    return _registry[key]


def compute(key: str, context: MetricContext) -> MetricResult:
    return get_metric(key).compute(context)


# --- helpers ----------------------------------------------------------------------------------
def ratio(part: Any, whole: Any) -> Decimal | None:
    """part ÷ whole in percent, one decimal; None when whole is 0."""
    if not whole:
        return None
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(Decimal("0.1"))


def money(value: Any) -> Decimal:
    """An amount to the cent (SQLite's sums come back without trailing zeros)."""
    return Decimal(value or 0).quantize(Decimal("0.01"))


def days(value: timedelta) -> float:
    return value.total_seconds() / 86400


def one_decimal(value: float | None) -> Decimal | None:
    return None if value is None else Decimal(str(round(value, 1)))


def _rep_label(username: str | None) -> str:
    return username or _("(no owner)")


def _money_bar(categories: list, series: list[tuple[Any, list]], **extra: Any) -> dict:
    return {
        "type": "bar",
        "categories": [str(c) for c in categories],
        "series": [{"name": str(name), "data": [_num(v) for v in data]} for name, data in series],
        **extra,
    }


def _num(value: Any) -> float | None:
    return None if value is None else float(value)


# --- pipeline by stage -----------------------------------------------------------------------
def pipeline_by_stage(ctx: MetricContext) -> MetricResult:
    """Open opportunities expected to close in the period, by stage and currency: how many,
    their amount and their weighted amount (amount × probability)."""
    weighted = ExpressionWrapper(
        F("amount") * F("probability"), output_field=DecimalField(max_digits=24, decimal_places=2)
    )
    rows = (
        ctx.opportunities()
        .filter(
            stage__is_closed=False,
            expected_close_date__gte=ctx.period.start,
            expected_close_date__lte=ctx.period.end,
        )
        .values(
            "stage_id", "stage__key", "stage__name", "pipeline__position", "pipeline_id",
            "stage__position", "currency",
        )
        .annotate(n=Count("id"), amount_sum=Sum("amount"), weighted_sum=Sum(weighted))
        .order_by("pipeline__position", "pipeline_id", "stage__position", "stage_id", "currency")
    )  # fmt: skip
    table = [
        {
            "stage": display_name("stage", r["stage__key"], r["stage__name"]),
            "currency": r["currency"],
            "count": r["n"],
            "amount": money(r["amount_sum"]),
            "weighted": money(r["weighted_sum"] / HUNDRED),
        }
        for r in rows
    ]
    mine = [r for r in table if r["currency"] == ctx.currency]
    return MetricResult(
        columns=[
            Column("stage", _("Stage")),
            Column("currency", _("Currency")),
            Column("count", _("Opportunities"), "int"),
            Column("amount", _("Amount"), "money"),
            Column("weighted", _("Weighted amount"), "money"),
        ],
        rows=table,
        chart=_money_bar(
            [r["stage"] for r in mine],
            [
                (_("Amount"), [r["amount"] for r in mine]),
                (_("Weighted amount"), [r["weighted"] for r in mine]),
            ],
        ),
        note=_("The chart shows amounts in %(currency)s; other currencies are in the table.")
        % {"currency": ctx.currency},
    )


# --- the conversion funnel -------------------------------------------------------------------
@dataclass(frozen=True)
class FunnelRow:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class FunnelStep:
    """A provider of funnel rows, placed by ``order``: the opportunity steps are 100; a
    lead step (leads created, converted) goes before them with an order below 100."""

    key: str
    order: int
    rows: Callable[[MetricContext], list[FunnelRow]]


_funnel_steps: dict[str, FunnelStep] = {}


def register_funnel_step(step: FunnelStep) -> FunnelStep:
    _funnel_steps[step.key] = step
    return step


def _reached_counts(workspace: Workspace, cohort: QuerySet[Opportunity]) -> dict[int, int]:
    """How many opportunities of the cohort got at most as far as each stage position (open
    or won stages only; a lost deal got as far as the stage it was lost from): one query."""
    furthest = (
        StageChange.objects.for_workspace(workspace)
        .filter(opportunity__in=cohort.values("id"))
        .exclude(to_stage__is_closed=True, to_stage__is_won=False)
        .values("opportunity_id")
        .annotate(reached=Max("to_stage__position"))
        .values("reached")
        .order_by()
    )
    sql, params = furthest.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT reached, COUNT(*) FROM ({sql}) furthest GROUP BY reached", params)
        return {position: count for position, count in cursor.fetchall()}


def opportunity_funnel_rows(ctx: MetricContext) -> list[FunnelRow]:
    """Opportunities of the default pipeline created in the period; how many of them
    reached each later open stage (or went beyond it); how many are won."""
    stages = list(
        Stage.objects.for_workspace(ctx.workspace)
        .filter(pipeline__is_default=True, pipeline__deleted_at__isnull=True)
        .order_by("position", "id")
    )
    if not stages:
        return []
    start, end = ctx.bounds
    cohort = ctx.opportunities().filter(
        pipeline_id=stages[0].pipeline_id, created_at__gte=start, created_at__lt=end
    )
    totals = cohort.aggregate(created=Count("id"), won=Count("id", filter=Q(stage__is_won=True)))
    reached = _reached_counts(ctx.workspace, cohort)
    rows = [FunnelRow("created", _("Opportunities created"), totals["created"])]
    open_stages = [s for s in stages if not s.is_closed]
    for stage in open_stages[1:]:
        count = sum(n for position, n in reached.items() if position >= stage.position)
        rows.append(
            FunnelRow(
                f"stage:{stage.key}",
                _("Reached %(stage)s") % {"stage": stage.display_name},
                count,
            )
        )
    rows.append(FunnelRow("won", _("Won"), totals["won"]))
    return rows


register_funnel_step(FunnelStep("opportunities", 100, opportunity_funnel_rows))


def conversion_funnel(ctx: MetricContext) -> MetricResult:
    """The registered steps in order; each row with its share of the first and of the
    previous row."""
    rows: list[FunnelRow] = []
    for step in sorted(_funnel_steps.values(), key=lambda s: (s.order, s.key)):
        rows.extend(step.rows(ctx))
    table = []
    for index, row in enumerate(rows):
        table.append(
            {
                "step": row.label,
                "count": row.count,
                "of_first": ratio(row.count, rows[0].count) if rows else None,
                "of_previous": ratio(row.count, rows[index - 1].count) if index else None,
            }
        )
    return MetricResult(
        columns=[
            Column("step", _("Step")),
            Column("count", _("Count"), "int"),
            Column("of_first", _("Share of the first step (%)"), "percent"),
            Column("of_previous", _("Share of the previous step (%)"), "percent"),
        ],
        rows=table,
        chart={
            "type": "funnel",
            "categories": [r["step"] for r in table],
            "series": [{"name": str(_("Count")), "data": [r["count"] for r in table]}],
        },
    )


# --- win rate, deal size, cycle --------------------------------------------------------------
def win_rate(ctx: MetricContext) -> MetricResult:
    """Per person: won ÷ (won + lost) among opportunities closed in the period."""
    grouped = (
        ctx.closed_in_period()
        .values("owner__username", "stage__is_won")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[str, dict[bool, int]] = defaultdict(lambda: {True: 0, False: 0})
    for row in grouped:
        counts[_rep_label(row["owner__username"])][row["stage__is_won"]] += row["n"]
    table = [
        {
            "rep": rep,
            "won": c[True],
            "lost": c[False],
            "win_rate": ratio(c[True], c[True] + c[False]),
        }
        for rep, c in sorted(counts.items())
    ]
    won, lost = sum(r["won"] for r in table), sum(r["lost"] for r in table)
    table.append({"rep": _("Total"), "won": won, "lost": lost, "win_rate": ratio(won, won + lost)})
    return MetricResult(
        columns=[
            Column("rep", _("Sales rep")),
            Column("won", _("Won"), "int"),
            Column("lost", _("Lost"), "int"),
            Column("win_rate", _("Win rate (%)"), "percent"),
        ],
        rows=table,
        chart=_money_bar(
            [r["rep"] for r in table], [(_("Win rate (%)"), [r["win_rate"] for r in table])]
        ),
    )


def average_deal_size(ctx: MetricContext) -> MetricResult:
    """Per person and currency: the mean amount of the opportunities won in the period."""
    grouped = (
        ctx.closed_in_period()
        .filter(stage__is_won=True)
        .values("owner__username", "currency")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("owner__username", "currency")
    )
    table = []
    overall: dict[str, list] = defaultdict(lambda: [0, Decimal(0)])
    for row in grouped:
        table.append(
            {
                "rep": _rep_label(row["owner__username"]),
                "currency": row["currency"],
                "won": row["n"],
                "amount": money(row["total"]),
                "average": money(row["total"] / row["n"]),
            }
        )
        overall[row["currency"]][0] += row["n"]
        overall[row["currency"]][1] += row["total"]
    for currency, (n, total) in sorted(overall.items()):
        table.append({"rep": _("Total"), "currency": currency, "won": n, "amount": money(total),
                      "average": money(total / n)})  # fmt: skip
    mine = [r for r in table if r["currency"] == ctx.currency]
    return MetricResult(
        columns=[
            Column("rep", _("Sales rep")),
            Column("currency", _("Currency")),
            Column("won", _("Won"), "int"),
            Column("amount", _("Amount won"), "money"),
            Column("average", _("Average deal size"), "money"),
        ],
        rows=table,
        chart=_money_bar(
            [r["rep"] for r in mine], [(_("Average deal size"), [r["average"] for r in mine])]
        ),
        note=_("The chart shows amounts in %(currency)s; other currencies are in the table.")
        % {"currency": ctx.currency},
    )


def _median_mean(values: list[float]) -> tuple[Decimal | None, Decimal | None]:
    if not values:
        return None, None
    return one_decimal(statistics.median(values)), one_decimal(statistics.fmean(values))


def sales_cycle(ctx: MetricContext) -> MetricResult:
    """Per person: days from creating an opportunity to winning it, median and mean, for
    the opportunities won in the period."""
    pairs = (
        ctx.closed_in_period()
        .filter(stage__is_won=True)
        .values_list("owner__username", "created_at", "closed_at")
        .order_by()
    )
    by_rep: dict[str, list[float]] = defaultdict(list)
    everyone: list[float] = []
    for username, created_at, closed_at in pairs:
        value = max(days(closed_at - created_at), 0.0)
        by_rep[_rep_label(username)].append(value)
        everyone.append(value)
    table = []
    for rep, values in [*sorted(by_rep.items()), (_("Total"), everyone)]:
        median, mean = _median_mean(values)
        table.append({"rep": rep, "won": len(values), "median_days": median, "mean_days": mean})
    return MetricResult(
        columns=[
            Column("rep", _("Sales rep")),
            Column("won", _("Won"), "int"),
            Column("median_days", _("Median (days)"), "days"),
            Column("mean_days", _("Mean (days)"), "days"),
        ],
        rows=table,
        chart=_money_bar(
            [r["rep"] for r in table],
            [
                (_("Median (days)"), [r["median_days"] for r in table]),
                (_("Mean (days)"), [r["mean_days"] for r in table]),
            ],
        ),
    )


def stage_durations(ctx: MetricContext) -> MetricResult:
    """Per stage: how long opportunities stayed in it, for the stays that ended (the
    opportunity moved on) in the period — from one stage change to the next."""
    start, end = ctx.bounds
    moved = (
        StageChange.objects.for_workspace(ctx.workspace)
        .filter(changed_at__gte=start, changed_at__lt=end)
        .values("opportunity_id")
    )
    stays = (
        StageChange.objects.for_workspace(ctx.workspace)
        .filter(opportunity__in=ctx.opportunities().filter(id__in=moved).values("id"))
        .annotate(
            left_at=Window(
                Lead("changed_at"),
                partition_by=[F("opportunity_id")],
                order_by=[F("changed_at").asc(), F("id").asc()],
            )
        )
        .filter(left_at__gte=start, left_at__lt=end)
        .values_list(
            "to_stage__key", "to_stage__name", "to_stage__position", "changed_at", "left_at"
        )
    )
    by_stage: dict[tuple[int, str], list[float]] = defaultdict(list)
    for key, name, position, entered, left in stays:
        by_stage[(position, display_name("stage", key, name))].append(days(left - entered))
    table = []
    for (_position, name), values in sorted(by_stage.items()):
        median, mean = _median_mean(values)
        table.append(
            {"stage": name, "stays": len(values), "median_days": median, "mean_days": mean}
        )
    return MetricResult(
        columns=[
            Column("stage", _("Stage")),
            Column("stays", _("Stays ended"), "int"),
            Column("median_days", _("Median (days)"), "days"),
            Column("mean_days", _("Mean (days)"), "days"),
        ],
        rows=table,
        chart=_money_bar(
            [r["stage"] for r in table], [(_("Median (days)"), [r["median_days"] for r in table])]
        ),
    )


def activities_per_rep(ctx: MetricContext) -> MetricResult:
    """Per person: activities completed in the period (by whom they were assigned to) and
    interactions logged in the period (by who logged them), leaving out the interactions
    that completing an activity writes (the activity counts already)."""
    from guanxi.timeline.models import Activity, Interaction

    start, end = ctx.bounds
    done = (
        Activity.objects.for_workspace(ctx.workspace)
        .filter(ctx.owners_q("assigned_to_id"), status=Activity.Status.DONE)
        .filter(completed_at__gte=start, completed_at__lt=end)
        .values("assigned_to__username")
        .annotate(n=Count("id"))
        .order_by()
    )
    logged = (
        Interaction.objects.for_workspace(ctx.workspace)
        .filter(ctx.owners_q("actor_id"), occurred_at__gte=start, occurred_at__lt=end)
        .exclude(related_type=Activity.object_type)  # counted as the activity done
        .values("actor__username")
        .annotate(n=Count("id"))
        .order_by()
    )
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for row in done:
        counts[_rep_label(row["assigned_to__username"])][0] += row["n"]
    for row in logged:
        counts[_rep_label(row["actor__username"])][1] += row["n"]
    table = [
        {"rep": rep, "activities": a, "interactions": i, "total": a + i}
        for rep, (a, i) in sorted(counts.items())
    ]
    return MetricResult(
        columns=[
            Column("rep", _("Sales rep")),
            Column("activities", _("Activities completed"), "int"),
            Column("interactions", _("Interactions logged"), "int"),
            Column("total", _("Total"), "int"),
        ],
        rows=table,
        chart=_money_bar(
            [r["rep"] for r in table],
            [
                (_("Activities completed"), [r["activities"] for r in table]),
                (_("Interactions logged"), [r["interactions"] for r in table]),
            ],
            stack=True,
        ),
    )


def forecast_accuracy(ctx: MetricContext) -> MetricResult:
    """Per person: the forecast at the start of the period (commit + closed in the baseline
    snapshot, workspace currency) against what they actually won in it."""
    columns = [
        Column("rep", _("Sales rep")),
        Column("forecast", _("Forecast at the start"), "money"),
        Column("won", _("Won"), "money"),
        Column("difference", _("Difference"), "money"),
        Column("accuracy", _("Won ÷ forecast (%)"), "percent"),
    ]
    empty = {"type": "bar", "categories": [], "series": []}
    if ctx.period.kind == "range":
        return MetricResult(columns, [], empty, _("Forecast accuracy needs a month or a quarter."))
    baseline = forecasts.baseline_snapshot(ctx.workspace, ctx.period)
    if baseline is None:
        return MetricResult(
            columns, [], empty, _("No forecast snapshot was taken for this period.")
        )
    forecast_by: dict[str, Decimal] = defaultdict(Decimal)
    for username, commit, closed in (
        ForecastSnapshotLine.objects.filter(snapshot=baseline, currency=ctx.currency)
        .filter(ctx.owners_q("user_id"))
        .values_list("user__username", "commit", "closed")
    ):
        forecast_by[username] += money(commit + closed)
    won_by: dict[str, Decimal] = defaultdict(Decimal)
    for row in (
        ctx.closed_in_period()
        .filter(stage__is_won=True, currency=ctx.currency)
        .values("owner__username")
        .annotate(total=Sum("amount"))
        .order_by()
    ):
        won_by[_rep_label(row["owner__username"])] += money(row["total"])
    table = []
    for rep in sorted(set(forecast_by) | set(won_by)):
        forecast, won = forecast_by.get(rep, Decimal(0)), won_by.get(rep, Decimal(0))
        table.append({"rep": rep, "forecast": forecast, "won": won, "difference": won - forecast,
                      "accuracy": ratio(won, forecast)})  # fmt: skip
    taken = timezone.localtime(baseline.taken_at, ZoneInfo(ctx.workspace.time_zone))
    return MetricResult(
        columns,
        table,
        _money_bar(
            [r["rep"] for r in table],
            [
                (_("Forecast at the start"), [r["forecast"] for r in table]),
                (_("Won"), [r["won"] for r in table]),
            ],
        ),
        _("Snapshot of %(when)s, amounts in %(currency)s.")
        % {"when": taken.strftime("%Y-%m-%d %H:%M"), "currency": ctx.currency},
    )


# --- the built-in metrics --------------------------------------------------------------------
register_metric(Metric(
    "pipeline_by_stage", gettext_lazy("Pipeline by stage"),
    gettext_lazy("Open opportunities expected to close in the period, by stage: how many, "
                 "their amount, and their amount weighted by probability."),
    pipeline_by_stage, 10,
))  # fmt: skip
register_metric(Metric(
    "conversion_funnel", gettext_lazy("Conversion funnel"),
    gettext_lazy("Opportunities created in the period and how many of them reached each "
                 "later stage or were won."),
    conversion_funnel, 20,
))  # fmt: skip
register_metric(Metric(
    "win_rate", gettext_lazy("Win rate"),
    gettext_lazy("Won ÷ (won + lost) among the opportunities closed in the period."),
    win_rate, 30,
))  # fmt: skip
register_metric(Metric(
    "average_deal_size", gettext_lazy("Average deal size"),
    gettext_lazy("The mean amount of the opportunities won in the period, per currency."),
    average_deal_size, 40,
))  # fmt: skip
register_metric(Metric(
    "sales_cycle", gettext_lazy("Sales cycle length"),
    gettext_lazy("Days from creating an opportunity to winning it, for those won in the period."),
    sales_cycle, 50,
))  # fmt: skip
register_metric(Metric(
    "stage_durations", gettext_lazy("Time in each stage"),
    gettext_lazy("How long opportunities stayed in each stage, for stays that ended in the period."),
    stage_durations, 60,
))  # fmt: skip
register_metric(Metric(
    "activities_per_rep", gettext_lazy("Activities per rep"),
    gettext_lazy("Activities completed and interactions logged in the period, per person."),
    activities_per_rep, 70,
))  # fmt: skip
register_metric(Metric(
    "forecast_accuracy", gettext_lazy("Forecast accuracy"),
    gettext_lazy("The forecast (commit + closed) at the start of the period against what was won."),
    forecast_accuracy, 80,
))  # fmt: skip


# --- export -----------------------------------------------------------------------------------
def as_json(key: str, ctx: MetricContext, result: MetricResult) -> dict[str, Any]:
    metric = get_metric(key)
    return {
        "key": key,
        "title": str(metric.title),
        "definition": str(metric.definition),
        "period": ctx.period.key,
        "start": ctx.period.start,
        "end": ctx.period.end,
        "currency": ctx.currency,
        "columns": [{"key": c.key, "label": str(c.label), "kind": c.kind} for c in result.columns],
        "rows": [{k: _plain(v) for k, v in row.items()} for row in result.rows],
        "chart": result.chart,
        "note": str(result.note),
    }


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, date):
        return value.isoformat()
    return value if value is None or isinstance(value, int | float | str | bool) else str(value)


def as_csv_rows(result: MetricResult) -> list[list[str]]:
    header = [str(c.label) for c in result.columns]
    body = [
        ["" if row.get(c.key) is None else str(_plain(row.get(c.key))) for c in result.columns]
        for row in result.rows
    ]
    return [header, *body]


def csv_bytes(result: MetricResult) -> bytes:
    """The table as CSV: UTF-8 with a byte-order mark, cells that look like formulas
    neutralized (as every export of the app)."""
    from guanxi.customers.exports import csv_chunks

    header, *body = as_csv_rows(result)
    return b"".join(csv_chunks(header, body))


def csv_filename(key: str, ctx: MetricContext) -> str:
    return f"{key}-{ctx.period.key.replace('..', '_')}.csv"

"""Lead numbers for the sales dashboards: the first steps of the conversion funnel (leads
created, leads converted) and the response time against the follow-up SLA.

Both read the lead record itself (``assigned_at``, ``sla_due_at``, ``first_touched_at``,
``escalated_at``, ``converted_at``) with the same visibility as the other metrics: the leads
owned by the people the caller's forecast view covers. Working minutes come from the routing
module's ``LeadResponse`` rows, written at the first touch.
"""

from __future__ import annotations

import statistics
from collections import defaultdict

from django.db.models import Count, F, Q
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.sales.metrics import (
    Column,
    FunnelRow,
    FunnelStep,
    Metric,
    MetricContext,
    MetricResult,
    _money_bar,
    _rep_label,
    one_decimal,
    ratio,
    register_funnel_step,
    register_metric,
)
from guanxi.sales.models import Lead, LeadResponse

# the due time of the same row, for comparisons in the aggregate
F_DUE = F("sla_due_at")


def _leads(ctx: MetricContext):
    return Lead.objects.for_workspace(ctx.workspace).filter(ctx.owners_q("owner_id"))


def lead_funnel_rows(ctx: MetricContext) -> list[FunnelRow]:
    """Leads created in the period, and how many of them are converted by now. The
    opportunity steps that follow count all opportunities created in the period, those from
    leads and the others."""
    start, end = ctx.bounds
    totals = (
        _leads(ctx)
        .filter(created_at__gte=start, created_at__lt=end)
        .aggregate(
            created=Count("id"),
            converted=Count("id", filter=Q(converted_at__isnull=False)),
        )
    )
    return [
        FunnelRow("leads", _("Leads created"), totals["created"]),
        FunnelRow("leads_converted", _("Leads converted"), totals["converted"]),
    ]


def lead_response(ctx: MetricContext) -> MetricResult:
    """Per owner, the leads assigned in the period: touched within their follow-up time,
    touched late, still waiting past it, still within it; escalated; the median working
    minutes to the first touch."""
    start, end = ctx.bounds
    now = timezone.now()
    leads = _leads(ctx).filter(assigned_at__gte=start, assigned_at__lt=end)
    touched = Q(first_touched_at__isnull=False)
    in_time = touched & (Q(sla_due_at__isnull=True) | Q(first_touched_at__lte=F_DUE))
    grouped = (
        leads.values("owner__username")
        .annotate(
            assigned=Count("id"),
            met=Count("id", filter=in_time),
            late=Count("id", filter=touched & Q(first_touched_at__gt=F_DUE)),
            overdue=Count("id", filter=~touched & Q(sla_due_at__lt=now)),
            escalated=Count("id", filter=Q(escalated_at__isnull=False)),
        )
        .order_by("owner__username")
    )
    minutes: dict[str, list[int]] = defaultdict(list)
    responses = (
        LeadResponse.objects.for_workspace(ctx.workspace)
        .filter(lead__in=leads.values("id"), working_minutes__isnull=False)
        .values_list("lead__owner__username", "working_minutes")
    )
    for username, value in responses:
        minutes[_rep_label(username)].append(value)
    table = []
    for row in grouped:
        rep = _rep_label(row["owner__username"])
        table.append(_row(rep, row, minutes.get(rep, [])))
    if table:
        sums = {k: sum(r[k] for r in table) for k in ("assigned", "met", "late", "overdue",
                                                       "escalated")}  # fmt: skip
        every = [m for values in minutes.values() for m in values]
        table.append(_row(_("Total"), sums, every))
    return MetricResult(
        columns=[
            Column("rep", _("Sales rep")),
            Column("assigned", _("Leads assigned"), "int"),
            Column("met", _("Touched in time"), "int"),
            Column("late", _("Touched late"), "int"),
            Column("overdue", _("Waiting past due"), "int"),
            Column("escalated", _("Escalated"), "int"),
            Column("met_rate", _("In time (%)"), "percent"),
            Column("median_minutes", _("Median working minutes to first touch"), "days"),
        ],
        rows=table,
        chart=_money_bar(
            [r["rep"] for r in table], [(_("In time (%)"), [r["met_rate"] for r in table])]
        ),
    )


def _row(rep: str, counts: dict, minutes: list[int]) -> dict:
    judged = counts["met"] + counts["late"] + counts["overdue"]
    return {
        "rep": rep,
        "assigned": counts["assigned"],
        "met": counts["met"],
        "late": counts["late"],
        "overdue": counts["overdue"],
        "escalated": counts["escalated"],
        "met_rate": ratio(counts["met"], judged),
        "median_minutes": one_decimal(statistics.median(minutes)) if minutes else None,
    }


register_funnel_step(FunnelStep("leads", 50, lead_funnel_rows))
register_metric(Metric(
    "lead_response", gettext_lazy("Lead response time"),
    gettext_lazy("Leads assigned in the period: first touched within their follow-up time "
                 "(the SLA in working hours), late, or still waiting past it."),
    lead_response, 25,
))  # fmt: skip

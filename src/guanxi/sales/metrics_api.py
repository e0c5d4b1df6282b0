"""Sales metrics as JSON or CSV: the data behind each chart and table of the dashboard."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema

from guanxi.platform.apiframework import Problem
from guanxi.sales import metrics

router = Router(tags=["metrics"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 422: Problem}


class MetricInfo(Schema):
    key: str
    title: str
    definition: str


class ColumnOut(Schema):
    key: str
    label: str
    kind: str = Field(description="text, int, money, percent or days")


class MetricOut(Schema):
    key: str
    title: str
    definition: str
    period: str
    start: date
    end: date
    currency: str = Field(description="The workspace currency, the one the charts use.")
    columns: list[ColumnOut]
    rows: list[dict[str, Any]] = Field(
        description="One object per table row, keyed by column; decimals as strings."
    )
    chart: dict[str, Any] = Field(description="type, categories and series, as drawn.")
    note: str


class MetricFilters(Schema):
    period: str | None = Field(
        None,
        description="2026-12, 2026-Q4 or 2026-01-01..2026-03-31; default: this quarter.",
    )
    team_id: str | None = None
    user_id: str | None = Field(None, description="A person (membership id or username) and "
                                "everyone under them.")  # fmt: skip
    format: Literal["json", "csv"] = "json"


@router.get("/metrics", response={200: list[MetricInfo], **ERRORS}, summary="List metrics")
def list_metrics(request: HttpRequest) -> list[dict]:
    return [
        {"key": m.key, "title": str(m.title), "definition": str(m.definition)}
        for m in metrics.metrics()
    ]


@router.get("/metrics/{key}", response={200: MetricOut, **ERRORS}, summary="One metric")
def get_metric(request: HttpRequest, key: str, filters: MetricFilters = Query(...)) -> Any:  # noqa: B008
    """A metric for a period, a team and a person, limited to what you may see (a rep their
    own numbers, a manager their subtree). `format=csv` answers the table as CSV."""
    metric = metrics.get_metric(key)
    ctx = metrics.context_for(
        user=request.auth, period=filters.period, team_id=filters.team_id, user_id=filters.user_id
    )
    result = metric.compute(ctx)
    if filters.format == "csv":
        response = HttpResponse(metrics.csv_bytes(result), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{metrics.csv_filename(key, ctx)}"'
        return response
    return metrics.as_json(key, ctx, result)

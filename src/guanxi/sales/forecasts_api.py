"""Forecast and target endpoints: a person's forecast rolled up with their direct reports',
managers' adjustments, snapshots, and quotas with attainment."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from guanxi.platform.apiframework import Problem, with_etag
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import Membership
from guanxi.platform.versioning import expected_version
from guanxi.platform.visibility import get_visible_or_404
from guanxi.sales import forecasts
from guanxi.sales.forecasts import Forecast, ForecastRow, parse_period
from guanxi.sales.models import ForecastAdjustment, Target

router = Router(tags=["forecasts"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
WRITE_ERRORS = {**ERRORS, 428: Problem}
MAX_TARGETS = 500


# --- schemas ----------------------------------------------------------------------------------
class Numbers(Schema):
    pipeline: Decimal
    best_case: Decimal
    commit: Decimal
    closed: Decimal
    omitted: Decimal


class CurrencyNumbers(Schema):
    currency: str
    totals: Numbers


class AdjustmentOut(Schema):
    id: str
    period: str
    user_id: str | None = Field(description="Whose forecast (membership id).")
    category: str
    amount: Decimal
    currency: str
    adjusted_by: str | None
    note: str
    adjusted_at: datetime


class TargetRef(Schema):
    amount: Decimal
    currency: str
    source: str = Field(description="own: set for the person; reports: the sum of the reports'")
    id: str | None = None


class PersonForecast(Schema):
    user_id: str = Field(description="Membership id (mem_…), as in /members.")
    username: str
    name: str
    has_reports: bool
    currency: str = Field(description="The workspace currency: the only one totals are in.")
    totals: Numbers = Field(description="Own plus everyone under them, workspace currency.")
    adjusted: Numbers = Field(description="The totals with the latest adjustments applied.")
    adjustments: list[AdjustmentOut] = Field(
        description="The latest adjustment of each category of this person's numbers."
    )
    other_currencies: list[CurrencyNumbers] = Field(
        description="Amounts in other currencies, rolled up the same way, never converted."
    )
    target: TargetRef | None
    won: Decimal = Field(description="Closed (won) in the target's currency, rolled up.")
    attainment: Decimal | None = Field(description="won ÷ target (0.5 = 50 %).")


class ForecastOut(PersonForecast):
    period: str
    start: date
    end: date
    reports: list[PersonForecast]


class AdjustmentIn(Schema):
    period: str = Field(description="2026-12 or 2026-Q4")
    user_id: str = Field(description="Whose forecast: membership id, user id or username.")
    category: str = Field(description="pipeline, best_case, commit, closed or omitted")
    amount: Decimal | str
    note: str = ""


class SnapshotIn(Schema):
    period: str


class SnapshotOut(Schema):
    id: str
    period: str
    taken_at: datetime
    kind: str
    lines: int


class TargetIn(Schema):
    period: str
    user_id: str | None = Field(None, description="Membership id, user id or username.")
    team_id: str | None = None
    amount: Decimal | str
    currency: str | None = Field(None, description="ISO 4217; default: the workspace's.")


class TargetUpdate(Schema):
    amount: Decimal | str | None = None
    currency: str | None = None
    version: int | None = None


class TargetOut(Schema):
    id: str
    period: str
    user_id: str | None
    username: str | None
    team_id: str | None
    team_name: str | None
    amount: Decimal
    currency: str
    won: Decimal | None = Field(description="Won in the period (person: with their tree).")
    attainment: Decimal | None
    version: int


# --- helpers ----------------------------------------------------------------------------------
def _adjustment_out(info: Any, period: str, member_id: str | None) -> dict[str, Any]:
    return {
        "id": info.public_id,
        "period": period,
        "user_id": member_id,
        "category": info.category,
        "amount": info.amount,
        "currency": info.currency,
        "adjusted_by": info.adjusted_by,
        "note": info.note,
        "adjusted_at": info.adjusted_at,
    }


def person_out(row: ForecastRow, result: Forecast) -> dict[str, Any]:
    person = row.person
    target = row.target
    return {
        "user_id": person.public_id,
        "username": person.username,
        "name": person.name,
        "has_reports": row.has_reports,
        "currency": result.currency,
        "totals": row.totals,
        "adjusted": row.adjusted,
        "adjustments": [
            _adjustment_out(info, result.period.key, person.public_id)
            for info in row.adjustments.values()
        ],
        "other_currencies": [{"currency": c, "totals": n} for c, n in row.other_currencies.items()],
        "target": None
        if target is None
        else {
            "amount": target.amount,
            "currency": target.currency,
            "source": target.source,
            "id": target.public_id,
        },
        "won": row.won,
        "attainment": row.attainment,
    }


def forecast_out(result: Forecast) -> dict[str, Any]:
    return {
        **person_out(result.row, result),
        "period": result.period.key,
        "start": result.period.start,
        "end": result.period.end,
        "reports": [person_out(r, result) for r in result.reports],
    }


def target_out(target: Target, won: dict[str, Decimal], members: dict[int, str]) -> dict:
    total = won.get(target.public_id)
    return {
        "id": target.public_id,
        "period": target.period,
        "user_id": members.get(target.user_id) if target.user_id else None,
        "username": target.user.username if target.user_id else None,
        "team_id": target.team.public_id if target.team_id else None,
        "team_name": target.team.name if target.team_id else None,
        "amount": target.amount,
        "currency": target.currency,
        "won": total,
        "attainment": (total / target.amount).quantize(Decimal("0.0001"))
        if total is not None and target.amount
        else None,
        "version": target.version,
    }


def _members(membership: Membership, user_ids: set[int]) -> dict[int, str]:
    rows = Membership.objects.for_workspace(membership.workspace_id).filter(user_id__in=user_ids)
    return dict(rows.values_list("user_id", "public_id"))


def _targets_out(membership: Membership, rows: list[Target]) -> list[dict]:
    """Targets with what was won against them: two queries per period listed."""
    won: dict[str, Decimal] = {}
    for key in sorted({t.period for t in rows}):
        period = parse_period(key)
        won |= forecasts.won_for_targets(
            membership.workspace, period, [t for t in rows if t.period == key]
        )
    members = _members(membership, {t.user_id for t in rows if t.user_id})
    return [target_out(t, won, members) for t in rows]


def _target(request: HttpRequest, target_id: str, action: str = "view") -> Target:
    return get_visible_or_404(
        Target,
        user=request.auth,
        public_id=target_id,
        action=action,
        queryset=forecasts.targets(user=request.auth),
    )


# --- forecasts --------------------------------------------------------------------------------
@router.get("/forecasts", response={200: ForecastOut, **ERRORS}, summary="A forecast")
def get_forecast(request: HttpRequest, period: str, user_id: str | None = None) -> dict:
    """Totals by forecast category for the person (default: you) with everyone under them,
    and each direct report's rolled-up totals, adjustments, target and attainment. Open
    opportunities count by expected close date, closed ones by the day they closed
    (workspace time zone). Another person's forecast you may not see answers 404."""
    result = forecasts.forecast(user=request.auth, period=parse_period(period), person_key=user_id)
    return forecast_out(result)


@router.post(
    "/forecasts/adjustments",
    response={201: AdjustmentOut, **WRITE_ERRORS},
    summary="Adjust a forecast",
)
def create_adjustment(request: HttpRequest, payload: AdjustmentIn) -> Status:
    """A manager's own figure for someone's (rolled-up) number in one category; the rep's
    number is kept as it is and both are shown. Needs the *adjust* right over that person."""
    adjustment = forecasts.adjust_forecast(
        user=request.auth,
        period=parse_period(payload.period),
        person_key=payload.user_id,
        category=payload.category,
        amount=payload.amount,
        note=payload.note,
    )
    member = _members(request.auth, {adjustment.user_id}).get(adjustment.user_id)
    return Status(
        201,
        {
            "id": adjustment.public_id,
            "period": adjustment.period,
            "user_id": member,
            "category": adjustment.category,
            "amount": adjustment.amount,
            "currency": adjustment.currency,
            "adjusted_by": request.auth.user.username,
            "note": adjustment.note,
            "adjusted_at": adjustment.adjusted_at,
        },
    )


@router.get(
    "/forecasts/adjustments",
    response={200: list[AdjustmentOut], **ERRORS},
    summary="Adjustments of a forecast",
)
def list_adjustments(request: HttpRequest, period: str, user_id: str | None = None) -> list:
    """Every adjustment of one person's forecast in a period, oldest first (the history)."""
    membership: Membership = request.auth
    key = parse_period(period).key
    tree = forecasts.load_tree(membership.workspace_id)
    person = forecasts.person_for(membership, tree, user_id)
    rows = (
        ForecastAdjustment.objects.for_workspace(membership.workspace_id)
        .filter(period=key, user_id=person.user_id)
        .select_related("adjusted_by")
        .order_by("adjusted_at", "id")
    )
    return [
        {
            "id": a.public_id,
            "period": a.period,
            "user_id": person.public_id,
            "category": a.category,
            "amount": a.amount,
            "currency": a.currency,
            "adjusted_by": a.adjusted_by.username if a.adjusted_by_id else None,
            "note": a.note,
            "adjusted_at": a.adjusted_at,
        }
        for a in rows
    ]


@router.post(
    "/forecasts/snapshots",
    response={201: SnapshotOut, **WRITE_ERRORS},
    summary="Snapshot the forecast",
)
def create_snapshot(request: HttpRequest, payload: SnapshotIn) -> Status:
    """Store everyone's numbers for the period as they stand now, for forecast accuracy.
    For those with the *adjust* right (managers, administrators)."""
    snapshot = forecasts.snapshot_forecast(user=request.auth, period=parse_period(payload.period))
    return Status(
        201,
        {
            "id": snapshot.public_id,
            "period": snapshot.period,
            "taken_at": snapshot.taken_at,
            "kind": snapshot.kind,
            "lines": snapshot.line_count,
        },
    )


# --- targets ----------------------------------------------------------------------------------
class TargetFilters(Schema):
    period: str | None = Field(None, description="2026-12 or 2026-Q4")
    user_id: str | None = None
    team_id: str | None = None


@router.get("/targets", response={200: list[TargetOut], **ERRORS}, summary="List targets")
def list_targets(request: HttpRequest, filters: TargetFilters = Query(...)) -> list:  # noqa: B008
    """Targets you may see (at most 500), with what was won against each."""
    rows = forecasts.targets(user=request.auth)
    if filters.period:
        rows = rows.filter(period=parse_period(filters.period).key)
    if filters.user_id:
        rows = rows.filter(user__memberships__public_id=filters.user_id)
    if filters.team_id:
        rows = rows.filter(team__public_id=filters.team_id)
    return _targets_out(request.auth, list(rows.order_by("period", "id")[:MAX_TARGETS]))


@router.post("/targets", response={201: TargetOut, **WRITE_ERRORS}, summary="Set a target")
def create_target(request: HttpRequest, payload: TargetIn) -> Status:
    """A quota for one person (`user_id`) or one team (`team_id`) and one period."""
    target = forecasts.create_target(
        user=request.auth,
        period=parse_period(payload.period),
        amount=payload.amount,
        currency=payload.currency,
        person_key=payload.user_id,
        team_public_id=payload.team_id,
    )
    return Status(201, _targets_out(request.auth, [_target(request, target.public_id)])[0])


@router.get("/targets/{target_id}", response={200: TargetOut, **ERRORS}, summary="One target")
def get_target(request: HttpRequest, target_id: str, response: HttpResponse) -> dict:
    target = _target(request, target_id)
    with_etag(response, target)
    return _targets_out(request.auth, [target])[0]


@router.patch(
    "/targets/{target_id}", response={200: TargetOut, **WRITE_ERRORS}, summary="Change a target"
)
def update_target(
    request: HttpRequest, target_id: str, payload: TargetUpdate, response: HttpResponse
) -> dict:
    """Change the amount or currency; send the version you read."""
    target = _target(request, target_id, action="change")
    if "amount" in payload.model_fields_set and payload.amount is None:
        raise ValidationFailed([("amount", "must not be null")])
    target = forecasts.update_target(
        target=target,
        by=request.user,
        expected_version=expected_version(
            if_match=request.headers.get("If-Match"), body_version=payload.version
        ),
        amount=payload.amount,
        currency=payload.currency,
    )
    with_etag(response, target)
    return _targets_out(request.auth, [target])[0]


@router.delete("/targets/{target_id}", response={204: None, **ERRORS}, summary="Delete a target")
def delete_target(request: HttpRequest, target_id: str) -> Status:
    forecasts.delete_target(target=_target(request, target_id, action="delete"), by=request.user)
    return Status(204, None)

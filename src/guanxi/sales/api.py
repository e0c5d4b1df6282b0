"""Sales endpoints: pipelines with their stages, opportunities and their stage history."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from guanxi.customers.models import Account, Contact
from guanxi.platform.apiframework import CursorPage, Problem, keyset_page, with_etag
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import Membership, Team, User
from guanxi.platform.versioning import expected_version
from guanxi.platform.visibility import get_visible_or_404, require_add
from guanxi.sales import selectors, services
from guanxi.sales.models import Opportunity, Pipeline, Stage, StageChange

router = Router(tags=["sales"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
WRITE_ERRORS = {**ERRORS, 428: Problem}


# --- schemas ----------------------------------------------------------------------------------
class StageOut(Schema):
    id: str
    key: str
    name: str
    position: int
    probability: int = Field(description="Default win probability, 0–100.")
    forecast_category: str = Field(description="pipeline, best_case, commit, closed or omitted")
    is_won: bool
    is_closed: bool


class PipelineOut(Schema):
    id: str
    key: str
    name: str
    is_default: bool
    position: int
    stages: list[StageOut]
    version: int


class OpportunityIn(Schema):
    name: str = Field(min_length=1, max_length=300)
    account_id: str = Field(description="The account the deal is with.")
    contact_id: str | None = None
    pipeline: str | None = Field(None, description="Pipeline key; default: the default one.")
    stage: str | None = Field(None, description="Stage key; default: the first open stage.")
    amount: Decimal = Field(Decimal(0), description="Non-negative, at most 2 decimals.")
    currency: str | None = Field(None, description="ISO 4217; default: the workspace's.")
    probability: int | None = Field(None, description="0–100; default: the stage's.")
    expected_close_date: date | None = None
    next_step: str = Field("", max_length=300)
    competitors: str = ""
    loss_reason: str = Field("", description="Required in a closed-lost stage.")
    lead_source: str = Field("", max_length=100)
    owner: str | None = Field(None, description="Username of the owner; default: you.")
    team: str | None = Field(None, description="Team id; default: the owner's team.")


class OpportunityUpdate(Schema):
    name: str | None = None
    account_id: str | None = None
    contact_id: str | None = None
    pipeline: str | None = Field(None, description="Pipeline key; give `stage` with it.")
    stage: str | None = Field(None, description="Stage key: moves the opportunity.")
    reason: str | None = Field(
        None, description="Why it moves; required to take a won opportunity out of its stage."
    )
    amount: Decimal | None = None
    currency: str | None = None
    probability: int | None = None
    expected_close_date: date | None = None
    next_step: str | None = None
    competitors: str | None = None
    loss_reason: str | None = None
    lead_source: str | None = None
    owner: str | None = None
    team: str | None = None
    version: int | None = None


class StageRef(Schema):
    key: str
    name: str


class OpportunityOut(Schema):
    id: str
    name: str
    account_id: str
    account_name: str
    contact_id: str | None
    pipeline: str
    stage: StageRef
    forecast_category: str
    is_won: bool
    is_closed: bool
    amount: Decimal
    currency: str
    probability: int
    expected_close_date: date | None
    next_step: str
    competitors: str
    loss_reason: str
    lead_source: str
    owner: str | None
    team: str | None
    closed_at: datetime | None
    created_at: datetime
    updated_at: datetime
    version: int


class StageChangeOut(Schema):
    id: str
    from_stage: StageRef | None
    to_stage: StageRef
    changed_at: datetime
    changed_by: str | None
    amount: Decimal
    currency: str
    probability: int
    reason: str


def _stage_ref(stage: Stage) -> dict[str, str]:
    return {"key": stage.key, "name": stage.display_name}


def _stage_out(stage: Stage) -> dict[str, Any]:
    return {
        "id": stage.public_id,
        "key": stage.key,
        "name": stage.display_name,
        "position": stage.position,
        "probability": stage.probability,
        "forecast_category": stage.forecast_category,
        "is_won": stage.is_won,
        "is_closed": stage.is_closed,
    }


def _pipeline_out(pipeline: Pipeline) -> dict[str, Any]:
    return {
        "id": pipeline.public_id,
        "key": pipeline.key,
        "name": pipeline.display_name,
        "is_default": pipeline.is_default,
        "position": pipeline.position,
        "stages": [_stage_out(stage) for stage in pipeline.stages.all()],
        "version": pipeline.version,
    }


def opportunity_out(opportunity: Opportunity) -> dict[str, Any]:
    stage = opportunity.stage
    return {
        "id": opportunity.public_id,
        "name": opportunity.name,
        "account_id": opportunity.account.public_id,
        "account_name": opportunity.account.name,
        "contact_id": opportunity.contact.public_id if opportunity.contact_id else None,
        "pipeline": opportunity.pipeline.key,
        "stage": _stage_ref(stage),
        "forecast_category": stage.forecast_category,
        "is_won": stage.is_won,
        "is_closed": stage.is_closed,
        "amount": opportunity.amount,
        "currency": opportunity.currency,
        "probability": opportunity.probability,
        "expected_close_date": opportunity.expected_close_date,
        "next_step": opportunity.next_step,
        "competitors": opportunity.competitors,
        "loss_reason": opportunity.loss_reason,
        "lead_source": opportunity.lead_source,
        "owner": opportunity.owner.username if opportunity.owner_id else None,
        "team": opportunity.team.public_id if opportunity.team_id else None,
        "closed_at": opportunity.closed_at,
        "created_at": opportunity.created_at,
        "updated_at": opportunity.updated_at,
        "version": opportunity.version,
    }


def _stage_change_out(change: StageChange) -> dict[str, Any]:
    return {
        "id": change.public_id,
        "from_stage": _stage_ref(change.from_stage) if change.from_stage_id else None,
        "to_stage": _stage_ref(change.to_stage),
        "changed_at": change.changed_at,
        "changed_by": change.changed_by.username if change.changed_by_id else None,
        "amount": change.amount,
        "currency": change.currency,
        "probability": change.probability,
        "reason": change.reason,
    }


# --- helpers ----------------------------------------------------------------------------------
def _owner(membership: Membership, username: str) -> User:
    member = (
        Membership.objects.for_workspace(membership.workspace_id)
        .select_related("user")
        .filter(user__username=username, is_active=True)
        .first()
    )
    if member is None:
        raise ValidationFailed([("owner", f"no active member {username!r} in this workspace")])
    return member.user


def _team(membership: Membership, public_id: str) -> Team:
    team = Team.objects.for_workspace(membership.workspace_id).filter(public_id=public_id).first()
    if team is None:
        raise ValidationFailed([("team", f"no team {public_id!r} in this workspace")])
    return team


def _account(membership: Membership, public_id: str) -> Account:
    """An account the caller may see; an invisible one is as good as missing."""
    account = Account.objects.visible_to(membership, "view").filter(public_id=public_id).first()
    if account is None:
        raise ValidationFailed([("account_id", f"no account {public_id!r}")])
    return account


def _contact(membership: Membership, public_id: str | None) -> Contact | None:
    if public_id is None:
        return None
    contact = Contact.objects.visible_to(membership, "view").filter(public_id=public_id).first()
    if contact is None:
        raise ValidationFailed([("contact_id", f"no contact {public_id!r}")])
    return contact


def _pipeline(membership: Membership, key: str) -> Pipeline:
    pipeline = Pipeline.objects.visible_to(membership, "view").filter(key=key).first()
    if pipeline is None:
        raise ValidationFailed([("pipeline", f"no pipeline {key!r}")])
    return pipeline


def _stage(pipeline: Pipeline, key: str) -> Stage:
    stages = Stage.objects.for_workspace(pipeline.workspace_id).filter(pipeline=pipeline)
    stage = stages.filter(key=key).first()
    if stage is None:
        known = ", ".join(stages.order_by("position", "id").values_list("key", flat=True))
        raise ValidationFailed(
            [("stage", f"no stage {key!r} in pipeline {pipeline.key!r}; stages: {known}")]
        )
    return stage


def _opportunity(request: HttpRequest, opportunity_id: str, action: str = "view") -> Opportunity:
    return get_visible_or_404(
        Opportunity,
        user=request.auth,
        public_id=opportunity_id,
        action=action,
        queryset=selectors.opportunities(user=request.auth),
    )


def _reloaded(opportunity: Opportunity) -> Opportunity:
    return (
        Opportunity.objects.for_workspace(opportunity.workspace_id)
        .select_related("account", "contact", "pipeline", "stage", "owner", "team")
        .get(pk=opportunity.pk)
    )


# --- pipelines --------------------------------------------------------------------------------
@router.get("/pipelines", response={200: list[PipelineOut], **ERRORS}, summary="List pipelines")
def list_pipelines(request: HttpRequest) -> list[dict]:
    """Every pipeline you may see with its stages, in order."""
    return [_pipeline_out(p) for p in selectors.pipelines(user=request.auth)]


@router.get("/pipelines/{pipeline_id}", response={200: PipelineOut, **ERRORS}, summary="Pipeline")
def get_pipeline(request: HttpRequest, pipeline_id: str, response: HttpResponse) -> dict:
    pipeline = get_visible_or_404(
        Pipeline,
        user=request.auth,
        public_id=pipeline_id,
        queryset=selectors.pipelines(user=request.auth),
    )
    with_etag(response, pipeline)
    return _pipeline_out(pipeline)


# --- opportunities ----------------------------------------------------------------------------
class OpportunityFilters(Schema):
    pipeline: str | None = Field(None, description="Pipeline key")
    stage: str | None = Field(None, description="Stage key")
    owner: str | None = Field(None, description="`me` or a username")
    account_id: str | None = None
    contact_id: str | None = None
    status: Literal["open", "closed", "won", "lost"] | None = None
    close_after: date | None = Field(None, description="Expected close on or after")
    close_before: date | None = Field(None, description="Expected close on or before")
    sort: Literal["created_at", "-created_at", "updated_at", "-updated_at", "amount", "-amount"] = (
        "-created_at"
    )
    cursor: str | None = None
    limit: int | None = None


@router.get(
    "/opportunities",
    response={200: CursorPage[OpportunityOut], **ERRORS},
    summary="List opportunities",
)
def list_opportunities(request: HttpRequest, filters: OpportunityFilters = Query(...)) -> dict:  # noqa: B008
    membership: Membership = request.auth
    queryset = selectors.filter_opportunities(
        selectors.opportunities(user=membership),
        user_id=membership.user_id,
        **filters.dict(exclude={"sort", "cursor", "limit"}),
    )
    rows, next_cursor = keyset_page(
        queryset,
        ordering=selectors.ORDERINGS[filters.sort],
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [opportunity_out(row) for row in rows], "next_cursor": next_cursor}


@router.post(
    "/opportunities",
    response={201: OpportunityOut, **WRITE_ERRORS},
    summary="Create an opportunity",
)
def create_opportunity(request: HttpRequest, payload: OpportunityIn) -> Status:
    """Probability comes from the stage unless given; currency from the workspace."""
    membership: Membership = request.auth
    require_add(membership, Opportunity.object_type)
    pipeline = _pipeline(membership, payload.pipeline) if payload.pipeline else None
    stage = None
    if payload.stage:
        pipeline = pipeline or services.default_pipeline(membership.workspace)
        if pipeline is None:
            raise ValidationFailed([("pipeline", "this workspace has no pipeline")])
        stage = _stage(pipeline, payload.stage)
    opportunity = services.create_opportunity(
        workspace=membership.workspace,
        by=request.user,
        account=_account(membership, payload.account_id),
        contact=_contact(membership, payload.contact_id),
        pipeline=pipeline,
        stage=stage,
        owner=_owner(membership, payload.owner) if payload.owner else None,
        team=_team(membership, payload.team) if payload.team else None,
        **payload.dict(exclude={"account_id", "contact_id", "pipeline", "stage", "owner", "team"}),
    )
    return Status(201, opportunity_out(_reloaded(opportunity)))


@router.get(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityOut, **ERRORS},
    summary="One opportunity",
)
def get_opportunity(request: HttpRequest, opportunity_id: str, response: HttpResponse) -> dict:
    opportunity = _opportunity(request, opportunity_id)
    with_etag(response, opportunity)
    return opportunity_out(opportunity)


@router.patch(
    "/opportunities/{opportunity_id}",
    response={200: OpportunityOut, **WRITE_ERRORS},
    summary="Change or move an opportunity",
)
def update_opportunity(
    request: HttpRequest, opportunity_id: str, payload: OpportunityUpdate, response: HttpResponse
) -> dict:
    """Send the version you read (If-Match or `version`). `stage` moves it and writes the
    stage history; moving a won opportunity out of its stage needs the "reopen" right and a
    `reason`; a closed-lost stage needs `loss_reason`."""
    membership: Membership = request.auth
    opportunity = _opportunity(request, opportunity_id, action="change")
    given = payload.model_fields_set
    changes = payload.dict(
        exclude_unset=True,
        exclude={"version", "account_id", "contact_id", "pipeline", "stage", "owner", "team"},
    )
    for field in ("name", "amount", "currency"):
        if field in changes and changes[field] is None:
            raise ValidationFailed([(field, "must not be null")])
    if "account_id" in given:
        if payload.account_id is None:
            raise ValidationFailed([("account_id", "an opportunity needs an account")])
        changes["account"] = _account(membership, payload.account_id)
    if "contact_id" in given:
        changes["contact"] = _contact(membership, payload.contact_id)
    pipeline = opportunity.pipeline
    if payload.pipeline:
        pipeline = _pipeline(membership, payload.pipeline)
        changes["pipeline"] = pipeline
    if payload.stage:
        changes["stage"] = _stage(pipeline, payload.stage)
    if "owner" in given:
        changes["owner"] = _owner(membership, payload.owner) if payload.owner else None
    if "team" in given:
        changes["team"] = _team(membership, payload.team) if payload.team else None
    opportunity = services.update_opportunity(
        opportunity=opportunity,
        by=request.user,
        expected_version=expected_version(
            if_match=request.headers.get("If-Match"), body_version=payload.version
        ),
        **changes,
    )
    opportunity = _reloaded(opportunity)
    with_etag(response, opportunity)
    return opportunity_out(opportunity)


@router.delete("/opportunities/{opportunity_id}", response={204: None, **ERRORS}, summary="Delete")
def delete_opportunity(request: HttpRequest, opportunity_id: str) -> Status:
    opportunity = _opportunity(request, opportunity_id, action="delete")
    services.delete_opportunity(opportunity=opportunity, by=request.user)
    return Status(204, None)


@router.get(
    "/opportunities/{opportunity_id}/stages",
    response={200: list[StageChangeOut], **ERRORS},
    summary="Stage history",
)
def stage_history(request: HttpRequest, opportunity_id: str) -> list[dict]:
    """Every stage the opportunity entered, oldest first, with its amount and probability
    at that moment."""
    opportunity = _opportunity(request, opportunity_id)
    return [_stage_change_out(c) for c in selectors.stage_history(opportunity=opportunity)]


# --- customer 360 -----------------------------------------------------------------------------
PANEL_ROWS = 10


def open_opportunities_panel(*, customer: Account | Contact, user: Any) -> list[dict]:
    rows = selectors.open_opportunities(customer=customer, user=user)[:PANEL_ROWS]
    return [
        {
            "id": row.public_id,
            "name": row.name,
            "stage": _stage_ref(row.stage),
            "amount": str(row.amount),
            "currency": row.currency,
            "expected_close_date": (
                row.expected_close_date.isoformat() if row.expected_close_date else None
            ),
        }
        for row in rows
    ]

"""Every write of the sales app: default pipelines, opportunities and their stage moves.
Keyword-only, typed, one transaction each."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Account, Contact
from guanxi.platform.audit import record_audit
from guanxi.platform.errors import Forbidden, ValidationFailed
from guanxi.platform.ids import new_public_id
from guanxi.platform.models import Membership, Team, User, Workspace
from guanxi.platform.permissions import Scope
from guanxi.platform.versioning import save_versioned
from guanxi.platform.visibility import can, resolve_membership
from guanxi.sales.models import ENGLISH_NAMES, Opportunity, Pipeline, Stage, StageChange
from guanxi.sales.permissions import REOPEN

# --- pipelines --------------------------------------------------------------------------------
# key, probability, forecast category, won, closed — REQUIREMENTS §2.1
DEFAULT_STAGES: list[tuple[str, int, str, bool, bool]] = [
    ("qualification", 10, Stage.ForecastCategory.PIPELINE, False, False),
    ("needs_analysis", 20, Stage.ForecastCategory.PIPELINE, False, False),
    ("proposal", 50, Stage.ForecastCategory.BEST_CASE, False, False),
    ("negotiation", 80, Stage.ForecastCategory.COMMIT, False, False),
    ("closed_won", 100, Stage.ForecastCategory.CLOSED, True, True),
    ("closed_lost", 0, Stage.ForecastCategory.OMITTED, False, True),
]


@transaction.atomic
def create_default_pipeline(*, workspace: Workspace, by: User | None = None) -> Pipeline:
    """The "Sales" pipeline every workspace starts with (kept if it exists). Names are
    stored in English and shown translated (``models.display_name``)."""
    existing = Pipeline.objects.for_workspace(workspace).filter(key="sales").first()
    if existing is not None:
        return existing
    has_default = Pipeline.objects.for_workspace(workspace).filter(is_default=True).exists()
    pipeline = Pipeline(
        workspace=workspace,
        key="sales",
        name=ENGLISH_NAMES["pipeline:sales"],
        is_default=not has_default,
        created_by=by,
        updated_by=by,
    )
    pipeline.save()
    now = timezone.now()
    Stage.objects.bulk_create(
        Stage(
            workspace=workspace,
            public_id=new_public_id(Stage.public_id_prefix),
            pipeline=pipeline,
            key=key,
            name=ENGLISH_NAMES[f"stage:{key}"],
            position=position,
            probability=probability,
            forecast_category=category,
            is_won=won,
            is_closed=closed,
            created_at=now,
            updated_at=now,
            created_by=by,
            updated_by=by,
        )
        for position, (key, probability, category, won, closed) in enumerate(DEFAULT_STAGES)
    )
    return pipeline


def default_pipeline(workspace: Workspace | int) -> Pipeline | None:
    pipelines = Pipeline.objects.for_workspace(workspace).order_by("-is_default", "position", "id")
    return pipelines.first()


def first_open_stage(pipeline: Pipeline) -> Stage | None:
    return (
        Stage.objects.for_workspace(pipeline.workspace_id)
        .filter(pipeline=pipeline, is_closed=False)
        .order_by("position", "id")
        .first()
    )


# --- opportunities ----------------------------------------------------------------------------
OPPORTUNITY_TEXT_FIELDS = ("next_step", "competitors", "loss_reason", "lead_source")
CURRENCY = re.compile(r"^[A-Z]{3}$")


def _membership(workspace: Workspace | int, user: User | None) -> Membership | None:
    if user is None:
        return None
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    membership = resolve_membership(user)
    if membership is not None and membership.workspace_id == workspace_id:
        return membership
    return (
        Membership.objects.for_workspace(workspace_id)
        .select_related("role", "workspace")
        .filter(user=user, is_active=True)
        .first()
    )


def _clean_amount(value: Any, errors: list[tuple[str, str]]) -> Decimal | None:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append(("amount", _("must be a number")))
        return None
    if not amount.is_finite():
        errors.append(("amount", _("must be a number")))
    elif amount < 0:
        errors.append(("amount", _("must not be negative")))
    elif amount.as_tuple().exponent < -2:  # type: ignore[operator]
        errors.append(("amount", _("use at most two decimal places")))
    elif abs(amount) >= Decimal(10) ** 16:
        errors.append(("amount", _("is too large")))
    else:
        return amount
    return None


def _clean_currency(value: Any, errors: list[tuple[str, str]]) -> str | None:
    code = str(value or "").strip().upper()
    if not CURRENCY.match(code):
        errors.append(("currency", _("must be a three-letter ISO 4217 code, e.g. CNY or USD")))
        return None
    return code


def _clean_probability(value: Any, errors: list[tuple[str, str]]) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= 100:
        errors.append(("probability", _("must be a whole number from 0 to 100")))
        return None
    return value


def _check_customers(
    workspace: Workspace, account: Account | None, contact: Contact | None
) -> list[tuple[str, str]]:
    # Another workspace's records answer like missing ones: their ids must not leak.
    errors = []
    if account is None or account.workspace_id != workspace.pk or account.is_deleted:
        errors.append(("account_id", _("no such account")))
    if contact is not None and (contact.workspace_id != workspace.pk or contact.is_deleted):
        errors.append(("contact_id", _("no such contact")))
    return errors


def _owner_and_team(
    workspace: Workspace, *, owner: User | None, team: Team | None
) -> tuple[User | None, Team | None]:
    member = _membership(workspace, owner)
    errors = []
    if owner is not None and member is None:
        errors.append(("owner", _("is not an active member of this workspace")))
    if team is not None and team.workspace_id != workspace.pk:
        errors.append(("team", _("no such team")))
    if errors:
        raise ValidationFailed(errors)
    if team is None and member is not None and member.team_id:
        team = member.team
    return owner, team


def _record_move(
    opportunity: Opportunity, *, from_stage: Stage | None, by: User | None, reason: str = ""
) -> StageChange:
    change = StageChange(
        workspace_id=opportunity.workspace_id,
        opportunity=opportunity,
        from_stage=from_stage,
        to_stage=opportunity.stage,
        changed_at=opportunity.updated_at if from_stage is not None else opportunity.created_at,
        changed_by=by,
        amount=opportunity.amount,
        currency=opportunity.currency,
        probability=opportunity.probability,
        reason=reason,
        created_by=by,
        updated_by=by,
    )
    change.save()
    return change


@transaction.atomic
def create_opportunity(
    *,
    workspace: Workspace,
    by: User | None,
    name: str,
    account: Account,
    contact: Contact | None = None,
    pipeline: Pipeline | None = None,
    stage: Stage | None = None,
    amount: Decimal | int | str = 0,
    currency: str | None = None,
    probability: int | None = None,
    expected_close_date: date | None = None,
    owner: User | None = None,
    team: Team | None = None,
    **fields: str,
) -> Opportunity:
    """A new opportunity in ``stage`` (default: the pipeline's first open stage), its
    probability from the stage unless given, its currency the workspace's unless given."""
    unknown = set(fields) - set(OPPORTUNITY_TEXT_FIELDS)
    if unknown:
        raise ValidationFailed([(field, _("unknown field")) for field in sorted(unknown)])
    errors = _check_customers(workspace, account, contact)
    if not (name or "").strip():
        errors.append(("name", _("must not be empty")))
    amount = _clean_amount(amount, errors)
    currency = _clean_currency(workspace.currency if currency is None else currency, errors)
    if probability is not None:
        probability = _clean_probability(probability, errors)
    if pipeline is None:
        pipeline = stage.pipeline if stage is not None else default_pipeline(workspace)
    if pipeline is None or pipeline.workspace_id != workspace.pk or pipeline.is_deleted:
        errors.append(("pipeline", _("no such pipeline")))
    elif stage is None:
        stage = first_open_stage(pipeline)
        if stage is None:
            errors.append(("stage", _("the pipeline has no open stage")))
    elif stage.pipeline_id != pipeline.pk or stage.is_deleted:
        errors.append(("stage", _("is not a stage of the pipeline %(pipeline)s")
                                % {"pipeline": pipeline.key}))  # fmt: skip
    fields = {key: (value or "").strip() for key, value in fields.items()}
    if stage is not None and stage.is_lost and not fields.get("loss_reason"):
        errors.append(("loss_reason", _("say why the opportunity was lost")))
    if errors:
        raise ValidationFailed(errors)
    assert stage is not None and pipeline is not None
    owner = owner or by
    if owner is not None and by is not None and owner.pk != by.pk:
        member = _membership(workspace, by)
        if member is None or member.scope_for(Opportunity.object_type, "assign") == Scope.NONE:
            raise Forbidden(action="assign", object_type=Opportunity.object_type)
    owner, team = _owner_and_team(workspace, owner=owner, team=team)
    opportunity = Opportunity(
        workspace=workspace,
        name=name.strip(),
        account=account,
        contact=contact,
        pipeline=pipeline,
        stage=stage,
        amount=amount,
        currency=currency,
        probability=_probability_for(stage, probability),
        expected_close_date=expected_close_date,
        owner=owner,
        team=team,
        closed_at=timezone.now() if stage.is_closed else None,
        created_by=by,
        updated_by=by,
        **fields,
    )
    opportunity.save()
    _record_move(opportunity, from_stage=None, by=by)
    record_audit(action="sales.opportunity.created", actor=by, workspace=workspace,
                 obj=opportunity, data={"stage": stage.key})  # fmt: skip
    return opportunity


def _probability_for(stage: Stage, given: int | None) -> int:
    # A closed deal is won or it is not: its probability is its stage's, so that forecasts
    # and win rates never count a lost deal at 30 %.
    if stage.is_closed or given is None:
        return stage.probability
    return given


def _check_move(
    opportunity: Opportunity, *, to: Stage, by: User | None, reason: str, loss_reason: str
) -> list[tuple[str, str]]:
    """Errors of a move to ``to``; Forbidden when leaving a won stage without "reopen"."""
    errors = []
    if to.pipeline_id != opportunity.pipeline_id or to.is_deleted:
        errors.append(("stage", _("is not a stage of the pipeline %(pipeline)s")
                                % {"pipeline": opportunity.pipeline.key}))  # fmt: skip
        return errors
    current = opportunity.stage
    if current.is_won and not to.is_won:
        # Un-winning a deal changes booked revenue: a right of its own and a stated reason.
        membership = _membership(opportunity.workspace_id, by)
        if membership is None or not can(membership, REOPEN, opportunity):
            raise Forbidden(action=REOPEN, object_type=opportunity.object_type)
        if not reason.strip():
            errors.append(("reason", _("say why a won opportunity is reopened")))
    if to.is_lost and not loss_reason.strip():
        errors.append(("loss_reason", _("say why the opportunity was lost")))
    return errors


def _apply_stage(opportunity: Opportunity, to: Stage, *, probability: int | None) -> None:
    opportunity.stage = to
    opportunity.probability = _probability_for(to, probability)
    opportunity.closed_at = timezone.now() if to.is_closed else None


UPDATABLE = (
    "name", "account", "contact", "pipeline", "stage", "amount", "currency", "probability",
    "expected_close_date", "owner", "team", "reason", *OPPORTUNITY_TEXT_FIELDS,
)  # fmt: skip


@transaction.atomic
def update_opportunity(
    *, opportunity: Opportunity, by: User, expected_version: int, **changes: Any
) -> Opportunity:
    """Change fields and, with ``stage`` (and ``pipeline`` to change pipelines), move the
    opportunity; ``reason`` explains the move. One save, one version, one history row."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValidationFailed([(field, _("cannot be changed")) for field in sorted(unknown)])
    workspace = opportunity.workspace
    reason = (changes.pop("reason", "") or "").strip()
    errors: list[tuple[str, str]] = []
    fields: set[str] = set()
    if "name" in changes:
        name = (changes.pop("name") or "").strip()
        if not name:
            errors.append(("name", _("must not be empty")))
        opportunity.name = name
    if "account" in changes or "contact" in changes:
        account = changes.pop("account", opportunity.account)
        contact = changes.pop("contact", opportunity.contact)
        errors += _check_customers(workspace, account, contact)
        opportunity.account, opportunity.contact = account, contact
        fields |= {"account", "contact"}
    if "amount" in changes:
        opportunity.amount = _clean_amount(changes.pop("amount"), errors)
    if "currency" in changes:
        opportunity.currency = _clean_currency(changes.pop("currency"), errors)
    probability = None
    if "probability" in changes:
        probability = _clean_probability(changes.pop("probability"), errors)
    if "expected_close_date" in changes:
        opportunity.expected_close_date = changes.pop("expected_close_date")
    for field in OPPORTUNITY_TEXT_FIELDS:
        if field in changes:
            setattr(opportunity, field, (changes.pop(field) or "").strip())
            fields.add(field)
    from_stage = opportunity.stage
    pipeline = changes.pop("pipeline", None)
    stage = changes.pop("stage", None)
    if pipeline is not None and pipeline.pk != opportunity.pipeline_id:
        if pipeline.workspace_id != workspace.pk or pipeline.is_deleted:
            errors.append(("pipeline", _("no such pipeline")))
        elif stage is None:
            errors.append(("stage", _("give a stage of the new pipeline")))
        else:
            opportunity.pipeline = pipeline
    moved = stage is not None and stage.pk != from_stage.pk
    if stage is not None:
        errors += _check_move(opportunity, to=stage, by=by, reason=reason,
                              loss_reason=opportunity.loss_reason)  # fmt: skip
    elif opportunity.stage.is_lost and "loss_reason" in fields and not opportunity.loss_reason:
        errors.append(("loss_reason", _("say why the opportunity was lost")))
    if errors:
        raise ValidationFailed(errors)
    if moved:
        _apply_stage(opportunity, stage, probability=probability)
    elif probability is not None:
        if opportunity.stage.is_closed and probability != opportunity.stage.probability:
            raise ValidationFailed([("probability", _("a closed opportunity's probability is "
                                     "its stage's"))])  # fmt: skip
        opportunity.probability = probability
    if "owner" in changes or "team" in changes:
        owner = changes.pop("owner", opportunity.owner)
        team = changes.pop("team", opportunity.team)
        if owner != opportunity.owner and not can(
            _membership(workspace, by) or by, "assign", opportunity
        ):
            raise Forbidden(action="assign", object_type=opportunity.object_type)
        opportunity.owner, opportunity.team = _owner_and_team(workspace, owner=owner, team=team)
    save_versioned(opportunity, expected_version=expected_version, by=by)
    if moved:
        _record_move(opportunity, from_stage=from_stage, by=by, reason=reason)
        action = "sales.opportunity.reopened" if from_stage.is_won else "sales.opportunity.moved"
        record_audit(action=action, actor=by, workspace=workspace, obj=opportunity,
                     data={"from": from_stage.key, "to": opportunity.stage.key,
                           "reason": reason})  # fmt: skip
    return opportunity


def move_stage(
    *,
    opportunity: Opportunity,
    stage: Stage,
    by: User,
    expected_version: int,
    reason: str = "",
    loss_reason: str | None = None,
    probability: int | None = None,
) -> Opportunity:
    """Move to another stage of the opportunity's pipeline, recording the move."""
    changes: dict[str, Any] = {"stage": stage, "reason": reason}
    if loss_reason is not None:
        changes["loss_reason"] = loss_reason
    if probability is not None:
        changes["probability"] = probability
    return update_opportunity(
        opportunity=opportunity, by=by, expected_version=expected_version, **changes
    )


@transaction.atomic
def delete_opportunity(*, opportunity: Opportunity, by: User) -> None:
    """Soft delete: gone from lists and panels; its history and stage moves stay."""
    opportunity.deleted_at, opportunity.deleted_by = timezone.now(), by
    opportunity.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="sales.opportunity.deleted", actor=by, obj=opportunity)

"""Reads of the sales app, visibility applied first."""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db.models import Prefetch, Q, QuerySet

from guanxi.customers.models import Contact, Customer
from guanxi.sales.models import Opportunity, Pipeline, Stage, StageChange

ORDERINGS = {
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
    "amount": ("amount", "id"),
    "-amount": ("-amount", "-id"),
}
DEFAULT_ORDERING = ORDERINGS["-created_at"]


def pipelines(*, user: Any) -> QuerySet[Pipeline]:
    """Pipelines the caller may see, each with its live stages in order."""
    stages = Stage.objects.order_by("position", "id")  # the active workspace's
    return (
        Pipeline.objects.visible_to(user, "view")
        .prefetch_related(Prefetch("stages", queryset=stages))
        .order_by("position", "id")
    )


def opportunities(*, user: Any, action: str = "view") -> QuerySet[Opportunity]:
    return Opportunity.objects.visible_to(user, action).select_related(
        "account", "contact", "pipeline", "stage", "owner", "team"
    )


def filter_opportunities(
    queryset: QuerySet[Opportunity],
    *,
    user_id: int,
    pipeline: str | None = None,
    stage: str | None = None,
    owner: str | None = None,
    account_id: str | None = None,
    contact_id: str | None = None,
    status: str | None = None,
    close_after: date | None = None,
    close_before: date | None = None,
) -> QuerySet[Opportunity]:
    """The list's filters; each narrows what the caller may already see."""
    if pipeline:
        queryset = queryset.filter(pipeline__key=pipeline)
    if stage:
        queryset = queryset.filter(stage__key=stage)
    if owner == "me":
        queryset = queryset.filter(owner_id=user_id)
    elif owner:
        queryset = queryset.filter(owner__username=owner)
    if account_id:
        queryset = queryset.filter(account__public_id=account_id)
    if contact_id:
        queryset = queryset.filter(contact__public_id=contact_id)
    if status == "open":
        queryset = queryset.filter(stage__is_closed=False)
    elif status == "closed":
        queryset = queryset.filter(stage__is_closed=True)
    elif status == "won":
        queryset = queryset.filter(stage__is_won=True)
    elif status == "lost":
        queryset = queryset.filter(stage__is_closed=True, stage__is_won=False)
    if close_after:
        queryset = queryset.filter(expected_close_date__gte=close_after)
    if close_before:
        queryset = queryset.filter(expected_close_date__lte=close_before)
    return queryset


def stage_history(*, opportunity: Opportunity) -> QuerySet[StageChange]:
    """Moves of an opportunity the caller can already see, oldest first."""
    return (
        StageChange.objects.for_workspace(opportunity.workspace_id)
        .filter(opportunity=opportunity)
        .select_related("from_stage", "to_stage", "changed_by")
        .order_by("changed_at", "id")
    )


def open_opportunities(*, customer: Customer, user: Any) -> QuerySet[Opportunity]:
    """A customer's open opportunities the caller may see, closing soonest first."""
    field = "contact" if isinstance(customer, Contact) else "account"
    return (
        Opportunity.objects.visible_to(user, "view")
        .filter(Q(**{field: customer}), stage__is_closed=False)
        .select_related("stage")
        .order_by("expected_close_date", "id")
    )

"""Reads of the timeline. Interactions are visible with the customer they concern."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from guanxi.customers.models import Contact, Customer
from guanxi.timeline.models import Activity, Interaction


def timeline(*, customer: Customer, channels: list[str] | None = None) -> QuerySet[Interaction]:
    """Interactions of a customer the caller can already see, newest first. An account's
    timeline includes what was logged on its contacts while they were with it."""
    interactions = Interaction.objects.for_workspace(customer.workspace_id).select_related(
        "actor", "contact", "account"
    )
    if isinstance(customer, Contact):
        interactions = interactions.filter(contact=customer)
    else:
        interactions = interactions.filter(account=customer)
    if channels:
        interactions = interactions.filter(channel__in=channels)
    return interactions


def activities(*, user: Any, action: str = "view") -> QuerySet[Activity]:
    return Activity.objects.visible_to(user, action).select_related(
        "assigned_to", "contact", "account"
    )


def open_activities(*, customer: Customer, user: Any) -> QuerySet[Activity]:
    field = "contact" if isinstance(customer, Contact) else "account"
    return (
        activities(user=user)
        .filter(**{field: customer}, status=Activity.Status.OPEN)
        .order_by("due_at", "id")
    )


def customer_kind(customer: Customer) -> str:
    return "contact" if isinstance(customer, Contact) else "account"

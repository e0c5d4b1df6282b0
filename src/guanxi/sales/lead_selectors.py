"""Reads of leads, visibility applied first: the list with its filters, one lead's
timeline."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from guanxi.customers import normalize
from guanxi.sales.models import Lead
from guanxi.timeline.models import Activity, Interaction

ORDERINGS = {
    "-created_at": ("-created_at", "-id"),
    "created_at": ("created_at", "id"),
    "-score": ("-score", "-id"),
}
STATUS_GROUPS = {"open": Lead.OPEN_STATUSES}


def leads(*, user: Any, action: str = "view") -> QuerySet[Lead]:
    return Lead.objects.visible_to(user, action).select_related("owner", "team")


def filter_leads(
    queryset: QuerySet[Lead],
    *,
    user_id: int,
    status: str | None = None,
    owner: str | None = None,
    source: str | None = None,
    q: str | None = None,
) -> QuerySet[Lead]:
    """The list's filters, each narrowing what the caller may already see. ``status`` is a
    status or ``open``; ``owner`` is ``me``, ``none`` (unassigned) or a username; ``q``
    finds a name, company, phone or e-mail."""
    if status in STATUS_GROUPS:
        queryset = queryset.filter(status__in=STATUS_GROUPS[status])
    elif status:
        queryset = queryset.filter(status=status)
    if owner == "me":
        queryset = queryset.filter(owner_id=user_id)
    elif owner == "none":
        queryset = queryset.filter(owner__isnull=True)
    elif owner:
        queryset = queryset.filter(owner__username=owner)
    if source:
        queryset = queryset.filter(source=source)
    if q and q.strip():
        queryset = queryset.filter(_search(q.strip()))
    return queryset


def _search(q: str) -> Q:
    condition = (
        Q(display_name__icontains=q) | Q(company__icontains=q) | Q(email__icontains=q)
        | Q(family_name__icontains=q) | Q(given_name__icontains=q)
    )  # fmt: skip
    digits = "".join(ch for ch in normalize.normalize_query(q) if ch.isdigit())
    if len(digits) >= 4:
        condition |= Q(phone__contains=digits)
    return condition


def lead_timeline(*, lead: Lead, limit: int = 50) -> list[Interaction]:
    return list(
        Interaction.objects.for_workspace(lead.workspace_id)
        .filter(lead=lead)
        .select_related("actor")
        .order_by("-occurred_at", "-id")[:limit]
    )


def lead_activities(*, lead: Lead, limit: int = 20) -> list[Activity]:
    return list(
        Activity.objects.for_workspace(lead.workspace_id)
        .filter(lead=lead, status=Activity.Status.OPEN)
        .select_related("assigned_to")
        .order_by("due_at", "id")[:limit]
    )

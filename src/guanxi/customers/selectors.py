"""Reads of the customer master, visibility applied first."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db.models import Prefetch, QuerySet

from guanxi.customers.models import (
    Account,
    AccountContact,
    Address,
    Consent,
    Contact,
    ContactPoint,
    Customer,
)
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import Tag

SORTS = {
    "name": ("sort_key", "id"),
    "-name": ("-sort_key", "-id"),
    "created_at": ("created_at", "id"),
    "-created_at": ("-created_at", "-id"),
    "updated_at": ("updated_at", "id"),
    "-updated_at": ("-updated_at", "-id"),
}


def ordering_for(sort: str | None) -> tuple[str, ...]:
    if sort is None:
        return SORTS["name"]
    if sort not in SORTS:
        raise ValidationFailed([("query.sort", f"one of {', '.join(SORTS)}")])
    return SORTS[sort]


# Prefetched into plain lists (``to_attr``): Django then builds no queryset per record,
# which on a page of fifty customers with four relations was most of the time it took.
PREFETCHED = {
    "tags": "tag_list",
    "contact_points": "point_list",
    "addresses": "address_list",
    "memberships": "link_list",
}


def related(customer: Customer, name: str) -> list[Any]:
    """A customer's tags, contact points, addresses or account links: the prefetched list
    when the record came through ``with_*_details``, else a query."""
    prefetched = getattr(customer, PREFETCHED[name], None)
    if prefetched is not None:
        return prefetched
    return list(getattr(customer, name).all())


def _tags() -> Prefetch:
    return Prefetch(
        "tags", queryset=Tag.objects.dangerously_all_workspaces(), to_attr=PREFETCHED["tags"]
    )


def _points() -> Prefetch:
    return Prefetch(
        "contact_points",
        queryset=ContactPoint.objects.dangerously_all_workspaces().order_by(
            "kind", "-is_primary", "id"
        ),
        to_attr=PREFETCHED["contact_points"],
    )


def _addresses() -> Prefetch:
    return Prefetch(
        "addresses",
        queryset=Address.objects.dangerously_all_workspaces().order_by("-is_primary", "id"),
        to_attr=PREFETCHED["addresses"],
    )


def with_account_details(queryset: QuerySet[Account]) -> QuerySet[Account]:
    return queryset.select_related("owner", "team", "lifecycle_stage", "parent").prefetch_related(
        _tags(), _points(), _addresses()
    )


def accounts(*, user: Any, action: str = "view") -> QuerySet[Account]:
    return with_account_details(Account.objects.visible_to(user, action))


def contacts(*, user: Any, action: str = "view") -> QuerySet[Contact]:
    return with_contact_details(Contact.objects.visible_to(user, action))


def reloaded(customer: Customer) -> Customer:
    """The record with everything the API shows, after a write by someone allowed to make
    it — even when the write (a handover) took it out of that person's sight."""
    queryset = type(customer).objects.for_workspace(customer.workspace_id).filter(pk=customer.pk)
    details = with_contact_details if isinstance(customer, Contact) else with_account_details
    return details(queryset).get()


def _links() -> Prefetch:
    links = AccountContact.objects.dangerously_all_workspaces().filter(
        account__deleted_at__isnull=True
    )
    links = links.select_related("account").only(
        "contact_id", "account_id", "title", "role", "is_primary", "started_on", "ended_on",
        "public_id", "version", "account__public_id", "account__name", "account__workspace_id",
        "account__owner_id", "account__team_id",
    )  # fmt: skip
    return Prefetch("memberships", queryset=links, to_attr=PREFETCHED["memberships"])


PREFETCHERS = {
    "tags": _tags, "contact_points": _points, "addresses": _addresses, "memberships": _links,
}  # fmt: skip


def with_details(queryset: QuerySet, *, parts: Iterable[str]) -> QuerySet:
    """Owner, team and stage joined, plus only the related lists named in ``parts`` (of
    ``PREFETCHED``): a list page fetches what its columns show, nothing more."""
    queryset = queryset.select_related("owner", "team", "lifecycle_stage")
    if queryset.model is Contact:
        queryset = queryset.defer("search_document")
    return queryset.prefetch_related(*(PREFETCHERS[part]() for part in parts))


def with_contact_details(queryset: QuerySet[Contact]) -> QuerySet[Contact]:
    return with_details(queryset, parts=PREFETCHERS)


def filter_customers(
    queryset: QuerySet,
    *,
    owner: str | None = None,
    team: str | None = None,
    lifecycle_stage: str | None = None,
    value_tier: str | None = None,
    tag: str | None = None,
    external_id: str | None = None,
    created_after: datetime | None = None,
    created_before: datetime | None = None,
    updated_after: datetime | None = None,
    updated_before: datetime | None = None,
    custom: dict[str, str] | None = None,
) -> QuerySet:
    """The list filters shared by accounts and contacts. ``custom`` filters custom fields by
    exact value (``?cf.industry_segment=retail``)."""
    if owner:
        queryset = queryset.filter(owner__username=owner)
    if team:
        queryset = queryset.filter(team__public_id=team)
    if lifecycle_stage:
        queryset = queryset.filter(lifecycle_stage__key=lifecycle_stage)
    if value_tier:
        queryset = queryset.filter(value_tier=value_tier)
    if tag:
        queryset = queryset.filter(tags__name=tag)
    if external_id:
        queryset = queryset.filter(external_id=external_id)
    if created_after:
        queryset = queryset.filter(created_at__gte=created_after)
    if created_before:
        queryset = queryset.filter(created_at__lt=created_before)
    if updated_after:
        queryset = queryset.filter(updated_at__gte=updated_after)
    if updated_before:
        queryset = queryset.filter(updated_at__lt=updated_before)
    for key, value in (custom or {}).items():
        queryset = queryset.filter(**{f"custom_fields__{key}": _json_scalar(value)})
    return queryset


def _json_scalar(value: str) -> Any:
    lowered = value.lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    try:
        return int(value)
    except ValueError:
        pass
    try:
        return float(value)
    except ValueError:
        return value


def has_consent(*, contact_point: ContactPoint, purpose: str) -> bool:
    """May we use this contact point for this purpose? Marketing needs an explicit yes."""
    state = contact_point.consent_state.get(purpose) or {}
    return state.get("status") == Consent.Status.GRANTED


def customer_of(point: ContactPoint | Address) -> Customer:
    return point.contact or point.account

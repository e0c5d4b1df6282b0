"""Timeline endpoints: interactions (idempotent per channel event), customer timelines,
activities."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from guanxi.customers.api import _account, _contact, _customer, _owner
from guanxi.customers.models import Account, Contact
from guanxi.platform.apiframework import CursorPage, Problem, keyset_page, with_etag
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import Membership
from guanxi.platform.versioning import expected_version
from guanxi.platform.visibility import get_visible_or_404, require_add
from guanxi.timeline import selectors, services
from guanxi.timeline.models import Activity, Interaction

router = Router(tags=["timeline"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
WRITE_ERRORS = {**ERRORS, 428: Problem}


class CustomerRef(Schema):
    id: str
    display_name: str


class InteractionIn(Schema):
    contact_id: str | None = None
    account_id: str | None = None
    channel: str = Field(description="phone, email, sms, wechat, chat, web_form, visit, …")
    direction: Literal["inbound", "outbound", "internal"]
    occurred_at: datetime | None = Field(None, description="Default: now.")
    subject: str = Field("", max_length=300)
    body: str = ""
    reference: str = Field("", max_length=500)
    external_id: str = Field(
        "", max_length=200, description="The channel's event id: a repeat is stored once."
    )


class InteractionOut(Schema):
    id: str
    channel: str
    direction: str
    occurred_at: datetime
    actor: str | None
    contact: CustomerRef | None
    account: CustomerRef | None
    subject: str
    body: str
    reference: str
    external_id: str
    related_type: str
    related_id: str


def _ref(customer: Any) -> dict[str, str] | None:
    return {"id": customer.public_id, "display_name": str(customer)} if customer else None


def interaction_out(interaction: Interaction) -> dict[str, Any]:
    return {
        "id": interaction.public_id,
        "channel": interaction.channel,
        "direction": interaction.direction,
        "occurred_at": interaction.occurred_at,
        "actor": interaction.actor.username if interaction.actor_id else None,
        "contact": _ref(interaction.contact),
        "account": _ref(interaction.account),
        "subject": interaction.subject,
        "body": interaction.body,
        "reference": interaction.reference,
        "external_id": interaction.external_id,
        "related_type": interaction.related_type,
        "related_id": interaction.related_id,
    }


def _customers(request: HttpRequest, contact_id: str | None, account_id: str | None, action: str):
    """The contact/account named by id, visible to the caller, with ``action`` allowed."""
    contact = _contact(request, contact_id, action) if contact_id else None
    account = _account(request, account_id, "view") if account_id else None
    if contact is None and account is None:
        raise ValidationFailed([("contact_id", "give contact_id or account_id")])
    return contact, account


@router.post(
    "/interactions",
    response={200: InteractionOut, 201: InteractionOut, **WRITE_ERRORS},
    summary="Log an interaction",
    description="201 when stored; 200 with the stored one when the channel's external_id "
    "was seen before.",
)
def create_interaction(request: HttpRequest, payload: InteractionIn) -> Status:
    membership: Membership = request.auth
    require_add(membership, Interaction.object_type)
    contact, account = _customers(request, payload.contact_id, payload.account_id, "view")
    interaction, created = services.record_interaction(
        workspace=membership.workspace,
        by=request.user,
        contact=contact,
        account=account,
        **payload.dict(exclude={"contact_id", "account_id"}),
    )
    return Status(201 if created else 200, interaction_out(interaction))


@router.get(
    "/{kind}/{customer_id}/timeline",
    response={200: CursorPage[InteractionOut], **ERRORS},
    summary="A customer's timeline, newest first",
)
def customer_timeline(
    request: HttpRequest,
    kind: Literal["contacts", "accounts"],
    customer_id: str,
    channel: list[str] = Query(default=None),  # noqa: B008
    cursor: str | None = None,
    limit: int | None = None,
) -> dict:
    customer = _customer(request, kind, customer_id, "view")
    rows, next_cursor = keyset_page(
        selectors.timeline(customer=customer, channels=channel),
        ordering=("-occurred_at", "-id"),
        cursor=cursor,
        limit=limit,
    )
    return {"items": [interaction_out(row) for row in rows], "next_cursor": next_cursor}


# --- activities -------------------------------------------------------------------------------
class ActivityIn(Schema):
    kind: Literal["task", "call", "meeting", "visit"]
    subject: str = Field(min_length=1, max_length=300)
    description: str = ""
    assigned_to: str | None = Field(None, description="Username; default: you.")
    contact_id: str | None = None
    account_id: str | None = None
    due_at: datetime | None = None
    ends_at: datetime | None = None
    remind_at: datetime | None = None


class ActivityUpdate(Schema):
    subject: str | None = None
    description: str | None = None
    assigned_to: str | None = None
    due_at: datetime | None = None
    ends_at: datetime | None = None
    remind_at: datetime | None = None
    version: int | None = None


class ActivityComplete(Schema):
    outcome: str = ""
    completed_at: datetime | None = None
    cancelled: bool = False
    version: int | None = None


class ActivityOut(Schema):
    id: str
    kind: str
    subject: str
    description: str
    assigned_to: str
    contact: CustomerRef | None
    account: CustomerRef | None
    due_at: datetime | None
    ends_at: datetime | None
    remind_at: datetime | None
    status: str
    outcome: str
    completed_at: datetime | None
    interaction_id: str | None
    version: int


def activity_out(activity: Activity) -> dict[str, Any]:
    return {
        "id": activity.public_id,
        "kind": activity.kind,
        "subject": activity.subject,
        "description": activity.description,
        "assigned_to": activity.assigned_to.username,
        "contact": _ref(activity.contact),
        "account": _ref(activity.account),
        "due_at": activity.due_at,
        "ends_at": activity.ends_at,
        "remind_at": activity.remind_at,
        "status": activity.status,
        "outcome": activity.outcome,
        "completed_at": activity.completed_at,
        "interaction_id": activity.interaction.public_id if activity.interaction_id else None,
        "version": activity.version,
    }


@router.get("/activities", response={200: CursorPage[ActivityOut], **ERRORS})
def list_activities(
    request: HttpRequest,
    status: Literal["open", "done", "cancelled"] | None = None,
    assigned_to: str | None = None,
    due_before: datetime | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> dict:
    """Activities you may see, in the order they were planned."""
    activities = selectors.activities(user=request.auth).select_related("interaction")
    if status:
        activities = activities.filter(status=status)
    if assigned_to:
        activities = activities.filter(assigned_to__username=assigned_to)
    if due_before:
        activities = activities.filter(due_at__lt=due_before)
    rows, next_cursor = keyset_page(
        activities, ordering=("created_at", "id"), cursor=cursor, limit=limit
    )
    return {"items": [activity_out(row) for row in rows], "next_cursor": next_cursor}


@router.post("/activities", response={201: ActivityOut, **WRITE_ERRORS}, summary="Plan one")
def create_activity(request: HttpRequest, payload: ActivityIn) -> Status:
    membership: Membership = request.auth
    require_add(membership, Activity.object_type)
    contact, account = _customers(request, payload.contact_id, payload.account_id, "view")
    activity = services.create_activity(
        workspace=membership.workspace,
        by=request.user,
        contact=contact,
        account=account,
        assigned_to=_owner(membership, payload.assigned_to),
        **payload.dict(exclude={"contact_id", "account_id", "assigned_to"}),
    )
    return Status(201, activity_out(activity))


def _activity(request: HttpRequest, activity_id: str, action: str = "view") -> Activity:
    return get_visible_or_404(
        Activity,
        user=request.auth,
        public_id=activity_id,
        action=action,
        queryset=selectors.activities(user=request.auth).select_related("interaction"),
    )


@router.get("/activities/{activity_id}", response={200: ActivityOut, **ERRORS})
def get_activity(request: HttpRequest, activity_id: str, response: HttpResponse) -> dict:
    activity = _activity(request, activity_id)
    with_etag(response, activity)
    return activity_out(activity)


@router.patch("/activities/{activity_id}", response={200: ActivityOut, **WRITE_ERRORS})
def update_activity(request: HttpRequest, activity_id: str, payload: ActivityUpdate) -> dict:
    membership: Membership = request.auth
    activity = _activity(request, activity_id, "change")
    changes = payload.dict(exclude_unset=True, exclude={"version"})
    if "assigned_to" in changes:
        from guanxi.platform.visibility import require_action

        require_action(membership, "assign", activity)
        changes["assigned_to"] = _owner(membership, changes["assigned_to"])
    activity = services.update_activity(
        activity=activity,
        by=request.user,
        expected_version=expected_version(
            if_match=request.headers.get("If-Match"), body_version=payload.version
        ),
        **changes,
    )
    return activity_out(activity)


@router.post("/activities/{activity_id}/complete", response={200: ActivityOut, **WRITE_ERRORS})
def complete_activity(request: HttpRequest, activity_id: str, payload: ActivityComplete) -> dict:
    activity = _activity(request, activity_id, "change")
    activity = services.complete_activity(
        activity=activity,
        by=request.user,
        expected_version=expected_version(
            if_match=request.headers.get("If-Match"), body_version=payload.version
        ),
        **payload.dict(exclude={"version"}),
    )
    return activity_out(activity)


# --- 360 panels -------------------------------------------------------------------------------
PANEL_ROWS = 20


def open_activities_panel(*, customer: Contact | Account, user: Any) -> list[dict]:
    rows = selectors.open_activities(customer=customer, user=user).select_related("interaction")
    return [activity_out(row) for row in rows[:PANEL_ROWS]]


def timeline_panel(*, customer: Contact | Account, user: Any) -> dict:
    rows, next_cursor = keyset_page(
        selectors.timeline(customer=customer),
        ordering=("-occurred_at", "-id"),
        cursor=None,
        limit=PANEL_ROWS,
    )
    return {"items": [interaction_out(row) for row in rows], "next_cursor": next_cursor}

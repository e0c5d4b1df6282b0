"""Visit endpoints for phones and field apps: a day's visits, check-in, check-out and the
outcome. Another's visit answers 404 like a missing one (docs/field-sales.md)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from guanxi.platform.apiframework import Problem
from guanxi.platform.errors import Forbidden, ValidationFailed
from guanxi.platform.models import Membership, User
from guanxi.sales import visits as services
from guanxi.sales.models import VisitCheckIn

router = Router(tags=["visits"])
ERRORS = {401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


class CheckInIn(Schema):
    latitude: float | None = Field(None, ge=-90, le=90, description="WGS 84 degrees, −90…90.")
    longitude: float | None = Field(None, ge=-180, le=180, description="WGS 84 degrees, −180…180.")
    accuracy: float | None = Field(None, ge=0, description="Meters, as the phone reports it.")
    client_time: datetime | None = Field(None, description="The phone's clock, for comparison.")


class CheckInOut(Schema):
    id: str
    kind: str
    user: str
    at: datetime
    client_time: datetime | None
    latitude: Decimal | None
    longitude: Decimal | None
    accuracy: float | None
    has_location: bool
    duration_seconds: int | None


class VisitCustomer(Schema):
    type: Literal["contact", "account"]
    id: str
    name: str
    address: str
    phone: str
    geo_uri: str
    map_url: str


class VisitOut(Schema):
    id: str = Field(description="The activity's id.")
    subject: str
    assigned_to: str
    assigned_to_id: str
    due_at: datetime | None
    ends_at: datetime | None
    status: Literal["planned", "checked_in", "checked_out", "done", "cancelled"]
    late: bool = Field(description="Checked in more than 15 minutes after the planned time.")
    missed: bool = Field(description="No check-in an hour after the planned time or end.")
    outcome: str
    customer: VisitCustomer | None
    check_in: CheckInOut | None
    check_out: CheckInOut | None
    interaction_id: str | None
    version: int


class OutcomeIn(Schema):
    outcome: Literal["met", "order_taken", "not_met", "rescheduled"]
    note: str = Field("", max_length=4000)
    next_step: str = Field("", max_length=300, description="What comes next, if anything.")
    next_on: date | None = Field(None, description="The next step's day: plans an activity.")
    next_kind: Literal["visit", "call", "task"] = "visit"


class OutcomeOut(Schema):
    visit: VisitOut
    interaction_id: str
    follow_up_id: str | None


def check_in_out(mark: VisitCheckIn | None) -> dict[str, Any] | None:
    if mark is None:
        return None
    return {
        "id": mark.public_id, "kind": mark.kind, "user": mark.user.username, "at": mark.at,
        "client_time": mark.client_time, "latitude": mark.latitude, "longitude": mark.longitude,
        "accuracy": mark.accuracy, "has_location": mark.has_location,
        "duration_seconds": mark.duration_seconds,
    }  # fmt: skip


def visit_out(row: services.VisitRow) -> dict[str, Any]:
    activity, customer = row.activity, row.customer
    return {
        "id": activity.public_id,
        "subject": activity.subject,
        "assigned_to": activity.assigned_to.username,
        "assigned_to_id": activity.assigned_to.public_id,
        "due_at": activity.due_at,
        "ends_at": activity.ends_at,
        "status": row.status,
        "late": row.late,
        "missed": row.missed,
        "outcome": row.outcome,
        "customer": None if customer is None else {
            "type": "contact" if activity.contact_id else "account",
            "id": customer.public_id, "name": str(customer), "address": row.address,
            "phone": row.phone, "geo_uri": row.geo_uri, "map_url": row.map_url,
        },
        "check_in": check_in_out(row.check_in),
        "check_out": check_in_out(row.check_out),
        "interaction_id": activity.interaction.public_id if activity.interaction_id else None,
        "version": activity.version,
    }  # fmt: skip


def _one(request: HttpRequest, activity_id: str) -> dict[str, Any]:
    visit = services.get_visit(user=request.auth, public_id=activity_id)
    return visit_out(services.visit_rows([visit])[0])


def _for_check_in(request: HttpRequest, activity_id: str) -> Any:
    """The visit, if the caller may see it (else 404) and check in on it (else 403)."""
    visit = services.get_visit(user=request.auth, public_id=activity_id)
    if not services.may_check_in(request.auth, visit):
        raise Forbidden(action="add", object_type=VisitCheckIn.object_type)
    return visit


def _assignee(membership: Membership, user_id: str) -> User:
    if user_id == "me":
        return membership.user
    found = (
        Membership.objects.for_workspace(membership.workspace_id)
        .filter(user__public_id=user_id)
        .select_related("user")
        .first()
    )
    if found is None:
        raise ValidationFailed([("user_id", _("no such member of this workspace"))])
    return found.user


class VisitFilters(Schema):
    date: dt.date | None = Field(None, description="The day (YYYY-MM-DD) in your time zone; today.")
    user_id: str | None = Field(None, description="Only this member's visits (a user id, or me).")


@router.get("/visits", response={200: list[VisitOut], **ERRORS}, summary="A day's visits")
def list_visits(request: HttpRequest, filters: VisitFilters = Query(...)) -> list[dict]:  # noqa: B008
    """The visits of one day you may see — your own, and a manager's tree's — by time."""
    membership: Membership = request.auth
    assignee = _assignee(membership, filters.user_id) if filters.user_id else None
    day = filters.date or timezone.localdate()
    rows = services.day_of_visits(user=membership, day=day, assignee=assignee)
    return [visit_out(row) for row in rows]


@router.get("/visits/{activity_id}", response={200: VisitOut, **ERRORS}, summary="One visit")
def get_visit(request: HttpRequest, activity_id: str) -> dict:
    return _one(request, activity_id)


@router.post("/visits/{activity_id}/check-in", response={200: VisitOut, 201: VisitOut, **ERRORS},
             summary="Check in at the customer")  # fmt: skip
def check_in(request: HttpRequest, activity_id: str, payload: CheckInIn) -> Status:
    """201 with the visit when the check-in is recorded; 200 with the first check-in
    unchanged when the visit was already checked in (a retry is harmless)."""
    visit = _for_check_in(request, activity_id)
    _mark, created = services.check_in(activity=visit, by=request.user, **payload.dict())
    return Status(201 if created else 200, _one(request, activity_id))


@router.post("/visits/{activity_id}/check-out", response={200: VisitOut, 201: VisitOut, **ERRORS},
             summary="Check out when leaving")  # fmt: skip
def check_out(request: HttpRequest, activity_id: str, payload: CheckInIn) -> Status:
    """Like the check-in; 422 when the visit was not checked in."""
    visit = _for_check_in(request, activity_id)
    _mark, created = services.check_out(activity=visit, by=request.user, **payload.dict())
    return Status(201 if created else 200, _one(request, activity_id))


@router.post("/visits/{activity_id}/outcome", response={200: OutcomeOut, **ERRORS},
             summary="Log what came of the visit")  # fmt: skip
def log_outcome(request: HttpRequest, activity_id: str, payload: OutcomeIn) -> dict:
    """Completes the visit onto the customer's timeline (channel visit) and, with
    ``next_on``, plans the next step. 422 before the check-out or when already logged."""
    visit = _for_check_in(request, activity_id)
    logged = services.log_outcome(activity=visit, by=request.user, **payload.dict())
    return {
        "visit": _one(request, activity_id),
        "interaction_id": logged.interaction.public_id,
        "follow_up_id": logged.follow_up.public_id if logged.follow_up else None,
    }

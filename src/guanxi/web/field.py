"""Field sales on a phone: today's visits with the way there and the number to call, check-in
and check-out with the phone's position, the outcome in one tap, and the team's day for
managers (REQUIREMENTS §2.1; docs/field-sales.md)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime, parse_time
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.platform.errors import GuanxiError, NotFound, ValidationFailed
from guanxi.platform.models import Membership
from guanxi.platform.permissions import Scope
from guanxi.sales import visits as services
from guanxi.sales.models import VisitCheckIn, VisitOutcome
from guanxi.timeline.models import Activity
from guanxi.web.common import is_htmx, may, membership_of, query_date
from guanxi.web.quicklog import _customer

NEXT_KINDS = [(kind.value, kind.label) for kind in services.NEXT_KINDS]


def _day(request: HttpRequest) -> tuple[date, date]:
    today = timezone.localdate()
    return query_date(request.GET.get("day")) or today, today


def _sees_others(membership: Membership) -> bool:
    return membership.scope_for(VisitCheckIn.object_type, "view") not in (Scope.NONE, Scope.OWN)


def _day_context(request: HttpRequest, membership: Membership, day: date, today: date) -> dict:
    return {
        "day": day, "today": today,
        "previous": day - timedelta(days=1), "next": day + timedelta(days=1),
        "rows": services.day_of_visits(user=membership, day=day, assignee=request.user),
        "may_plan": may(membership, "add", Activity),
        "sees_team": _sees_others(membership),
        "outcomes": VisitOutcome.choices, "next_kinds": NEXT_KINDS,
    }  # fmt: skip


@login_required
def field_day(request: HttpRequest) -> HttpResponse:
    """My visits of a day (today by default), by time, with the form to plan one."""
    membership = membership_of(request)
    day, today = _day(request)
    context = _day_context(request, membership, day, today)
    context.update({"values": {"day": day.isoformat()}, "errors": {}, "chosen": None})
    return render(request, "web/field/day.html", context)


def _when(day_value: str, time_value: str) -> datetime:
    """The visit's date and time, in the user's time zone; 422 naming the bad field."""
    errors = []
    day = query_date(day_value)
    if day is None:
        errors.append(("day", _("Give the day of the visit.")))
    try:
        at = parse_time(time_value or "")
    except ValueError:
        at = None
    if at is None:
        errors.append(("time", _("Give the time of the visit, e.g. 14:30.")))
    if errors:
        raise ValidationFailed(errors)
    assert day is not None and at is not None
    return timezone.make_aware(datetime.combine(day, at))


@login_required
@require_POST
def field_plan(request: HttpRequest) -> HttpResponse:
    """Plan a visit: the customer found as in the quick log, a day and a time."""
    membership = membership_of(request)
    if not may(membership, "add", Activity):
        raise PermissionDenied(_("Your role may not plan activities."))
    data = request.POST
    chosen = _customer(membership, data.get("customer", ""))
    errors: dict[str, str] = {}
    if chosen is None:
        errors["customer"] = _("Choose the customer to visit.")
    try:
        due_at = _when(data.get("day", ""), data.get("time", ""))
    except ValidationFailed as exc:
        errors.update(dict(exc.errors))
    if not errors:
        try:
            services.plan_visit(
                workspace=membership.workspace, by=request.user, customer=chosen,
                due_at=due_at, subject=data.get("subject", ""),
            )  # fmt: skip
        except GuanxiError as exc:
            errors["subject"] = str(exc)
        else:
            return redirect(f"{reverse('web:field_day')}?day={timezone.localdate(due_at)}")
    day = query_date(data.get("day")) or timezone.localdate()
    context = _day_context(request, membership, day, timezone.localdate())
    context.update({"values": data, "errors": errors, "chosen": chosen,
                    "chosen_value": data.get("customer", "") if chosen else ""})  # fmt: skip
    return render(request, "web/field/day.html", context, status=422)


def _visit(request: HttpRequest, membership: Membership, public_id: str) -> Activity:
    """The visit if I may see it (else 404) and check in on it (else 403)."""
    try:
        visit = services.get_visit(user=membership, public_id=public_id)
    except NotFound as exc:
        raise Http404(str(exc)) from exc
    if not services.may_check_in(membership, visit):
        raise PermissionDenied(_("Only the person visiting checks in."))
    return visit


def _answer(request: HttpRequest, visit: Activity, error: str = "") -> HttpResponse:
    """The visit's card for htmx; the day's page otherwise (a form posted without JS)."""
    if is_htmx(request):
        row = services.visit_rows([services.get_visit(user=request.membership,
                                                      public_id=visit.public_id)])[0]  # fmt: skip
        return render(
            request, "web/field/_visit.html",
            {"row": row, "error": error, "outcomes": VisitOutcome.choices,
             "next_kinds": NEXT_KINDS, "today": timezone.localdate()},
            status=422 if error else 200,
        )  # fmt: skip
    if error:
        return render(
            request, "web/message.html",
            {"heading": _("The visit was not changed"), "message": error}, status=422,
        )  # fmt: skip
    day = timezone.localdate(visit.due_at) if visit.due_at else timezone.localdate()
    return redirect(f"{reverse('web:field_day')}?day={day}#visit-{visit.public_id}")


def _position(request: HttpRequest) -> dict[str, Any]:
    """What the page's script put in the form; all empty when the phone gave nothing."""
    data = request.POST
    client_time = None
    try:
        client_time = parse_datetime(data.get("client_time", ""))
    except ValueError:
        client_time = None
    return {"latitude": data.get("latitude") or None, "longitude": data.get("longitude") or None,
            "accuracy": data.get("accuracy") or None, "client_time": client_time}  # fmt: skip


@login_required
@require_POST
def field_check_in(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    visit = _visit(request, membership, public_id)
    try:
        services.check_in(activity=visit, by=request.user, **_position(request))
    except GuanxiError as exc:
        return _answer(request, visit, str(exc))
    return _answer(request, visit)


@login_required
@require_POST
def field_check_out(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    visit = _visit(request, membership, public_id)
    try:
        services.check_out(activity=visit, by=request.user, **_position(request))
    except GuanxiError as exc:
        return _answer(request, visit, str(exc))
    return _answer(request, visit)


@login_required
@require_POST
def field_outcome(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    visit = _visit(request, membership, public_id)
    data = request.POST
    next_on = None
    if data.get("next_on"):
        next_on = query_date(data.get("next_on"))
        if next_on is None:
            return _answer(request, visit, _("Give the next step's date as a date."))
    try:
        services.log_outcome(
            activity=visit, by=request.user, outcome=data.get("outcome", ""),
            note=data.get("note", ""), next_step=data.get("next_step", ""), next_on=next_on,
            next_kind=data.get("next_kind") or Activity.Kind.VISIT,
        )  # fmt: skip
    except GuanxiError as exc:
        return _answer(request, visit, str(exc))
    return _answer(request, visit)


@login_required
def field_team(request: HttpRequest) -> HttpResponse:
    """A day's visits of everyone I may watch (my tree for a manager, my own for a rep),
    per person, with check-in times and late or missed visits marked."""
    membership = membership_of(request)
    day, today = _day(request)
    rows = services.day_of_visits(user=membership, day=day)
    people: dict[int, dict[str, Any]] = {}
    for row in rows:
        person = people.setdefault(
            row.activity.assigned_to_id,
            {"user": row.activity.assigned_to, "rows": [], "done": 0, "late": 0, "missed": 0},
        )
        person["rows"].append(row)
        person["done"] += row.status in (services.Status.DONE, services.Status.CHECKED_OUT)
        person["late"] += row.late
        person["missed"] += row.missed
    return render(
        request, "web/field/team.html",
        {"day": day, "today": today, "previous": day - timedelta(days=1),
         "next": day + timedelta(days=1),
         "people": sorted(people.values(), key=lambda p: p["user"].get_username()),
         "count": len(rows)},
    )  # fmt: skip

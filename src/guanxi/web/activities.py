"""Activities pages: my list (overdue first), planning one from a customer, completing it."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.customers.models import Account, Contact
from guanxi.platform.errors import Forbidden, GuanxiError, ValidationFailed
from guanxi.timeline import selectors, services
from guanxi.timeline.models import Activity
from guanxi.web.common import membership_of as _membership
from guanxi.web.common import query_date, visible_or_404
from guanxi.web.customers import KINDS, _record

LIST_LIMIT = 200


@login_required
def activity_list(request: HttpRequest) -> HttpResponse:
    membership = _membership(request)
    status = request.GET.get("status", "open")
    if status not in Activity.Status.values:
        status = "open"
    everyone = request.GET.get("who") == "all"
    rows = selectors.activities(user=membership).filter(status=status)
    if not everyone:
        rows = rows.filter(assigned_to=request.user)
    if status == Activity.Status.OPEN:
        rows = rows.order_by(F("due_at").asc(nulls_last=True), "id")
    else:
        rows = rows.order_by("-completed_at", "-id")
    return render(
        request,
        "web/activities/list.html",
        {"activities": list(rows[:LIST_LIMIT]), "status": status, "everyone": everyone,
         "statuses": Activity.Status.choices, "now": timezone.now(), "limit": LIST_LIMIT},
    )  # fmt: skip


def _when(value: str) -> datetime | None:
    """A ``datetime-local`` value, in the user's time zone; a 422 naming the field when it is
    not a real date and time (rather than saving the activity without it)."""
    if not value:
        return None
    try:
        parsed = parse_datetime(value)
    except ValueError:
        parsed = None
    if parsed is None:
        raise ValidationFailed([("due_at", _("not a valid date and time"))])
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


@login_required
@require_POST
def activity_new(request: HttpRequest, kind: str, public_id: str) -> HttpResponse:
    customer = _record(request, KINDS[kind], public_id)
    membership = _membership(request)
    back = redirect("web:customer_detail", kind, public_id)
    try:
        services.create_activity(
            workspace=membership.workspace,
            by=request.user,
            kind=request.POST.get("kind", "task"),
            subject=request.POST.get("subject", ""),
            due_at=_when(request.POST.get("due_at", "")),
            contact=customer if isinstance(customer, Contact) else None,
            account=customer if isinstance(customer, Account) else None,
        )
    except Forbidden as exc:
        raise PermissionDenied(str(exc)) from exc
    except GuanxiError as exc:
        return render(
            request,
            "web/message.html",
            {"heading": _("The activity was not saved"), "message": str(exc)},
            status=422,
        )
    return back


@login_required
@require_POST
def activity_complete(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = _membership(request)
    activity = visible_or_404(Activity, membership, public_id, action="change")
    try:
        services.complete_activity(
            activity=activity,
            by=request.user,
            expected_version=int(request.POST.get("version") or 0),
            outcome=request.POST.get("outcome", ""),
            cancelled=request.POST.get("cancel") == "1",
        )
    except GuanxiError as exc:
        return render(
            request,
            "web/message.html",
            {"heading": _("The activity was not changed"), "message": str(exc)},
            status=exc.status,
        )
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = "web:activity_list"
    return redirect(target or "web:activity_list")


def _my_activities(request: HttpRequest, membership: Any, first: date, *, days: int) -> Any:
    """My activities due from ``first`` for ``days`` days (in my time zone), not cancelled."""
    start = datetime.combine(first, time.min, tzinfo=timezone.get_current_timezone())
    return (
        selectors.activities(user=membership)
        .filter(
            assigned_to=request.user, due_at__gte=start, due_at__lt=start + timedelta(days=days)
        )
        .exclude(status=Activity.Status.CANCELLED)
        .order_by("due_at", "id")
    )


WORKDAY_HOURS = range(8, 19)


@login_required
def activity_day(request: HttpRequest) -> HttpResponse:
    """My day hour by hour: working hours always shown, other hours when something is due."""
    membership = _membership(request)
    today = timezone.localdate()
    day = query_date(request.GET.get("day")) or today
    activities = list(_my_activities(request, membership, day, days=1))
    by_hour: dict[int, list[Activity]] = {}
    for activity in activities:
        by_hour.setdefault(timezone.localtime(activity.due_at).hour, []).append(activity)
    hours = sorted(set(WORKDAY_HOURS) | set(by_hour))
    return render(
        request,
        "web/activities/day.html",
        {"day": day, "today": today, "now": timezone.now(),
         "hours": [(time(hour), by_hour.get(hour, [])) for hour in hours],
         "previous": day - timedelta(days=1), "next": day + timedelta(days=1)},
    )  # fmt: skip


@login_required
def activity_week(request: HttpRequest) -> HttpResponse:
    """My calendar: seven days from Monday of the chosen week, in my time zone."""
    membership = _membership(request)
    today = timezone.localdate()
    chosen = query_date(request.GET.get("week")) or today
    monday = chosen - timedelta(days=chosen.weekday())
    rows = _my_activities(request, membership, monday, days=7)
    days = [{"date": monday + timedelta(days=n), "activities": []} for n in range(7)]
    for activity in rows:
        days[timezone.localtime(activity.due_at).date().weekday()]["activities"].append(activity)
    return render(
        request,
        "web/activities/week.html",
        {"days": days, "today": today, "previous": monday - timedelta(days=7),
         "next": monday + timedelta(days=7), "now": timezone.now()},
    )  # fmt: skip

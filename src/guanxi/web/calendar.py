"""Each member's activities as an iCalendar feed (RFC 5545) that calendar apps subscribe to.

The URL carries a secret (only its hash is stored); it shows the member's own open
activities and those done in the last 30 days, and nothing else.
"""

from __future__ import annotations

from datetime import timedelta

from django.contrib.auth.decorators import login_required
from django.db.models import Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST
from icalendar import Alarm, Calendar, Event

from guanxi.platform import services as platform_services
from guanxi.platform.context import acting_in
from guanxi.timeline.models import Activity
from guanxi.web.common import membership_of as _membership

DEFAULT_LENGTH = timedelta(minutes=30)
DONE_WINDOW = timedelta(days=30)
FEED_LIMIT = 1000


def activity_feed(request: HttpRequest, secret: str) -> HttpResponse:
    membership = platform_services.membership_for_calendar(secret)
    if membership is None:
        raise Http404
    since = timezone.now() - DONE_WINDOW
    with acting_in(membership.workspace, membership):
        activities = (
            Activity.objects.filter(assigned_to=membership.user, due_at__isnull=False)
            .filter(Q(status=Activity.Status.OPEN) | Q(completed_at__gte=since))
            .select_related("contact", "account")
            .order_by("-due_at")[:FEED_LIMIT]
        )
        calendar = Calendar()
        calendar.add("prodid", "-//Guanxi CRM//activities//EN")
        calendar.add("version", "2.0")
        calendar.add("x-wr-calname", f"Guanxi · {membership.workspace.name}")
        for activity in activities:
            calendar.add_component(_event(activity))
    response = HttpResponse(calendar.to_ical(), content_type="text/calendar; charset=utf-8")
    response["Cache-Control"] = "private, max-age=300"
    return response


def _event(activity: Activity) -> Event:
    event = Event()
    customer = activity.contact or activity.account
    event.add("uid", f"{activity.public_id}@guanxi")
    event.add("summary", f"{activity.subject} · {customer}" if customer else activity.subject)
    event.add("dtstart", activity.due_at)
    event.add("dtend", activity.ends_at or activity.due_at + DEFAULT_LENGTH)
    event.add("dtstamp", activity.updated_at)
    event.add("last-modified", activity.updated_at)
    event.add("sequence", activity.version)
    event.add(
        "status", "CANCELLED" if activity.status == Activity.Status.CANCELLED else "CONFIRMED"
    )
    if activity.description or activity.outcome:
        event.add(
            "description", "\n\n".join(t for t in (activity.description, activity.outcome) if t)
        )
    if activity.remind_at and activity.status == Activity.Status.OPEN:
        alarm = Alarm()
        alarm.add("action", "DISPLAY")
        alarm.add("description", activity.subject)
        alarm.add("trigger", activity.remind_at)
        event.add_component(alarm)
    return event


@login_required
@require_POST
def create_feed_link(request: HttpRequest) -> HttpResponse:
    """A new subscription URL, shown once; the previous one stops working."""
    membership = _membership(request)
    secret = platform_services.create_calendar_link(membership=membership, by=request.user)
    url = request.build_absolute_uri(reverse("web:activity_feed", args=[secret]))
    return render(request, "web/activities/feed_link.html", {"url": url})

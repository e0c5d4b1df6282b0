"""The notifications area: a badge in the header, the list, opening one.

The web app says what each kind of notification reads like and where it leads; the apps
that send them only name the kind, the data and the record (``url`` holds
``"<object>:<public id>"``, resolved here when the reader opens it).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from guanxi.customers.models import Contact
from guanxi.platform import notifications
from guanxi.platform.models import Notification, User
from guanxi.timeline.models import Activity
from guanxi.web.common import membership_of, visible_or_404

PAGE = 50

notifications.register_kind("activity.assigned", _("%(actor)s gave you an activity: %(subject)s"))
notifications.register_kind(
    "customers.handed_over", _("%(actor)s handed %(count)s customers over to you")
)


def tell_new_owner(*, customers: list[Any], from_user: User | None, to_user: User,
                   by: User | None) -> None:  # fmt: skip
    """Owner listener: the new owner hears of customers given to them by someone else."""
    if not customers:
        return
    first = customers[0]
    kind = "contacts" if isinstance(first, Contact) else "accounts"
    notifications.notify(
        workspace=first.workspace_id, recipient=to_user, by=by, kind="customers.handed_over",
        data={"count": len(customers)},
        url=f"{kind}:{first.public_id}" if len(customers) == 1 else f"{kind}:mine",
        merge_key=f"handover:{kind}:{by.pk if by else ''}",
    )  # fmt: skip


def _target(request: HttpRequest, notification: Notification) -> str:
    """Where a notification leads, if the reader may still see it; else the list."""
    what, _sep, public_id = notification.url.partition(":")
    membership = membership_of(request)
    if what in ("contacts", "accounts"):
        if public_id == "mine":
            return reverse("web:customer_list", args=[what]) + "?owner=me"
        return reverse("web:customer_detail", args=[what, public_id])
    if what == "export":
        return reverse("web:export_list")
    if what == "activity":
        activity = (
            Activity.objects.visible_to(membership, "view")
            .filter(public_id=public_id)
            .select_related("contact", "account")
            .first()
        )
        if activity is not None and activity.contact_id:
            return reverse("web:customer_detail", args=["contacts", activity.contact.public_id])
        if activity is not None and activity.account_id:
            return reverse("web:customer_detail", args=["accounts", activity.account.public_id])
        return reverse("web:activity_list")
    return reverse("web:notifications")


@login_required
def badge(request: HttpRequest) -> HttpResponse:
    """The unread count in the header, refreshed now and then by htmx."""
    membership = getattr(request, "membership", None)
    count = notifications.unread_count(user=membership) if membership else 0
    return render(request, "web/notifications/_badge.html", {"unread": count})


@login_required
def notification_list(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    rows = list(notifications.inbox(user=membership)[:PAGE])
    for row in rows:
        row.text = notifications.render(row)
    return render(request, "web/notifications/list.html", {"rows": rows})


@login_required
@require_POST
def mark_all_read(request: HttpRequest) -> HttpResponse:
    notifications.mark_read(notifications=notifications.inbox(user=membership_of(request)))
    return redirect("web:notifications")


@login_required
@require_POST
def open_notification(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    notification = visible_or_404(Notification, membership, public_id, action="change")
    notifications.mark_read(notifications=Notification.objects.filter(pk=notification.pk))
    return redirect(_target(request, notification))

"""Notifications: who should know what, in their own language.

Apps register the kinds they send with a translatable text; ``notify`` stores one row per
recipient and the pages render it when read, in the reader's language.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.platform import rowinsert
from guanxi.platform.ids import new_public_id
from guanxi.platform.models import Notification, User, Workspace

# kind -> text with %(name)s placeholders filled from the notification's data (+ "actor")
_kinds: dict[str, Any] = {}


def register_kind(kind: str, text: Any) -> None:
    _kinds[kind] = text


def render(notification: Notification) -> str:
    text = _kinds.get(notification.kind, notification.kind)
    actor = notification.actor
    values = {"actor": (actor.get_full_name() or actor.username) if actor else _("Someone")}
    values |= notification.data
    try:
        return str(text) % values
    except (KeyError, TypeError, ValueError):
        return str(text)


def notify(
    *, workspace: Workspace | int, recipient: User, kind: str, by: User | None,
    data: dict[str, Any] | None = None, url: str = "", merge_key: str = "",
) -> Notification | None:  # fmt: skip
    """Tell ``recipient``; nothing when they did it themselves. With ``merge_key``, an unread
    notification with that key counts up (``data["count"]``) instead of a new one."""
    if recipient is None or (by is not None and by.pk == recipient.pk):
        return None
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    data = dict(data or {})
    if merge_key:
        unread = Notification.objects.for_workspace(workspace_id).filter(
            recipient=recipient, merge_key=merge_key, read_at__isnull=True
        )
        existing = unread.order_by("-id").first()
        if existing is not None:
            existing.data["count"] = existing.data.get("count", 0) + data.get("count", 1)
            existing.created_at = timezone.now()
            existing.save(update_fields=["data", "created_at"])
            return existing
    notification = Notification(
        workspace_id=workspace_id, recipient=recipient, actor=by, kind=kind, data=data,
        url=url, merge_key=merge_key, created_by=by, updated_by=by,
        public_id=new_public_id(Notification.public_id_prefix),
    )  # fmt: skip
    # one statement built once (a notification has no history and nobody listens to its save)
    return rowinsert.insert(notification)


def inbox(*, user: Any) -> QuerySet[Notification]:
    """The reader's notifications, newest first (unread and read)."""
    return (
        Notification.objects.visible_to(user, "view")
        .select_related("actor")
        .order_by(F("read_at").asc(nulls_first=True), "-created_at", "-id")
    )


def unread_count(*, user: Any) -> int:
    return Notification.objects.visible_to(user, "view").filter(read_at__isnull=True).count()


def mark_read(*, notifications: QuerySet[Notification]) -> int:
    return notifications.filter(read_at__isnull=True).update(read_at=timezone.now())

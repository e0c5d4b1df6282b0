"""Ownership and handover (REQUIREMENTS §1: customer data belongs to the company; when a
rep leaves, the next one sees the whole history).

Reassigning customers notifies registered listeners (the timeline writes a note on each
customer); a handover of everything a user owns also asks registered participants (open
activities, later opportunities and cases) to move their records.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.models import Account, Contact, Customer
from guanxi.platform.audit import record_audit
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import Membership, User, Workspace

BATCH = 1000

# listener(customers=[...], from_user=…, to_user=…, by=…): called after owners changed
_owner_listeners: list[Callable[..., None]] = []
# participant(workspace=…, from_user=…, to_user=…, by=…) -> number of records moved
_participants: dict[str, Callable[..., int]] = {}


def register_owner_listener(listener: Callable[..., None]) -> None:
    _owner_listeners.append(listener)


def register_handover_participant(name: str, participant: Callable[..., int]) -> None:
    _participants[name] = participant


def _member(workspace: Workspace, user: User, field: str) -> Membership:
    member = (
        Membership.objects.for_workspace(workspace).filter(user=user).select_related("team")
    ).first()
    if member is None:
        raise ValidationFailed([(field, f"{user.username} is not a member of this workspace")])
    return member


def notify_owner_change(
    *, customers: list[Customer], from_user: User | None, to_user: User, by: User | None
) -> None:
    for listener in _owner_listeners:
        listener(customers=customers, from_user=from_user, to_user=to_user, by=by)


@transaction.atomic
def reassign_customers(
    *, customers: Iterable[Customer], to_user: User, by: User | None, from_user: User | None = None
) -> int:
    """Give these customers (all of one model) a new owner and the owner's team."""
    customers = list(customers)
    if not customers:
        return 0
    model = type(customers[0])
    workspace = customers[0].workspace
    target = _member(workspace, to_user, "to")
    if not target.is_active:
        raise ValidationFailed([("to", f"{to_user.username} is not an active member")])
    now = timezone.now()
    model._base_manager.filter(pk__in=[c.pk for c in customers]).update(
        owner=to_user,
        team=target.team,
        version=F("version") + 1,
        updated_at=now,
        updated_by=by,
    )
    notify_owner_change(customers=customers, from_user=from_user, to_user=to_user, by=by)
    return len(customers)


def hand_over(
    *, workspace: Workspace, from_user: User, to_user: User, by: User | None
) -> dict[str, int]:
    """Move everything ``from_user`` owns in this workspace to ``to_user``, in batches (each
    its own transaction, so a very large handover neither locks everything nor has to be
    redone from the start if interrupted: running it again continues with what is left)."""
    if from_user == to_user:
        raise ValidationFailed([("to", _("choose someone else"))])
    _member(workspace, from_user, "from")
    _member(workspace, to_user, "to")
    counts: dict[str, int] = {}
    for model, name in ((Account, "accounts"), (Contact, "contacts")):
        counts[name] = 0
        while True:
            batch = list(
                model.objects.for_workspace(workspace)
                .filter(owner=from_user)
                .select_related("workspace")
                .order_by("id")[:BATCH]
            )
            if not batch:
                break
            counts[name] += reassign_customers(
                customers=batch, to_user=to_user, by=by, from_user=from_user
            )
    for name, participant in _participants.items():
        with transaction.atomic():
            counts[name] = participant(
                workspace=workspace, from_user=from_user, to_user=to_user, by=by
            )
    record_audit(
        action="customers.handover",
        actor=by,
        workspace=workspace,
        data={"from": from_user.username, "to": to_user.username, "moved": counts},
    )
    return counts


def owned_count(*, workspace: Workspace, user: User) -> int:
    return sum(
        model.objects.for_workspace(workspace).filter(owner=user).count()
        for model in (Account, Contact)
    )


__all__: list[Any] = [
    "hand_over",
    "owned_count",
    "reassign_customers",
    "register_handover_participant",
    "register_owner_listener",
]

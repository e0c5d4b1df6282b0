"""Writes of the timeline: record interactions (idempotent per channel event), plan and
complete activities."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.models import Account, Contact
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.ids import new_public_id
from guanxi.platform.models import Membership, User, Workspace
from guanxi.platform.notifications import notify
from guanxi.platform.versioning import save_versioned
from guanxi.timeline.models import Activity, Channel, Interaction

# What a finished activity becomes on the timeline.
ACTIVITY_CHANNEL = {
    Activity.Kind.CALL: Channel.PHONE,
    Activity.Kind.MEETING: Channel.MEETING,
    Activity.Kind.VISIT: Channel.VISIT,
    Activity.Kind.TASK: Channel.SYSTEM,
}


def _check_customers(
    workspace: Workspace, contact: Contact | None, account: Account | None, lead: Any = None
) -> list[tuple[str, str]]:
    errors = []
    if contact is None and account is None and lead is None:
        errors.append(("contact_id", _("give the contact or the account it concerns")))
    if lead is not None and lead.workspace_id != workspace.pk:
        errors.append(("lead_id", _("belongs to another workspace")))
    if contact is not None and contact.workspace_id != workspace.pk:
        errors.append(("contact_id", _("belongs to another workspace")))
    if account is not None and account.workspace_id != workspace.pk:
        errors.append(("account_id", _("belongs to another workspace")))
    return errors


def record_interaction(
    *,
    workspace: Workspace,
    by: User | None,
    channel: str,
    direction: str,
    occurred_at: datetime | None = None,
    contact: Contact | None = None,
    account: Account | None = None,
    subject: str = "",
    body: str = "",
    reference: str = "",
    external_id: str = "",
    related: Any = None,
    lead: Any = None,
) -> tuple[Interaction, bool]:
    """Store one touch; (interaction, created). An event already stored under the same
    channel and ``external_id`` is returned as it is — a channel delivering twice never
    makes two rows, even when both deliveries race. ``lead``: a touch of a sales lead (with
    or without a customer yet)."""
    errors = _check_customers(workspace, contact, account, lead)
    if channel not in Channel.values:
        errors.append(("channel", f"must be one of {', '.join(Channel.values)}"))
    if direction not in Interaction.Direction.values:
        errors.append(("direction", f"must be one of {', '.join(Interaction.Direction.values)}"))
    if occurred_at is not None and occurred_at > timezone.now() + timedelta(days=1):
        errors.append(("occurred_at", _("must not be in the future")))
    if errors:
        raise ValidationFailed(errors)
    external_id = external_id.strip()
    if external_id:
        stored = _stored(workspace, channel, external_id)
        if stored is not None:
            return stored, False
    if account is None and contact is not None:
        account = _primary_account(contact)
    interaction = Interaction(
        workspace=workspace,
        channel=channel,
        direction=direction,
        occurred_at=occurred_at or timezone.now(),
        actor=by,
        contact=contact,
        account=account,
        lead=lead,
        subject=subject.strip()[:300],
        body=body,
        reference=reference.strip()[:500],
        external_id=external_id,
        related_type=getattr(related, "object_type", "") if related is not None else "",
        related_id=getattr(related, "public_id", "") if related is not None else "",
        created_by=by,
        updated_by=by,
    )
    try:
        with transaction.atomic():
            interaction.save()
    except IntegrityError:
        stored = _stored(workspace, channel, external_id) if external_id else None
        if stored is None:
            raise
        return stored, False
    return interaction, True


def _stored(workspace: Workspace, channel: str, external_id: str) -> Interaction | None:
    found = list(
        Interaction.objects.for_workspace(workspace, include_deleted=True).filter(
            channel=channel, external_id=external_id
        )[:1]
    )
    return found[0] if found else None


def _primary_account(contact: Contact) -> Account | None:
    from guanxi.customers.models import AccountContact

    link = (
        AccountContact.objects.for_workspace(contact.workspace_id)
        .filter(contact=contact, is_primary=True, account__deleted_at__isnull=True)
        .select_related("account")
        .first()
    )
    return link.account if link else None


def _assignee(workspace: Workspace, user: User) -> User:
    member = Membership.objects.for_workspace(workspace).filter(user=user, is_active=True)
    if not member.exists():
        raise ValidationFailed([("assigned_to", f"{user.username} is not an active member")])
    return user


@transaction.atomic
def create_activity(
    *,
    workspace: Workspace,
    by: User,
    kind: str,
    subject: str,
    assigned_to: User | None = None,
    contact: Contact | None = None,
    account: Account | None = None,
    description: str = "",
    due_at: datetime | None = None,
    ends_at: datetime | None = None,
    remind_at: datetime | None = None,
    lead: Any = None,
) -> Activity:
    errors = _check_customers(workspace, contact, account, lead)
    if kind not in Activity.Kind.values:
        errors.append(("kind", f"must be one of {', '.join(Activity.Kind.values)}"))
    if not subject.strip():
        errors.append(("subject", _("must not be empty")))
    if due_at and ends_at and ends_at < due_at:
        errors.append(("ends_at", _("must not be before due_at")))
    if errors:
        raise ValidationFailed(errors)
    if account is None and contact is not None:
        account = _primary_account(contact)
    activity = Activity(
        workspace=workspace,
        kind=kind,
        subject=subject.strip()[:300],
        description=description,
        assigned_to=_assignee(workspace, assigned_to or by),
        contact=contact,
        account=account,
        lead=lead,
        due_at=due_at,
        ends_at=ends_at,
        remind_at=remind_at,
        created_by=by,
        updated_by=by,
    )
    activity.save()
    _tell_assignee(activity, by=by)
    return activity


def _tell_assignee(activity: Activity, *, by: User) -> None:
    notify(
        workspace=activity.workspace_id, recipient=activity.assigned_to, by=by,
        kind="activity.assigned", url=f"activity:{activity.public_id}",
        data={"subject": activity.subject,
              "due": activity.due_at.isoformat() if activity.due_at else None},
    )  # fmt: skip


@transaction.atomic
def update_activity(
    *, activity: Activity, by: User, expected_version: int, **changes: Any
) -> Activity:
    allowed = {"subject", "description", "due_at", "ends_at", "remind_at", "assigned_to"}
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationFailed([(name, _("cannot be changed")) for name in sorted(unknown)])
    if activity.status != Activity.Status.OPEN:
        raise ValidationFailed([("status", _("only open activities can be changed"))])
    if "assigned_to" in changes:
        changes["assigned_to"] = _assignee(activity.workspace, changes["assigned_to"])
    if "subject" in changes and not (changes["subject"] or "").strip():
        raise ValidationFailed([("subject", _("must not be empty"))])
    reassigned = "assigned_to" in changes and changes["assigned_to"] != activity.assigned_to
    for name, value in changes.items():
        setattr(activity, name, value)
    save_versioned(activity, expected_version=expected_version, by=by, fields=changes)
    if reassigned:
        _tell_assignee(activity, by=by)
    return activity


@transaction.atomic
def complete_activity(
    *,
    activity: Activity,
    by: User,
    expected_version: int,
    outcome: str = "",
    completed_at: datetime | None = None,
    cancelled: bool = False,
) -> Activity:
    """Close an activity. Done activities write their interaction to the timeline."""
    if activity.status != Activity.Status.OPEN:
        raise ValidationFailed([("status", f"the activity is already {activity.status}")])
    activity.status = Activity.Status.CANCELLED if cancelled else Activity.Status.DONE
    activity.outcome = outcome
    activity.completed_at = completed_at or timezone.now()
    fields = ["status", "outcome", "completed_at"]
    if not cancelled:
        activity.interaction, _created = record_interaction(
            workspace=activity.workspace,
            by=by,
            channel=ACTIVITY_CHANNEL[activity.kind],
            direction=Interaction.Direction.OUTBOUND,
            occurred_at=activity.completed_at,
            contact=activity.contact,
            account=activity.account,
            subject=activity.subject,
            body=outcome,
            related=activity,
            lead=activity.lead,
        )
        fields.append("interaction")
    return save_versioned(activity, expected_version=expected_version, by=by, fields=fields)


def note_owner_change(
    *, customers: list[Any], from_user: User | None, to_user: User, by: User | None
) -> None:
    """One timeline note per customer whose owner changed (bulk, for large handovers)."""
    from guanxi.customers.models import Contact

    now = timezone.now()
    before = from_user.get_username() if from_user else "—"
    notes = []
    for customer in customers:
        is_contact = isinstance(customer, Contact)
        notes.append(
            Interaction(
                workspace_id=customer.workspace_id,
                channel=Channel.SYSTEM,
                direction=Interaction.Direction.INTERNAL,
                occurred_at=now,
                actor=by,
                contact=customer if is_contact else None,
                account=None if is_contact else customer,
                subject=f"Owner changed: {before} → {to_user.get_username()}",
                created_by=by,
                updated_by=by,
            )
        )
    for note in notes:
        note.public_id = new_public_id(Interaction.public_id_prefix)
    Interaction.objects.bulk_create(notes, batch_size=1000)


def reassign_open_activities(
    *, workspace: Workspace, from_user: User, to_user: User, by: User | None
) -> int:
    """Part of a handover: the leaver's open activities go to the successor."""
    return (
        Activity.objects.for_workspace(workspace)
        .filter(assigned_to=from_user, status=Activity.Status.OPEN)
        .update(assigned_to=to_user, updated_at=timezone.now(), updated_by=by)
    )

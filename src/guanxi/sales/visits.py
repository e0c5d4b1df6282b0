"""Field visits (REQUIREMENTS §2.1: mobile use in the field; 004: sales action monitoring).

A visit is a timeline activity of kind ``visit``. This module reads a day's visits with
what a rep needs on the road (address, phone, check-ins) and writes check-ins, check-outs
and outcomes. Who sees a visit: whoever sees the activity *and* its check-ins
(``sales.visit_check_in`` view); who checks in: whoever the check-in type's ``add`` scope
covers for the visit's assignee — by default only the assignee.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any
from urllib.parse import quote

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.models import Account, Address, Contact, ContactPoint, format_address
from guanxi.platform.errors import NotFound, ValidationFailed
from guanxi.platform.models import Membership, User, Workspace
from guanxi.platform.permissions import Scope
from guanxi.platform.visibility import resolve_membership, scope_filter
from guanxi.sales.models import VisitCheckIn, VisitOutcome
from guanxi.timeline import selectors as timeline_selectors
from guanxi.timeline import services as timeline_services
from guanxi.timeline.models import Activity, Interaction

# A check-in this long after the planned time is late; a visit with no check-in this long
# after its planned time (or its planned end) is missed.
LATE_AFTER = timedelta(minutes=15)
MISSED_AFTER = timedelta(hours=1)
# A map search anyone can open without an account or an app; phones also get a geo: link.
MAP_SEARCH_URL = "https://www.openstreetmap.org/search?query={query}"
DAY_LIMIT = 500  # visits of one day shown at once: far more than a team makes
MICRODEGREE = Decimal("0.000001")


class Status:
    PLANNED = "planned"
    CHECKED_IN = "checked_in"
    CHECKED_OUT = "checked_out"
    DONE = "done"
    CANCELLED = "cancelled"


# --- reads ------------------------------------------------------------------------------------
def _check_in_condition(membership: Membership, action: str) -> Q | bool | None:
    """Activities whose assignee the check-in type's scope covers: False for none, None
    for all, else the filter."""
    scope = membership.scope_for(VisitCheckIn.object_type, action)
    if scope == Scope.NONE:
        return False
    return scope_filter(Activity, membership, scope)


def visits(*, user: Any) -> QuerySet[Activity]:
    """Visits (activities of kind visit) the caller may see with their check-ins."""
    membership = resolve_membership(user)
    queryset = timeline_selectors.activities(user=user).filter(kind=Activity.Kind.VISIT)
    if membership is None:
        return queryset.none()
    condition = _check_in_condition(membership, "view")
    if condition is False:
        return queryset.none()
    return queryset if condition is None else queryset.filter(condition)


def get_visit(*, user: Any, public_id: str) -> Activity:
    """One visit the caller may see; NotFound (404) for another's as for a missing one."""
    found = list(visits(user=user).filter(public_id=public_id)[:1])
    if not found:
        raise NotFound(_("visit"))
    return found[0]


def may_check_in(user: Any, activity: Activity) -> bool:
    """May the caller check in (and out, and log the outcome) on this visit they can see?"""
    membership = resolve_membership(user)
    if membership is None or not membership.is_active:
        return False
    if activity.workspace_id != membership.workspace_id:
        return False
    condition = _check_in_condition(membership, "add")
    if condition is False:
        return False
    if condition is None or activity.assigned_to_id == membership.user_id:
        return True
    if membership.scope_for(VisitCheckIn.object_type, "add") == Scope.OWN:
        return False
    return Activity._base_manager.filter(pk=activity.pk).filter(condition).exists()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """Start and end of a day in the active time zone (the user's, else the workspace's)."""
    start = datetime.combine(day, time.min, tzinfo=timezone.get_current_timezone())
    return start, datetime.combine(day + timedelta(days=1), time.min, tzinfo=start.tzinfo)


def visits_on(queryset: QuerySet[Activity], day: date) -> QuerySet[Activity]:
    start, end = day_bounds(day)
    return (
        queryset.filter(due_at__gte=start, due_at__lt=end)
        .exclude(status=Activity.Status.CANCELLED)
        .order_by("due_at", "id")
    )


@dataclass
class VisitRow:
    """A visit with what the field page, the team page and the API show of it."""

    activity: Activity
    check_in: VisitCheckIn | None = None
    check_out: VisitCheckIn | None = None
    address: str = ""
    phone: str = ""
    now: datetime = field(default_factory=timezone.now)

    @property
    def customer(self) -> Contact | Account | None:
        return self.activity.contact or self.activity.account

    @property
    def customer_kind(self) -> str:
        return "contacts" if self.activity.contact_id else "accounts"

    @property
    def status(self) -> str:
        if self.activity.status == Activity.Status.DONE:
            return Status.DONE
        if self.activity.status == Activity.Status.CANCELLED:
            return Status.CANCELLED
        if self.check_out is not None:
            return Status.CHECKED_OUT
        if self.check_in is not None:
            return Status.CHECKED_IN
        return Status.PLANNED

    @property
    def outcome(self) -> str:
        return self.check_out.outcome if self.check_out is not None else ""

    @property
    def duration_minutes(self) -> int | None:
        seconds = self.check_out.duration_seconds if self.check_out is not None else None
        return None if seconds is None else round(seconds / 60)

    @property
    def late(self) -> bool:
        due = self.activity.due_at
        return bool(self.check_in and due and self.check_in.at > due + LATE_AFTER)

    @property
    def missed(self) -> bool:
        """No check-in, still open, and its time (its planned end, if any) long gone."""
        if self.check_in is not None or self.activity.status != Activity.Status.OPEN:
            return False
        end = self.activity.ends_at or self.activity.due_at
        return bool(end and self.now > end + MISSED_AFTER)

    @property
    def geo_uri(self) -> str:
        """RFC 5870 with the address as a query (Android and most map apps read it)."""
        return f"geo:0,0?q={quote(self.address)}" if self.address else ""

    @property
    def map_url(self) -> str:
        return MAP_SEARCH_URL.format(query=quote(self.address)) if self.address else ""

    @property
    def tel_uri(self) -> str:
        return f"tel:{self.phone}" if self.phone else ""


def _first_by_customer(rows: list[Any]) -> dict[tuple[str, int], Any]:
    """The first row per contact and per account (rows come primary first)."""
    found: dict[tuple[str, int], Any] = {}
    for row in rows:
        key = ("contact", row.contact_id) if row.contact_id else ("account", row.account_id)
        found.setdefault(key, row)
    return found


def visit_rows(activities: list[Activity], *, now: datetime | None = None) -> list[VisitRow]:
    """Rows for these visits in three more queries whatever their number: check-ins,
    addresses, phones. A contact without an address or phone gets its account's."""
    if not activities:
        return []
    workspace_id = activities[0].workspace_id
    ids = [a.pk for a in activities]
    contact_ids = {a.contact_id for a in activities if a.contact_id}
    account_ids = {a.account_id for a in activities if a.account_id}
    marks: dict[tuple[int, str], VisitCheckIn] = {
        (mark.activity_id, mark.kind): mark
        for mark in VisitCheckIn.objects.for_workspace(workspace_id)
        .filter(activity_id__in=ids)
        .select_related("user")
    }
    whose = Q(contact_id__in=contact_ids) | Q(account_id__in=account_ids)
    addresses = _first_by_customer(
        list(
            Address.objects.for_workspace(workspace_id).filter(whose).order_by("-is_primary", "id")
        )
    )
    phones = _first_by_customer(
        list(
            ContactPoint.objects.for_workspace(workspace_id)
            .filter(whose, kind=ContactPoint.Kind.PHONE)
            .order_by("-is_primary", "id")
        )
    )
    now = now or timezone.now()
    rows = []
    for activity in activities:
        keys = [("contact", activity.contact_id), ("account", activity.account_id)]
        address = next((addresses[k] for k in keys if k in addresses), None)
        phone = next((phones[k] for k in keys if k in phones), None)
        rows.append(
            VisitRow(
                activity=activity,
                check_in=marks.get((activity.pk, VisitCheckIn.Kind.CHECK_IN)),
                check_out=marks.get((activity.pk, VisitCheckIn.Kind.CHECK_OUT)),
                address=format_address(address) if address else "",
                phone=phone.value if phone else "",
                now=now,
            )
        )
    return rows


def day_of_visits(*, user: Any, day: date, assignee: User | None = None) -> list[VisitRow]:
    """A day's visits the caller may see (only ``assignee``'s when given), by time."""
    queryset = visits_on(visits(user=user), day)
    if assignee is not None:
        queryset = queryset.filter(assigned_to=assignee)
    return visit_rows(list(queryset[:DAY_LIMIT]))


# --- writes -----------------------------------------------------------------------------------
def _coordinate(name: str, value: Any, limit: int, errors: list[tuple[str, str]]) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        number = Decimal(str(value))
    except (InvalidOperation, ValueError):
        errors.append((name, _("must be a number")))
        return None
    if not number.is_finite() or not -limit <= number <= limit:
        errors.append((name, _("must be between %(low)s and %(high)s") % {"low": -limit, "high": limit}))  # fmt: skip
        return None
    return number.quantize(MICRODEGREE, rounding=ROUND_HALF_UP)


def _position(
    latitude: Any, longitude: Any, accuracy: Any, client_time: datetime | None
) -> dict[str, Any]:
    """The position and phone time as stored; ValidationFailed naming each bad field."""
    errors: list[tuple[str, str]] = []
    lat = _coordinate("latitude", latitude, 90, errors)
    lon = _coordinate("longitude", longitude, 180, errors)
    if not errors and (lat is None) != (lon is None):
        errors.append(("longitude" if lon is None else "latitude", _("give both latitude and longitude, or neither")))  # fmt: skip
    meters = None
    if accuracy not in (None, ""):
        try:
            meters = float(accuracy)
        except (TypeError, ValueError):
            meters = -1.0
        if not 0 <= meters < 1e7:
            errors.append(("accuracy", _("must be a distance in meters, 0 or more")))
    if client_time is not None and timezone.is_naive(client_time):
        client_time = timezone.make_aware(client_time)
    if errors:
        raise ValidationFailed(errors)
    return {"latitude": lat, "longitude": lon, "accuracy": meters if lat is not None else None,
            "client_time": client_time}  # fmt: skip


def _locked(activity: Activity) -> Activity:
    """The visit row locked: check-ins, check-outs and outcomes of one visit queue up."""
    return (
        Activity.objects.for_workspace(activity.workspace_id)
        .select_for_update(of=("self",))  # not the optional customers joined in
        .select_related("workspace", "contact", "account", "assigned_to")
        .get(pk=activity.pk)
    )


def _mark(activity: Activity, kind: str) -> VisitCheckIn | None:
    return (
        VisitCheckIn.objects.for_workspace(activity.workspace_id)
        .filter(activity=activity, kind=kind)
        .first()
    )


def _record(activity: Activity, by: User, kind: str, **values: Any) -> tuple[VisitCheckIn, bool]:
    mark = VisitCheckIn(
        workspace_id=activity.workspace_id, activity=activity, user=by, kind=kind,
        at=timezone.now(), created_by=by, updated_by=by, **values,
    )  # fmt: skip
    try:
        with transaction.atomic():
            mark.save()
    except IntegrityError:
        stored = _mark(activity, kind)
        if stored is None:
            raise
        return stored, False
    return mark, True


def _require_visit(activity: Activity) -> None:
    if activity.kind != Activity.Kind.VISIT:
        raise ValidationFailed([("activity_id", _("is not a visit"))])


@transaction.atomic
def check_in(
    *,
    activity: Activity,
    by: User,
    latitude: Any = None,
    longitude: Any = None,
    accuracy: Any = None,
    client_time: datetime | None = None,
) -> tuple[VisitCheckIn, bool]:
    """Record arriving at the customer: (check-in, created). Checking in again (a phone
    retrying) returns the first check-in unchanged. A position is optional: a rep who
    declines location, or whose phone finds none, still checks in."""
    activity = _locked(activity)
    _require_visit(activity)
    stored = _mark(activity, VisitCheckIn.Kind.CHECK_IN)
    if stored is not None:
        return stored, False
    if activity.status != Activity.Status.OPEN:
        raise ValidationFailed([("status", _("the visit is already closed"))])
    return _record(activity, by, VisitCheckIn.Kind.CHECK_IN,
                   **_position(latitude, longitude, accuracy, client_time))  # fmt: skip


@transaction.atomic
def check_out(
    *,
    activity: Activity,
    by: User,
    latitude: Any = None,
    longitude: Any = None,
    accuracy: Any = None,
    client_time: datetime | None = None,
) -> tuple[VisitCheckIn, bool]:
    """Record leaving: (check-out, created), with the time spent since the check-in.
    Idempotent like the check-in; a visit not checked in cannot be checked out."""
    activity = _locked(activity)
    _require_visit(activity)
    stored = _mark(activity, VisitCheckIn.Kind.CHECK_OUT)
    if stored is not None:
        return stored, False
    arrived = _mark(activity, VisitCheckIn.Kind.CHECK_IN)
    if arrived is None:
        raise ValidationFailed([("check_in", _("check in before checking out"))])
    if activity.status != Activity.Status.OPEN:
        raise ValidationFailed([("status", _("the visit is already closed"))])
    position = _position(latitude, longitude, accuracy, client_time)
    seconds = max(0, int((timezone.now() - arrived.at).total_seconds()))
    return _record(activity, by, VisitCheckIn.Kind.CHECK_OUT, duration_seconds=seconds, **position)


@dataclass
class OutcomeLogged:
    activity: Activity
    interaction: Interaction
    follow_up: Activity | None


NEXT_KINDS = (Activity.Kind.VISIT, Activity.Kind.CALL, Activity.Kind.TASK)


def _follow_up_due(visit: Activity, day: date) -> datetime:
    """The next step's day at the visit's own time of day (09:00 for an untimed visit)."""
    at = timezone.localtime(visit.due_at).time() if visit.due_at else time(9)
    return timezone.make_aware(datetime.combine(day, at))


@transaction.atomic
def log_outcome(
    *,
    activity: Activity,
    by: User,
    outcome: str,
    note: str = "",
    next_step: str = "",
    next_on: date | None = None,
    next_kind: str = Activity.Kind.VISIT,
) -> OutcomeLogged:
    """What came of a checked-out visit: completes the activity, which writes the visit to
    the customer's timeline (channel visit, linked to the activity), and plans the next step
    as a new activity for the same rep and customer when one is given."""
    activity = _locked(activity)
    _require_visit(activity)
    errors: list[tuple[str, str]] = []
    if outcome not in VisitOutcome.values:
        errors.append(("outcome", _("choose one of: %(values)s") % {"values": ", ".join(VisitOutcome.values)}))  # fmt: skip
    left = _mark(activity, VisitCheckIn.Kind.CHECK_OUT)
    if left is None:
        errors.append(("check_out", _("check out before logging the outcome")))
    if activity.status != Activity.Status.OPEN:
        errors.append(("status", _("the outcome of this visit is already logged")))
    next_step = next_step.strip()
    if next_step and next_on is None:
        errors.append(("next_on", _("give the date of the next step")))
    if next_on is not None and next_on < timezone.localdate():
        errors.append(("next_on", _("must not be in the past")))
    if next_kind not in NEXT_KINDS:
        errors.append(("next_kind", _("choose one of: %(values)s") % {"values": ", ".join(NEXT_KINDS)}))  # fmt: skip
    if errors:
        raise ValidationFailed(errors)
    assert left is not None
    lines = [str(VisitOutcome(outcome).label)]
    if note.strip():
        lines.append(note.strip())
    if next_on is not None:
        step = next_step or str(VisitOutcome(outcome).label)
        lines.append(_("Next step: %(step)s on %(day)s") % {"step": step, "day": next_on.isoformat()})  # fmt: skip
    completed = timeline_services.complete_activity(
        activity=activity, by=by, expected_version=activity.version,
        outcome="\n".join(lines), completed_at=left.at,
    )  # fmt: skip
    left.outcome = outcome
    left.updated_by = by
    left.updated_at = timezone.now()
    left.save(update_fields=["outcome", "updated_by", "updated_at"])
    follow_up = None
    if next_on is not None:
        follow_up = timeline_services.create_activity(
            workspace=activity.workspace, by=by, kind=next_kind,
            subject=next_step or _("Follow-up: %(subject)s") % {"subject": activity.subject},
            assigned_to=activity.assigned_to, contact=activity.contact, account=activity.account,
            due_at=_follow_up_due(activity, next_on),
        )  # fmt: skip
    assert completed.interaction is not None
    return OutcomeLogged(completed, completed.interaction, follow_up)


def plan_visit(
    *,
    workspace: Workspace,
    by: User,
    customer: Contact | Account,
    due_at: datetime,
    subject: str = "",
    assigned_to: User | None = None,
) -> Activity:
    """A visit to a customer at a time, through the timeline's activities."""
    name = str(customer)
    return timeline_services.create_activity(
        workspace=workspace, by=by, kind=Activity.Kind.VISIT,
        subject=subject.strip() or _("Visit %(name)s") % {"name": name},
        assigned_to=assigned_to,
        contact=customer if isinstance(customer, Contact) else None,
        account=customer if isinstance(customer, Account) else None,
        due_at=due_at,
    )  # fmt: skip

"""Forecasts and targets (REQUIREMENTS §2.1 "sales forecasting, quantified performance
management"): periods, each person's numbers by forecast category rolled up the manager
tree, managers' adjustments kept beside them, snapshots for accuracy, quotas and attainment.

How it stays fast: a forecast is a handful of aggregate queries — the workspace's
memberships (the tree), opportunity amounts grouped by owner, category and currency,
adjustments, targets — and the tree is walked in Python. No query per person.

Money is never converted: amounts in the workspace's currency make the totals; amounts in
any other currency are rolled up the same way and reported beside them, per currency.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from django.db import connection, transaction
from django.db.models import Q, QuerySet, Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.platform.audit import record_audit
from guanxi.platform.errors import Forbidden, NotFound, ValidationFailed
from guanxi.platform.models import Membership, Team, User, Workspace
from guanxi.platform.permissions import Scope
from guanxi.platform.versioning import save_versioned
from guanxi.platform.visibility import resolve_membership
from guanxi.sales.models import (
    ForecastAdjustment,
    ForecastSnapshot,
    ForecastSnapshotLine,
    Opportunity,
    Target,
)

FORECAST = "sales.forecast"
TARGET = "sales.target"
ADJUST = "adjust"
CATEGORIES: tuple[str, ...] = ("pipeline", "best_case", "commit", "closed", "omitted")
ZERO = Decimal("0.00")
CENT = Decimal("0.01")

Numbers = dict[str, Decimal]  # category -> amount
ByCurrency = dict[str, Numbers]  # currency -> category -> amount


def zero_numbers() -> Numbers:
    return dict.fromkeys(CATEGORIES, ZERO)


# --- periods ----------------------------------------------------------------------------------
MONTH = re.compile(r"^(\d{4})-(\d{2})$")
QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
RANGE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.\.(\d{4}-\d{2}-\d{2})$")


@dataclass(frozen=True)
class Period:
    """A span of calendar days, first and last included: a month (``2026-12``), a quarter
    (``2026-Q4``) or, for dashboards, a custom range (``2026-01-15..2026-02-14``)."""

    key: str
    kind: str  # month, quarter or range
    start: date
    end: date

    def bounds(self, zone: str | ZoneInfo) -> tuple[datetime, datetime]:
        """[start, end) as aware datetimes: midnight of the first day to midnight after the
        last, in the workspace's time zone."""
        tz = ZoneInfo(zone) if isinstance(zone, str) else zone
        return (
            datetime.combine(self.start, time.min, tzinfo=tz),
            datetime.combine(self.end + timedelta(days=1), time.min, tzinfo=tz),
        )

    def __str__(self) -> str:
        return self.key


def _month_end(year: int, month: int) -> date:
    first_next = date(year + month // 12, month % 12 + 1, 1)
    return first_next - timedelta(days=1)


def month(year: int, number: int) -> Period:
    return Period(
        f"{year:04d}-{number:02d}", "month", date(year, number, 1), _month_end(year, number)
    )


def quarter(year: int, number: int) -> Period:
    first = 3 * (number - 1) + 1
    return Period(
        f"{year:04d}-Q{number}", "quarter", date(year, first, 1), _month_end(year, first + 2)
    )


def parse_period(value: str | None, *, field: str = "period", allow_range: bool = False) -> Period:
    """``2026-12`` or ``2026-Q4`` (and ``YYYY-MM-DD..YYYY-MM-DD`` where ranges are allowed);
    anything else is a 422 naming ``field``."""
    text = (value or "").strip()
    if match := MONTH.match(text):
        year, number = int(match[1]), int(match[2])
        if 1 <= number <= 12 and year >= 1:
            return month(year, number)
    elif match := QUARTER.match(text):
        if int(match[1]) >= 1:
            return quarter(int(match[1]), int(match[2]))
    elif allow_range and (match := RANGE.match(text)):
        try:
            start, end = date.fromisoformat(match[1]), date.fromisoformat(match[2])
        except ValueError:
            start = end = None  # type: ignore[assignment]
        if start and end and start <= end and (end - start).days <= 3660:
            return Period(text, "range", start, end)
        if start and end:
            raise ValidationFailed([(field, _("the range must run forwards, at most ten years"))])
    if allow_range:
        message = _(
            "use a month (2026-12), a quarter (2026-Q4) or a range (2026-01-01..2026-03-31)"
        )
    else:
        message = _("use a month (2026-12) or a quarter (2026-Q4)")
    raise ValidationFailed([(field, message)])


def period_containing(day: date, kind: str = "quarter") -> Period:
    if kind == "month":
        return month(day.year, day.month)
    return quarter(day.year, (day.month - 1) // 3 + 1)


def following(period: Period) -> Period:
    return period_containing(period.end + timedelta(days=1), period.kind)


# --- the manager tree -------------------------------------------------------------------------
@dataclass
class Person:
    """A member as the forecast shows them."""

    membership_id: int
    public_id: str
    user_id: int
    username: str
    name: str
    manager_id: int | None
    team_id: int | None
    path: str
    user_public_id: str = ""
    reports: list[Person] = field(default_factory=list)

    @property
    def level(self) -> int:
        return self.path.count("/") - 2


class Tree:
    """Every live membership of a workspace, indexed by membership, user and public id."""

    def __init__(self, people: list[Person]) -> None:
        self.people = people
        self.by_membership = {p.membership_id: p for p in people}
        self.by_user = {p.user_id: p for p in people}
        self.by_public_id = {p.public_id: p for p in people}
        for person in people:
            manager = self.by_membership.get(person.manager_id) if person.manager_id else None
            if manager is not None:
                manager.reports.append(person)
        for person in people:
            person.reports.sort(key=lambda p: (p.name.casefold(), p.membership_id))

    def subtree(self, person: Person) -> list[Person]:
        """``person`` and everyone under them, top first (iterative: no recursion limit)."""
        result, stack = [], [person]
        while stack:
            current = stack.pop()
            result.append(current)
            stack.extend(reversed(current.reports))
        return result

    def find(self, key: str) -> Person | None:
        """A person by membership id (``mem_…``), user id (``usr_…``) or username."""
        if key in self.by_public_id:
            return self.by_public_id[key]
        for person in self.people:
            if key in (person.username, person.user_public_id):
                return person
        return None


def load_tree(workspace: Workspace | int) -> Tree:
    rows = (
        Membership.objects.for_workspace(workspace)
        .order_by("path", "id")
        .values_list(
            "id", "public_id", "user_id", "user__username", "user__first_name",
            "user__last_name", "user__public_id", "manager_id", "team_id", "path",
        )
    )  # fmt: skip
    people = []
    for mid, public_id, user_id, username, first, last, user_public_id, manager, team, path in rows:
        name = f"{last}{first}" if _is_han(last + first) else f"{first} {last}".strip()
        people.append(
            Person(mid, public_id, user_id, username, name or username, manager, team, path,
                   user_public_id)
        )  # fmt: skip
    return Tree(people)


def _is_han(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --- who sees whose forecast -----------------------------------------------------------------
def covers(membership: Membership, scope: str, person: Person) -> bool:
    """Does a grant at ``scope`` reach ``person``'s numbers? The same rule as the row
    filters of ``guanxi.platform.visibility``, on the tree already in memory."""
    if scope == Scope.ALL:
        return True
    if person.user_id == membership.user_id:
        return scope != Scope.NONE
    if scope == Scope.TEAM:
        return membership.team_id is not None and person.team_id == membership.team_id
    if scope == Scope.SUBTREE:
        return person.path.startswith(membership.path)
    return False


def person_for(
    membership: Membership, tree: Tree, key: str | None, *, action: str = "view"
) -> Person:
    """The person whose forecast is asked for (default: the caller), if the caller may see
    it; NotFound like a missing one otherwise; Forbidden for a visible one without
    ``action``."""
    person = tree.by_user.get(membership.user_id) if not key else tree.find(key)
    if person is None or not covers(membership, membership.scope_for(FORECAST, "view"), person):
        raise NotFound(_("forecast"))
    if action != "view" and not covers(membership, membership.scope_for(FORECAST, action), person):
        raise Forbidden(action=action, object_type=FORECAST)
    return person


def owner_scope_q(
    membership: Membership, owner_field: str, team_field: str | None = None
) -> Q | None:
    """The rows (by owner) whose numbers the caller may see in reports and dashboards: the
    ``sales.forecast`` view scope — a rep their own, a manager their subtree, administrators
    all. None: every row of the workspace; ``Q(pk__in=[])`` when nothing."""
    scope = membership.scope_for(FORECAST, "view")
    if scope == Scope.ALL:
        return None
    if scope == Scope.NONE:
        return Q(pk__in=[])
    own = Q(**{owner_field: membership.user_id})
    members = Membership.objects.for_workspace(membership.workspace_id)
    if scope == Scope.SUBTREE:
        below = members.filter(path__startswith=membership.path).values("user_id")
        return own | Q(**{f"{owner_field}__in": below})
    if scope == Scope.TEAM and membership.team_id is not None:
        return own | Q(
            **{f"{owner_field}__in": members.filter(team_id=membership.team_id).values("user_id")}
        )
    return own


# --- numbers ----------------------------------------------------------------------------------
def _owners_under(person: Person, workspace_id: int) -> QuerySet:
    return (
        Membership.objects.for_workspace(workspace_id)
        .filter(path__startswith=person.path)
        .values("user_id")
    )


def opportunities_in_period(workspace: Workspace, period: Period) -> QuerySet[Opportunity]:
    """Opportunities that count in ``period``: open ones expected to close in it, closed
    ones (won or lost) closed in it — by the date in the workspace's time zone."""
    open_ones, closed_ones = _period_parts(workspace, period)
    return open_ones | closed_ones


def _period_parts(
    workspace: Workspace, period: Period
) -> tuple[QuerySet[Opportunity], QuerySet[Opportunity]]:
    """The open part (by expected close date) and the closed part (by closing time) of a
    period's opportunities; each reads one of the covering indexes of migration 0005."""
    start, end = period.bounds(workspace.time_zone)
    alive = Opportunity.objects.for_workspace(workspace)
    return (
        alive.filter(
            stage__is_closed=False,
            expected_close_date__gte=period.start,
            expected_close_date__lte=period.end,
        ),
        alive.filter(stage__is_closed=True, closed_at__gte=start, closed_at__lt=end),
    )


def category_of(forecast_category: str, is_won: bool) -> str:
    """A won deal is *closed* whatever its stage says; others count in their stage's."""
    if is_won:
        return "closed"
    return forecast_category if forecast_category in CATEGORIES else "pipeline"


def own_numbers(
    workspace: Workspace, period: Period, *, owners: QuerySet | None = None
) -> dict[int, ByCurrency]:
    """Each owner's own amounts by currency and category: one query, two GROUP BYs (open
    deals by expected close date, closed ones by closing time) in a UNION ALL."""
    parts = []
    for rows in _period_parts(workspace, period):
        rows = rows.filter(owner__isnull=False)
        if owners is not None:
            rows = rows.filter(owner_id__in=owners)
        parts.append(
            rows.values("owner_id", "stage__forecast_category", "stage__is_won", "currency")
            .annotate(total=Sum("amount"))
            .order_by()
        )
    # thousands of rows for a large tree: read them as plain tuples, not dicts
    sql, params = parts[0].union(parts[1], all=True).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    result: dict[int, ByCurrency] = defaultdict(dict)
    for owner_id, forecast_category, is_won, currency, total in rows:
        numbers = result[owner_id].get(currency)
        if numbers is None:
            numbers = result[owner_id][currency] = zero_numbers()
        category = "closed" if is_won else category_of(forecast_category, False)
        if not isinstance(total, Decimal):  # SQLite sums come back as floats
            total = Decimal(str(total or 0)).quantize(CENT)
        numbers[category] += total
    return result


def roll_up(tree: Tree, top: Person, own: dict[int, ByCurrency]) -> dict[int, ByCurrency]:
    """Everyone's numbers in ``top``'s subtree plus their own, bottom up (children before
    parents, any depth)."""
    rolled: dict[int, ByCurrency] = {}
    for person in reversed(tree.subtree(top)):
        mine: ByCurrency = {c: dict(n) for c, n in own.get(person.user_id, {}).items()}
        for report in person.reports:
            for currency, numbers in rolled[report.user_id].items():
                into = mine.setdefault(currency, zero_numbers())
                for category, amount in numbers.items():
                    into[category] += amount
        rolled[person.user_id] = mine
    return rolled


@dataclass
class AdjustmentInfo:
    category: str
    amount: Decimal
    currency: str
    adjusted_by: str | None
    note: str
    adjusted_at: datetime
    public_id: str


def latest_adjustments(
    workspace: Workspace, period: Period, user_ids: list[int] | QuerySet
) -> dict[int, dict[str, AdjustmentInfo]]:
    """The latest adjustment of each person's each category: one query."""
    rows = (
        ForecastAdjustment.objects.for_workspace(workspace)
        .filter(period=period.key, user_id__in=user_ids)
        .order_by("adjusted_at", "id")
        .values_list(
            "user_id", "category", "amount", "currency", "adjusted_by__username", "note",
            "adjusted_at", "public_id",
        )
    )  # fmt: skip
    result: dict[int, dict[str, AdjustmentInfo]] = defaultdict(dict)
    for user_id, category, amount, currency, by, note, at, public_id in rows:
        result[user_id][category] = AdjustmentInfo(
            category, amount, currency, by, note, at, public_id
        )
    return result


def adjusted_roll_up(
    tree: Tree,
    top: Person,
    rolled_own: dict[int, ByCurrency],
    own: dict[int, ByCurrency],
    adjustments: dict[int, dict[str, AdjustmentInfo]],
    currency: str,
) -> dict[int, Numbers]:
    """The adjusted figure of everyone under ``top``, in the workspace currency: a person's
    latest adjustment of a category replaces their rolled-up number; without one, it is
    their own number plus their reports' adjusted figures (as in Salesforce)."""
    result: dict[int, Numbers] = {}
    for person in reversed(tree.subtree(top)):
        numbers = dict(own.get(person.user_id, {}).get(currency) or zero_numbers())
        for report in person.reports:
            for category, amount in result[report.user_id].items():
                numbers[category] += amount
        for category, info in adjustments.get(person.user_id, {}).items():
            numbers[category] = info.amount
        result[person.user_id] = numbers
    return result


@dataclass
class TargetInfo:
    amount: Decimal
    currency: str
    source: str  # "own": set for the person; "reports": the sum of their reports'
    public_id: str | None = None


def user_targets(workspace: Workspace, period: Period, user_ids: Any) -> dict[int, Target]:
    rows = Target.objects.for_workspace(workspace).filter(period=period.key, user_id__in=user_ids)
    return {t.user_id: t for t in rows}


def rolled_targets(
    tree: Tree, top: Person, own_targets: dict[int, Target], currency: str
) -> dict[int, TargetInfo | None]:
    """A person's target is their own when set, else the sum of their reports' (those in
    the workspace currency); None when nobody under them has one."""
    result: dict[int, TargetInfo | None] = {}
    for person in reversed(tree.subtree(top)):
        target = own_targets.get(person.user_id)
        if target is not None:
            result[person.user_id] = TargetInfo(
                target.amount, target.currency, "own", target.public_id
            )
            continue
        parts = [result[r.user_id] for r in person.reports]
        parts = [p for p in parts if p is not None and p.currency == currency]
        result[person.user_id] = (
            TargetInfo(sum((p.amount for p in parts), ZERO), currency, "reports") if parts else None
        )
    return result


def attainment(won: Decimal, target: TargetInfo | None) -> Decimal | None:
    """Won ÷ target, as a fraction rounded to four places; None without a (non-zero) target."""
    if target is None or not target.amount:
        return None
    return (won / target.amount).quantize(Decimal("0.0001"))


@dataclass
class ForecastRow:
    person: Person
    totals: Numbers
    other_currencies: ByCurrency
    adjusted: Numbers
    adjustments: dict[str, AdjustmentInfo]
    target: TargetInfo | None
    won: Decimal
    attainment: Decimal | None
    has_reports: bool


@dataclass
class Forecast:
    period: Period
    currency: str
    row: ForecastRow
    reports: list[ForecastRow]
    may_adjust: set[int]  # user ids whose numbers the caller may adjust


def forecast(*, user: Any, period: Period, person_key: str | None = None) -> Forecast:
    """The forecast of ``person_key`` (default: the caller) for ``period``, rolled up, with
    each direct report's rolled-up row. Five queries whatever the size of the tree."""
    membership = resolve_membership(user)
    if membership is None:
        raise NotFound(_("forecast"))
    workspace = membership.workspace
    tree = load_tree(workspace)
    person = person_for(membership, tree, person_key)
    owners = _owners_under(person, workspace.pk)
    own = own_numbers(workspace, period, owners=owners)
    rolled = roll_up(tree, person, own)
    adjustments = latest_adjustments(workspace, period, owners)
    currency = workspace.currency
    adjusted = adjusted_roll_up(tree, person, rolled, own, adjustments, currency)
    targets = rolled_targets(tree, person, user_targets(workspace, period, owners), currency)
    adjust_scope = membership.scope_for(FORECAST, ADJUST)

    def row(p: Person) -> ForecastRow:
        numbers = rolled.get(p.user_id, {})
        totals = dict(numbers.get(currency) or zero_numbers())
        target = targets.get(p.user_id)
        won_currency = target.currency if target else currency
        won = (numbers.get(won_currency) or zero_numbers())["closed"]
        return ForecastRow(
            person=p,
            totals=totals,
            other_currencies={c: n for c, n in sorted(numbers.items()) if c != currency},
            adjusted=adjusted[p.user_id],
            adjustments=adjustments.get(p.user_id, {}),
            target=target,
            won=won,
            attainment=attainment(won, target),
            has_reports=bool(p.reports),
        )

    shown = [person, *person.reports]
    return Forecast(
        period=period,
        currency=currency,
        row=row(person),
        reports=[row(r) for r in person.reports],
        may_adjust={p.user_id for p in shown if covers(membership, adjust_scope, p)},
    )


# --- adjustments ------------------------------------------------------------------------------
def _clean_money(value: Any, field_name: str, errors: list[tuple[str, str]]) -> Decimal | None:
    from guanxi.sales.services import _clean_amount

    found: list[tuple[str, str]] = []
    amount = _clean_amount(value, found)
    errors.extend((field_name, message) for _, message in found)
    return amount


@transaction.atomic
def adjust_forecast(
    *,
    user: Any,
    period: Period,
    person_key: str,
    category: str,
    amount: Any,
    note: str = "",
) -> ForecastAdjustment:
    """Record a manager's figure for someone's forecast; the rep's numbers stay as they are.

    The caller needs the *adjust* right over that person (a manager: their subtree)."""
    membership = resolve_membership(user)
    if membership is None:
        raise NotFound(_("forecast"))
    tree = load_tree(membership.workspace_id)
    person = person_for(membership, tree, person_key, action=ADJUST)
    errors: list[tuple[str, str]] = []
    if category not in CATEGORIES:
        errors.append(("category", _("one of %(choices)s") % {"choices": ", ".join(CATEGORIES)}))
    value = _clean_money(amount, "amount", errors)
    if len(note) > 2000:
        errors.append(("note", _("at most 2000 characters")))
    if errors:
        raise ValidationFailed(errors)
    adjustment = ForecastAdjustment(
        workspace_id=membership.workspace_id,
        period=period.key,
        user_id=person.user_id,
        category=category,
        amount=value,
        currency=membership.workspace.currency,
        adjusted_by_id=membership.user_id,
        note=note,
        created_by_id=membership.user_id,
        updated_by_id=membership.user_id,
    )
    adjustment.save()
    record_audit(
        action="sales.forecast.adjusted",
        actor=membership.user,
        workspace=membership.workspace,
        obj=adjustment,
        data={"period": period.key, "user": person.username, "category": category,
              "amount": str(value)},
    )  # fmt: skip
    return adjustment


# --- snapshots --------------------------------------------------------------------------------
@transaction.atomic
def take_snapshot(
    *, workspace: Workspace, period: Period, by: User | None = None, kind: str = "on_demand"
) -> ForecastSnapshot:
    """Store everyone's own numbers for ``period`` as they stand now (one aggregate query,
    one bulk insert). Roll-ups are recomputed from the lines when read."""
    snapshot = ForecastSnapshot(
        workspace=workspace, period=period.key, kind=kind, currency=workspace.currency,
        taken_at=timezone.now(),
        created_by=by, updated_by=by,
    )  # fmt: skip
    snapshot.save()
    lines = [
        ForecastSnapshotLine(snapshot=snapshot, user_id=user_id, currency=currency, **numbers)
        for user_id, by_currency in own_numbers(workspace, period).items()
        for currency, numbers in by_currency.items()
    ]
    ForecastSnapshotLine.objects.bulk_create(lines, batch_size=1000)
    snapshot.line_count = len(lines)  # type: ignore[attr-defined]
    return snapshot


def snapshot_forecast(*, user: Any, period: Period) -> ForecastSnapshot:
    """An on-demand snapshot, for those who may adjust forecasts (managers, administrators)."""
    membership = resolve_membership(user)
    if membership is None or membership.scope_for(FORECAST, ADJUST) == Scope.NONE:
        raise Forbidden(action=ADJUST, object_type=FORECAST)
    snapshot = take_snapshot(
        workspace=membership.workspace, period=period, by=membership.user, kind="on_demand"
    )
    record_audit(action="sales.forecast.snapshot", actor=membership.user, obj=snapshot,
                 workspace=membership.workspace, data={"period": period.key})  # fmt: skip
    return snapshot


def take_weekly_snapshots(
    *, workspace: Workspace, today: date | None = None
) -> list[ForecastSnapshot]:
    """The weekly job: this and next month and quarter, so that a snapshot taken before a
    period starts exists when its accuracy is measured."""
    today = today or timezone.localdate(timezone=ZoneInfo(workspace.time_zone))
    periods = []
    for kind in ("month", "quarter"):
        current = period_containing(today, kind)
        periods += [current, following(current)]
    return [take_snapshot(workspace=workspace, period=p, kind="weekly") for p in periods]


def baseline_snapshot(workspace: Workspace, period: Period) -> ForecastSnapshot | None:
    """The forecast "at the start" of a period: the latest snapshot of it taken before the
    end of its first day (workspace time zone); when there is none, the earliest one taken
    later during the period; None when no snapshot was taken in time."""
    start, end = period.bounds(workspace.time_zone)
    snapshots = ForecastSnapshot.objects.for_workspace(workspace).filter(period=period.key)
    before = snapshots.filter(taken_at__lt=start + timedelta(days=1)).order_by("-taken_at", "-id")
    found = before.first()
    if found is None:
        found = snapshots.filter(taken_at__lt=end).order_by("taken_at", "id").first()
    return found


# --- targets ----------------------------------------------------------------------------------
def _target_person(membership: Membership, tree: Tree, key: str, action: str) -> Person:
    person = tree.find(key)
    if person is None or not covers(membership, membership.scope_for(TARGET, action), person):
        raise ValidationFailed(
            [("user_id", _("no member %(id)s you may set a target for") % {"id": key})]
        )
    return person


def _clean_target(amount: Any, currency: Any, errors: list[tuple[str, str]]) -> tuple[Any, Any]:
    from guanxi.sales.services import _clean_currency

    return _clean_money(amount, "amount", errors), _clean_currency(currency, errors)


@transaction.atomic
def create_target(
    *,
    user: Any,
    period: Period,
    amount: Any,
    currency: str | None = None,
    person_key: str | None = None,
    team_public_id: str | None = None,
) -> Target:
    """A quota for one person (in the caller's *add* scope) or one team (all scope, or the
    caller's own team at team scope). One per person or team and period."""
    membership = resolve_membership(user)
    if membership is None or membership.scope_for(TARGET, "add") == Scope.NONE:
        raise Forbidden(action="add", object_type=TARGET)
    errors: list[tuple[str, str]] = []
    if bool(person_key) == bool(team_public_id):
        raise ValidationFailed([("user_id", _("give either user_id or team_id"))])
    value, code = _clean_target(amount, currency or membership.workspace.currency, errors)
    team = person = None
    if person_key:
        person = _target_person(membership, load_tree(membership.workspace_id), person_key, "add")
    else:
        team = (
            Team.objects.for_workspace(membership.workspace_id)
            .filter(public_id=team_public_id)
            .first()
        )
        scope = membership.scope_for(TARGET, "add")
        if team is None or not (
            scope == Scope.ALL or (scope == Scope.TEAM and team.pk == membership.team_id)
        ):
            errors.append(
                ("team_id", _("no team %(id)s you may set a target for") % {"id": team_public_id})
            )
    if errors:
        raise ValidationFailed(errors)
    clash = Target.objects.for_workspace(membership.workspace_id).filter(period=period.key)
    clash = clash.filter(user_id=person.user_id) if person else clash.filter(team=team)
    if clash.exists():
        raise ValidationFailed(
            [("period", _("a target for this period exists already; change it"))]
        )
    target = Target(
        workspace_id=membership.workspace_id, user_id=person.user_id if person else None,
        team=team, period=period.key, amount=value, currency=code,
        created_by_id=membership.user_id, updated_by_id=membership.user_id,
    )  # fmt: skip
    target.save()
    record_audit(action="sales.target.created", actor=membership.user, obj=target,
                 workspace=membership.workspace,
                 data={"period": period.key, "amount": str(value), "currency": code})  # fmt: skip
    return target


def update_target(
    *, target: Target, by: User, expected_version: int, amount: Any = None, currency: Any = None
) -> Target:
    errors: list[tuple[str, str]] = []
    changes: dict[str, Any] = {}
    if amount is not None:
        changes["amount"] = _clean_money(amount, "amount", errors)
    if currency is not None:
        from guanxi.sales.services import _clean_currency

        changes["currency"] = _clean_currency(currency, errors)
    if errors:
        raise ValidationFailed(errors)
    before = {name: str(getattr(target, name)) for name in changes}
    for name, value in changes.items():
        setattr(target, name, value)
    save_versioned(target, expected_version=expected_version, by=by, fields=list(changes))
    record_audit(action="sales.target.changed", actor=by, obj=target,
                 data={"before": before, "after": {k: str(v) for k, v in changes.items()}})  # fmt: skip
    return target


def delete_target(*, target: Target, by: User) -> None:
    target.deleted_at = timezone.now()
    target.deleted_by = by
    target.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="sales.target.deleted", actor=by, obj=target)


def targets(*, user: Any) -> QuerySet[Target]:
    return Target.objects.visible_to(user, "view").select_related("user", "team")


def won_for_targets(
    workspace: Workspace, period: Period, target_list: list[Target]
) -> dict[str, Decimal]:
    """What each target's person (with everyone under them) or team won in the period, in
    the target's currency, by target id: two queries (tree, amounts) for any number of
    targets of one period."""
    if not target_list:
        return {}
    start, end = period.bounds(workspace.time_zone)
    won = (
        Opportunity.objects.for_workspace(workspace)
        .filter(stage__is_won=True, closed_at__gte=start, closed_at__lt=end)
        .values("owner_id", "team_id", "currency")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    by_owner: dict[int, ByCurrency] = defaultdict(dict)
    by_team: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for row in won:
        if row["owner_id"]:
            numbers = by_owner[row["owner_id"]].setdefault(row["currency"], zero_numbers())
            numbers["closed"] += row["total"]
        if row["team_id"]:
            by_team[(row["team_id"], row["currency"])] += row["total"]
    tree = load_tree(workspace) if any(t.user_id for t in target_list) else None
    result: dict[str, Decimal] = {}
    for target in target_list:
        if target.team_id:
            result[target.public_id] = by_team[(target.team_id, target.currency)]
            continue
        person = tree.by_user.get(target.user_id) if tree else None
        total = ZERO
        for member in tree.subtree(person) if person and tree else []:
            total += by_owner.get(member.user_id, {}).get(target.currency, zero_numbers())["closed"]
        result[target.public_id] = total
    return result

"""Reads behind the opportunity pages: the board's columns (cards and totals) and the list's
filters and sort orders. Visibility is applied first; every read is a fixed number of
queries that stays fast with hundreds of thousands of deals (keyset pages, no OFFSET, totals
from one grouped query over a covering index)."""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    CharField,
    Count,
    DecimalField,
    F,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    Window,
)
from django.db.models.functions import Cast, Coalesce, RowNumber

from guanxi.platform.apiframework import decode_cursor, encode_cursor
from guanxi.platform.models import Membership
from guanxi.platform.names import user_label
from guanxi.platform.permissions import Scope
from guanxi.sales.models import Opportunity, OpportunityTotal, Pipeline, Stage

CARDS_PER_COLUMN = 25
MONEY_TIMES_PERCENT = DecimalField(max_digits=24, decimal_places=2)
# biggest deals first: what a manager looks at first on a board
CARD_ORDERING = ("-amount", "-id")
CARD_VALUES = (
    "id", "public_id", "name", "amount", "currency", "probability", "expected_close_date",
    "version", "stage_id", "account__name", "owner__username", "owner__first_name",
    "owner__last_name",
)  # fmt: skip


@dataclass(slots=True)
class Card:
    """What a board card shows of a deal (read as values, not model instances: a board
    holds a hundred cards)."""

    pk: int
    public_id: str
    name: str
    amount: Decimal
    currency: str
    probability: int
    expected_close_date: date | None
    version: int
    stage_id: int
    account_name: str
    owner_name: str  # the owner as people call them, "—" for nobody

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Card:
        username = row["owner__username"]
        owner = "—" if username is None else user_label(
            row["owner__first_name"], row["owner__last_name"], username
        )  # fmt: skip
        return cls(
            row["id"], row["public_id"], row["name"], row["amount"], row["currency"],
            row["probability"], row["expected_close_date"], row["version"], row["stage_id"],
            row["account__name"], owner,
        )  # fmt: skip


OWNER_CHOICES = ("", "me", "team", "reports")
CLOSE_PERIODS = (
    "", "overdue", "this_month", "next_month", "this_quarter", "next_quarter", "this_year",
)  # fmt: skip


# --- filters shared by the board and the list -------------------------------------------------
def close_period(period: str, today: date) -> tuple[date | None, date | None]:
    """The expected-close range of a named period, in the reader's calendar."""

    def month_end(day: date) -> date:
        return day.replace(day=calendar.monthrange(day.year, day.month)[1])

    def quarter_start(day: date) -> date:
        return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)

    if period == "overdue":
        return None, today - timedelta(days=1)
    if period == "this_month":
        return today.replace(day=1), month_end(today)
    if period == "next_month":
        start = month_end(today) + timedelta(days=1)
        return start, month_end(start)
    if period == "this_quarter":
        start = quarter_start(today)
        return start, month_end(date(start.year, start.month + 2, 1))
    if period == "next_quarter":
        start = month_end(date(quarter_start(today).year, quarter_start(today).month + 2, 1))
        start += timedelta(days=1)
        return start, month_end(date(start.year, start.month + 2, 1))
    if period == "this_year":
        return date(today.year, 1, 1), date(today.year, 12, 31)
    return None, None


def owner_filter(
    membership: Membership,
    owner: str,
    owner_user_id: int | None,
    *,
    owner_field: str = "owner_id",
    team_field: str = "team_id",
) -> Q | None:
    """Whose deals: mine, my team's, my reports' (everyone under me in the manager tree), one
    person's — always within what the caller may see. ``owner_field`` and ``team_field``
    name the columns (the kept totals call them ``owner_key`` and ``team_key``)."""
    if owner == "me":
        return Q(**{owner_field: membership.user_id})
    if owner == "team":
        if membership.team_id is None:
            return Q(**{owner_field: membership.user_id})
        return Q(**{team_field: membership.team_id})
    if owner == "reports":
        members = Membership.objects.for_workspace(membership.workspace_id).filter(
            path__startswith=membership.path
        )
        return Q(**{f"{owner_field}__in": members.values("user_id")})
    if owner_user_id is not None:
        return Q(**{owner_field: owner_user_id})
    return None


@dataclass
class Filters:
    """What a board or list is narrowed to; every field comes from the query string."""

    owner: str = ""  # "", me, team, reports, or a username
    owner_user_id: int | None = None  # the username resolved
    close: str = ""  # a CLOSE_PERIODS name
    close_after: date | None = None
    close_before: date | None = None
    q: str = ""
    stage_ids: list[int] | None = None  # None: every stage
    pipeline_id: int | None = None


def apply_filters(
    queryset: QuerySet[Opportunity], membership: Membership, filters: Filters, today: date
) -> QuerySet[Opportunity]:
    condition = owner_filter(membership, filters.owner, filters.owner_user_id)
    if condition is not None:
        queryset = queryset.filter(condition)
    elif filters.owner and filters.owner_user_id is None:
        return queryset.none()  # a username nobody has
    after, before = close_period(filters.close, today)
    after = filters.close_after or after
    before = filters.close_before or before
    if after:
        queryset = queryset.filter(expected_close_date__gte=after)
    if before:
        queryset = queryset.filter(expected_close_date__lte=before)
    if filters.q:
        queryset = queryset.filter(name__icontains=filters.q)
    if filters.stage_ids is not None:
        # stage ids rather than a join on the stage: the indexes lead with them
        queryset = queryset.filter(stage_id__in=filters.stage_ids)
    elif filters.pipeline_id is not None:
        queryset = queryset.filter(pipeline_id=filters.pipeline_id)
    return queryset


def scope_condition(
    membership: Membership, *, owner_field: str = "owner_id", team_field: str = "team_id"
) -> Q | None:
    """The deals a member may see, with the members' ids of a team or subtree spelled out
    (None: every deal of the workspace). The rows are those of ``visible_to``; the planner
    can then use the owner and team indexes (an ``IN (subquery)`` inside an ``OR`` makes
    PostgreSQL read every deal of the workspace)."""
    scope = membership.scope_for(Opportunity.object_type, "view")
    if not membership.is_active or scope == Scope.NONE:
        return Q(pk__in=[])
    if scope == Scope.ALL:
        return None
    if scope == Scope.TEAM and membership.team_id is not None:
        ids = _scope_member_ids(membership, scope)
        return Q(**{f"{owner_field}__any": ids}) | Q(**{team_field: membership.team_id})
    if scope == Scope.SUBTREE:
        return Q(**{f"{owner_field}__any": _scope_member_ids(membership, scope)})
    return Q(**{owner_field: membership.user_id})


def _scope_member_ids(membership: Membership, scope: str) -> list[int]:
    """The user ids of the member's team or subtree, the member's own included; read once
    per request (the board asks for its cards and for its totals)."""
    cache = membership.__dict__.setdefault("_board_scope_ids", {})
    if scope not in cache:
        members = Membership.objects.for_workspace(membership.workspace_id)
        if scope == Scope.TEAM:
            members = members.filter(team_id=membership.team_id)
        else:
            members = members.filter(path__startswith=membership.path)
        cache[scope] = sorted({membership.user_id, *members.values_list("user_id", flat=True)})
    return cache[scope]


def with_scope_ids(queryset: QuerySet[Opportunity], membership: Membership) -> QuerySet:
    """``queryset`` (already ``visible_to``) with its scope said again by ``scope_condition``:
    the same rows, read through the owner and team indexes — what keeps a rep's or a
    manager's board fast with hundreds of thousands of deals."""
    condition = scope_condition(membership)
    return queryset if condition is None else queryset.filter(condition)


# --- the board --------------------------------------------------------------------------------
@dataclass
class Column:
    stage: Stage
    cards: list[Card] = field(default_factory=list)
    next_cursor: str | None = None
    count: int = 0
    total: Decimal = Decimal(0)  # in the workspace's currency
    weighted: Decimal = Decimal(0)  # amount × probability, in the workspace's currency
    # deals in other currencies are counted, and their sums shown apart, never converted
    other: dict[str, Decimal] = field(default_factory=dict)


def pipeline_stages(pipeline: Pipeline) -> list[Stage]:
    return list(
        Stage.objects.for_workspace(pipeline.workspace_id)
        .filter(pipeline=pipeline)
        .order_by("position", "id")
    )


def kept_totals(membership: Membership, filters: Filters, stage_ids: list[int]) -> QuerySet | None:
    """The board's totals per stage and currency from the totals the database keeps
    (``OpportunityTotal``), when the board is narrowed only by whose deals they are; None
    when a close date or a search narrows it (those are summed from the deals)."""
    if filters.close or filters.close_after or filters.close_before or filters.q:
        return None
    rows = OpportunityTotal.objects.filter(
        workspace_id=membership.workspace_id, stage_id__in=stage_ids
    )
    keys = {"owner_field": "owner_key", "team_field": "team_key"}
    for condition in (
        scope_condition(membership, **keys),
        owner_filter(membership, filters.owner, filters.owner_user_id, **keys),
    ):
        if condition is not None:
            rows = rows.filter(condition)
    if filters.owner and filters.owner not in OWNER_CHOICES and filters.owner_user_id is None:
        return rows.none()  # a username nobody has
    return (
        rows.order_by()
        .values("stage_id", "currency")
        .annotate(n=Sum("deals"), total=Sum("amount"), weighted=Sum("weighted"))
    )


def board_columns(
    *,
    queryset: QuerySet[Opportunity],
    stages: list[Stage],
    currency: str,
    totals: QuerySet | None = None,
) -> list[Column]:
    """The columns of a board: every stage with its count and totals; open stages with their
    first cards. Two queries whatever the number of stages or deals. ``totals`` (from
    ``kept_totals``) stands in for summing the deals."""
    columns = {stage.pk: Column(stage=stage) for stage in stages}
    scoped = queryset.filter(stage_id__in=list(columns))
    if totals is None:
        totals = (
            scoped.order_by()
            .values("stage_id", "currency")
            .annotate(
                n=Count("id"),
                total=Sum("amount"),
                weighted=Sum(F("amount") * F("probability"), output_field=MONEY_TIMES_PERCENT),
            )
        )
    for row in totals:
        if not row["n"]:
            continue
        column = columns[row["stage_id"]]
        column.count += row["n"]
        if row["currency"] == currency:
            column.total += Decimal(str(row["total"] or 0))
            column.weighted += Decimal(str(row["weighted"] or 0)) / 100
        else:
            column.other[row["currency"]] = Decimal(str(row["total"] or 0))
    open_ids = [stage.pk for stage in stages if not stage.is_closed]
    for stage_id, cards in first_cards(scoped, open_ids).items():
        column = columns[stage_id]
        column.cards = cards[:CARDS_PER_COLUMN]
        if len(cards) > CARDS_PER_COLUMN:
            column.next_cursor = card_cursor(column.cards[-1])
    return list(columns.values())


def _cards(queryset: QuerySet[Opportunity]) -> QuerySet:
    return queryset.select_related(None).values(*CARD_VALUES)


def first_cards(queryset: QuerySet[Opportunity], stage_ids: list[int]) -> dict[int, list[Card]]:
    """The first ``CARDS_PER_COLUMN + 1`` cards of each stage. On PostgreSQL two queries: the
    ids, an array of one LIMIT per stage read from the board index alone (its included
    owner and team columns answer the visibility filter without visiting the table), then
    those deals; elsewhere one query numbering the rows of each stage."""
    result: dict[int, list[Card]] = {stage_id: [] for stage_id in stage_ids}
    if not stage_ids:
        return result
    limit = CARDS_PER_COLUMN + 1
    if connection.vendor == "postgresql":
        from django.contrib.postgres.expressions import ArraySubquery

        top = (
            queryset.filter(stage_id=OuterRef("pk"))
            .select_related(None)
            .order_by(*CARD_ORDERING)
            .values("id")[:limit]
        )
        # one row per stage asked for; the deals in each array come from ``queryset``
        # (visibility applied), the stage rows only number them
        per_stage = Stage._base_manager.filter(pk__in=stage_ids).values_list(
            ArraySubquery(top), flat=True
        )
        ids = [pk for found in per_stage for pk in found or ()]  # None: nothing visible
        # the ids were just read through ``queryset`` (tenant, visibility and filters
        # applied): the deals are fetched by them alone
        rows = _cards(Opportunity._base_manager.filter(pk__any=ids)) if ids else []
    else:
        number = Window(
            RowNumber(),
            partition_by=F("stage_id"),
            order_by=[F("amount").desc(), F("id").desc()],
        )
        rows = (
            queryset.filter(stage_id__in=stage_ids)
            .select_related(None)
            .annotate(row_number=number)
            .values(*CARD_VALUES, "row_number")
            .filter(row_number__lte=limit)
        )
    for row in rows:
        result[row["stage_id"]].append(Card.from_row(row))
    for cards in result.values():
        cards.sort(key=lambda card: (card.amount, card.pk), reverse=True)
    return result


def card_cursor(card: Card) -> str:
    return encode_cursor([card.amount, card.pk])


def more_cards(
    queryset: QuerySet[Opportunity], *, stage: Stage, cursor: str
) -> tuple[list[Card], str | None]:
    """The next cards of one column after ``cursor`` (keyset, one query)."""
    amount, pk = decode_cursor(cursor, width=2)
    rows = [
        Card.from_row(row)
        for row in _cards(queryset.filter(stage_id=stage.pk))
        .filter(Q(amount__lt=amount) | Q(amount=amount, id__lt=pk), amount__lte=amount)
        .order_by(*CARD_ORDERING)[: CARDS_PER_COLUMN + 1]
    ]
    if len(rows) > CARDS_PER_COLUMN:
        rows = rows[:CARDS_PER_COLUMN]
        return rows, card_cursor(rows[-1])
    return rows, None


# --- the list ---------------------------------------------------------------------------------
# sort key -> (annotations, ordering ending in a unique field). Nullable columns sort by a
# non-null stand-in so that the keyset compares values, never NULLs.
FAR_FUTURE = "9999-12-31"
LIST_SORTS: dict[str, tuple[dict[str, Any], tuple[str, ...]]] = {
    "name": ({}, ("name", "id")),
    "-name": ({}, ("-name", "-id")),
    "account": ({}, ("account__sort_key", "id")),
    "-account": ({}, ("-account__sort_key", "-id")),
    "stage": ({}, ("stage__position", "id")),
    "-stage": ({}, ("-stage__position", "-id")),
    "amount": ({}, ("amount", "id")),
    "-amount": ({}, ("-amount", "-id")),
    "probability": ({}, ("probability", "id")),
    "-probability": ({}, ("-probability", "-id")),
    "close": (
        {"close_key": Coalesce(Cast("expected_close_date", CharField()), Value(FAR_FUTURE))},
        ("close_key", "id"),
    ),
    "-close": (
        {"close_key": Coalesce(Cast("expected_close_date", CharField()), Value(FAR_FUTURE))},
        ("-close_key", "-id"),
    ),
    "owner": ({"owner_key": Coalesce("owner__username", Value(""))}, ("owner_key", "id")),
    "-owner": ({"owner_key": Coalesce("owner__username", Value(""))}, ("-owner_key", "-id")),
    "updated": ({}, ("updated_at", "id")),
    "-updated": ({}, ("-updated_at", "-id")),
}
DEFAULT_LIST_SORT = "-updated"


LIST_COLUMNS = (
    "workspace_id", "public_id", "name", "amount", "currency", "probability",
    "expected_close_date", "updated_at", "account__name", "account__sort_key", "stage__key",
    "stage__name", "stage__position", "owner__username", "owner__first_name",
    "owner__last_name",
)  # fmt: skip


def list_rows(queryset: QuerySet[Opportunity], sort: str) -> tuple[QuerySet, tuple[str, ...]]:
    """The list's rows with what its sort order needs, and the keyset ordering."""
    annotations, ordering = LIST_SORTS.get(sort, LIST_SORTS[DEFAULT_LIST_SORT])
    # only the columns a row shows and the keyset reads: fewer columns to read and to
    # turn into attributes (a third of the page's time went to building instances)
    rows = queryset.select_related("account", "stage", "owner").only(*LIST_COLUMNS)
    if annotations:
        rows = rows.annotate(**annotations)
    return rows, ordering

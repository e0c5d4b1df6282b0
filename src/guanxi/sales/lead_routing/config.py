"""A workspace's routing rules, compiled once and kept in the process until they change.

Every write of a rule, policy or the routing settings gives the workspace's settings row a
new ``rules_stamp``. Routing a lead reads the stamp (and the workspace's time zone) in one
small query and rebuilds the compiled rules only when it differs, so every process sees a
change at its next lead. ``GUANXI_LEAD_RULES_CACHE_SECONDS`` (5 with the production
settings, else 0) lets a process skip even that query for a few seconds, at the price of a
change taking that long to reach other processes (the process that made it drops its copy
at once).
"""

from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery

from guanxi.platform.ids import new_public_id
from guanxi.platform.models import Workspace
from guanxi.sales.lead_routing.calendar import BusinessCalendar
from guanxi.sales.lead_routing.compiled import CompiledValues
from guanxi.sales.lead_routing.scoring import CompiledScoringRule
from guanxi.sales.models import (
    AssignmentRule,
    Lead,
    LeadRoutingSettings,
    ScoringRule,
    SlaPolicy,
)

Method = AssignmentRule.Method

# Province and city names are matched without their administrative suffix, so a rule for
# 广东 takes leads from 广东省 and a rule for 上海市 those from 上海.
PLACE_SUFFIXES = ("特别行政区", "维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "省", "市")


def place_key(value: str) -> str:
    value = (value or "").strip().casefold()
    for suffix in PLACE_SUFFIXES:
        if value.endswith(suffix) and len(value) > len(suffix) + 1:
            return value[: -len(suffix)]
    return value


def _keys(values: Any, key=lambda v: str(v).strip().casefold()) -> frozenset[str]:
    return frozenset(k for k in (key(v) for v in (values or [])) if k)


@dataclass(frozen=True)
class Target:
    """Where a rule sends a lead: a user, or a team (round robin, least loaded, queue)."""

    method: str
    user_id: int | None = None
    team_id: int | None = None


@dataclass(frozen=True)
class CompiledAssignmentRule:
    pk: int
    public_id: str
    name: str
    countries: frozenset[str]
    regions: frozenset[str]
    cities: frozenset[str]
    industries: frozenset[str]
    languages: frozenset[str]
    product_interests: tuple[str, ...]
    sources: frozenset[str]
    min_score: int | None
    target: Target

    @classmethod
    def of(cls, rule: AssignmentRule) -> CompiledAssignmentRule:
        return cls(
            pk=rule.pk, public_id=rule.public_id, name=rule.name,
            countries=_keys(rule.countries), regions=_keys(rule.regions, place_key),
            cities=_keys(rule.cities, place_key), industries=_keys(rule.industries),
            languages=_keys(rule.languages), product_interests=tuple(_keys(rule.product_interests)),
            sources=_keys(rule.sources), min_score=rule.min_score,
            target=Target(rule.method, rule.user_id, rule.team_id),
        )  # fmt: skip

    def matches(self, lead: Lead, score: int) -> bool:
        """All conditions hold (an empty list holds for every lead)."""
        if self.sources and (lead.source or "").casefold() not in self.sources:
            return False
        if self.min_score is not None and score < self.min_score:
            return False
        if self.countries and (lead.country or "").strip().casefold() not in self.countries:
            return False
        if self.regions and place_key(lead.region) not in self.regions:
            return False
        if self.cities and place_key(lead.city) not in self.cities:
            return False
        if self.industries and (lead.industry or "").strip().casefold() not in self.industries:
            return False
        if self.languages:
            language = (lead.language or "").strip().casefold().replace("_", "-")
            if not any(language == w or language.startswith(w + "-") for w in self.languages):
                return False
        if self.product_interests:
            interest = (lead.product_interest or "").casefold()
            if not any(p in interest for p in self.product_interests):
                return False
        return True


@dataclass(frozen=True)
class CompiledSlaPolicy:
    pk: int
    name: str
    sources: frozenset[str]
    min_score: int | None
    max_score: int | None
    minutes: int
    reassign_on_escalation: bool

    @classmethod
    def of(cls, policy: SlaPolicy) -> CompiledSlaPolicy:
        return cls(
            pk=policy.pk, name=policy.name, sources=_keys(policy.sources),
            min_score=policy.min_score, max_score=policy.max_score,
            minutes=policy.first_touch_minutes,
            reassign_on_escalation=policy.reassign_on_escalation,
        )  # fmt: skip

    def fits(self, lead: Lead) -> bool:
        if self.sources and (lead.source or "").casefold() not in self.sources:
            return False
        if self.min_score is not None and lead.score < self.min_score:
            return False
        return self.max_score is None or lead.score <= self.max_score


@dataclass(frozen=True)
class RoutingConfig:
    workspace_id: int
    stamp: str
    scoring: tuple[CompiledScoringRule, ...]
    assignment: tuple[CompiledAssignmentRule, ...]
    sla: tuple[CompiledSlaPolicy, ...]
    calendar: BusinessCalendar
    fallback: Target | None

    @property
    def reads_behaviour(self) -> bool:
        return any(rule.test is None for rule in self.scoring)

    def sla_policy(self, lead: Lead) -> CompiledSlaPolicy | None:
        return next((policy for policy in self.sla if policy.fits(lead)), None)


def _dates(values: Any) -> frozenset[dt.date]:
    result = set()
    for value in values or []:
        try:
            result.add(dt.date.fromisoformat(str(value)))
        except ValueError:
            continue  # the services refuse bad dates; a hand-edited row loses only that one
    return frozenset(result)


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def calendar_of(row: LeadRoutingSettings | None, time_zone: str) -> BusinessCalendar:
    row = row or LeadRoutingSettings()
    return BusinessCalendar(
        time_zone=_zone(time_zone),
        weekdays=frozenset(int(d) for d in row.weekdays or []),
        start=row.day_start,
        end=row.day_end,
        holidays=_dates(row.holidays),
        extra_workdays=_dates(row.extra_workdays),
    )


def load(workspace_id: int, stamp: str, time_zone: str) -> RoutingConfig:
    """Compile the workspace's active rules (four queries)."""
    row = LeadRoutingSettings.objects.for_workspace(workspace_id).first()
    scoring = ScoringRule.objects.for_workspace(workspace_id).filter(is_active=True)
    assignment = AssignmentRule.objects.for_workspace(workspace_id).filter(is_active=True)
    policies = SlaPolicy.objects.for_workspace(workspace_id).filter(is_active=True)
    fallback = None
    if row is not None and row.fallback_method:
        fallback = Target(row.fallback_method, row.fallback_user_id, row.fallback_team_id)
    return RoutingConfig(
        workspace_id=workspace_id,
        stamp=stamp,
        scoring=tuple(CompiledScoringRule.of(r) for r in scoring.order_by("position", "id")),
        assignment=tuple(
            CompiledAssignmentRule.of(r) for r in assignment.order_by("position", "id")
        ),
        sla=tuple(CompiledSlaPolicy.of(p) for p in policies.order_by("position", "id")),
        calendar=calendar_of(row, time_zone),
        fallback=fallback,
    )


def _stamp_query(workspace_id: int) -> Any:
    stamp_of = LeadRoutingSettings.objects.dangerously_all_workspaces().filter(
        workspace_id=OuterRef("pk")
    )
    return (
        Workspace.objects.filter(pk=workspace_id)
        .annotate(stamp=Subquery(stamp_of.values("rules_stamp")[:1]))
        .values_list("stamp", "time_zone")
    )


# the workspace's rules stamp and time zone: one small query per lead, compiled once
_STAMP = CompiledValues(_stamp_query)


@dataclass
class _Entry:
    config: RoutingConfig
    checked_at: float


_cache: dict[int, _Entry] = {}


def cache_seconds() -> float:
    """``GUANXI_LEAD_RULES_CACHE_SECONDS``: how long a process may route with what it read of
    the rules, the teams' members and least-loaded counts without asking whether they
    changed (0: ask for every lead). The production settings default to 5, the others to 0;
    the ``LEAD_RULES_CACHE_SECONDS`` setting wins over the environment."""
    value = getattr(settings, "LEAD_RULES_CACHE_SECONDS", None)
    if value is None:
        value = os.environ.get("GUANXI_LEAD_RULES_CACHE_SECONDS") or 0
    return float(value)


def routing_config(workspace_id: int) -> RoutingConfig:
    """The workspace's compiled rules: one query while they are unchanged."""
    ttl = cache_seconds()
    entry = _cache.get(workspace_id)
    now = time.monotonic()
    if entry is not None and ttl and now - entry.checked_at < ttl:
        return entry.config
    found = next(iter(_STAMP.rows(workspace_id)), None)
    stamp, time_zone = found if found is not None else (None, "UTC")
    key = f"{stamp or ''}|{time_zone}"
    if entry is not None and entry.config.stamp == key:
        entry.checked_at = now
        return entry.config
    config = load(workspace_id, key, time_zone)
    _cache[workspace_id] = _Entry(config, now)
    return config


_forget_also: list[Callable[[int], None]] = []


def also_forget(drop: Callable[[int], None]) -> None:
    """Have ``forget`` call ``drop(workspace_id)`` too (a copy kept beside the rules)."""
    _forget_also.append(drop)


def forget(workspace_id: int) -> None:
    """Drop this process's copy of the workspace's rules (and what is kept with them)."""
    _cache.pop(workspace_id, None)
    for drop in _forget_also:
        drop(workspace_id)


def rules_changed(workspace: Workspace | int) -> None:
    """Give the workspace a new rules stamp (every process rebuilds its compiled rules) and
    drop this process's copy when the transaction commits."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    stamp = new_public_id("rules")
    updated = LeadRoutingSettings.objects.for_workspace(workspace_id).update(rules_stamp=stamp)
    if not updated:
        LeadRoutingSettings(workspace_id=workspace_id, rules_stamp=stamp).save()
    forget(workspace_id)
    transaction.on_commit(lambda: forget(workspace_id))

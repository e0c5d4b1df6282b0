"""Who gets a lead: the first matching assignment rule whose target has someone who may
take it, else the workspace's fallback, else nobody (the lead waits unassigned).

A team target skips members who are inactive (in the workspace or as a user) or whose role
may not change leads. Round robin keeps one counter per team, raised atomically in SQL
(``INSERT … ON CONFLICT DO UPDATE … RETURNING``), so two leads assigned at the same moment
get consecutive turns. Least loaded picks the member with the fewest open leads (status
new or working); ties go round robin.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from django.db import connection
from django.db.models import Count

from guanxi.platform.models import Membership, User
from guanxi.platform.permissions import Scope, get_object_type
from guanxi.sales.lead_routing.compiled import CompiledValues
from guanxi.sales.lead_routing.config import (
    CompiledAssignmentRule,
    Method,
    RoutingConfig,
    Target,
    also_forget,
    cache_seconds,
)
from guanxi.sales.models import AssignmentPointer, Lead

# A member's open work, for least-loaded assignment.
LOAD_STATUSES = (Lead.Status.NEW, Lead.Status.WORKING)


@dataclass(frozen=True)
class Assignment:
    owner: User | None
    team_id: int | None
    rule: CompiledAssignmentRule | None  # None: the fallback, or nothing matched
    method: str
    fallback: bool = False

    @property
    def rule_name(self) -> str:
        return self.rule.name if self.rule else ""


@dataclass(frozen=True)
class Candidate:
    """A member who may take leads, as routing reads them: ids and names, no model rows."""

    membership_id: int
    user_id: int
    username: str
    team_id: int | None

    @cached_property
    def user(self) -> User:
        # a reference to the user row for foreign keys (owner, notification recipient), made
        # once per candidate: members kept between leads give every lead the same one
        return User(pk=self.user_id, username=self.username)


def role_may_own_leads(role_key: str, is_system: bool, permissions: dict | None) -> bool:
    """Whether a role may work leads (change them at any scope)."""
    try:
        object_type = get_object_type(Lead.object_type)
    except KeyError:  # the lead's object type is not registered: nobody is kept out
        return True
    grants = dict.fromkeys(object_type.actions, Scope.NONE.value)
    if is_system:
        grants.update(object_type.default_grants(role_key))
    grants.update((permissions or {}).get(Lead.object_type) or {})
    return grants.get("change", Scope.NONE.value) != Scope.NONE.value


def may_own_leads(membership: Membership) -> bool:
    role = membership.role
    return role_may_own_leads(role.key, role.is_system, role.permissions)


def _members_query(**filters: Any) -> CompiledValues:
    def build(workspace_id: int, value: int) -> Any:
        return (
            Membership.objects.for_workspace(workspace_id)
            .filter(is_active=True, user__is_active=True, **{filters["by"]: value})
            .order_by("id")
            .values_list("id", "user_id", "user__username", "team_id", "role__key",
                         "role__is_system", "role__permissions")
        )  # fmt: skip

    return CompiledValues(build)


_MEMBERS = {"team": _members_query(by="team_id"), "user": _members_query(by="user_id")}


KEPT_AT_MOST = 10_000


class _Kept(dict):
    """What a process keeps for ``GUANXI_LEAD_RULES_CACHE_SECONDS``: key (workspace id
    first) -> (read at, value)."""

    def fresh(self, key: tuple, ttl: float) -> Any:
        """The value kept under ``key`` if it is younger than ``ttl`` seconds, else None."""
        kept = self.get(key)
        return kept[1] if kept is not None and time.monotonic() - kept[0] < ttl else None

    def keep(self, key: tuple, value: Any) -> Any:
        if len(self) >= KEPT_AT_MOST:
            self.clear()
        self[key] = (time.monotonic(), value)
        return value

    def forget(self, workspace_id: int) -> None:
        for key in [k for k in self if k[0] == workspace_id]:
            del self[key]


# (workspace, "team"|"user", id) -> members; (workspace, team) -> open leads by user, kept
# up with the leads this process gives until counted again
_kept = _Kept()
_loads_kept = _Kept()


def _members(workspace_id: int, exclude: Collection[int], *, by: str, value: int) -> list:
    """Active members (in the workspace and as users) whose role may work leads, in a
    fixed order (membership id): one query, plain values — or none, for as long as
    ``GUANXI_LEAD_RULES_CACHE_SECONDS`` lets a process keep what it read."""
    ttl, key = cache_seconds(), (workspace_id, by, value)
    members = _kept.fresh(key, ttl) if ttl else None
    if members is None:
        members = _read_members(workspace_id, by, value)
        if ttl:
            _kept.keep(key, members)
    return [m for m in members if m.user_id not in exclude] if exclude else members


def _read_members(workspace_id: int, by: str, value: int) -> list[Candidate]:
    return [
        Candidate(pk, user_id, username, team_id)
        for pk, user_id, username, team_id, role, is_system, permissions in _MEMBERS[by].rows(
            workspace_id, value
        )
        if role_may_own_leads(role, is_system, permissions)
    ]


also_forget(_kept.forget)
also_forget(_loads_kept.forget)


def next_turn(workspace_id: int, team_id: int, count: int = 1) -> int:
    """The team's next round-robin turn (1, 2, 3…), raised atomically in one statement;
    with ``count``, that many turns are taken and the first is returned."""
    table = connection.ops.quote_name(AssignmentPointer._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, team_id, counter) VALUES (%s, %s, %s) "
            f"ON CONFLICT (workspace_id, team_id) DO UPDATE SET counter = {table}.counter + %s "
            "RETURNING counter",
            [workspace_id, team_id, count, count],
        )
        return int(cursor.fetchone()[0]) - count + 1


def open_loads(workspace_id: int, user_ids: list[int]) -> dict[int, int]:
    """Each user's open leads (new or working), for least loaded: one grouped count on the
    (workspace, owner, status) index. Its plan depends on the statistics: for a workspace
    flooded with leads since they were last gathered, PostgreSQL may read all of the
    workspace's open leads instead (16 ms at 12,000) — still bounded by them, unlike a
    count per member, which was planned then as a read of all the workspace's leads for
    each member (300 ms for 20 members at 23,000)."""
    return dict(
        Lead.objects.for_workspace(workspace_id)
        .filter(owner_id__in=user_ids, status__in=LOAD_STATUSES)
        .values("owner_id")
        .annotate(n=Count("id"))
        .order_by()
        .values_list("owner_id", "n")
    )


def _team_loads(workspace_id: int, team_id: int, members: Sequence[Candidate]) -> dict[int, int]:
    """Each member's open leads: counted for every lead — or, for as long as
    ``GUANXI_LEAD_RULES_CACHE_SECONDS`` lets a process keep what it read, counted once and
    then kept up by the process (what other processes gave or closed meanwhile is seen at
    the next count)."""
    ttl, key = cache_seconds(), (workspace_id, team_id)
    user_ids = [m.user_id for m in members]
    if not ttl:
        return open_loads(workspace_id, user_ids)
    loads = _loads_kept.fresh(key, ttl)
    if loads is None or not set(user_ids) <= loads.keys():
        counted = open_loads(workspace_id, user_ids)
        loads = _loads_kept.keep(key, {user_id: counted.get(user_id, 0) for user_id in user_ids})
    return loads


def _pick(workspace_id: int, team_id: int, members: Sequence[Candidate], method: str) -> Candidate:
    if method == Method.LEAST_LOADED and len(members) > 1:
        loads = _team_loads(workspace_id, team_id, members)
        lowest = min(loads.get(m.user_id, 0) for m in members)
        tied = [m for m in members if loads.get(m.user_id, 0) == lowest]
        chosen = tied[0] if len(tied) == 1 else _turn(workspace_id, team_id, tied)
        if (workspace_id, team_id) in _loads_kept:  # kept: the lead adds to its owner's work
            loads[chosen.user_id] = loads.get(chosen.user_id, 0) + 1
        return chosen
    if len(members) == 1:
        return members[0]
    return _turn(workspace_id, team_id, members)


def _turn(workspace_id: int, team_id: int, members: Sequence[Candidate]) -> Candidate:
    return members[(next_turn(workspace_id, team_id) - 1) % len(members)]


def resolve(
    workspace_id: int, target: Target, exclude: Collection[int] = ()
) -> tuple[User | None, int | None] | None:
    """(owner, team id) the target gives now, or None when nobody in it may take the lead
    (the next rule is tried). A queue gives the team and no owner."""
    if target.method == Method.USER:
        if target.user_id is None or target.user_id in exclude:
            return None
        members = _members(workspace_id, exclude, by="user", value=target.user_id)
        return (members[0].user, members[0].team_id) if members else None
    if target.team_id is None:
        return None
    if target.method == Method.QUEUE:
        return None, target.team_id
    members = _members(workspace_id, exclude, by="team", value=target.team_id)
    if not members:
        return None
    chosen = _pick(workspace_id, target.team_id, members, target.method)
    return chosen.user, target.team_id


def choose(
    config: RoutingConfig, lead: Lead, *, score: int, exclude: Collection[int] = ()
) -> Assignment:
    """The first rule that matches and has someone to take the lead; else the fallback."""
    for rule in config.assignment:
        if not rule.matches(lead, score):
            continue
        found = resolve(config.workspace_id, rule.target, exclude)
        if found is not None:
            return Assignment(found[0], found[1], rule, rule.target.method)
    if config.fallback is not None:
        found = resolve(config.workspace_id, config.fallback, exclude)
        if found is not None:
            return Assignment(found[0], found[1], None, config.fallback.method, fallback=True)
    return Assignment(None, None, None, "", fallback=True)


class BatchChooser:
    """``choose`` for many new leads of one workspace at once, with the outcome of choosing
    for them one by one in order: a team's members are read once; least loaded counts a
    team's open leads once and adds each lead it gives; round-robin turns are taken for the
    whole batch in one statement per team (``finish``)."""

    def __init__(self, config: RoutingConfig) -> None:
        self.config = config
        self.chosen: list[Assignment] = []
        self._members: dict[tuple[str, int], list[Candidate]] = {}
        self._loads: dict[int, dict[int, int]] = {}
        self._ties: dict[int, list[int]] = {}  # team -> [first turn, turns used]
        self._waiting: dict[int, list[tuple[int, list[Candidate]]]] = {}  # round robin
        self._counts = True

    def _candidates(self, by: str, value: int) -> list[Candidate]:
        if (by, value) not in self._members:
            self._members[(by, value)] = _members(self.config.workspace_id, (), by=by,
                                                  value=value)  # fmt: skip
        return self._members[(by, value)]

    def _least_loaded(self, team_id: int, members: list[Candidate]) -> Candidate:
        if team_id not in self._loads:
            self._loads[team_id] = open_loads(self.config.workspace_id,
                                              [m.user_id for m in members])  # fmt: skip
        loads = self._loads[team_id]
        lowest = min(loads.get(m.user_id, 0) for m in members)
        tied = [m for m in members if loads.get(m.user_id, 0) == lowest]
        pick = tied[0]
        if len(tied) > 1:  # ties go round robin: one turn taken now, the next ones counted
            if team_id not in self._ties:
                self._ties[team_id] = [next_turn(self.config.workspace_id, team_id), 0]
            first, used = self._ties[team_id]
            pick = tied[(first + used - 1) % len(tied)]
            self._ties[team_id][1] += 1
        if self._counts:  # the lead adds to its owner's open work
            loads[pick.user_id] = loads.get(pick.user_id, 0) + 1
        return pick

    def _target(self, target: Target, rule: Any, fallback: bool) -> Assignment | None:
        if target.method == Method.USER:
            members = self._candidates("user", target.user_id) if target.user_id else []
            if not members:
                return None
            return Assignment(members[0].user, members[0].team_id, rule, target.method,
                              fallback)  # fmt: skip
        if target.team_id is None:
            return None
        if target.method == Method.QUEUE:
            return Assignment(None, target.team_id, rule, target.method, fallback)
        members = self._candidates("team", target.team_id)
        if not members:
            return None
        if len(members) == 1:
            pick = members[0]
        elif target.method == Method.LEAST_LOADED:
            pick = self._least_loaded(target.team_id, members)
        else:  # round robin: the owner is given by ``finish``
            waiting = self._waiting.setdefault(target.team_id, [])
            waiting.append((len(self.chosen), members))
            return Assignment(None, target.team_id, rule, target.method, fallback)
        return Assignment(pick.user, target.team_id, rule, target.method, fallback)

    def choose(self, lead: Lead, *, score: int) -> int:
        """Choose for ``lead``; the index of its assignment in ``chosen``."""
        self._counts = lead.status in LOAD_STATUSES
        found = None
        for rule in self.config.assignment:
            if rule.matches(lead, score):
                found = self._target(rule.target, rule, False)
                if found is not None:
                    break
        if found is None and self.config.fallback is not None:
            found = self._target(self.config.fallback, None, True)
        self.chosen.append(found or Assignment(None, None, None, "", fallback=True))
        return len(self.chosen) - 1

    def finish(self) -> list[Assignment]:
        """Give the round-robin owners (one statement per team) and count the extra turns
        least-loaded ties took."""
        workspace_id = self.config.workspace_id
        for team_id, waiting in self._waiting.items():
            first = next_turn(workspace_id, team_id, len(waiting))
            for offset, (index, members) in enumerate(waiting):
                pick = members[(first + offset - 1) % len(members)]
                was = self.chosen[index]
                self.chosen[index] = Assignment(pick.user, team_id, was.rule, was.method,
                                                was.fallback)  # fmt: skip
        for team_id, (_first, used) in self._ties.items():
            if used > 1:
                next_turn(workspace_id, team_id, used - 1)
        return self.chosen

"""Every write of lead routing: the rules, policies and business hours administrators keep,
and what happens to a lead: scored and assigned when created, reassigned by hand, escalated
when nobody touched it in time, rescored as its behaviour fades."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Sequence
from typing import Any

from django.db import transaction
from django.db.models import Max, Model
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.platform.audit import record_audit
from guanxi.platform.bulkupdate import update_columns
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import Membership, Team, User, Workspace
from guanxi.platform.notifications import notify, register_kind
from guanxi.platform.versioning import save_versioned
from guanxi.sales.lead_routing import assignment, scoring
from guanxi.sales.lead_routing.calendar import NoWorkingTime
from guanxi.sales.lead_routing.config import RoutingConfig, Target, routing_config, rules_changed
from guanxi.sales.models import (
    AssignmentRule,
    Lead,
    LeadResponse,
    LeadRoutingSettings,
    ScoringRule,
    SlaPolicy,
)

Method = AssignmentRule.Method
Errors = list[tuple[str, str]]

register_kind("sales.lead_assigned", _("A new lead for you: %(lead)s"))
register_kind(
    "sales.lead_escalated",
    _("%(lead)s was not followed up in time by %(owner)s (due %(due)s)"),
)


# --- validation helpers -------------------------------------------------------------------------
def _name(data: dict[str, Any], errors: Errors) -> None:
    if "name" in data:
        data["name"] = str(data["name"] or "").strip()
        if not data["name"]:
            errors.append(("name", _("must not be empty")))
        elif len(data["name"]) > 200:
            errors.append(("name", _("at most 200 characters")))


def _string_list(data: dict[str, Any], field: str, errors: Errors, *, upper: bool = False,
                 allowed: tuple[str, ...] | None = None) -> None:  # fmt: skip
    if field not in data:
        return
    value = data[field] if data[field] is not None else []
    if isinstance(value, str):
        value = [part for part in value.replace("，", ",").split(",")]
    if not isinstance(value, list | tuple) or not all(isinstance(v, str) for v in value):
        errors.append((field, _("must be a list of texts")))
        return
    cleaned = []
    for item in value:
        item = item.strip().upper() if upper else item.strip()
        if item and item not in cleaned:
            cleaned.append(item)
    if allowed is not None:
        unknown = [item for item in cleaned if item not in allowed]
        if unknown:
            errors.append((field, _("unknown: %(values)s; use %(allowed)s")
                           % {"values": ", ".join(unknown), "allowed": ", ".join(allowed)}))  # fmt: skip
    if any(len(item) > 200 for item in cleaned):
        errors.append((field, _("each at most 200 characters")))
    data[field] = cleaned


def _integer(data: dict[str, Any], field: str, errors: Errors, *, minimum: int | None = None,
             maximum: int | None = None, optional: bool = True) -> None:  # fmt: skip
    if field not in data:
        return
    value = data[field]
    if value in (None, "") and optional:
        data[field] = None
        return
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(str(value).strip())
        except ValueError:
            errors.append((field, _("must be a whole number")))
            return
    if minimum is not None and value < minimum:
        errors.append((field, _("must be at least %(n)s") % {"n": minimum}))
    elif maximum is not None and value > maximum:
        errors.append((field, _("must be at most %(n)s") % {"n": maximum}))
    data[field] = value


def _member_of(workspace_id: int, user: User | None, field: str, errors: Errors) -> None:
    if user is None:
        return
    found = Membership.objects.for_workspace(workspace_id).filter(user=user).exists()
    if not found:
        errors.append((field, _("is not a member of this workspace")))


def _team_of(workspace_id: int, team: Team | None, field: str, errors: Errors) -> None:
    if team is not None and (team.workspace_id != workspace_id or team.deleted_at is not None):
        errors.append((field, _("no such team")))


SOURCES = tuple(Lead.Source.values)


# --- scoring rules ------------------------------------------------------------------------------
def _clean_scoring(data: dict[str, Any], current: ScoringRule | None) -> dict[str, Any]:
    errors: Errors = []
    _name(data, errors)
    field = data.get("field", current.field if current else None)
    operator = data.get("operator", current.operator if current else None)
    if field not in scoring.OPERATORS:
        errors.append(("field", _("must be one of %(values)s")
                       % {"values": ", ".join(scoring.OPERATORS)}))  # fmt: skip
    elif operator not in scoring.OPERATORS[field]:
        errors.append(("operator", _("for %(field)s use one of %(values)s")
                       % {"field": field, "values": ", ".join(scoring.OPERATORS[field])}))  # fmt: skip
    value = data.get("value", current.value if current else "")
    if operator in (ScoringRule.Operator.IS_SET, ScoringRule.Operator.NOT_FREE_MAIL):
        value = ""
    elif operator == ScoringRule.Operator.IN:
        holder = {"value": value}
        _string_list(holder, "value", errors)
        value = holder["value"]
        if not value and not any(f == "value" for f, _m in errors):
            errors.append(("value", _("give at least one value")))
    elif operator == ScoringRule.Operator.EVENTS:
        value = str(value or "any").strip().lower()
        kinds = scoring.BEHAVIOUR_KINDS + tuple(_channels())
        if value not in kinds:
            errors.append(("value", _("count one of %(values)s") % {"values": ", ".join(kinds)}))
    elif operator is not None:
        if isinstance(value, list) and len(value) == 1:
            value = value[0]
        if not isinstance(value, str) or not value.strip():
            errors.append(("value", _("must not be empty")))
        else:
            value = value.strip()[:200]
    data["value"] = value
    if current is None or "points" in data:
        _integer(data, "points", errors, minimum=-1000, maximum=1000, optional=False)
        if data.get("points") is None and not any(f == "points" for f, _m in errors):
            errors.append(("points", _("required")))
    _integer(data, "half_life_days", errors, minimum=1, maximum=3650)
    _integer(data, "max_events", errors, minimum=1, maximum=1000)
    _integer(data, "position", errors, minimum=0, maximum=100000)
    if current is None:
        for required in ("name", "field", "operator"):
            if required not in data and not any(f == required for f, _m in errors):
                errors.append((required, _("required")))
    if errors:
        raise ValidationFailed(errors)
    return data


def _channels() -> list[str]:
    from guanxi.timeline.models import Channel

    return list(Channel.values)


SCORING_FIELDS = ("name", "position", "is_active", "field", "operator", "value", "points",
                  "half_life_days", "max_events")  # fmt: skip
ASSIGNMENT_FIELDS = ("name", "position", "is_active", "countries", "regions", "cities",
                     "industries", "languages", "product_interests", "sources", "min_score",
                     "method", "user", "team")  # fmt: skip
SLA_FIELDS = ("name", "position", "is_active", "sources", "min_score", "max_score",
              "first_touch_minutes", "reassign_on_escalation")  # fmt: skip


def _pick(fields: tuple[str, ...], values: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(set(values) - set(fields))
    if unknown:
        raise ValidationFailed([(name, _("unknown field")) for name in unknown])
    return dict(values)


def _next_position(model: type[Model], workspace_id: int) -> int:
    top = model.objects.for_workspace(workspace_id).aggregate(top=Max("position"))["top"]
    return 0 if top is None else top + 1


def _create(model: type[Model], *, workspace: Workspace, by: User | None,
            data: dict[str, Any]) -> Any:  # fmt: skip
    if data.get("position") is None:
        data["position"] = _next_position(model, workspace.pk)
    data.setdefault("is_active", True)
    obj = model(workspace=workspace, created_by=by, updated_by=by, **data)
    obj.save()
    rules_changed(workspace)
    record_audit(action="lead_rule.created", actor=by, workspace=workspace, obj=obj,
                 data={"kind": model._meta.model_name})  # fmt: skip
    return obj


def _update(obj: Any, *, by: User | None, expected_version: int, data: dict[str, Any]) -> Any:
    for key, value in data.items():
        setattr(obj, key, value)
    save_versioned(obj, expected_version=expected_version, by=by)
    rules_changed(obj.workspace_id)
    record_audit(action="lead_rule.changed", actor=by, obj=obj,
                 data={"kind": type(obj)._meta.model_name, "fields": sorted(data)})  # fmt: skip
    return obj


@transaction.atomic
def delete_rule(*, rule: ScoringRule | AssignmentRule | SlaPolicy, by: User | None) -> None:
    """Soft-delete a scoring rule, assignment rule or SLA policy."""
    rule.deleted_at = timezone.now()
    rule.deleted_by = by
    rule.save(update_fields=["deleted_at", "deleted_by"])
    rules_changed(rule.workspace_id)
    record_audit(action="lead_rule.deleted", actor=by, obj=rule,
                 data={"kind": type(rule)._meta.model_name})  # fmt: skip


@transaction.atomic
def create_scoring_rule(*, workspace: Workspace, by: User | None, **values: Any) -> ScoringRule:
    data = _clean_scoring(_pick(SCORING_FIELDS, values), None)
    return _create(ScoringRule, workspace=workspace, by=by, data=data)


@transaction.atomic
def update_scoring_rule(*, rule: ScoringRule, by: User | None, expected_version: int,
                        **values: Any) -> ScoringRule:  # fmt: skip
    data = _clean_scoring(_pick(SCORING_FIELDS, values), rule)
    return _update(rule, by=by, expected_version=expected_version, data=data)


# --- assignment rules -----------------------------------------------------------------------------
def _clean_target(workspace_id: int, data: dict[str, Any], current: Any, errors: Errors,
                  prefix: str = "") -> None:  # fmt: skip
    method_key, user_key, team_key = f"{prefix}method", f"{prefix}user", f"{prefix}team"
    method = data.get(method_key, getattr(current, method_key, None) if current else None)
    user = data.get(user_key, getattr(current, user_key, None) if current else None)
    team = data.get(team_key, getattr(current, team_key, None) if current else None)
    if prefix and not method:
        data[method_key], data[user_key], data[team_key] = "", None, None
        return
    if method not in Method.values:
        errors.append((method_key, _("must be one of %(values)s")
                       % {"values": ", ".join(Method.values)}))  # fmt: skip
        return
    if method == Method.USER:
        if user is None:
            errors.append((user_key, _("name the user who gets the leads")))
        data[team_key] = None
    else:
        if team is None:
            errors.append((team_key, _("name the team that gets the leads")))
        data[user_key] = None
    _member_of(workspace_id, data.get(user_key), user_key, errors)
    _team_of(workspace_id, data.get(team_key), team_key, errors)


def _clean_assignment(workspace_id: int, data: dict[str, Any], current: Any) -> dict[str, Any]:
    errors: Errors = []
    _name(data, errors)
    _string_list(data, "countries", errors, upper=True)
    for field in ("regions", "cities", "industries", "languages", "product_interests"):
        _string_list(data, field, errors)
    _string_list(data, "sources", errors, allowed=SOURCES)
    for code in data.get("countries") or []:
        if len(code) != 2 or not code.isalpha():
            errors.append(("countries", _("use two-letter codes (CN, HK, US…)")))
            break
    _integer(data, "min_score", errors, minimum=-100000, maximum=100000)
    _integer(data, "position", errors, minimum=0, maximum=100000)
    _clean_target(workspace_id, data, current, errors)
    if current is None and "name" not in data:
        errors.append(("name", _("required")))
    if errors:
        raise ValidationFailed(errors)
    return data


@transaction.atomic
def create_assignment_rule(*, workspace: Workspace, by: User | None,
                           **values: Any) -> AssignmentRule:  # fmt: skip
    data = _clean_assignment(workspace.pk, _pick(ASSIGNMENT_FIELDS, values), None)
    return _create(AssignmentRule, workspace=workspace, by=by, data=data)


@transaction.atomic
def update_assignment_rule(*, rule: AssignmentRule, by: User | None, expected_version: int,
                           **values: Any) -> AssignmentRule:  # fmt: skip
    data = _clean_assignment(rule.workspace_id, _pick(ASSIGNMENT_FIELDS, values), rule)
    return _update(rule, by=by, expected_version=expected_version, data=data)


@transaction.atomic
def move_rule(*, rule: ScoringRule | AssignmentRule | SlaPolicy, by: User | None,
              up: bool) -> list[Any]:  # fmt: skip
    """Swap a rule with the one above (``up``) or below it; positions become 0, 1, 2…
    The order of the list is the order rules are tried in."""
    model = type(rule)
    rows = list(
        model.objects.for_workspace(rule.workspace_id)
        .select_for_update()
        .order_by("position", "id")
    )
    index = next(i for i, row in enumerate(rows) if row.pk == rule.pk)
    other = index - 1 if up else index + 1
    if 0 <= other < len(rows):
        rows[index], rows[other] = rows[other], rows[index]
    now = timezone.now()
    changed = []
    for position, row in enumerate(rows):
        if row.position != position:
            row.position, row.updated_at, row.updated_by = position, now, by
            row.version += 1
            changed.append(row)
    model.objects.for_workspace(rule.workspace_id).bulk_update(
        changed, ["position", "updated_at", "updated_by", "version"]
    )
    rules_changed(rule.workspace_id)
    record_audit(action="lead_rule.moved", actor=by, obj=rule,
                 data={"kind": model._meta.model_name, "direction": "up" if up else "down"})  # fmt: skip
    return rows


# --- SLA policies ---------------------------------------------------------------------------------
def _clean_sla(data: dict[str, Any], current: Any) -> dict[str, Any]:
    errors: Errors = []
    _name(data, errors)
    _string_list(data, "sources", errors, allowed=SOURCES)
    _integer(data, "min_score", errors, minimum=-100000, maximum=100000)
    _integer(data, "max_score", errors, minimum=-100000, maximum=100000)
    _integer(data, "position", errors, minimum=0, maximum=100000)
    if current is None or "first_touch_minutes" in data:
        _integer(data, "first_touch_minutes", errors, minimum=1, maximum=60 * 24 * 90,
                 optional=False)  # fmt: skip
    low = data.get("min_score", getattr(current, "min_score", None))
    high = data.get("max_score", getattr(current, "max_score", None))
    if isinstance(low, int) and isinstance(high, int) and low > high:
        errors.append(("max_score", _("must not be below the minimum score")))
    if current is None:
        for required in ("name", "first_touch_minutes"):
            if required not in data:
                errors.append((required, _("required")))
    if errors:
        raise ValidationFailed(errors)
    return data


@transaction.atomic
def create_sla_policy(*, workspace: Workspace, by: User | None, **values: Any) -> SlaPolicy:
    data = _clean_sla(_pick(SLA_FIELDS, values), None)
    return _create(SlaPolicy, workspace=workspace, by=by, data=data)


@transaction.atomic
def update_sla_policy(*, policy: SlaPolicy, by: User | None, expected_version: int,
                      **values: Any) -> SlaPolicy:  # fmt: skip
    data = _clean_sla(_pick(SLA_FIELDS, values), policy)
    return _update(policy, by=by, expected_version=expected_version, data=data)


# --- business hours and the fallback ----------------------------------------------------------------
SETTINGS_FIELDS = ("weekdays", "day_start", "day_end", "holidays", "extra_workdays",
                   "fallback_method", "fallback_user", "fallback_team")  # fmt: skip


def routing_settings(workspace: Workspace | int) -> LeadRoutingSettings:
    """The workspace's settings row, made with the defaults the first time it is read."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    row = LeadRoutingSettings.objects.for_workspace(workspace_id).first()
    if row is None:
        with transaction.atomic():
            rules_changed(workspace_id)
        row = LeadRoutingSettings.objects.for_workspace(workspace_id).get()
    return row


def _dates(data: dict[str, Any], field: str, errors: Errors) -> None:
    if field not in data:
        return
    value = data[field] or []
    if isinstance(value, str):
        value = [part.strip() for part in value.replace("，", ",").replace("\n", ",").split(",")]
    result: set[dt.date] = set()
    for item in value:
        if isinstance(item, dt.date):
            result.add(item)
            continue
        if not str(item).strip():
            continue
        try:
            result.add(dt.date.fromisoformat(str(item).strip()))
        except ValueError:
            errors.append((field, _("%(value)s is not a date (YYYY-MM-DD)") % {"value": item}))
    data[field] = [day.isoformat() for day in sorted(result)]


def _time(data: dict[str, Any], field: str, errors: Errors) -> None:
    if field not in data or isinstance(data[field], dt.time):
        return
    try:
        data[field] = dt.time.fromisoformat(str(data[field]).strip())
    except ValueError:
        errors.append((field, _("must be a time of day (HH:MM)")))


@transaction.atomic
def update_routing_settings(*, workspace: Workspace, by: User | None,
                            expected_version: int | None = None,
                            **values: Any) -> LeadRoutingSettings:  # fmt: skip
    """Business hours (weekdays, start and end, holidays, make-up working days) and the
    fallback owner or queue. Without ``expected_version`` the last write wins."""
    data = _pick(SETTINGS_FIELDS, values)
    row = routing_settings(workspace)
    errors: Errors = []
    if "weekdays" in data:
        days = data["weekdays"]
        if not isinstance(days, list | tuple) or not all(
            isinstance(d, int) and not isinstance(d, bool) and 0 <= d <= 6 for d in days
        ):
            errors.append(("weekdays", _("give weekdays as numbers, 0 = Monday … 6 = Sunday")))
        else:
            data["weekdays"] = sorted(set(days))
    _time(data, "day_start", errors)
    _time(data, "day_end", errors)
    start, end = data.get("day_start", row.day_start), data.get("day_end", row.day_end)
    if isinstance(start, dt.time) and isinstance(end, dt.time) and start >= end:
        errors.append(("day_end", _("must be later than the start of the day")))
    _dates(data, "holidays", errors)
    _dates(data, "extra_workdays", errors)
    clash = set(data.get("holidays", row.holidays)) & set(
        data.get("extra_workdays", row.extra_workdays)
    )
    if clash:
        errors.append(("extra_workdays", _("%(dates)s cannot be a holiday and a working day")
                       % {"dates": ", ".join(sorted(clash))}))  # fmt: skip
    if {"fallback_method", "fallback_user", "fallback_team"} & set(data):
        _clean_target(workspace.pk, data, row, errors, prefix="fallback_")
    if errors:
        raise ValidationFailed(errors)
    for key, value in data.items():
        setattr(row, key, value)
    row.updated_by = by
    save_versioned(row, expected_version=row.version if expected_version is None
                   else expected_version, by=by)  # fmt: skip
    rules_changed(workspace)
    record_audit(action="lead_rule.changed", actor=by, workspace=workspace, obj=row,
                 data={"kind": "leadroutingsettings", "fields": sorted(data)})  # fmt: skip
    row.refresh_from_db()
    return row


# --- routing a lead ---------------------------------------------------------------------------------
PLACEHOLDER_ID = "lead_00000000000000000000000000"


@functools.cache
def _lead_url_pattern() -> str:
    try:
        return reverse("web:lead_detail", args=[PLACEHOLDER_ID])
    except NoReverseMatch:  # the lead pages are not installed
        return ""


def lead_url(lead: Lead) -> str:
    """The lead's page, for notifications (empty where there is no lead page)."""
    return _lead_url_pattern().replace(PLACEHOLDER_ID, lead.public_id)


def _due(config: RoutingConfig, lead: Lead, since: dt.datetime) -> dt.datetime | None:
    policy = config.sla_policy(lead)
    if policy is None or not lead.is_open:
        return None
    try:
        return config.calendar.add_working_minutes(since, policy.minutes)
    except NoWorkingTime:
        return None


def _score(config: RoutingConfig, lead: Lead, now: dt.datetime) -> None:
    events: list[scoring.BehaviourEvent] = []
    if config.reads_behaviour and lead.pk is not None:  # a lead not inserted has done nothing
        events = scoring.lead_behaviour([lead]).get(lead.pk, [])
    lead.score, lead.score_details = scoring.score(config.scoring, lead, events, now)
    lead.scored_at = now


def _assignment_data(lead: Lead, chosen: assignment.Assignment,
                     previous_owner_id: int | None = None) -> dict[str, Any]:  # fmt: skip
    return {"owner": chosen.owner.username if chosen.owner else None,
            "team": lead.team_id, "rule": chosen.rule.public_id if chosen.rule else None,
            "rule_name": chosen.rule_name, "method": chosen.method,
            "fallback": chosen.fallback, "previous_owner": previous_owner_id,
            "score": lead.score,
            "sla_due_at": lead.sla_due_at.isoformat() if lead.sla_due_at else None}  # fmt: skip


def _announce(lead: Lead, chosen: assignment.Assignment, *, by: User | None, action: str,
              previous_owner_id: int | None = None) -> None:  # fmt: skip
    record_audit(action=action, actor=by, workspace=Workspace(pk=lead.workspace_id), obj=lead,
                 data=_assignment_data(lead, chosen, previous_owner_id))  # fmt: skip
    if chosen.owner is not None:
        notify(workspace=lead.workspace_id, recipient=chosen.owner, kind="sales.lead_assigned",
               by=by, data={"lead": str(lead)}, url=lead_url(lead))  # fmt: skip


def _route(config: RoutingConfig, lead: Lead, now: dt.datetime) -> assignment.Assignment | None:
    """Score the lead, give it an owner by the rules when it has none and set when it must
    be touched — on the instance; what is written, and when, is the caller's."""
    _score(config, lead, now)
    chosen = None
    if lead.owner_id is None and lead.team_id is None and lead.is_open:
        chosen = assignment.choose(config, lead, score=lead.score)
        lead.owner, lead.team_id = chosen.owner, chosen.team_id
    if lead.owner_id is not None or lead.team_id is not None:
        lead.assigned_at = lead.assigned_at or now
        lead.sla_due_at = _due(config, lead, lead.assigned_at)
    return chosen


def _assigned(chosen: assignment.Assignment | None) -> bool:
    return chosen is not None and (chosen.owner is not None or chosen.team_id is not None)


def route_unsaved_lead(*, lead: Lead, now: dt.datetime | None = None) -> None:
    """Route a lead about to be inserted (the ``lead_creating`` receiver): its score, owner
    and follow-up time are set on it, so that the lead and its "created" history record are
    written once, routed. A lead created with an owner keeps it; its follow-up time is still
    set. The assignment waits on the lead for ``announce_routed_lead``."""
    lead._routing_choice = _route(routing_config(lead.workspace_id), lead, now or timezone.now())


def announce_routed_lead(*, lead: Lead, actor: User | None = None) -> None:
    """The audit event and the new owner's notification of a lead routed before it was
    inserted (the ``lead_created`` receiver)."""
    chosen = lead.__dict__.pop("_routing_choice", None)
    if _assigned(chosen):
        _announce(lead, chosen, by=actor, action="lead.assigned")


def route_new_lead(*, lead: Lead, actor: User | None = None,
                   now: dt.datetime | None = None) -> assignment.Assignment | None:  # fmt: skip
    """Score a lead already saved, give it an owner by the rules and set when it must be
    touched; the lead and its "created" history record are updated. Returns the assignment
    made, or None when the lead came with its owner. (Leads created through the lead
    service are routed before they are inserted: ``route_unsaved_lead``.)"""
    now = now or timezone.now()
    chosen = _route(routing_config(lead.workspace_id), lead, now)
    values = {"score": lead.score, "score_details": lead.score_details,
              "scored_at": lead.scored_at, "assigned_at": lead.assigned_at,
              "sla_due_at": lead.sla_due_at, "owner_id": lead.owner_id,
              "team_id": lead.team_id}  # fmt: skip
    Lead._base_manager.filter(pk=lead.pk).update(**values)
    # the lead's "created" history record shows it routed, rather than a second record for
    # a state nobody ever saw
    Lead.history.filter(id=lead.pk, history_type="+").update(**values)
    if _assigned(chosen):
        _announce(lead, chosen, by=actor, action="lead.assigned")
    return chosen


ROUTED_FIELDS = ("score", "score_details", "scored_at", "assigned_at", "sla_due_at", "owner",
                 "team")  # fmt: skip


def route_leads(leads: Sequence[Lead], *, actor: User | None = None,
                now: dt.datetime | None = None) -> list[assignment.Assignment | None]:  # fmt: skip
    """``route_new_lead`` for many new leads of one workspace, in order, with the same
    outcome — scores, owners (round-robin turns and least-loaded counts as if one by one),
    follow-up times, the "created" history rows, audit events and notifications — written
    in a handful of statements instead of a dozen per lead. Imports and bulk intake use it;
    run it in the transaction that created the leads."""
    if not leads:
        return []
    now = now or timezone.now()
    workspace_id = leads[0].workspace_id
    config = routing_config(workspace_id)
    events = scoring.lead_behaviour(list(leads)) if config.reads_behaviour else {}
    chooser = assignment.BatchChooser(config)
    indexes: list[int | None] = []
    for lead in leads:
        lead.score, lead.score_details = scoring.score(
            config.scoring, lead, events.get(lead.pk, []), now
        )
        lead.scored_at = now
        routed = lead.owner_id is None and lead.team_id is None and lead.is_open
        indexes.append(chooser.choose(lead, score=lead.score) if routed else None)
    chosen = chooser.finish()
    result: list[assignment.Assignment | None] = []
    for lead, index in zip(leads, indexes, strict=True):
        pick = chosen[index] if index is not None else None
        if pick is not None:
            lead.owner, lead.team_id = pick.owner, pick.team_id
        if lead.owner_id is not None or lead.team_id is not None:
            lead.assigned_at = lead.assigned_at or now
            lead.sla_due_at = _due(config, lead, lead.assigned_at)
        result.append(pick)
    update_columns(Lead, leads, ROUTED_FIELDS)
    # routing is part of creating them: their "created" history rows show them routed
    by_id = {lead.pk: lead for lead in leads}
    columns = [Lead._meta.get_field(name).attname for name in ROUTED_FIELDS]
    history = list(Lead.history.filter(id__in=by_id, history_type="+"))
    for row in history:
        for column in columns:
            setattr(row, column, getattr(by_id[row.id], column))
    if history:
        update_columns(Lead.history.model, history, ROUTED_FIELDS)
    _announce_many(
        [(lead, pick) for lead, pick in zip(leads, result, strict=True)
         if pick is not None and (pick.owner is not None or pick.team_id is not None)],
        by=actor,
    )  # fmt: skip
    return result


def _announce_many(routed: list[tuple[Lead, assignment.Assignment]], *, by: User | None) -> None:
    """``_announce`` for many leads: the audit events and notifications in two inserts."""
    from guanxi.platform.audit import audit_event
    from guanxi.platform.ids import new_public_id
    from guanxi.platform.models import AuditEvent, Notification

    events, notes = [], []
    for lead, chosen in routed:
        events.append(audit_event(action="lead.assigned", actor=by,
                                  workspace=Workspace(pk=lead.workspace_id), obj=lead,
                                  data=_assignment_data(lead, chosen)))  # fmt: skip
        if chosen.owner is not None and (by is None or by.pk != chosen.owner.pk):
            notes.append(Notification(
                public_id=new_public_id(Notification.public_id_prefix),
                workspace_id=lead.workspace_id, recipient=chosen.owner, actor=by,
                kind="sales.lead_assigned", data={"lead": str(lead)}, url=lead_url(lead),
                created_by=by, updated_by=by,
            ))  # fmt: skip
    AuditEvent.objects.bulk_create(events, batch_size=500)
    Notification.objects.bulk_create(notes, batch_size=500)


def _set_owner(lead: Lead, chosen: assignment.Assignment, config: RoutingConfig, *,
               by: User | None, now: dt.datetime, action: str) -> Lead:  # fmt: skip
    previous = lead.owner_id
    lead.owner, lead.team_id = chosen.owner, chosen.team_id
    has_target = chosen.owner is not None or chosen.team_id is not None
    lead.assigned_at = now if has_target else None
    lead.sla_due_at = _due(config, lead, now) if has_target and not lead.first_touched_at else None
    lead.version += 1
    lead.updated_at, lead.updated_by = now, by
    fields = ["owner", "team", "assigned_at", "sla_due_at", "version", "updated_at", "updated_by"]
    if action == "lead.reassigned":
        lead.escalated_at = None  # a new owner has a new clock
        fields.append("escalated_at")
    lead.save(update_fields=fields)
    _announce(lead, chosen, by=by, action=action, previous_owner_id=previous)
    return lead


@transaction.atomic
def assign_lead(*, lead: Lead, by: User | None, owner: User | None = None,
                team: Team | None = None, method: str = Method.USER,
                rerun_rules: bool = False) -> Lead:  # fmt: skip
    """Give a lead to a user, to a team (round robin, least loaded or its queue), or to
    whoever the rules pick now (``rerun_rules``). The follow-up clock starts again."""
    lead = Lead.objects.for_workspace(lead.workspace_id).select_for_update().get(pk=lead.pk)
    config = routing_config(lead.workspace_id)
    now = timezone.now()
    if rerun_rules:
        _score(config, lead, now)
        lead.save(update_fields=["score", "score_details", "scored_at"])
        chosen = assignment.choose(config, lead, score=lead.score)
        return _set_owner(lead, chosen, config, by=by, now=now, action="lead.reassigned")
    errors: Errors = []
    if method not in Method.values:
        errors.append(("method", _("must be one of %(values)s")
                       % {"values": ", ".join(Method.values)}))  # fmt: skip
    elif method == Method.USER and owner is None:
        errors.append(("owner", _("name the new owner, or rerun the rules")))
    elif method != Method.USER and team is None:
        errors.append(("team", _("name the team")))
    _team_of(lead.workspace_id, team, "team", errors)
    if errors:
        raise ValidationFailed(errors)
    if method == Method.USER:
        found = assignment.resolve(lead.workspace_id, Target(Method.USER, user_id=owner.pk))
        if found is None:
            raise ValidationFailed([("owner", _("is not an active member who may work leads"))])
    else:
        found = assignment.resolve(lead.workspace_id, Target(method, team_id=team.pk))
        if found is None:
            raise ValidationFailed([("team", _("nobody in this team may take leads now"))])
    if team is not None and method == Method.USER:
        found = (found[0], team.pk)
    chosen = assignment.Assignment(found[0], found[1], None, method)
    return _set_owner(lead, chosen, config, by=by, now=now, action="lead.reassigned")


# --- first touch and escalation ---------------------------------------------------------------------
def _response(lead: Lead, config: RoutingConfig, **values: Any) -> LeadResponse:
    policy = config.sla_policy(lead)
    defaults = {
        "owner_id": lead.owner_id, "team_id": lead.team_id, "source": lead.source,
        "assigned_at": lead.assigned_at, "due_at": lead.sla_due_at,
        "policy_id": policy.pk if policy else None, **values,
    }  # fmt: skip
    response = LeadResponse.objects.for_workspace(lead.workspace_id).filter(lead=lead).first()
    if response is None:
        response = LeadResponse(workspace_id=lead.workspace_id, lead=lead, **defaults)
    else:
        for key, value in values.items():
            setattr(response, key, value)
        response.updated_at = timezone.now()
    response.save()
    return response


def record_first_touch(*, lead: Lead) -> LeadResponse | None:
    """Note how fast the lead was first touched, in working minutes (``lead_first_touched``
    receiver). The SLA sweep leaves the lead alone from now on."""
    if lead.first_touched_at is None or lead.assigned_at is None:
        return None
    config = routing_config(lead.workspace_id)
    minutes = config.calendar.working_minutes_between(lead.assigned_at, lead.first_touched_at)
    met = lead.sla_due_at is None or lead.first_touched_at <= lead.sla_due_at
    return _response(lead, config, first_touched_at=lead.first_touched_at,
                     working_minutes=minutes, met=met)  # fmt: skip


def _escalation_recipients(lead: Lead) -> list[User]:
    """The owner's manager (manager tree); without one, the workspace's administrators."""
    if lead.owner_id is not None:
        membership = (
            Membership.objects.for_workspace(lead.workspace_id)
            .filter(user_id=lead.owner_id)
            .select_related("manager__user")
            .first()
        )
        manager = membership.manager if membership is not None else None
        if manager is not None and manager.is_active and manager.deleted_at is None:
            return [manager.user]
    admins = (
        Membership.objects.for_workspace(lead.workspace_id)
        .filter(role__key="administrator", is_active=True, user__is_active=True)
        .select_related("user")
        .order_by("id")
    )
    return [m.user for m in admins]


def escalate_lead(*, lead: Lead, now: dt.datetime) -> bool:
    """Escalate one overdue lead (the caller holds its row lock): stamp it, tell the
    owner's manager, record it, and reassign it when its policy says so."""
    config = routing_config(lead.workspace_id)
    lead.escalated_at = now
    lead.save(update_fields=["escalated_at"])
    timezone_ = config.calendar.time_zone
    due = lead.sla_due_at.astimezone(timezone_).strftime("%Y-%m-%d %H:%M")
    owner = lead.owner.username if lead.owner_id else "—"
    for recipient in _escalation_recipients(lead):
        notify(workspace=lead.workspace_id, recipient=recipient, kind="sales.lead_escalated",
               by=None, data={"lead": str(lead), "owner": owner, "due": due},
               url=lead_url(lead))  # fmt: skip
    record_audit(action="lead.escalated", workspace=Workspace(pk=lead.workspace_id), obj=lead,
                 actor_label="lead SLA",
                 data={"owner": owner, "due": lead.sla_due_at.isoformat()})  # fmt: skip
    _response(lead, config, escalated_at=now, met=False)
    policy = config.sla_policy(lead)
    if policy is not None and policy.reassign_on_escalation:
        exclude = {lead.owner_id} if lead.owner_id else set()
        chosen = assignment.choose(config, lead, score=lead.score, exclude=exclude)
        if chosen.owner is not None and chosen.owner.pk != lead.owner_id:
            _set_owner(lead, chosen, config, by=None, now=now, action="lead.escalation_reassigned")
    return True


def escalate_overdue_leads(*, now: dt.datetime | None = None,
                           workspace: Workspace | None = None, limit: int = 5000) -> dict:  # fmt: skip
    """The SLA sweep: open leads past their follow-up time that nobody touched yet (read
    through the partial index ``lead_sla_open``), each escalated once."""
    now = now or timezone.now()
    due = Lead.objects.dangerously_all_workspaces().filter(
        sla_due_at__isnull=False, first_touched_at__isnull=True, escalated_at__isnull=True,
        sla_due_at__lte=now, status__in=Lead.OPEN_STATUSES,
    )  # fmt: skip
    if workspace is not None:
        due = due.filter(workspace=workspace)
    ids = list(due.order_by("sla_due_at", "id").values_list("id", flat=True)[:limit])
    escalated = 0
    for lead_id in ids:
        with transaction.atomic():
            lead = (
                Lead.objects.dangerously_all_workspaces()
                .select_for_update()
                .filter(pk=lead_id, escalated_at__isnull=True, first_touched_at__isnull=True)
                .first()
            )
            if lead is not None and escalate_lead(lead=lead, now=now):
                escalated += 1
    return {"escalated": escalated, "checked": len(ids)}


# --- rescoring ----------------------------------------------------------------------------------------
def rescore_leads(*, workspace: Workspace, now: dt.datetime | None = None,
                  batch_size: int = 500,
                  progress: Callable[[int], None] | None = None) -> dict:  # fmt: skip
    """Score the workspace's open leads again (rules changed, behaviour faded). Only
    leads whose score or reasons changed are written, in batches, without a history row
    each (the score is derived, the reasons say why)."""
    now = now or timezone.now()
    config = routing_config(workspace.pk)
    leads = Lead.objects.for_workspace(workspace).filter(status__in=Lead.OPEN_STATUSES)
    last_id, checked, changed = 0, 0, 0
    while True:
        batch = list(leads.filter(pk__gt=last_id).order_by("pk")[:batch_size])
        if not batch:
            break
        last_id = batch[-1].pk
        behaviour = scoring.lead_behaviour(batch) if config.reads_behaviour else {}
        dirty = []
        for lead in batch:
            total, details = scoring.score(config.scoring, lead, behaviour.get(lead.pk, []), now)
            if total != lead.score or details != lead.score_details:
                lead.score, lead.score_details, lead.scored_at = total, details, now
                dirty.append(lead)
        with transaction.atomic():
            leads.bulk_update(dirty, ["score", "score_details", "scored_at"])
        checked += len(batch)
        changed += len(dirty)
        if progress is not None:
            progress(checked)
    return {"checked": checked, "changed": changed}

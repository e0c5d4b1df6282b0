"""Lead routing endpoints: administrators keep the scoring rules, assignment rules, SLA
policies and business hours; whoever may assign a lead hands it over or reruns the rules;
whoever sees a lead reads why it scored what it did."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from guanxi.platform.apiframework import Problem, with_etag
from guanxi.platform.errors import Forbidden, ValidationFailed
from guanxi.platform.models import Membership, Team, User
from guanxi.platform.versioning import expected_version
from guanxi.platform.visibility import get_visible_or_404, require_add
from guanxi.sales.lead_routing import services
from guanxi.sales.lead_routing.scoring import explain
from guanxi.sales.models import AssignmentRule, Lead, ScoringRule, SlaPolicy
from guanxi.sales.models.routing import RULE_OBJECT_TYPE

router = Router(tags=["lead routing"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
PREFIX = "/lead-routing"


def _require(membership: Membership, action: str) -> None:
    if membership.scope_for(RULE_OBJECT_TYPE, action) == "none":
        raise Forbidden(action=action, object_type=RULE_OBJECT_TYPE)


def _member(membership: Membership, username: str, field: str) -> User:
    found = (
        Membership.objects.for_workspace(membership.workspace_id)
        .select_related("user")
        .filter(user__username=username)
        .first()
    )
    if found is None:
        raise ValidationFailed([(field, _("no member %(name)s in this workspace")
                                 % {"name": username})])  # fmt: skip
    return found.user


def _team(membership: Membership, public_id: str, field: str) -> Team:
    team = Team.objects.for_workspace(membership.workspace_id).filter(public_id=public_id).first()
    if team is None:
        raise ValidationFailed([(field, _("no team %(id)s in this workspace") % {"id": public_id})])
    return team


class Moved(Schema):
    direction: Literal["up", "down"]


# --- scoring rules --------------------------------------------------------------------------------
class ScoringRuleIn(Schema):
    name: str | None = None
    position: int | None = Field(None, description="Rules are applied in position order.")
    is_active: bool | None = None
    field: str | None = Field(
        None,
        description="source, industry, region, city, country, language, product_interest, "
        "title, company, email_domain, consent, behaviour",
    )
    operator: str | None = Field(
        None, description="equals, in, contains, is_set, not_free_mail (email_domain), events "
        "(behaviour)",
    )  # fmt: skip
    value: str | list[str] | None = Field(
        None, description="A text, a list for `in`; for behaviour: any, inbound, outbound or a "
        "channel.",
    )  # fmt: skip
    points: int | None = Field(None, description="May be negative; per interaction for behaviour.")
    half_life_days: int | None = Field(None, description="Behaviour points halve every N days.")
    max_events: int | None = None
    version: int | None = None


class ScoringRuleOut(Schema):
    id: str
    name: str
    position: int
    is_active: bool
    field: str
    operator: str
    value: Any
    points: int
    half_life_days: int | None
    max_events: int | None
    version: int


def scoring_out(rule: ScoringRule) -> dict[str, Any]:
    return {"id": rule.public_id, "name": rule.name, "position": rule.position,
            "is_active": rule.is_active, "field": rule.field, "operator": rule.operator,
            "value": rule.value, "points": rule.points, "half_life_days": rule.half_life_days,
            "max_events": rule.max_events, "version": rule.version}  # fmt: skip


class ScoringRules(Schema):
    items: list[ScoringRuleOut]


def _rules(model: type, membership: Membership) -> Any:
    return model.objects.visible_to(membership, "view").order_by("position", "id")


@router.get(f"{PREFIX}/scoring-rules", response={200: ScoringRules, **ERRORS},
            summary="Scoring rules, in order")  # fmt: skip
def list_scoring_rules(request: HttpRequest) -> dict:
    return {"items": [scoring_out(r) for r in _rules(ScoringRule, request.auth)]}


@router.post(f"{PREFIX}/scoring-rules", response={201: ScoringRuleOut, **ERRORS},
             summary="Add a scoring rule")  # fmt: skip
def create_scoring_rule(request: HttpRequest, payload: ScoringRuleIn) -> Status:
    require_add(request.auth, RULE_OBJECT_TYPE)
    rule = services.create_scoring_rule(
        workspace=request.auth.workspace, by=request.user,
        **payload.dict(exclude_unset=True, exclude={"version"}),
    )  # fmt: skip
    return Status(201, scoring_out(rule))


@router.get(f"{PREFIX}/scoring-rules/{{rule_id}}", response={200: ScoringRuleOut, **ERRORS},
            summary="One scoring rule")  # fmt: skip
def get_scoring_rule(request: HttpRequest, rule_id: str, response: HttpResponse) -> dict:
    rule = get_visible_or_404(ScoringRule, user=request.auth, public_id=rule_id)
    with_etag(response, rule)
    return scoring_out(rule)


@router.patch(f"{PREFIX}/scoring-rules/{{rule_id}}",
              response={200: ScoringRuleOut, **ERRORS, 428: Problem},
              summary="Change a scoring rule")  # fmt: skip
def update_scoring_rule(request: HttpRequest, rule_id: str, payload: ScoringRuleIn,
                        response: HttpResponse) -> dict:  # fmt: skip
    rule = get_visible_or_404(ScoringRule, user=request.auth, public_id=rule_id, action="change")
    rule = services.update_scoring_rule(
        rule=rule, by=request.user,
        expected_version=expected_version(if_match=request.headers.get("If-Match"),
                                          body_version=payload.version),
        **payload.dict(exclude_unset=True, exclude={"version"}),
    )  # fmt: skip
    with_etag(response, rule)
    return scoring_out(rule)


@router.delete(f"{PREFIX}/scoring-rules/{{rule_id}}", response={204: None, **ERRORS},
               summary="Delete a scoring rule")  # fmt: skip
def delete_scoring_rule(request: HttpRequest, rule_id: str) -> Status:
    rule = get_visible_or_404(ScoringRule, user=request.auth, public_id=rule_id, action="delete")
    services.delete_rule(rule=rule, by=request.user)
    return Status(204, None)


# --- assignment rules -----------------------------------------------------------------------------
class AssignmentRuleIn(Schema):
    name: str | None = None
    position: int | None = Field(None, description="The first matching rule (by position) wins.")
    is_active: bool | None = None
    countries: list[str] | None = Field(None, description="ISO 3166 codes; empty: any.")
    regions: list[str] | None = Field(None, description="Provinces/states; empty: any.")
    cities: list[str] | None = None
    industries: list[str] | None = None
    languages: list[str] | None = Field(None, description="`zh` takes zh-hans and zh-hant.")
    product_interests: list[str] | None = Field(
        None, description="The lead's product interest contains one of these."
    )
    sources: list[str] | None = None
    min_score: int | None = None
    method: str | None = Field(None, description="user, round_robin, least_loaded, queue")
    user: str | None = Field(None, description="Username, for method `user`.")
    team: str | None = Field(None, description="Team id, for the team methods.")
    version: int | None = None


class AssignmentRuleOut(Schema):
    id: str
    name: str
    position: int
    is_active: bool
    countries: list[str]
    regions: list[str]
    cities: list[str]
    industries: list[str]
    languages: list[str]
    product_interests: list[str]
    sources: list[str]
    min_score: int | None
    method: str
    user: str | None
    team: str | None
    version: int


def assignment_out(rule: AssignmentRule) -> dict[str, Any]:
    return {
        "id": rule.public_id, "name": rule.name, "position": rule.position,
        "is_active": rule.is_active, "countries": rule.countries, "regions": rule.regions,
        "cities": rule.cities, "industries": rule.industries, "languages": rule.languages,
        "product_interests": rule.product_interests, "sources": rule.sources,
        "min_score": rule.min_score, "method": rule.method,
        "user": rule.user.username if rule.user_id else None,
        "team": rule.team.public_id if rule.team_id else None, "version": rule.version,
    }  # fmt: skip


class AssignmentRules(Schema):
    items: list[AssignmentRuleOut]


def _targets(membership: Membership, data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    for key, resolve in ((f"{prefix}user", _member), (f"{prefix}team", _team)):
        if key in data:
            data[key] = resolve(membership, data[key], key) if data[key] else None
    return data


def _assignment_rules(membership: Membership) -> Any:
    return _rules(AssignmentRule, membership).select_related("user", "team")


@router.get(f"{PREFIX}/assignment-rules", response={200: AssignmentRules, **ERRORS},
            summary="Assignment rules, in the order they are tried")  # fmt: skip
def list_assignment_rules(request: HttpRequest) -> dict:
    return {"items": [assignment_out(r) for r in _assignment_rules(request.auth)]}


@router.post(f"{PREFIX}/assignment-rules", response={201: AssignmentRuleOut, **ERRORS},
             summary="Add an assignment rule (last, unless a position is given)")  # fmt: skip
def create_assignment_rule(request: HttpRequest, payload: AssignmentRuleIn) -> Status:
    membership = request.auth
    require_add(membership, RULE_OBJECT_TYPE)
    data = _targets(membership, payload.dict(exclude_unset=True, exclude={"version"}))
    rule = services.create_assignment_rule(workspace=membership.workspace, by=request.user,
                                           **data)  # fmt: skip
    return Status(201, assignment_out(rule))


@router.get(f"{PREFIX}/assignment-rules/{{rule_id}}",
            response={200: AssignmentRuleOut, **ERRORS}, summary="One assignment rule")  # fmt: skip
def get_assignment_rule(request: HttpRequest, rule_id: str, response: HttpResponse) -> dict:
    rule = get_visible_or_404(AssignmentRule, user=request.auth, public_id=rule_id,
                              queryset=_assignment_rules(request.auth))  # fmt: skip
    with_etag(response, rule)
    return assignment_out(rule)


@router.patch(f"{PREFIX}/assignment-rules/{{rule_id}}",
              response={200: AssignmentRuleOut, **ERRORS, 428: Problem},
              summary="Change an assignment rule")  # fmt: skip
def update_assignment_rule(request: HttpRequest, rule_id: str, payload: AssignmentRuleIn,
                           response: HttpResponse) -> dict:  # fmt: skip
    membership = request.auth
    rule = get_visible_or_404(AssignmentRule, user=membership, public_id=rule_id,
                              action="change")  # fmt: skip
    data = _targets(membership, payload.dict(exclude_unset=True, exclude={"version"}))
    rule = services.update_assignment_rule(
        rule=rule, by=request.user,
        expected_version=expected_version(if_match=request.headers.get("If-Match"),
                                          body_version=payload.version),
        **data,
    )  # fmt: skip
    with_etag(response, rule)
    return assignment_out(rule)


@router.post(f"{PREFIX}/assignment-rules/{{rule_id}}/move",
             response={200: AssignmentRules, **ERRORS},
             summary="Move an assignment rule up or down")  # fmt: skip
def move_assignment_rule(request: HttpRequest, rule_id: str, payload: Moved) -> dict:
    rule = get_visible_or_404(AssignmentRule, user=request.auth, public_id=rule_id,
                              action="change")  # fmt: skip
    services.move_rule(rule=rule, by=request.user, up=payload.direction == "up")
    return {"items": [assignment_out(r) for r in _assignment_rules(request.auth)]}


@router.delete(f"{PREFIX}/assignment-rules/{{rule_id}}", response={204: None, **ERRORS},
               summary="Delete an assignment rule")  # fmt: skip
def delete_assignment_rule(request: HttpRequest, rule_id: str) -> Status:
    rule = get_visible_or_404(AssignmentRule, user=request.auth, public_id=rule_id,
                              action="delete")  # fmt: skip
    services.delete_rule(rule=rule, by=request.user)
    return Status(204, None)


# --- SLA policies ---------------------------------------------------------------------------------
class SlaPolicyIn(Schema):
    name: str | None = None
    position: int | None = Field(None, description="The first fitting policy applies.")
    is_active: bool | None = None
    sources: list[str] | None = Field(None, description="Lead sources; empty: any.")
    min_score: int | None = None
    max_score: int | None = None
    first_touch_minutes: int | None = Field(None, description="Working minutes to first touch.")
    reassign_on_escalation: bool | None = None
    version: int | None = None


class SlaPolicyOut(Schema):
    id: str
    name: str
    position: int
    is_active: bool
    sources: list[str]
    min_score: int | None
    max_score: int | None
    first_touch_minutes: int
    reassign_on_escalation: bool
    version: int


def sla_out(policy: SlaPolicy) -> dict[str, Any]:
    return {"id": policy.public_id, "name": policy.name, "position": policy.position,
            "is_active": policy.is_active, "sources": policy.sources,
            "min_score": policy.min_score, "max_score": policy.max_score,
            "first_touch_minutes": policy.first_touch_minutes,
            "reassign_on_escalation": policy.reassign_on_escalation,
            "version": policy.version}  # fmt: skip


class SlaPolicies(Schema):
    items: list[SlaPolicyOut]


@router.get(f"{PREFIX}/sla-policies", response={200: SlaPolicies, **ERRORS},
            summary="Follow-up SLA policies, in order")  # fmt: skip
def list_sla_policies(request: HttpRequest) -> dict:
    return {"items": [sla_out(p) for p in _rules(SlaPolicy, request.auth)]}


@router.post(f"{PREFIX}/sla-policies", response={201: SlaPolicyOut, **ERRORS},
             summary="Add an SLA policy")  # fmt: skip
def create_sla_policy(request: HttpRequest, payload: SlaPolicyIn) -> Status:
    require_add(request.auth, RULE_OBJECT_TYPE)
    policy = services.create_sla_policy(
        workspace=request.auth.workspace, by=request.user,
        **payload.dict(exclude_unset=True, exclude={"version"}),
    )  # fmt: skip
    return Status(201, sla_out(policy))


@router.get(f"{PREFIX}/sla-policies/{{policy_id}}", response={200: SlaPolicyOut, **ERRORS},
            summary="One SLA policy")  # fmt: skip
def get_sla_policy(request: HttpRequest, policy_id: str, response: HttpResponse) -> dict:
    policy = get_visible_or_404(SlaPolicy, user=request.auth, public_id=policy_id)
    with_etag(response, policy)
    return sla_out(policy)


@router.patch(f"{PREFIX}/sla-policies/{{policy_id}}",
              response={200: SlaPolicyOut, **ERRORS, 428: Problem},
              summary="Change an SLA policy")  # fmt: skip
def update_sla_policy(request: HttpRequest, policy_id: str, payload: SlaPolicyIn,
                      response: HttpResponse) -> dict:  # fmt: skip
    policy = get_visible_or_404(SlaPolicy, user=request.auth, public_id=policy_id,
                                action="change")  # fmt: skip
    policy = services.update_sla_policy(
        policy=policy, by=request.user,
        expected_version=expected_version(if_match=request.headers.get("If-Match"),
                                          body_version=payload.version),
        **payload.dict(exclude_unset=True, exclude={"version"}),
    )  # fmt: skip
    with_etag(response, policy)
    return sla_out(policy)


@router.delete(f"{PREFIX}/sla-policies/{{policy_id}}", response={204: None, **ERRORS},
               summary="Delete an SLA policy")  # fmt: skip
def delete_sla_policy(request: HttpRequest, policy_id: str) -> Status:
    policy = get_visible_or_404(SlaPolicy, user=request.auth, public_id=policy_id,
                                action="delete")  # fmt: skip
    services.delete_rule(rule=policy, by=request.user)
    return Status(204, None)


# --- business hours and the fallback -------------------------------------------------------------
class RoutingSettingsIn(Schema):
    weekdays: list[int] | None = Field(None, description="Working weekdays, 0 = Monday.")
    day_start: str | None = Field(None, description="HH:MM, the workspace's time zone.")
    day_end: str | None = Field(None, description="HH:MM")
    holidays: list[str] | None = Field(None, description="Dates off (YYYY-MM-DD).")
    extra_workdays: list[str] | None = Field(
        None, description="Make-up working days on weekends (调休), YYYY-MM-DD."
    )
    fallback_method: str | None = Field(
        None, description="When no rule matches: user, round_robin, least_loaded, queue, or "
        "empty for nobody.",
    )  # fmt: skip
    fallback_user: str | None = None
    fallback_team: str | None = None
    version: int | None = None


class RoutingSettingsOut(Schema):
    time_zone: str
    weekdays: list[int]
    day_start: dt.time
    day_end: dt.time
    holidays: list[str]
    extra_workdays: list[str]
    fallback_method: str
    fallback_user: str | None
    fallback_team: str | None
    version: int


def settings_out(row: Any, time_zone: str) -> dict[str, Any]:
    return {
        "time_zone": time_zone, "weekdays": row.weekdays, "day_start": row.day_start,
        "day_end": row.day_end, "holidays": row.holidays, "extra_workdays": row.extra_workdays,
        "fallback_method": row.fallback_method,
        "fallback_user": row.fallback_user.username if row.fallback_user_id else None,
        "fallback_team": row.fallback_team.public_id if row.fallback_team_id else None,
        "version": row.version,
    }  # fmt: skip


@router.get(f"{PREFIX}/settings", response={200: RoutingSettingsOut, **ERRORS},
            summary="Business hours, holidays and the fallback owner")  # fmt: skip
def get_routing_settings(request: HttpRequest, response: HttpResponse) -> dict:
    membership = request.auth
    _require(membership, "view")
    row = services.routing_settings(membership.workspace)
    with_etag(response, row)
    return settings_out(row, membership.workspace.time_zone)


@router.patch(f"{PREFIX}/settings", response={200: RoutingSettingsOut, **ERRORS},
            summary="Change business hours, holidays or the fallback owner")  # fmt: skip
def update_routing_settings(request: HttpRequest, payload: RoutingSettingsIn,
                            response: HttpResponse) -> dict:  # fmt: skip
    membership = request.auth
    _require(membership, "change")
    data = _targets(membership, payload.dict(exclude_unset=True, exclude={"version"}),
                    prefix="fallback_")  # fmt: skip
    if "fallback_method" in data and data["fallback_method"] is None:
        data["fallback_method"] = ""
    version = request.headers.get("If-Match") or payload.version
    row = services.update_routing_settings(
        workspace=membership.workspace, by=request.user,
        expected_version=expected_version(if_match=request.headers.get("If-Match"),
                                          body_version=payload.version) if version else None,
        **data,
    )  # fmt: skip
    with_etag(response, row)
    return settings_out(row, membership.workspace.time_zone)


# --- a lead's owner and score ---------------------------------------------------------------------
class AssignIn(Schema):
    owner: str | None = Field(None, description="Username of the new owner.")
    team: str | None = Field(None, description="Team id: the team's queue or a member of it.")
    method: Literal["user", "round_robin", "least_loaded", "queue"] = Field(
        "user", description="With a team: round_robin, least_loaded or queue."
    )
    rerun_rules: bool = Field(False, description="Let the assignment rules pick again.")


class AssignOut(Schema):
    id: str
    owner: str | None
    team: str | None
    assigned_at: dt.datetime | None
    sla_due_at: dt.datetime | None
    version: int


@router.post("/leads/{lead_id}/assign", response={200: AssignOut, **ERRORS},
             summary="Give a lead to someone, or let the rules pick again")  # fmt: skip
def assign_lead(request: HttpRequest, lead_id: str, payload: AssignIn) -> dict:
    membership = request.auth
    lead = get_visible_or_404(Lead, user=membership, public_id=lead_id, action="assign")
    if not payload.rerun_rules and not payload.owner and not payload.team:
        raise ValidationFailed([("owner", _("name the new owner or team, or rerun the rules"))])
    method = payload.method
    if payload.team and not payload.owner and method == "user":
        method = "round_robin"
    lead = services.assign_lead(
        lead=lead, by=request.user, rerun_rules=payload.rerun_rules, method=method,
        owner=_member(membership, payload.owner, "owner") if payload.owner else None,
        team=_team(membership, payload.team, "team") if payload.team else None,
    )  # fmt: skip
    return {"id": lead.public_id, "owner": lead.owner.username if lead.owner_id else None,
            "team": lead.team.public_id if lead.team_id else None,
            "assigned_at": lead.assigned_at, "sla_due_at": lead.sla_due_at,
            "version": lead.version}  # fmt: skip


class ScoreReason(Schema):
    rule: str | None
    name: str
    points: int
    reason: str
    text: str = Field(description="The reason in the reader's language, e.g. “+20 职位 包含 总监”.")


class ScoreOut(Schema):
    id: str
    score: int
    scored_at: dt.datetime | None
    details: list[ScoreReason]


@router.get("/leads/{lead_id}/score", response={200: ScoreOut, **ERRORS},
            summary="A lead's score and the rules that gave it")  # fmt: skip
def lead_score(request: HttpRequest, lead_id: str) -> dict:
    lead = get_visible_or_404(Lead, user=request.auth, public_id=lead_id)
    return {
        "id": lead.public_id, "score": lead.score, "scored_at": lead.scored_at,
        "details": [
            {"rule": d.get("rule"), "name": d.get("name", ""), "points": d.get("points", 0),
             "reason": d.get("reason", ""), "text": explain(d)}
            for d in lead.score_details or []
        ],
    }  # fmt: skip

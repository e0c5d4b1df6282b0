"""A lead's score: the sum of the points of the scoring rules it meets, with the reasons
(``score_details``) so a page can say "+20 job title contains 总监".

Rules on behaviour give points per interaction logged on the lead, each worth less as it
ages: its points halve every ``half_life_days``. Interactions are read through one hook,
``lead_behaviour`` (see there), for many leads at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.utils.translation import gettext as _

from guanxi.sales.models import Lead, ScoringRule

Field = ScoringRule.Field
Operator = ScoringRule.Operator

# Mailbox providers anyone can sign up to: an address there says nothing about a company.
# fmt: off
FREE_MAIL_DOMAINS = frozenset({
    "qq.com", "vip.qq.com", "foxmail.com", "163.com", "126.com", "yeah.net", "vip.163.com",
    "188.com", "139.com", "sina.com", "sina.cn", "vip.sina.com", "sohu.com", "aliyun.com",
    "21cn.com", "tom.com", "wo.cn", "189.cn", "gmail.com", "googlemail.com", "outlook.com",
    "hotmail.com", "live.com", "msn.com", "yahoo.com", "yahoo.com.cn", "icloud.com", "me.com",
    "mac.com", "aol.com", "gmx.com", "gmx.de", "web.de", "mail.ru", "yandex.ru", "proton.me",
    "protonmail.com", "zoho.com", "hey.com",
})
# fmt: on
TEXT_FIELDS = (
    Field.SOURCE,
    Field.INDUSTRY,
    Field.REGION,
    Field.CITY,
    Field.COUNTRY,
    Field.LANGUAGE,
    Field.PRODUCT_INTEREST,
    Field.TITLE,
    Field.COMPANY,
)  # fmt: skip
# which conditions each field takes
OPERATORS: dict[str, tuple[str, ...]] = {
    **{f: (Operator.EQUALS, Operator.IN, Operator.CONTAINS, Operator.IS_SET) for f in TEXT_FIELDS},
    Field.EMAIL_DOMAIN: (
        Operator.EQUALS, Operator.IN, Operator.CONTAINS, Operator.IS_SET, Operator.NOT_FREE_MAIL,
    ),
    Field.CONSENT: (Operator.IS_SET,),
    Field.BEHAVIOUR: (Operator.EVENTS,),
}  # fmt: skip
# what a behaviour rule counts: any interaction, by direction, or by channel
BEHAVIOUR_KINDS = ("any", "inbound", "outbound")


class BehaviourEvent(NamedTuple):
    """One interaction logged on a lead, as scoring sees it."""

    channel: str
    direction: str
    occurred_at: dt.datetime


def email_domain(lead: Lead) -> str:
    email = (lead.email or "").strip().lower()
    return email.rsplit("@", 1)[1] if "@" in email else ""


def field_value(lead: Lead, field: str) -> Any:
    if field == Field.EMAIL_DOMAIN:
        return email_domain(lead)
    if field == Field.CONSENT:
        return bool(lead.consent)
    return (getattr(lead, field, "") or "").strip().casefold()


def _text(value: Any) -> str:
    return str(value).strip().casefold()


def _values(value: Any) -> frozenset[str]:
    items = value if isinstance(value, list | tuple) else [value]
    return frozenset(_text(v) for v in items if _text(v))


def compile_test(field: str, operator: str, value: Any) -> Callable[[Lead], bool]:
    """The condition of a field rule as a function of the lead (built once per rule)."""
    if operator == Operator.IS_SET:
        return lambda lead: bool(field_value(lead, field))
    if operator == Operator.NOT_FREE_MAIL:
        return lambda lead: (d := email_domain(lead)) != "" and d not in FREE_MAIL_DOMAINS
    wanted = _values(value)
    if operator == Operator.CONTAINS:
        parts = tuple(wanted)
        return lambda lead: any(p in field_value(lead, field) for p in parts)
    return lambda lead: field_value(lead, field) in wanted  # equals, is one of


def reason_text(field: str, operator: str, value: Any) -> str:
    """The reason stored with the points, in English words and the rule's own values,
    e.g. "title contains 总监" (``explain`` renders it in the reader's language)."""
    if operator in (Operator.IS_SET, Operator.NOT_FREE_MAIL):
        return f"{field} {operator.replace('_', ' ')}"
    shown = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    return f"{field} {operator.replace('_', ' ')} {shown}"


@dataclass(frozen=True)
class CompiledScoringRule:
    pk: int
    public_id: str
    name: str
    field: str
    operator: str
    value: Any
    points: int
    half_life_days: int | None
    max_events: int | None
    test: Callable[[Lead], bool] | None  # None: a behaviour rule

    @classmethod
    def of(cls, rule: ScoringRule) -> CompiledScoringRule:
        behaviour = rule.field == Field.BEHAVIOUR
        return cls(
            pk=rule.pk, public_id=rule.public_id, name=rule.name, field=rule.field,
            operator=rule.operator, value=rule.value, points=rule.points,
            half_life_days=rule.half_life_days, max_events=rule.max_events,
            test=None if behaviour else compile_test(rule.field, rule.operator, rule.value),
        )  # fmt: skip

    def counts(self, event: BehaviourEvent) -> bool:
        kind = _text(self.value) or "any"
        return kind == "any" or event.direction == kind or event.channel == kind

    def behaviour_points(self, events: Sequence[BehaviourEvent], now: dt.datetime) -> tuple:
        """(points, how many interactions counted); each interaction's points halve every
        half-life, so a lead active last week outranks one as active last year."""
        counted = sorted((e for e in events if self.counts(e)), key=lambda e: e.occurred_at,
                         reverse=True)  # fmt: skip
        if self.max_events is not None:
            counted = counted[: self.max_events]
        total = 0.0
        for event in counted:
            weight = 1.0
            if self.half_life_days:
                age_days = max((now - event.occurred_at).total_seconds(), 0) / 86400
                weight = 0.5 ** (age_days / self.half_life_days)
            total += self.points * weight
        return round(total), len(counted)


def score(
    rules: Sequence[CompiledScoringRule],
    lead: Lead,
    events: Sequence[BehaviourEvent],
    now: dt.datetime,
) -> tuple[int, list[dict[str, Any]]]:
    """(score, details): the sum of the points of the rules the lead meets, and for each
    such rule {rule, name, points, reason, field, operator, value[, events]}."""
    total, details = 0, []
    for rule in rules:
        extra: dict[str, Any] = {}
        if rule.test is None:
            points, count = rule.behaviour_points(events, now)
            if count == 0 or points == 0:
                continue
            extra["events"] = count
            reason = f"{count} × {_text(rule.value) or 'any'} interactions"
            if rule.half_life_days:
                reason += f", halving every {rule.half_life_days} days"
        elif rule.test(lead):
            points = rule.points
            reason = reason_text(rule.field, rule.operator, rule.value)
        else:
            continue
        total += points
        details.append({"rule": rule.public_id, "name": rule.name, "points": points,
                        "reason": reason, "field": rule.field, "operator": rule.operator,
                        "value": rule.value, **extra})  # fmt: skip
    return total, details


def explain(detail: dict[str, Any]) -> str:
    """One stored reason in the reader's language: "+20 职位 包含 总监"."""
    field, operator, value = detail.get("field"), detail.get("operator"), detail.get("value")
    sign = f"{detail.get('points', 0):+d}"
    if field == Field.BEHAVIOUR and "events" not in detail:  # the rule itself, not a result
        return _("%(points)s per interaction (%(kind)s)") % {"points": sign, "kind": value or "any"}
    if field == Field.BEHAVIOUR:
        text = _("%(count)s interactions (%(kind)s)") % {
            "count": detail.get("events", 0),
            "kind": value or "any",
        }
        return f"{sign} {text}"
    try:
        field_label = Field(field).label
        operator_label = Operator(operator).label
    except ValueError:
        return f"{sign} {detail.get('reason', '')}"
    if operator in (Operator.IS_SET, Operator.NOT_FREE_MAIL):
        return f"{sign} {field_label} {operator_label}"
    shown = ", ".join(str(v) for v in value) if isinstance(value, list | tuple) else str(value)
    return f"{sign} {field_label} {operator_label} {shown}"


# --- the behaviour hook --------------------------------------------------------------------------
def interactions_of_leads(leads: Sequence[Lead]) -> dict[int, list[BehaviourEvent]]:
    """Interactions logged on each lead (the interaction's ``lead``), by lead id: one query
    for all the leads given (index ``interaction_lead_time``)."""
    from guanxi.timeline.models import Interaction

    result: dict[int, list[BehaviourEvent]] = {lead.pk: [] for lead in leads}
    if not leads:
        return result
    rows = (
        Interaction.objects.dangerously_all_workspaces()
        .filter(lead_id__in=list(result))
        .values_list("lead_id", "channel", "direction", "occurred_at")
    )
    for lead_id, channel, direction, occurred_at in rows:
        result[lead_id].append(BehaviourEvent(channel, direction, occurred_at))
    return result


BehaviourSource = Callable[[Sequence[Lead]], dict[int, list[BehaviourEvent]]]
_behaviour_source: list[BehaviourSource] = [interactions_of_leads]


def set_behaviour_source(source: BehaviourSource) -> BehaviourSource:
    """Replace where behaviour comes from (e.g. web visits, e-mail opens); returns the
    previous source so a caller can chain to it."""
    previous = _behaviour_source[0]
    _behaviour_source[0] = source
    return previous


def lead_behaviour(leads: Sequence[Lead]) -> dict[int, list[BehaviourEvent]]:
    """The hook scoring reads behaviour through: lead id -> interactions logged on it
    (channel, direction, when). ``len()`` of a list is the lead's count."""
    return _behaviour_source[0](leads)

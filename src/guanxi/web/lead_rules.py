"""Settings pages of lead routing: scoring rules, assignment rules (in the order they are
tried, moved up and down), SLA policies, business hours and the fallback owner.

Administrators change them; sales managers read them. Every write goes through
``guanxi.sales.lead_routing.services``, the same functions the API calls.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from guanxi.platform.models import Membership, Team, User
from guanxi.platform.permissions import Scope
from guanxi.sales.lead_routing import services
from guanxi.sales.lead_routing.scoring import explain
from guanxi.sales.models import AssignmentRule, Lead, ScoringRule, SlaPolicy
from guanxi.sales.models.routing import RULE_OBJECT_TYPE
from guanxi.web.common import membership_of, visible_or_404
from guanxi.web.forms import ServiceErrorsMixin
from guanxi.web.setup import _page, _save
from guanxi.web.setup_forms import NONE, team_choices

SECTION = "lead_routing"
WEEKDAYS = [(0, gettext_lazy("Monday")), (1, gettext_lazy("Tuesday")),
            (2, gettext_lazy("Wednesday")), (3, gettext_lazy("Thursday")),
            (4, gettext_lazy("Friday")), (5, gettext_lazy("Saturday")),
            (6, gettext_lazy("Sunday"))]  # fmt: skip
LIST_HELP = gettext_lazy("Separate several with commas; leave empty for any.")


def _may(membership: Membership, action: str) -> bool:
    return membership.scope_for(RULE_OBJECT_TYPE, action) != Scope.NONE


def _split(value: str) -> list[str]:
    return [part.strip() for part in (value or "").replace("，", ",").split(",") if part.strip()]


def _joined(values: Any) -> str:
    return ", ".join(values) if isinstance(values, list) else str(values or "")


def _member_choices(workspace_id: int) -> list[tuple[str, str]]:
    members = (
        Membership.objects.for_workspace(workspace_id)
        .filter(is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    return NONE + [(m.user.username, m.user.get_full_name() or m.user.username) for m in members]


def _user(workspace_id: int, username: str) -> User | None:
    if not username:
        return None
    member = (
        Membership.objects.for_workspace(workspace_id)
        .select_related("user")
        .filter(user__username=username)
        .first()
    )
    return member.user if member else None


def _team(workspace_id: int, public_id: str) -> Team | None:
    if not public_id:
        return None
    return Team.objects.for_workspace(workspace_id).filter(public_id=public_id).first()


# --- forms ----------------------------------------------------------------------------------------
class ScoringRuleForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    field = forms.ChoiceField(label=gettext_lazy("Field"), choices=ScoringRule.Field.choices)
    operator = forms.ChoiceField(
        label=gettext_lazy("Condition"), choices=ScoringRule.Operator.choices
    )
    value = forms.CharField(
        label=gettext_lazy("Value"), required=False, max_length=2000,
        help_text=gettext_lazy("For “is one of”, separate values with commas. For behaviour: "
                               "any, inbound, outbound or a channel (email, phone…)."),
    )  # fmt: skip
    points = forms.IntegerField(label=gettext_lazy("Points"), help_text=gettext_lazy(
        "May be negative. For behaviour: per interaction."))  # fmt: skip
    half_life_days = forms.IntegerField(label=gettext_lazy("Half-life (days)"), required=False)
    max_events = forms.IntegerField(
        label=gettext_lazy("At most this many interactions"), required=False
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        if data["operator"] == ScoringRule.Operator.IN:
            data["value"] = _split(data["value"])
        return data


class AssignmentRuleForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    countries = forms.CharField(label=gettext_lazy("Countries/regions"), required=False,
                                help_text=gettext_lazy("Two-letter codes: CN, HK, SG…"))  # fmt: skip
    regions = forms.CharField(label=gettext_lazy("Provinces/states"), required=False,
                              help_text=LIST_HELP)  # fmt: skip
    cities = forms.CharField(label=gettext_lazy("Cities"), required=False, help_text=LIST_HELP)
    industries = forms.CharField(label=gettext_lazy("Industries"), required=False,
                                 help_text=LIST_HELP)  # fmt: skip
    languages = forms.CharField(label=gettext_lazy("Languages"), required=False,
                                help_text=LIST_HELP)  # fmt: skip
    product_interests = forms.CharField(label=gettext_lazy("Product interests"),
                                        required=False, help_text=LIST_HELP)  # fmt: skip
    sources = forms.MultipleChoiceField(label=gettext_lazy("Sources"), required=False,
                                        choices=Lead.Source.choices,
                                        widget=forms.CheckboxSelectMultiple)  # fmt: skip
    min_score = forms.IntegerField(label=gettext_lazy("Minimum score"), required=False)
    method = forms.ChoiceField(label=gettext_lazy("Assign to"),
                               choices=AssignmentRule.Method.choices)  # fmt: skip
    user = forms.ChoiceField(label=gettext_lazy("User"), required=False)
    team = forms.ChoiceField(label=gettext_lazy("Team"), required=False)
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, workspace_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace_id = workspace_id
        self.fields["user"].choices = _member_choices(workspace_id)
        self.fields["team"].choices = team_choices(workspace_id)

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        for key in ("countries", "regions", "cities", "industries", "languages",
                    "product_interests"):  # fmt: skip
            data[key] = _split(data[key])
        data["user"] = _user(self.workspace_id, data["user"])
        data["team"] = _team(self.workspace_id, data["team"])
        return data


class SlaPolicyForm(ServiceErrorsMixin, forms.Form):
    name = forms.CharField(label=gettext_lazy("Name"), max_length=200)
    first_touch_minutes = forms.IntegerField(
        label=gettext_lazy("First touch within (working minutes)"), min_value=1
    )
    sources = forms.MultipleChoiceField(label=gettext_lazy("Sources"), required=False,
                                        choices=Lead.Source.choices,
                                        widget=forms.CheckboxSelectMultiple)  # fmt: skip
    min_score = forms.IntegerField(label=gettext_lazy("Minimum score"), required=False)
    max_score = forms.IntegerField(label=gettext_lazy("Maximum score"), required=False)
    reassign_on_escalation = forms.BooleanField(
        label=gettext_lazy("Reassign when escalated"), required=False
    )
    is_active = forms.BooleanField(label=gettext_lazy("Active"), required=False, initial=True)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        return data


class BusinessHoursForm(ServiceErrorsMixin, forms.Form):
    weekdays = forms.TypedMultipleChoiceField(
        label=gettext_lazy("Working weekdays"), choices=WEEKDAYS, coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    day_start = forms.TimeField(label=gettext_lazy("Working day starts"),
                                widget=forms.TimeInput(attrs={"type": "time"}))  # fmt: skip
    day_end = forms.TimeField(label=gettext_lazy("Working day ends"),
                              widget=forms.TimeInput(attrs={"type": "time"}))  # fmt: skip
    holidays = forms.CharField(
        label=gettext_lazy("Holidays"), required=False, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Dates as YYYY-MM-DD, separated by commas or lines."),
    )  # fmt: skip
    extra_workdays = forms.CharField(
        label=gettext_lazy("Make-up working days"), required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=gettext_lazy("Weekend dates worked in exchange for a holiday (调休)."),
    )  # fmt: skip
    fallback_method = forms.ChoiceField(
        label=gettext_lazy("When no rule matches, assign to"), required=False,
        choices=[("", gettext_lazy("Nobody (the lead waits unassigned)")),
                 *AssignmentRule.Method.choices],
    )  # fmt: skip
    fallback_user = forms.ChoiceField(label=gettext_lazy("Fallback user"), required=False)
    fallback_team = forms.ChoiceField(label=gettext_lazy("Fallback team"), required=False)
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, workspace_id: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.workspace_id = workspace_id
        self.fields["fallback_user"].choices = _member_choices(workspace_id)
        self.fields["fallback_team"].choices = team_choices(workspace_id)

    def values(self) -> dict[str, Any]:
        data = dict(self.cleaned_data)
        data.pop("version", None)
        data["fallback_user"] = _user(self.workspace_id, data["fallback_user"])
        data["fallback_team"] = _team(self.workspace_id, data["fallback_team"])
        return data


# --- the section page ---------------------------------------------------------------------------
@login_required
def lead_routing(request: HttpRequest) -> HttpResponse:
    """Everything that routes leads on one page, in the order it is applied."""
    membership = membership_of(request)
    ws = membership.workspace_id
    scoring_rules = list(ScoringRule.objects.visible_to(membership, "view")
                         .order_by("position", "id"))  # fmt: skip
    for rule in scoring_rules:
        rule.explained = explain({"field": rule.field, "operator": rule.operator,
                                  "value": rule.value, "points": rule.points})  # fmt: skip
    assignment_rules = list(
        AssignmentRule.objects.visible_to(membership, "view")
        .select_related("user", "team")
        .order_by("position", "id")
    )
    policies = list(SlaPolicy.objects.visible_to(membership, "view").order_by("position", "id"))
    hours = None
    if _may(membership, "view"):
        hours = services.routing_settings(ws)
        if hours.fallback_user_id or hours.fallback_team_id:
            hours = type(hours).objects.for_workspace(ws).select_related(
                "fallback_user", "fallback_team").get(pk=hours.pk)  # fmt: skip
        hours.weekday_names = [str(label) for day, label in WEEKDAYS if day in hours.weekdays]
    return _page(
        request, SECTION, "lead_routing.html", scoring_rules=scoring_rules,
        assignment_rules=assignment_rules, policies=policies, hours=hours,
        time_zone=membership.workspace.time_zone, editable=_may(membership, "change"),
        addable=_may(membership, "add"),
    )  # fmt: skip


KINDS = {
    "scoring": (ScoringRule, ScoringRuleForm, gettext_lazy("Scoring rule")),
    "assignment": (AssignmentRule, AssignmentRuleForm, gettext_lazy("Assignment rule")),
    "sla": (SlaPolicy, SlaPolicyForm, gettext_lazy("SLA policy")),
}
CREATE = {
    "scoring": services.create_scoring_rule,
    "assignment": services.create_assignment_rule,
    "sla": services.create_sla_policy,
}


def _initial(kind: str, obj: Any) -> dict[str, Any]:
    if obj is None:
        return {"is_active": True}
    initial = {name: getattr(obj, name) for name in KINDS[kind][1].base_fields
               if hasattr(obj, name) and name not in ("user", "team")}  # fmt: skip
    if kind == "scoring":
        initial["value"] = _joined(obj.value)
    if kind == "assignment":
        for key in ("countries", "regions", "cities", "industries", "languages",
                    "product_interests"):  # fmt: skip
            initial[key] = _joined(getattr(obj, key))
        initial["user"] = obj.user.username if obj.user_id else ""
        initial["team"] = obj.team.public_id if obj.team_id else ""
    return initial


def _update(kind: str, obj: Any, by: User, version: int, values: dict[str, Any]) -> Any:
    if kind == "scoring":
        return services.update_scoring_rule(rule=obj, by=by, expected_version=version, **values)
    if kind == "assignment":
        return services.update_assignment_rule(rule=obj, by=by, expected_version=version,
                                               **values)  # fmt: skip
    return services.update_sla_policy(policy=obj, by=by, expected_version=version, **values)


@login_required
def rule_edit(request: HttpRequest, kind: str, public_id: str | None = None) -> HttpResponse:
    """Add (no id) or edit a scoring rule, an assignment rule or an SLA policy."""
    membership = membership_of(request)
    model, form_class, label = KINDS[kind]
    obj = None
    if public_id is not None:
        queryset = model.objects.visible_to(membership, "view")
        if kind == "assignment":
            queryset = queryset.select_related("user", "team")
        obj = visible_or_404(model, membership, public_id, queryset=queryset)
    elif not _may(membership, "add"):
        raise PermissionDenied
    extra = {"workspace_id": membership.workspace_id} if kind == "assignment" else {}
    form = form_class(request.POST or None, initial=_initial(kind, obj), **extra)
    if request.method == "POST":
        if obj is not None:
            obj = visible_or_404(model, membership, public_id, action="change")
        if form.is_valid():
            values = form.values()
            version = form.cleaned_data.get("version") or 0

            def write() -> Any:
                if obj is None:
                    return CREATE[kind](workspace=membership.workspace, by=request.user,
                                        **values)  # fmt: skip
                return _update(kind, obj, request.user, version, values)

            if _save(request, form, write):
                return redirect("web:settings_lead_routing")
    delete_url = None
    if obj is not None and _may(membership, "delete"):
        delete_url = reverse("web:settings_lead_rule_delete", args=[kind, obj.public_id])
    editable = _may(membership, "change" if obj is not None else "add")
    heading = obj.name if obj is not None else _("New %(what)s") % {"what": str(label).lower()}
    return _page(request, SECTION, "edit.html", form=form, heading=heading, editable=editable,
                 delete_url=delete_url, back=reverse("web:settings_lead_routing"))  # fmt: skip


@login_required
@require_POST
def rule_delete(request: HttpRequest, kind: str, public_id: str) -> HttpResponse:
    model = KINDS[kind][0]
    obj = visible_or_404(model, membership_of(request), public_id, action="delete")
    services.delete_rule(rule=obj, by=request.user)
    messages.success(request, _("%(name)s was deleted.") % {"name": obj.name})
    return redirect("web:settings_lead_routing")


@login_required
@require_POST
def rule_move(request: HttpRequest, kind: str, public_id: str) -> HttpResponse:
    model = KINDS[kind][0]
    obj = visible_or_404(model, membership_of(request), public_id, action="change")
    services.move_rule(rule=obj, by=request.user, up=request.POST.get("direction") == "up")
    return redirect(reverse("web:settings_lead_routing") + f"#{kind}-rules")


@login_required
def business_hours(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    if not _may(membership, "view"):
        raise PermissionDenied
    row = services.routing_settings(membership.workspace_id)
    initial = {
        "weekdays": row.weekdays, "day_start": row.day_start, "day_end": row.day_end,
        "holidays": "\n".join(row.holidays), "extra_workdays": "\n".join(row.extra_workdays),
        "fallback_method": row.fallback_method,
        "fallback_user": row.fallback_user.username if row.fallback_user_id else "",
        "fallback_team": row.fallback_team.public_id if row.fallback_team_id else "",
        "version": row.version,
    }  # fmt: skip
    form = BusinessHoursForm(request.POST or None, initial=initial,
                             workspace_id=membership.workspace_id)  # fmt: skip
    if request.method == "POST":
        if not _may(membership, "change"):
            raise PermissionDenied
        if form.is_valid():
            values = form.values()
            version = form.cleaned_data.get("version") or 0
            if _save(request, form, lambda: services.update_routing_settings(
                    workspace=membership.workspace, by=request.user,
                    expected_version=version, **values)):  # fmt: skip
                return redirect("web:settings_lead_routing")
    heading = _("Business hours (%(zone)s)") % {"zone": membership.workspace.time_zone}
    return _page(request, SECTION, "edit.html", form=form, heading=heading,
                 editable=_may(membership, "change"), delete_url=None,
                 back=reverse("web:settings_lead_routing"))  # fmt: skip

"""Lead routing: scoring rules, assignment rules, business hours and follow-up SLA policies
of a workspace, the round-robin pointers of its teams and the response record of each lead
(what the dashboards read). The logic lives in ``guanxi.sales.lead_routing``."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.platform.history import HistoricalRecords
from guanxi.platform.models import Team, Workspace, WorkspaceModel
from guanxi.sales.models.leads import Lead

RULE_OBJECT_TYPE = "sales.leadrule"


class ScoringRule(WorkspaceModel):
    """Points a lead gets when a condition holds: on one of its fields, or per interaction
    logged on it (behaviour), the latter halving every ``half_life_days``."""

    class Field(models.TextChoices):
        SOURCE = "source", _("Source")
        INDUSTRY = "industry", _("Industry")
        REGION = "region", _("Province/state")
        CITY = "city", _("City")
        COUNTRY = "country", _("Country/region")
        LANGUAGE = "language", _("Language")
        PRODUCT_INTEREST = "product_interest", _("Product interest")
        TITLE = "title", _("Job title")
        COMPANY = "company", _("Company")
        EMAIL_DOMAIN = "email_domain", _("E-mail domain")
        CONSENT = "consent", _("Consent to be contacted")
        BEHAVIOUR = "behaviour", _("Interactions logged on the lead")

    class Operator(models.TextChoices):
        EQUALS = "equals", _("equals")
        IN = "in", _("is one of")
        CONTAINS = "contains", _("contains")
        IS_SET = "is_set", _("is set")
        NOT_FREE_MAIL = "not_free_mail", _("is not a free-mail domain")
        EVENTS = "events", _("per interaction")

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    field = models.CharField(_("field"), max_length=30, choices=Field.choices)
    operator = models.CharField(_("condition"), max_length=20, choices=Operator.choices)
    # a string (equals, contains), a list of strings (is one of), or for behaviour the kind
    # of interaction counted: "any", "inbound", "outbound" or a channel ("email", "phone"…)
    value = models.JSONField(_("value"), default=str, blank=True)
    points = models.IntegerField(_("points"))
    half_life_days = models.PositiveIntegerField(
        _("half-life (days)"),
        null=True,
        blank=True,
        help_text=_("Behaviour points halve every this many days; empty: they never fade."),
    )
    max_events = models.PositiveIntegerField(
        _("at most this many interactions"), null=True, blank=True
    )
    history = HistoricalRecords()

    public_id_prefix = "lsr"
    object_type = RULE_OBJECT_TYPE

    class Meta:
        verbose_name = _("scoring rule")
        verbose_name_plural = _("scoring rules")
        indexes = [models.Index(fields=["workspace", "position"], name="scoringrule_ws_pos")]

    def __str__(self) -> str:
        return self.name


class AssignmentRule(WorkspaceModel):
    """Who gets a lead: the first active rule (by position) whose conditions all hold. An
    empty list means "any"; a target is a user, or a team shared round robin or by load."""

    class Method(models.TextChoices):
        USER = "user", _("One user")
        ROUND_ROBIN = "round_robin", _("Team, round robin")
        LEAST_LOADED = "least_loaded", _("Team, fewest open leads")
        QUEUE = "queue", _("Team queue (nobody in particular)")

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    countries = models.JSONField(_("countries/regions"), default=list, blank=True)
    regions = models.JSONField(_("provinces/states"), default=list, blank=True)
    cities = models.JSONField(_("cities"), default=list, blank=True)
    industries = models.JSONField(_("industries"), default=list, blank=True)
    languages = models.JSONField(_("languages"), default=list, blank=True)
    product_interests = models.JSONField(_("product interests"), default=list, blank=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    min_score = models.IntegerField(_("minimum score"), null=True, blank=True)
    method = models.CharField(_("assign to"), max_length=20, choices=Method.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    public_id_prefix = "lar"
    object_type = RULE_OBJECT_TYPE

    class Meta:
        verbose_name = _("assignment rule")
        verbose_name_plural = _("assignment rules")
        indexes = [models.Index(fields=["workspace", "position"], name="assignrule_ws_pos")]

    def __str__(self) -> str:
        return self.name


class SlaPolicy(WorkspaceModel):
    """How soon an assigned lead must be touched, in working minutes; the first active
    policy (by position) whose source and score band fit the lead applies."""

    name = models.CharField(_("name"), max_length=200)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)
    sources = models.JSONField(_("sources"), default=list, blank=True)
    min_score = models.IntegerField(_("minimum score"), null=True, blank=True)
    max_score = models.IntegerField(_("maximum score"), null=True, blank=True)
    first_touch_minutes = models.PositiveIntegerField(_("first touch within (working minutes)"))
    reassign_on_escalation = models.BooleanField(
        _("reassign when escalated"),
        default=False,
        help_text=_("Run the assignment rules again, leaving out the owner who missed it."),
    )
    history = HistoricalRecords()

    public_id_prefix = "sla"
    object_type = RULE_OBJECT_TYPE

    class Meta:
        verbose_name = _("SLA policy")
        verbose_name_plural = _("SLA policies")

    def __str__(self) -> str:
        return self.name


def default_weekdays() -> list[int]:
    return [0, 1, 2, 3, 4]


class LeadRoutingSettings(WorkspaceModel):
    """One per workspace: business hours (in the workspace's time zone, with holidays and
    make-up working days), the fallback owner or queue, and the stamp that tells every
    process its cached rules are stale."""

    weekdays = models.JSONField(
        _("working weekdays"), default=default_weekdays, help_text=_("0 = Monday … 6 = Sunday")
    )
    day_start = models.TimeField(_("working day starts"), default=dt.time(9, 0))
    day_end = models.TimeField(_("working day ends"), default=dt.time(18, 0))
    holidays = models.JSONField(_("holidays"), default=list, blank=True)
    extra_workdays = models.JSONField(
        _("make-up working days"),
        default=list,
        blank=True,
        help_text=_("Weekend dates worked in exchange for a holiday (调休)."),
    )
    fallback_method = models.CharField(
        _("when no rule matches, assign to"),
        max_length=20,
        choices=AssignmentRule.Method.choices,
        blank=True,
    )
    fallback_user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("fallback user"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    fallback_team = models.ForeignKey(
        Team,
        verbose_name=_("fallback team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # changes whenever any rule, policy or these settings change (compiled-rules cache key)
    rules_stamp = models.CharField(max_length=40, blank=True, editable=False)
    history = HistoricalRecords()

    public_id_prefix = "lrs"
    object_type = RULE_OBJECT_TYPE

    class Meta:
        verbose_name = _("lead routing settings")
        verbose_name_plural = _("lead routing settings")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace"],
                condition=models.Q(deleted_at__isnull=True),
                name="leadroutingsettings_one_per_workspace",
            )
        ]

    def __str__(self) -> str:
        return f"lead routing of {self.workspace_id}"


class AssignmentPointer(models.Model):
    """Where a team's round robin stands: a counter raised atomically in SQL per lead, so
    concurrent assignments never hand two leads to the same turn."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    team = models.ForeignKey(Team, on_delete=models.CASCADE, related_name="+")
    counter = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "team"], name="assignmentpointer_unique_team"
            )
        ]

    def __str__(self) -> str:
        return f"{self.team_id}: {self.counter}"


class LeadResponse(WorkspaceModel):
    """How fast a lead's owner responded: one row per lead, written when the lead is first
    touched or escalated. ``working_minutes`` counts business hours only; ``met`` says
    whether the first touch came by the due time. Dashboards read this table."""

    lead = models.OneToOneField(Lead, on_delete=models.CASCADE, related_name="response")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    policy = models.ForeignKey(
        SlaPolicy, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    source = models.CharField(max_length=20, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    first_touched_at = models.DateTimeField(null=True, blank=True)
    escalated_at = models.DateTimeField(null=True, blank=True)
    working_minutes = models.PositiveIntegerField(null=True, blank=True)
    met = models.BooleanField(null=True)

    public_id_prefix = "lrp"
    # read like the lead it measures: by whoever may see the owner's leads
    object_type = "sales.lead"
    owner_field = "owner"
    team_field = "team"

    class Meta:
        verbose_name = _("lead response")
        verbose_name_plural = _("lead responses")
        indexes = [
            models.Index(fields=["workspace", "assigned_at"], name="leadresponse_ws_assigned")
        ]

    def __str__(self) -> str:
        return f"{self.lead_id}: {self.working_minutes}"

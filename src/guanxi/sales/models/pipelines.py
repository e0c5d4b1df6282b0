"""Pipelines of stages, opportunities moving through them, and the record of every move."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from guanxi.customers.models import Account, Contact
from guanxi.platform.history import HistoricalRecords
from guanxi.platform.models import SLUG_VALIDATOR, Team, WorkspaceModel

# Stage keys are the API's names for stages; underscores as in "closed_won".
STAGE_KEY_VALIDATOR = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9_-]{0,48}[a-z0-9])?$",
    _("Use 1–50 lowercase letters, digits, hyphens and underscores."),
)
PERCENT = [MinValueValidator(0), MaxValueValidator(100)]

# Names of the rows every workspace starts with. They are stored in English (the source
# language) and shown translated while nobody has renamed them: a workspace may be read in
# several languages, and a stored translation would freeze one of them.
DEFAULT_NAMES: dict[str, object] = {
    "pipeline:sales": pgettext_lazy("pipeline", "Sales"),
    "stage:qualification": _("Qualification"),
    "stage:needs_analysis": _("Needs analysis"),
    "stage:proposal": _("Proposal"),
    "stage:negotiation": _("Negotiation"),
    "stage:closed_won": _("Closed won"),
    "stage:closed_lost": _("Closed lost"),
}
ENGLISH_NAMES = {
    "pipeline:sales": "Sales",
    "stage:qualification": "Qualification",
    "stage:needs_analysis": "Needs analysis",
    "stage:proposal": "Proposal",
    "stage:negotiation": "Negotiation",
    "stage:closed_won": "Closed won",
    "stage:closed_lost": "Closed lost",
}


def display_name(kind: str, key: str, stored: str) -> str:
    """The stored name, or its translation while it is still a default's English name."""
    ident = f"{kind}:{key}"
    if ENGLISH_NAMES.get(ident) == stored:
        return str(DEFAULT_NAMES[ident])
    return stored


class Pipeline(WorkspaceModel):
    """A sales process: an ordered set of stages an opportunity moves through."""

    name = models.CharField(_("name"), max_length=100)
    key = models.CharField(_("key"), max_length=50, validators=[SLUG_VALIDATOR])
    is_default = models.BooleanField(_("default for new opportunities"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)

    public_id_prefix = "pipe"
    object_type = "sales.pipeline"

    class Meta:
        verbose_name = _("pipeline")
        verbose_name_plural = _("pipelines")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "key"],
                condition=models.Q(deleted_at__isnull=True),
                name="pipeline_unique_key_per_workspace",
            )
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return display_name("pipeline", self.key, self.name)


class Stage(WorkspaceModel):
    """A step of a pipeline with the win probability and forecast category it implies."""

    class ForecastCategory(models.TextChoices):
        # Salesforce's forecast categories: what a stage counts as in a forecast.
        PIPELINE = "pipeline", _("Pipeline")
        BEST_CASE = "best_case", _("Best case")
        COMMIT = "commit", _("Commit")
        CLOSED = "closed", _("Closed")
        OMITTED = "omitted", _("Omitted")

    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="stages"
    )
    key = models.CharField(_("key"), max_length=50, validators=[STAGE_KEY_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    probability = models.PositiveSmallIntegerField(
        _("probability (%)"), default=0, validators=PERCENT
    )
    forecast_category = models.CharField(
        _("forecast category"),
        max_length=20,
        choices=ForecastCategory.choices,
        default=ForecastCategory.PIPELINE,
    )
    is_won = models.BooleanField(_("won"), default=False)
    is_closed = models.BooleanField(_("closed"), default=False)

    public_id_prefix = "sstg"
    object_type = "sales.stage"

    class Meta:
        verbose_name = _("sales stage")
        verbose_name_plural = _("sales stages")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["pipeline", "key"],
                condition=models.Q(deleted_at__isnull=True),
                name="sales_stage_unique_key_per_pipeline",
            ),
            models.CheckConstraint(
                condition=models.Q(is_won=False) | models.Q(is_closed=True),
                name="sales_stage_won_is_closed",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name

    @property
    def display_name(self) -> str:
        return display_name("stage", self.key, self.name)

    @property
    def is_lost(self) -> bool:
        return self.is_closed and not self.is_won


class Opportunity(WorkspaceModel):
    """A possible sale to an account: how much, how likely, when, and where it stands."""

    name = models.CharField(_("name"), max_length=300)
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="opportunities"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="opportunities",
    )
    pipeline = models.ForeignKey(
        Pipeline, verbose_name=_("pipeline"), on_delete=models.PROTECT, related_name="+"
    )
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="opportunities"
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217 code"))
    probability = models.PositiveSmallIntegerField(_("probability (%)"), validators=PERCENT)
    expected_close_date = models.DateField(_("expected close date"), null=True, blank=True)
    next_step = models.CharField(_("next step"), max_length=300, blank=True)
    competitors = models.TextField(_("competitors"), blank=True)
    loss_reason = models.TextField(_("loss reason"), blank=True)
    lead_source = models.CharField(_("lead source"), max_length=100, blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("owner"),
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
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    history = HistoricalRecords()

    public_id_prefix = "opp"
    object_type = "sales.opportunity"
    owner_field = "owner"
    team_field = "team"

    class Meta:
        verbose_name = _("opportunity")
        verbose_name_plural = _("opportunities")
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="opportunity_ws_created"),
            models.Index(fields=["workspace", "owner", "id"], name="opportunity_ws_owner"),
            # the board: a column's cards biggest first, and (index-only) its totals
            models.Index(
                fields=["workspace", "stage", "-amount", "-id"],
                include=["probability", "currency", "owner", "team", "expected_close_date"],
                condition=models.Q(deleted_at__isnull=True),
                name="opportunity_board",
            ),
            # the list's default order: recently updated first
            models.Index(
                fields=["workspace", "-updated_at", "-id"],
                condition=models.Q(deleted_at__isnull=True),
                name="opportunity_ws_updated",
            ),
            # the list sorted by amount (biggest deals first)
            models.Index(
                fields=["workspace", "-amount", "-id"],
                condition=models.Q(deleted_at__isnull=True),
                name="opportunity_ws_amount",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class StageChange(WorkspaceModel):
    """An opportunity entering a stage (its creation included), with what it was worth then:
    the raw material of stage durations, win rates and forecast accuracy."""

    opportunity = models.ForeignKey(
        Opportunity, on_delete=models.CASCADE, related_name="stage_changes", db_index=False
    )
    from_stage = models.ForeignKey(
        Stage, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField(_("changed at"), default=timezone.now)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    probability = models.PositiveSmallIntegerField(_("probability (%)"))
    reason = models.TextField(_("reason"), blank=True)

    public_id_prefix = "stgc"
    object_type = "sales.stagechange"

    class Meta:
        verbose_name = _("stage change")
        verbose_name_plural = _("stage changes")
        indexes = [
            models.Index(fields=["opportunity", "changed_at", "id"], name="stagechange_opp_time")
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.from_stage_id} → {self.to_stage_id}"


class OpportunityTotal(models.Model):
    """The count and sums of the live opportunities of one stage, owner, team and currency,
    kept by database triggers (``guanxi.sales.totals``) as deals are written by any path —
    forms, API, imports, bulk updates, COPY. The board's column totals read a few thousand of
    these rows instead of every deal of the workspace. Nothing else writes them."""

    workspace = models.ForeignKey(
        "platform.Workspace", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    stage = models.ForeignKey(Stage, on_delete=models.CASCADE, related_name="+", db_index=False)
    # the owner's and the team's ids, 0 for none: a key column cannot be NULL in a unique key
    owner_key = models.BigIntegerField(default=0)
    team_key = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3)
    deals = models.BigIntegerField(default=0)
    amount = models.DecimalField(max_digits=24, decimal_places=2, default=0)
    weighted = models.DecimalField(  # the sum of amount × probability (in percent points)
        max_digits=28, decimal_places=2, default=0
    )

    class Meta:
        verbose_name = _("opportunity total")
        verbose_name_plural = _("opportunity totals")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "stage", "owner_key", "team_key", "currency"],
                name="opportunitytotal_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.stage_id}/{self.owner_key}/{self.team_key} {self.currency}: {self.deals}"

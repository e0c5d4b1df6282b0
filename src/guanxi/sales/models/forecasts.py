"""Forecasts and targets: managers' adjustments kept beside the reps' numbers, snapshots of
the forecast taken over time (for accuracy), and quotas per person or team and period."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.platform.models import Team, WorkspaceModel

CATEGORY_CHOICES = [
    ("pipeline", _("Pipeline")),
    ("best_case", _("Best case")),
    ("commit", _("Commit")),
    ("closed", _("Closed")),
    ("omitted", _("Omitted")),
]


class ForecastAdjustment(WorkspaceModel):
    """A manager's own figure for someone's (rolled-up) forecast in one category and period.

    It never changes the rep's number: both are shown, the latest adjustment being the
    adjusted figure. Its visibility is the forecast's: ``user`` is whose number it is.
    """

    period = models.CharField(_("period"), max_length=10)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("whose forecast"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    category = models.CharField(_("forecast category"), max_length=20, choices=CATEGORY_CHOICES)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    adjusted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("adjusted by"),
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    note = models.TextField(_("note"), blank=True)
    adjusted_at = models.DateTimeField(_("adjusted at"), default=timezone.now)

    public_id_prefix = "fadj"
    object_type = "sales.forecast"
    owner_field = "user"

    class Meta:
        verbose_name = _("forecast adjustment")
        verbose_name_plural = _("forecast adjustments")
        indexes = [
            models.Index(fields=["workspace", "period", "user", "-adjusted_at"], name="fadj_period")
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.user_id} {self.category} {self.amount}"


class ForecastSnapshot(WorkspaceModel):
    """The whole workspace's forecast for one period as it stood at ``taken_at``."""

    class Kind(models.TextChoices):
        ON_DEMAND = "on_demand", _("On demand")
        WEEKLY = "weekly", _("Weekly")

    period = models.CharField(_("period"), max_length=10)
    taken_at = models.DateTimeField(_("taken at"), default=timezone.now)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    currency = models.CharField(_("workspace currency"), max_length=3)

    public_id_prefix = "fsnap"
    object_type = "sales.forecastsnapshot"

    class Meta:
        verbose_name = _("forecast snapshot")
        verbose_name_plural = _("forecast snapshots")
        indexes = [models.Index(fields=["workspace", "period", "taken_at"], name="fsnap_period")]

    def __str__(self) -> str:
        return f"{self.period} @ {self.taken_at:%Y-%m-%d %H:%M}"


class ForecastSnapshotLine(models.Model):
    """One person's own numbers (not rolled up) in one currency at the snapshot."""

    snapshot = models.ForeignKey(ForecastSnapshot, on_delete=models.CASCADE, related_name="lines")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    pipeline = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    best_case = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    commit = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    closed = models.DecimalField(max_digits=18, decimal_places=2, default=0)
    omitted = models.DecimalField(max_digits=18, decimal_places=2, default=0)

    class Meta:
        verbose_name = _("forecast snapshot line")
        verbose_name_plural = _("forecast snapshot lines")

    def __str__(self) -> str:
        return f"{self.snapshot_id} {self.user_id} {self.currency}"


class Target(WorkspaceModel):
    """A quota: how much a person or a team should win in a period."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    team = models.ForeignKey(
        Team,
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    period = models.CharField(_("period"), max_length=10)
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)

    public_id_prefix = "tgt"
    object_type = "sales.target"
    owner_field = "user"
    team_field = "team"

    class Meta:
        verbose_name = _("target")
        verbose_name_plural = _("targets")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(user__isnull=True, team__isnull=False)
                | models.Q(user__isnull=False, team__isnull=True),
                name="sales_target_user_or_team",
            ),
            models.UniqueConstraint(
                fields=["workspace", "user", "period"],
                condition=models.Q(deleted_at__isnull=True, user__isnull=False),
                name="sales_target_one_per_user_period",
            ),
            models.UniqueConstraint(
                fields=["workspace", "team", "period"],
                condition=models.Q(deleted_at__isnull=True, team__isnull=False),
                name="sales_target_one_per_team_period",
            ),
        ]
        indexes = [models.Index(fields=["workspace", "period"], name="target_period")]

    def __str__(self) -> str:
        return f"{self.period}: {self.amount} {self.currency}"

"""Field visits: where and when a rep checked in and out of a planned visit (an activity of
kind visit), and the outcome they logged (REQUIREMENTS §2.1, mobile use in the field; 004's
"sales action monitoring")."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.platform.models import WorkspaceModel
from guanxi.timeline.models import Activity


class VisitOutcome(models.TextChoices):
    """What came of a visit, one tap on the phone."""

    MET = "met", _("Met")
    ORDER_TAKEN = "order_taken", _("Order taken")
    NOT_MET = "not_met", _("Not met")
    RESCHEDULED = "rescheduled", _("Rescheduled")


class VisitCheckIn(WorkspaceModel):
    """One check-in or check-out of a visit, at the server's time, with the phone's position
    when the browser gave it. A visit has at most one of each kind; the check-out carries
    how long the visit took and, once logged, its outcome."""

    class Kind(models.TextChoices):
        CHECK_IN = "check_in", _("Check-in")
        CHECK_OUT = "check_out", _("Check-out")

    activity = models.ForeignKey(
        Activity, verbose_name=_("visit"), on_delete=models.PROTECT, related_name="check_ins"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("by"), on_delete=models.PROTECT, related_name="+"
    )
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    at = models.DateTimeField(_("at"), help_text=_("The server's time when it was recorded."))
    client_time = models.DateTimeField(
        _("phone's time"), null=True, blank=True, help_text=_("The time the phone reported.")
    )
    latitude = models.DecimalField(
        _("latitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-90), MaxValueValidator(90)],
    )  # fmt: skip
    longitude = models.DecimalField(
        _("longitude"), max_digits=9, decimal_places=6, null=True, blank=True,
        validators=[MinValueValidator(-180), MaxValueValidator(180)],
    )  # fmt: skip
    accuracy = models.FloatField(
        _("accuracy (m)"), null=True, blank=True, validators=[MinValueValidator(0)]
    )
    duration_seconds = models.PositiveIntegerField(
        _("duration (s)"), null=True, blank=True, help_text=_("Check-out only: since check-in.")
    )
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=VisitOutcome.choices, blank=True
    )

    public_id_prefix = "vck"
    object_type = "sales.visit_check_in"
    owner_field = "user"

    class Meta:
        verbose_name = _("visit check-in")
        verbose_name_plural = _("visit check-ins")
        constraints = [
            # a phone retrying on a slow connection must not make a second check-in
            models.UniqueConstraint(
                fields=["activity", "kind"],
                condition=models.Q(deleted_at__isnull=True),
                name="visit_check_in_once_per_kind",
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True, longitude__isnull=True)
                | models.Q(latitude__isnull=False, longitude__isnull=False),
                name="visit_check_in_position_whole",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.at:%Y-%m-%d %H:%M}"

    @property
    def has_location(self) -> bool:
        return self.latitude is not None

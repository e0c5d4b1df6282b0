"""How a workspace takes leads from its public web forms: whether the endpoint is open,
the consent text a visitor must accept, and where a plain HTML form may be sent back to."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.platform.models import WorkspaceModel


class WebToLeadSettings(WorkspaceModel):
    """One per workspace; without a row the endpoint is closed (a workspace opts in)."""

    is_enabled = models.BooleanField(_("accept web forms"), default=False)
    require_consent = models.BooleanField(_("require consent"), default=False)
    consent_text = models.TextField(
        _("consent text"),
        blank=True,
        help_text=_("Shown next to the checkbox; stored with each lead that accepted it."),
    )
    redirect_hosts = models.TextField(
        _("allowed redirect hosts"),
        blank=True,
        help_text=_("One host name per line, e.g. www.example.com; others are refused."),
    )

    public_id_prefix = "w2l"
    object_type = "sales.webtoleadsettings"

    class Meta:
        verbose_name = _("web-to-lead settings")
        verbose_name_plural = _("web-to-lead settings")
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="webtoleadsettings_one_per_ws")
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id}: {'on' if self.is_enabled else 'off'}"

    @property
    def hosts(self) -> list[str]:
        return [line.strip().lower() for line in self.redirect_hosts.splitlines() if line.strip()]

"""Contact roles: who a deal involves on the customer's side and what part they play in the
decision (decision maker, economic buyer, technical evaluator, influencer, user)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Contact
from guanxi.platform.models import WorkspaceModel
from guanxi.sales.models.pipelines import Opportunity


class OpportunityContactRole(WorkspaceModel):
    """A contact's part in one opportunity; at most one role per contact and deal, and at
    most one primary contact per deal."""

    class Role(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("Decision maker")
        ECONOMIC_BUYER = "economic_buyer", _("Economic buyer")
        TECHNICAL_EVALUATOR = "technical_evaluator", _("Technical evaluator")
        INFLUENCER = "influencer", _("Influencer")
        USER = "user", _("User")
        OTHER = "other", _("Other")

    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        on_delete=models.CASCADE,
        related_name="contact_roles",
        db_index=False,  # the unique (opportunity, contact) index serves lookups by deal
    )
    contact = models.ForeignKey(
        Contact, verbose_name=_("contact"), on_delete=models.PROTECT, related_name="+"
    )
    role = models.CharField(_("role"), max_length=30, choices=Role.choices, default=Role.OTHER)
    is_primary = models.BooleanField(_("primary contact"), default=False)

    public_id_prefix = "ocr"
    object_type = "sales.opportunitycontactrole"
    # A role is seen and changed by whoever the deal's owner and team let see or change it:
    # the scopes of this object type are applied through the opportunity.
    owner_field = "opportunity__owner"
    team_field = "opportunity__team"

    class Meta:
        verbose_name = _("contact role")
        verbose_name_plural = _("contact roles")
        constraints = [
            models.UniqueConstraint(
                fields=["opportunity", "contact"],
                condition=models.Q(deleted_at__isnull=True),
                name="sales_contact_role_unique_contact",
            ),
            models.UniqueConstraint(
                fields=["opportunity"],
                condition=models.Q(deleted_at__isnull=True, is_primary=True),
                name="sales_contact_role_one_primary",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.contact_id} ({self.role}) on {self.opportunity_id}"

"""Leads: people who may become customers, from every channel, before anyone has qualified
them. A lead is worked (scored, assigned, touched within its follow-up time), then qualified
and converted into an account, a contact and perhaps an opportunity, or disqualified."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Account, Contact
from guanxi.platform.history import HistoricalRecords
from guanxi.platform.models import Team, WorkspaceModel
from guanxi.sales.models.pipelines import Opportunity


class Lead(WorkspaceModel):
    """A prospective customer as one channel reported them: a web form, an import, a business
    card, a call to the contact center, a partner or a campaign."""

    class Status(models.TextChoices):
        NEW = "new", _("New")
        WORKING = "working", _("Working")
        NURTURING = "nurturing", _("Nurturing")
        QUALIFIED = "qualified", _("Qualified")
        DISQUALIFIED = "disqualified", _("Disqualified")
        CONVERTED = "converted", _("Converted")

    class Source(models.TextChoices):
        WEB = "web", _("Web form")
        IMPORT = "import", _("Import")
        BUSINESS_CARD = "business_card", _("Business card")
        CONTACT_CENTER = "contact_center", _("Contact center")
        PARTNER = "partner", _("Partner")
        CAMPAIGN = "campaign", _("Campaign")
        TRADE_SHOW = "trade_show", _("Trade show")
        REFERRAL = "referral", _("Referral")
        MANUAL = "manual", _("Entered by hand")
        API = "api", _("API")

    # Statuses in which a lead is still someone's work: counted by SLAs and workloads.
    OPEN_STATUSES = (Status.NEW, Status.WORKING, Status.NURTURING, Status.QUALIFIED)

    # who
    family_name = models.CharField(_("family name"), max_length=150, blank=True)
    given_name = models.CharField(_("given name"), max_length=150, blank=True)
    display_name = models.CharField(_("name"), max_length=300, blank=True)
    title = models.CharField(_("job title"), max_length=200, blank=True)
    company = models.CharField(_("company"), max_length=300, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    # contact details, normalized as contacts' are (E.164 phones, lower-case e-mail)
    phone = models.CharField(_("phone"), max_length=32, blank=True)
    email = models.CharField(_("e-mail"), max_length=320, blank=True)
    website = models.CharField(_("website"), max_length=300, blank=True)
    # where (assignment by territory)
    country = models.CharField(_("country/region"), max_length=2, blank=True)
    region = models.CharField(_("province/state"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    language = models.CharField(_("language"), max_length=10, blank=True)
    # what they want
    product_interest = models.CharField(_("product interest"), max_length=200, blank=True)
    message = models.TextField(_("message"), blank=True)
    # where from
    source = models.CharField(
        _("source"), max_length=20, choices=Source.choices, default=Source.MANUAL
    )
    source_detail = models.CharField(
        _("source detail"),
        max_length=200,
        blank=True,
        help_text=_("The form, campaign, partner or event the lead came from."),
    )
    external_id = models.CharField(_("external id"), max_length=200, blank=True)
    # consent given with a web form: what was shown, when, from where
    consent = models.BooleanField(_("consent to be contacted"), default=False)
    consent_text = models.TextField(_("consent text"), blank=True)
    consent_at = models.DateTimeField(_("consent given at"), null=True, blank=True)
    submitted_ip = models.GenericIPAddressField(_("submitted from"), null=True, blank=True)
    # work on it
    status = models.CharField(_("status"), max_length=20, choices=Status.choices, default="new")
    disqualify_reason = models.CharField(_("disqualification reason"), max_length=300, blank=True)
    score = models.IntegerField(_("score"), default=0)
    score_details = models.JSONField(
        _("score details"), default=list, blank=True, help_text=_("The rules that gave points.")
    )
    scored_at = models.DateTimeField(_("scored at"), null=True, blank=True)
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
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    # follow-up SLA: first touch due by, done at, escalated at
    sla_due_at = models.DateTimeField(_("first touch due"), null=True, blank=True)
    first_touched_at = models.DateTimeField(_("first touched at"), null=True, blank=True)
    escalated_at = models.DateTimeField(_("escalated at"), null=True, blank=True)
    # conversion
    converted_at = models.DateTimeField(_("converted at"), null=True, blank=True)
    converted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("converted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    converted_account = models.ForeignKey(
        Account,
        verbose_name=_("account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="converted_leads",
    )
    converted_contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="converted_leads",
    )
    converted_opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="converted_leads",
    )
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    history = HistoricalRecords()

    public_id_prefix = "lead"
    object_type = "sales.lead"
    owner_field = "owner"
    team_field = "team"

    class Meta:
        verbose_name = _("lead")
        verbose_name_plural = _("leads")
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="lead_ws_created"),
            models.Index(fields=["workspace", "status", "-created_at"], name="lead_ws_status"),
            models.Index(fields=["workspace", "owner", "status"], name="lead_ws_owner_status"),
            models.Index(fields=["workspace", "phone"], name="lead_ws_phone"),
            models.Index(fields=["workspace", "email"], name="lead_ws_email"),
            # the SLA sweep: open leads nobody has touched yet, by due time
            models.Index(
                fields=["sla_due_at"],
                name="lead_sla_open",
                condition=models.Q(first_touched_at__isnull=True, escalated_at__isnull=True)
                & models.Q(sla_due_at__isnull=False),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=models.Q(deleted_at__isnull=True) & ~models.Q(external_id=""),
                name="lead_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return self.display_name or self.company or self.email or self.phone or self.public_id

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATUSES

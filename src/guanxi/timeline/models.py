"""Interactions (every touch, any channel) and activities (planned work with customers)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Account, Contact
from guanxi.platform.models import WorkspaceModel


class Channel(models.TextChoices):
    PHONE = "phone", _("Phone")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")
    WECHAT = "wechat", _("WeChat")
    CHAT = "chat", _("Chat")
    WEB_FORM = "web_form", _("Web form")
    VISIT = "visit", _("Visit")
    MEETING = "meeting", _("Meeting")
    LETTER = "letter", _("Letter")
    FAX = "fax", _("Fax")
    SOCIAL = "social", _("Social media")
    IN_PERSON = "in_person", _("In person")
    SYSTEM = "system", _("System")


class Interaction(WorkspaceModel):
    """One touch between the company and a customer (REQUIREMENTS §1: zero loss, time
    series). Channel events delivered twice carry the same ``external_id`` and are stored once.
    """

    class Direction(models.TextChoices):
        INBOUND = "inbound", _("Inbound")
        OUTBOUND = "outbound", _("Outbound")
        INTERNAL = "internal", _("Internal")

    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=10, choices=Direction.choices)
    occurred_at = models.DateTimeField(_("when"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interactions",
        db_index=False,  # led by the (customer, occurred_at) index
    )
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interactions",
        db_index=False,  # led by the (customer, occurred_at) index
    )
    # a touch of someone not yet a customer: a lead (sales), moved to the contact on conversion
    lead = models.ForeignKey(
        "sales.Lead",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="interactions",
        db_index=False,  # led by the (lead, occurred_at) index
    )
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    body = models.TextField(_("content"), blank=True)
    reference = models.CharField(
        _("reference"), max_length=500, blank=True, help_text=_("Link to a recording, file…")
    )
    related_type = models.CharField(max_length=64, blank=True)
    related_id = models.CharField(max_length=40, blank=True)
    external_id = models.CharField(_("external id"), max_length=200, blank=True)

    public_id_prefix = "int"
    object_type = "timeline.interaction"

    class Meta:
        verbose_name = _("interaction")
        verbose_name_plural = _("interactions")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "channel", "external_id"],
                condition=~models.Q(external_id=""),
                name="interaction_unique_external_id",
            ),
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False)
                | models.Q(account__isnull=False)
                | models.Q(lead__isnull=False),
                name="interaction_has_customer",
            ),
        ]
        indexes = [
            models.Index(
                fields=["contact", "-occurred_at", "-id"], name="interaction_contact_time"
            ),
            models.Index(
                fields=["account", "-occurred_at", "-id"], name="interaction_account_time"
            ),
            models.Index(fields=["lead", "-occurred_at", "-id"], name="interaction_lead_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_channel_display()} {self.occurred_at:%Y-%m-%d %H:%M} {self.subject}"


class Activity(WorkspaceModel):
    """Planned work with a customer: a task, call, meeting or visit."""

    class Kind(models.TextChoices):
        TASK = "task", _("Task")
        CALL = "call", _("Call")
        MEETING = "meeting", _("Meeting")
        VISIT = "visit", _("Visit")

    class Status(models.TextChoices):
        OPEN = "open", _("Open")
        DONE = "done", _("Done")
        CANCELLED = "cancelled", _("Cancelled")

    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=300)
    description = models.TextField(_("description"), blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assigned to"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    contact = models.ForeignKey(
        Contact,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,  # led by the (customer, status, due_at) index
    )
    account = models.ForeignKey(
        Account,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,  # led by the (customer, status, due_at) index
    )
    lead = models.ForeignKey(
        "sales.Lead",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="activities",
        db_index=False,  # led by the (lead, status, due_at) index
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    remind_at = models.DateTimeField(_("reminder"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.OPEN
    )
    outcome = models.TextField(_("outcome"), blank=True)
    completed_at = models.DateTimeField(_("completed at"), null=True, blank=True)
    interaction = models.OneToOneField(
        Interaction, null=True, blank=True, on_delete=models.SET_NULL, related_name="activity"
    )

    public_id_prefix = "act"
    object_type = "timeline.activity"
    owner_field = "assigned_to"

    class Meta:
        verbose_name = _("activity")
        verbose_name_plural = _("activities")
        indexes = [
            models.Index(
                fields=["workspace", "assigned_to", "status", "due_at"], name="activity_my_open"
            ),
            models.Index(fields=["contact", "status", "due_at"], name="activity_contact_open"),
            models.Index(fields=["account", "status", "due_at"], name="activity_account_open"),
            models.Index(fields=["lead", "status", "due_at"], name="activity_lead_open"),
        ]

    def __str__(self) -> str:
        return self.subject

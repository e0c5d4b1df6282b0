"""Opportunity line items, quotes with their numbered revisions and lines, per-role discount
limits, and the counters that number quotes without gaps."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Account, Contact
from guanxi.platform.history import HistoricalRecords
from guanxi.platform.models import Role, Team, Workspace, WorkspaceModel
from guanxi.sales.models.catalogue import PriceBook, Product
from guanxi.sales.models.orders import Order
from guanxi.sales.models.pipelines import PERCENT, Opportunity


class LineAmounts(models.Model):
    """What a priced line holds: quantity, unit price (before tax), discount, tax rate and
    the amounts worked out from them, each rounded half up to the cent."""

    position = models.PositiveIntegerField(_("position"), default=0)
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=4)
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=2)
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=0, validators=PERCENT
    )
    tax_rate = models.DecimalField(
        _("tax rate (%)"), max_digits=5, decimal_places=2, default=0, validators=PERCENT
    )
    gross_amount = models.DecimalField(_("amount before discount"), max_digits=18, decimal_places=2)
    net_amount = models.DecimalField(_("net amount"), max_digits=18, decimal_places=2)
    tax_amount = models.DecimalField(_("tax"), max_digits=18, decimal_places=2)

    class Meta:
        abstract = True


class OpportunityLine(WorkspaceModel, LineAmounts):
    """A product on an opportunity: what the deal is made of. The opportunity's amount is the
    sum of its lines' net amounts when it has lines; quotes copy the lines."""

    class PriceSource(models.TextChoices):
        PRICE_BOOK = "price_book", _("Price book")
        MANUAL = "manual", _("Entered by hand")

    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.CASCADE, related_name="lines"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    price_source = models.CharField(
        _("price from"), max_length=12, choices=PriceSource.choices, default=PriceSource.MANUAL
    )
    price_book = models.ForeignKey(
        PriceBook,
        verbose_name=_("price book"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    public_id_prefix = "oli"
    # a line is part of its opportunity: who may see or change it is decided there
    object_type = "sales.opportunity"

    class Meta:
        verbose_name = _("opportunity line")
        verbose_name_plural = _("opportunity lines")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="oppline_qty_gt_0"),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="oppline_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.opportunity_id}: {self.quantity} × {self.product_id}"


class Quote(WorkspaceModel):
    """An offer to a customer built from an opportunity's lines. Numbered per workspace
    (Q-2026-000123); revising makes revision 2 of the same number and supersedes the older
    one, which stays read-only. One active quote per opportunity."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        PENDING_APPROVAL = "pending_approval", _("Pending approval")
        APPROVED = "approved", _("Approved")
        SENT = "sent", _("Sent")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")
        EXPIRED = "expired", _("Expired")
        SUPERSEDED = "superseded", _("Superseded")

    number = models.CharField(_("quote number"), max_length=40)
    revision = models.PositiveIntegerField(_("revision"), default=1)
    opportunity = models.ForeignKey(
        Opportunity, verbose_name=_("opportunity"), on_delete=models.PROTECT, related_name="quotes"
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="quotes"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="quotes",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    valid_until = models.DateField(_("valid until"))
    currency = models.CharField(_("currency"), max_length=3)
    language = models.CharField(_("language"), max_length=10)
    subtotal = models.DecimalField(_("subtotal"), max_digits=18, decimal_places=2, default=0)
    discount_total = models.DecimalField(_("discount"), max_digits=18, decimal_places=2, default=0)
    net_total = models.DecimalField(_("net total"), max_digits=18, decimal_places=2, default=0)
    tax_total = models.DecimalField(_("tax"), max_digits=18, decimal_places=2, default=0)
    total = models.DecimalField(_("total"), max_digits=18, decimal_places=2, default=0)
    # [{"rate": "13.00", "net": "…", "tax": "…"}, …] ascending by rate
    tax_breakdown = models.JSONField(_("tax by rate"), default=list, blank=True)
    notes = models.TextField(_("notes"), blank=True)
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
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("approved or declined by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    decided_at = models.DateTimeField(_("approved or declined at"), null=True, blank=True)
    approval_note = models.TextField(_("approval note"), blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    sent_to = models.CharField(_("sent to"), max_length=320, blank=True)
    closed_at = models.DateTimeField(_("accepted or rejected at"), null=True, blank=True)
    rejection_reason = models.TextField(_("rejection reason"), blank=True)
    order = models.ForeignKey(
        Order,
        verbose_name=_("order"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    history = HistoricalRecords()

    public_id_prefix = "quo"
    object_type = "sales.quote"
    owner_field = "owner"
    team_field = "team"

    ACTIVE = ("draft", "pending_approval", "approved", "sent", "accepted")
    OPEN = ("draft", "pending_approval", "approved", "sent")

    class Meta:
        verbose_name = _("quote")
        verbose_name_plural = _("quotes")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "number", "revision"], name="quote_unique_number_revision"
            ),
            # one active quote per opportunity: revising supersedes the older revision first
            models.UniqueConstraint(
                fields=["opportunity"],
                condition=models.Q(
                    deleted_at__isnull=True,
                    status__in=["draft", "pending_approval", "approved", "sent", "accepted"],
                ),
                name="quote_one_active_per_opportunity",
            ),
        ]
        indexes = [
            models.Index(fields=["workspace", "-created_at", "-id"], name="quote_ws_created"),
            models.Index(fields=["account", "status"], name="quote_account_status"),
        ]

    def __str__(self) -> str:
        return self.label

    @property
    def label(self) -> str:
        return self.number if self.revision == 1 else f"{self.number} v{self.revision}"

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN


class QuoteLine(LineAmounts):
    """One product of a quote revision, as it was quoted (name, SKU, unit kept as text so
    the quote reads the same after the catalogue changes)."""

    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    product_name = models.CharField(_("product"), max_length=300)
    product_label = models.CharField(_("product in the quote's language"), max_length=300)
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    unit = models.CharField(_("unit"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("quote line")
        verbose_name_plural = _("quote lines")
        ordering = ["position", "id"]
        indexes = [models.Index(fields=["product", "quote"], name="quoteline_product_quote")]

    def __str__(self) -> str:
        return f"{self.quote_id}: {self.quantity} × {self.product_name}"

    @property
    def net_unit_price(self):  # type: ignore[no-untyped-def]
        """The unit price after the discount, to the cent: what the customer pays per unit."""
        from guanxi.sales.pricing import net_unit_price

        return net_unit_price(self.unit_price, self.discount_percent)


class DiscountLimit(WorkspaceModel):
    """The largest discount a role may give without approval (empty: no limit). Roles
    without a row use the defaults in ``guanxi.sales.pricing.DEFAULT_DISCOUNT_LIMITS``."""

    role = models.ForeignKey(Role, verbose_name=_("role"), on_delete=models.CASCADE)
    max_discount_percent = models.DecimalField(
        _("largest discount (%)"),
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=PERCENT,
    )

    public_id_prefix = "dsl"
    object_type = "platform.workspace"

    class Meta:
        verbose_name = _("discount limit")
        verbose_name_plural = _("discount limits")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "role"],
                condition=models.Q(deleted_at__isnull=True),
                name="discountlimit_unique_role",
            )
        ]

    def __str__(self) -> str:
        return f"{self.role_id}: {self.max_discount_percent}"


class QuoteCounter(models.Model):
    """The last quote number given in a workspace and year. Incremented in the transaction
    that creates the quote, so a rolled-back quote gives its number back: no gaps."""

    workspace = models.ForeignKey(Workspace, on_delete=models.CASCADE, related_name="+")
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["workspace", "year"], name="quotecounter_unique")
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id}/{self.year}: {self.last}"

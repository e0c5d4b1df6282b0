"""Orders: what customers bought, as the ERP, an import or an accepted quote books it."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Account, Contact
from guanxi.platform.history import HistoricalRecords
from guanxi.platform.models import Team, WorkspaceModel
from guanxi.sales.models.pipelines import PERCENT, Opportunity


class Order(WorkspaceModel):
    """A customer's order as the ERP (or an import, or an accepted quote) books it: what the
    customer bought, when and for how much. Orders are the purchase history that customer
    value analytics (RFM, CLV, tiers) read."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        CONFIRMED = "confirmed", _("Confirmed")
        FULFILLED = "fulfilled", _("Fulfilled")
        CANCELLED = "cancelled", _("Cancelled")
        RETURNED = "returned", _("Returned")

    number = models.CharField(
        _("order number"), max_length=100, help_text=_("The ERP's order number (external id).")
    )
    account = models.ForeignKey(
        Account, verbose_name=_("account"), on_delete=models.PROTECT, related_name="orders"
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    opportunity = models.ForeignKey(
        Opportunity,
        verbose_name=_("opportunity"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    ordered_at = models.DateField(_("ordered on"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.CONFIRMED
    )
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217 code"))
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, default=0)
    fulfilled_on = models.DateField(_("fulfilled on"), null=True, blank=True)
    source = models.CharField(_("source"), max_length=20, blank=True)
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
    history = HistoricalRecords()

    public_id_prefix = "ord"
    object_type = "sales.order"
    owner_field = "owner"
    team_field = "team"

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "number"],
                condition=models.Q(deleted_at__isnull=True),
                name="order_unique_number_per_workspace",
            ),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="order_amount_gte_0"),
        ]
        indexes = [
            models.Index(fields=["workspace", "-ordered_at", "-id"], name="order_ws_ordered"),
            models.Index(fields=["account", "ordered_at"], name="order_account_ordered"),
        ]

    def __str__(self) -> str:
        return self.number


class OrderLine(models.Model):
    """One product of an order: how many, at what price and discount, and what it came to.
    Lines belong to their order and are replaced with it; no product catalogue yet, so the
    product is its name and SKU as the ERP writes them."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("position"), default=0)
    product_name = models.CharField(_("product"), max_length=300)
    sku = models.CharField(_("SKU"), max_length=100, blank=True)
    quantity = models.DecimalField(_("quantity"), max_digits=18, decimal_places=4)
    unit_price = models.DecimalField(_("unit price"), max_digits=18, decimal_places=4)
    discount_percent = models.DecimalField(
        _("discount (%)"), max_digits=5, decimal_places=2, default=0, validators=PERCENT
    )
    amount = models.DecimalField(_("line amount"), max_digits=18, decimal_places=2)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order lines")
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(quantity__gt=0), name="orderline_qty_gt_0"),
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="orderline_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id}: {self.quantity} × {self.product_name}"

"""The product catalogue: products and services, price books and their entries with volume
tiers (REQUIREMENTS §2.1 "products and price books")."""

from __future__ import annotations

from django.core.validators import MinValueValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.customers.models import Account
from guanxi.platform.history import HistoricalRecords
from guanxi.platform.models import WorkspaceModel
from guanxi.sales.models.pipelines import PERCENT

# Chinese VAT: 13 % on goods, 6 % on most services (增值税).
DEFAULT_TAX_RATE = {"product": 13, "service": 6}


class Product(WorkspaceModel):
    """Something the company sells: a product or a service, with its unit and VAT rate.

    ``name`` is the name as the company writes it (often Chinese); ``name_en`` and
    ``translations`` ({"zh-hant": "…", "en": "…"}) give it in other languages for quotes.
    """

    class Kind(models.TextChoices):
        PRODUCT = "product", _("Product")
        SERVICE = "service", _("Service")

    sku = models.CharField(_("SKU"), max_length=100)
    name = models.CharField(_("name"), max_length=300)
    name_en = models.CharField(_("English name"), max_length=300, blank=True)
    translations = models.JSONField(_("names in other languages"), default=dict, blank=True)
    unit = models.CharField(_("unit"), max_length=20, default="件")
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.PRODUCT)
    tax_rate = models.DecimalField(
        _("tax rate (%)"), max_digits=5, decimal_places=2, default=13, validators=PERCENT
    )
    is_active = models.BooleanField(_("active"), default=True)
    description = models.TextField(_("description"), blank=True)
    history = HistoricalRecords()

    public_id_prefix = "prd"
    object_type = "sales.product"

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["sku", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "sku"],
                condition=models.Q(deleted_at__isnull=True),
                name="product_unique_sku_per_workspace",
            ),
            models.CheckConstraint(
                condition=models.Q(tax_rate__gte=0) & models.Q(tax_rate__lte=100),
                name="product_tax_rate_0_100",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} {self.sku}"

    def name_in(self, language: str) -> str:
        """The name in ``language`` (zh-hans, zh-hant, en): a translation when there is one,
        else the English name for English, else the name as written."""
        translated = (self.translations or {}).get(language)
        if translated:
            return str(translated)
        if language.startswith("en") and self.name_en:
            return self.name_en
        return self.name


class PriceBook(WorkspaceModel):
    """Prices in one currency for a set of customers: everyone (standard), one customer
    group (accounts of a value tier) or one dealer (a partner account), for a period."""

    name = models.CharField(_("name"), max_length=200)
    currency = models.CharField(_("currency"), max_length=3, help_text=_("ISO 4217 code"))
    customer_group = models.CharField(
        _("customer group (value tier)"),
        max_length=20,
        blank=True,
        help_text=_("Applies to accounts of this value tier."),
    )
    dealer = models.ForeignKey(
        Account,
        verbose_name=_("dealer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text=_("Applies to this partner account only."),
    )
    is_standard = models.BooleanField(_("standard price book"), default=False)
    is_active = models.BooleanField(_("active"), default=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)
    history = HistoricalRecords()

    public_id_prefix = "pbk"
    object_type = "sales.pricebook"

    class Meta:
        verbose_name = _("price book")
        verbose_name_plural = _("price books")
        ordering = ["name", "id"]
        constraints = [
            # one audience per book: a dealer's, a group's or everyone's
            models.CheckConstraint(
                condition=~(models.Q(dealer__isnull=False) & ~models.Q(customer_group="")),
                name="pricebook_dealer_or_group",
            ),
            models.CheckConstraint(
                condition=models.Q(valid_to__isnull=True)
                | models.Q(valid_from__isnull=True)
                | models.Q(valid_to__gte=models.F("valid_from")),
                name="pricebook_valid_period",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.currency})"

    @property
    def audience(self) -> str:
        if self.dealer_id:
            return "dealer"
        if self.customer_group:
            return "customer_group"
        return "standard" if self.is_standard else "none"


class PriceBookEntry(WorkspaceModel):
    """A product's unit price in a price book, for a period, with volume tiers: from
    ``min_quantity`` on, the tier's unit price ([{"min_quantity": "100", "unit_price":
    "90.00"}, …], ascending)."""

    price_book = models.ForeignKey(
        PriceBook, verbose_name=_("price book"), on_delete=models.CASCADE, related_name="entries"
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.PROTECT, related_name="+"
    )
    unit_price = models.DecimalField(
        _("unit price"), max_digits=18, decimal_places=2, validators=[MinValueValidator(0)]
    )
    tiers = models.JSONField(_("volume tiers"), default=list, blank=True)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_to = models.DateField(_("valid to"), null=True, blank=True)

    public_id_prefix = "pbe"
    object_type = "sales.pricebook"

    class Meta:
        verbose_name = _("price book entry")
        verbose_name_plural = _("price book entries")
        indexes = [models.Index(fields=["product", "price_book"], name="pbentry_product_book")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(unit_price__gte=0), name="pbentry_unit_price_gte_0"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.price_book_id}: {self.product_id} {self.unit_price}"

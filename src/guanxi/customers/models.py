"""The customer master: accounts (organizations), contacts (people), how they relate, how to
reach them (contact points with consent), where they are (addresses), and lifecycle stages.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from guanxi.platform.history import HistoricalRecords
from guanxi.platform.models import SLUG_VALIDATOR, Tag, Team, WorkspaceModel


class LifecycleStage(WorkspaceModel):
    """A step of the customer lifecycle, defined per workspace (REQUIREMENTS §1; seed 003)."""

    key = models.CharField(_("key"), max_length=50, validators=[SLUG_VALIDATOR])
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(_("position"), default=0)
    is_default = models.BooleanField(_("default for new customers"), default=False)

    public_id_prefix = "stage"
    object_type = "customers.lifecyclestage"

    class Meta:
        verbose_name = _("lifecycle stage")
        verbose_name_plural = _("lifecycle stages")
        ordering = ["position", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "key"],
                condition=models.Q(deleted_at__isnull=True),
                name="stage_unique_key_per_workspace",
            )
        ]

    def __str__(self) -> str:
        return self.name


class NameKey(models.Func):
    """``sort_key`` without its spaces: a name's letters, family name first, pinyin for Han
    names (张伟, 張偉, "Wei Zhang", "zhang wei" → zhangwei), as duplicate matching compares
    them (``identity``). Written with literals rather than parameters, so that a query's
    expression is the index's on both databases."""

    template = "REPLACE(%(expressions)s, ' ', '')"
    output_field = models.CharField()


class Customer(WorkspaceModel):
    """What accounts and contacts share: owner, team, stage, tags, custom fields, source."""

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
    lifecycle_stage = models.ForeignKey(
        LifecycleStage,
        verbose_name=_("lifecycle stage"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    source = models.CharField(_("source"), max_length=100, blank=True)
    external_id = models.CharField(
        _("external id"), max_length=100, blank=True, help_text=_("Id in the source system.")
    )
    custom_fields = models.JSONField(_("custom fields"), default=dict, blank=True)
    # Space-separated search terms (original, simplified/traditional, pinyin, initials).
    search_document = models.TextField(blank=True, default="", editable=False)
    sort_key = models.CharField(max_length=300, blank=True, default="", editable=False)

    owner_field = "owner"
    team_field = "team"

    class Meta:
        abstract = True


class Account(Customer):
    """An organization: a company, a group, a public body."""

    class Size(models.TextChoices):
        MICRO = "micro", _("1–9 employees")
        SMALL = "small", _("10–49 employees")
        MEDIUM = "medium", _("50–249 employees")
        LARGE = "large", _("250–999 employees")
        ENTERPRISE = "enterprise", _("1000+ employees")

    name = models.CharField(_("name"), max_length=300)
    legal_name = models.CharField(_("legal name"), max_length=300, blank=True)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    size = models.CharField(_("size"), max_length=20, choices=Size.choices, blank=True)
    website = models.CharField(_("website"), max_length=300, blank=True)
    region = models.CharField(
        _("country/region"), max_length=2, blank=True, help_text=_("ISO 3166 code")
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent account"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="subsidiaries",
    )
    value_tier = models.CharField(_("value tier"), max_length=20, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="+")
    history = HistoricalRecords(excluded_fields=["search_document", "sort_key"])

    public_id_prefix = "acc"
    object_type = "customers.account"

    class Meta:
        verbose_name = _("account")
        verbose_name_plural = _("accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=models.Q(deleted_at__isnull=True) & ~models.Q(external_id=""),
                name="account_unique_external_id",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "sort_key", "id"], name="account_ws_sort"),
            models.Index(fields=["workspace", "owner", "id"], name="account_ws_owner"),
            models.Index(fields=["workspace", "-updated_at", "-id"], name="account_ws_updated"),
            # duplicate matching: a name in any script, and a web address by its domain
            # The key first: a lookup of many keys then reads the index in key order, which
            # PostgreSQL (before 17) knows only when the list is on the first column. Not
            # partial: the planner estimates from a whole index's statistics only.
            models.Index(NameKey("sort_key"), models.F("workspace"), name="account_name_key"),
            models.Index(
                fields=["workspace", "website"],
                name="account_ws_website",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Contact(Customer):
    """A person: someone at an account, or an individual consumer with no account."""

    class Gender(models.TextChoices):
        FEMALE = "female", _("Female")
        MALE = "male", _("Male")
        OTHER = "other", _("Other")

    family_name = models.CharField(_("family name"), max_length=150, blank=True)
    given_name = models.CharField(_("given name"), max_length=150, blank=True)
    display_name = models.CharField(_("name"), max_length=300, editable=False)
    gender = models.CharField(_("gender"), max_length=10, choices=Gender.choices, blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    occupation = models.CharField(_("occupation"), max_length=200, blank=True)
    interests = models.TextField(_("interests"), blank=True)
    preferred_language = models.CharField(_("preferred language"), max_length=10, blank=True)
    preferred_channel = models.CharField(_("preferred channel"), max_length=20, blank=True)
    value_tier = models.CharField(_("value tier"), max_length=20, blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="+")
    accounts = models.ManyToManyField(
        Account, through="AccountContact", related_name="contacts", blank=True
    )
    history = HistoricalRecords(excluded_fields=["search_document", "sort_key"])

    public_id_prefix = "con"
    object_type = "customers.contact"

    class Meta:
        verbose_name = _("contact")
        verbose_name_plural = _("contacts")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "external_id"],
                condition=models.Q(deleted_at__isnull=True) & ~models.Q(external_id=""),
                name="contact_unique_external_id",
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "sort_key", "id"], name="contact_ws_sort"),
            models.Index(fields=["workspace", "owner", "id"], name="contact_ws_owner"),
            models.Index(fields=["workspace", "-updated_at", "-id"], name="contact_ws_updated"),
            # duplicate matching: a name in any script, order or spacing is an index seek
            # The key first: a lookup of many keys then reads the index in key order, which
            # PostgreSQL (before 17) knows only when the list is on the first column. Not
            # partial: the planner estimates from a whole index's statistics only.
            models.Index(NameKey("sort_key"), models.F("workspace"), name="contact_name_key"),
        ]

    def __str__(self) -> str:
        return self.display_name


class AccountContact(WorkspaceModel):
    """A person's role at an organization, with the time they held it."""

    account = models.ForeignKey(Account, on_delete=models.CASCADE, related_name="memberships")
    contact = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="memberships")
    title = models.CharField(_("title"), max_length=200, blank=True)
    role = models.CharField(_("role"), max_length=100, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    started_on = models.DateField(_("since"), null=True, blank=True)
    ended_on = models.DateField(_("until"), null=True, blank=True)
    # the account's and the person's name keys (``NameKey`` of their sort keys), kept by the
    # database for duplicate matching (guanxi.customers.linkkeys)
    account_key = models.CharField(max_length=300, default="", db_default="", editable=False)
    contact_key = models.CharField(max_length=300, default="", db_default="", editable=False)

    public_id_prefix = "rel"
    object_type = "customers.contact"

    class Meta:
        verbose_name = _("account relationship")
        verbose_name_plural = _("account relationships")
        indexes = [
            # the people of a name at the accounts of a name: one range of this index
            models.Index(
                fields=["workspace", "account_key", "contact_key"], include=["contact", "account"],
                condition=models.Q(deleted_at__isnull=True), name="account_link_name_keys",
            ),
        ]  # fmt: skip
        constraints = [
            models.UniqueConstraint(
                fields=["account", "contact"],
                condition=models.Q(deleted_at__isnull=True),
                name="account_contact_unique",
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact} @ {self.account}"


class ContactPoint(WorkspaceModel):
    """A way to reach a customer: phone, e-mail, messaging id, fax or web address."""

    class Kind(models.TextChoices):
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("E-mail")
        WECHAT = "wechat", _("WeChat")
        QQ = "qq", _("QQ")
        WHATSAPP = "whatsapp", _("WhatsApp")
        LINE = "line", _("LINE")
        FAX = "fax", _("Fax")
        WEB = "web", _("Web")

    class Label(models.TextChoices):
        WORK = "work", _("Work")
        MOBILE = "mobile", _("Mobile")
        HOME = "home", _("Home")
        OTHER = "other", _("Other")

    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="contact_points"
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="contact_points"
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    label = models.CharField(_("type"), max_length=20, choices=Label.choices, blank=True)
    value = models.CharField(_("value"), max_length=320, help_text=_("Normalized (E.164)"))
    match_key = models.CharField(max_length=320, editable=False)
    raw_value = models.CharField(_("as typed"), max_length=320, blank=True)
    # Reversed national digits of phone numbers: "ends with 8000" becomes an indexed prefix.
    digits_reversed = models.CharField(max_length=20, blank=True, default="", editable=False)
    is_primary = models.BooleanField(_("primary"), default=False)
    is_verified = models.BooleanField(_("verified"), default=False)
    is_shared = models.BooleanField(
        _("shared"), default=False, help_text=_("May also belong to other customers (household).")
    )
    # Newest consent per purpose, kept with the point so lists need no extra query:
    # {"marketing": {"status": "granted", "source": "web form", "recorded_at": "…"}}.
    # The Consent rows are the evidence; this is their current state.
    consent_state = models.JSONField(default=dict, blank=True, editable=False)
    history = HistoricalRecords(excluded_fields=["consent_state"])

    public_id_prefix = "cp"
    object_type = "customers.contact"

    class Meta:
        verbose_name = _("contact point")
        verbose_name_plural = _("contact points")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False) ^ models.Q(account__isnull=False),
                name="contact_point_has_one_customer",
            )
        ]
        indexes = [
            # pattern_ops: the prefix searches (LIKE 'zhang.wei@%', reversed '8000%') use
            # these indexes on PostgreSQL whatever the database's collation
            models.Index(
                fields=["workspace", "kind", "match_key"],
                name="cp_ws_kind_key",
                opclasses=["int8_ops", "varchar_pattern_ops", "varchar_pattern_ops"],
            ),
            models.Index(
                fields=["workspace", "digits_reversed"],
                name="cp_ws_digits",
                opclasses=["int8_ops", "varchar_pattern_ops"],
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"


class Consent(WorkspaceModel):
    """A customer's yes or no to being contacted on one contact point for one purpose.

    Append-only per contact point and purpose: the newest row is the current state, older
    rows are the evidence of when and how it changed (who recorded it, from what source).
    """

    class Purpose(models.TextChoices):
        MARKETING = "marketing", _("Marketing")
        SERVICE = "service", _("Service")
        TRANSACTIONAL = "transactional", _("Transactional")

    class Status(models.TextChoices):
        GRANTED = "granted", _("Granted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    contact_point = models.ForeignKey(
        ContactPoint, on_delete=models.CASCADE, related_name="consents"
    )
    purpose = models.CharField(_("purpose"), max_length=20, choices=Purpose.choices)
    status = models.CharField(_("status"), max_length=20, choices=Status.choices)
    source = models.CharField(
        _("source"), max_length=200, help_text=_("Where it was given, e.g. web form, call.")
    )
    recorded_at = models.DateTimeField(_("recorded at"))

    public_id_prefix = "cons"
    object_type = "customers.contact"

    class Meta:
        verbose_name = _("consent")
        verbose_name_plural = _("consents")
        indexes = [
            models.Index(
                fields=["contact_point", "purpose", "-recorded_at", "-id"], name="consent_latest"
            )
        ]

    def __str__(self) -> str:
        return f"{self.contact_point} {self.purpose}: {self.status}"


class Address(WorkspaceModel):
    """A postal address in the form its country uses.

    Chinese form: ``region`` = province (省), ``city`` (市), ``district`` (区/县), ``street``;
    Western form: ``street``/``street2``, ``city``, ``region`` = state, ``postcode``.
    """

    class Label(models.TextChoices):
        WORK = "work", _("Work")
        HOME = "home", _("Home")
        BILLING = "billing", _("Billing")
        SHIPPING = "shipping", _("Shipping")
        OTHER = "other", _("Other")

    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses"
    )
    account = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.CASCADE, related_name="addresses"
    )
    label = models.CharField(_("type"), max_length=20, choices=Label.choices, default="work")
    country = models.CharField(_("country/region"), max_length=2, help_text=_("ISO 3166 code"))
    region = models.CharField(_("province/state"), max_length=100, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    district = models.CharField(_("district"), max_length=100, blank=True)
    street = models.CharField(_("street"), max_length=300, blank=True)
    street2 = models.CharField(_("street (line 2)"), max_length=300, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    is_primary = models.BooleanField(_("primary"), default=False)
    history = HistoricalRecords()

    public_id_prefix = "addr"
    object_type = "customers.contact"

    class Meta:
        verbose_name = _("address")
        verbose_name_plural = _("addresses")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(contact__isnull=False) ^ models.Q(account__isnull=False),
                name="address_has_one_customer",
            )
        ]

    def __str__(self) -> str:
        return format_address(self)


EAST_ASIAN_ORDER = {"CN", "HK", "MO", "TW", "JP", "KR"}


def format_address(address: Address) -> str:
    """One line, in the order the country writes it: largest first in East Asia."""
    if address.country in EAST_ASIAN_ORDER:
        parts = [address.region, address.city, address.district, address.street, address.street2]
        text = "".join(p for p in parts if p)
        return f"{text} {address.postcode}".strip()
    parts = [address.street, address.street2, address.city, address.region, address.postcode]
    return ", ".join(p for p in parts if p) + (f", {address.country}" if address.country else "")


class ImportJob(WorkspaceModel):
    """One file brought into the customer master: where it is, how its columns map to fields,
    what to do with rows that match existing customers, and how far it got.

    Rows are processed in batches, each in one transaction with ``checkpoint`` (the last
    row done), so a job stopped at any point — even killed — resumes after the last whole
    batch: no row lost, none done twice."""

    class Kind(models.TextChoices):
        CONTACTS = "contacts", _("Contacts")
        ACCOUNTS = "accounts", _("Accounts")
        INTERACTIONS = "interactions", _("Interactions")
        ORDERS = "orders", _("Orders")
        LEADS = "leads", _("Leads")

    class Policy(models.TextChoices):
        CREATE = "create", _("Create a new record anyway")
        UPDATE = "update", _("Update the matching record (fill and change its fields)")
        SKIP = "skip", _("Skip the row")
        REVIEW = "review", _("Set the row aside for review")

    class Status(models.TextChoices):
        UPLOADED = "uploaded", _("Uploaded")
        CHECKED = "checked", _("Checked (dry run)")
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")
        UNDONE = "undone", _("Undone")

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices)
    file_name = models.CharField(_("file"), max_length=300)
    file_path = models.CharField(max_length=500, editable=False)
    file_size = models.BigIntegerField(default=0)
    file_format = models.CharField(_("format"), max_length=10)
    encoding = models.CharField(max_length=30, blank=True)
    delimiter = models.CharField(max_length=1, blank=True)
    sheet = models.CharField(max_length=100, blank=True)
    columns = models.JSONField(default=list, blank=True)  # the file's headers
    mapping = models.JSONField(default=dict, blank=True)  # header -> {"field", "transform"}
    defaults = models.JSONField(default=dict, blank=True)  # field -> value for empty cells
    policy = models.CharField(
        _("when a row matches a customer"), max_length=10, choices=Policy.choices,
        default=Policy.SKIP,
    )  # fmt: skip
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.UPLOADED)
    total_rows = models.PositiveIntegerField(null=True, blank=True)
    checkpoint = models.PositiveIntegerField(default=0)  # rows done (in file order)
    counts = models.JSONField(default=dict, blank=True)
    dry_run_counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)  # what stopped a failed job
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    public_id_prefix = "imp"
    object_type = "customers.importjob"
    owner_field = "created_by"

    class Meta:
        verbose_name = _("import")
        verbose_name_plural = _("imports")

    def __str__(self) -> str:
        return self.file_name


class ImportRow(models.Model):
    """What became of one row that needs remembering: an error (for the report), a match
    set aside for review, the record it created, or the values an update replaced (for undo).
    ``(job, line)`` is unique: a row is never recorded twice."""

    class Outcome(models.TextChoices):
        CREATED = "created", _("Created")
        UPDATED = "updated", _("Updated")
        SKIPPED = "skipped", _("Skipped")
        ERROR = "error", _("Error")
        REVIEW = "review", _("For review")

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField()  # as a spreadsheet numbers it: header = 1
    outcome = models.CharField(max_length=10, choices=Outcome.choices)
    record_id = models.BigIntegerField(null=True, blank=True)
    matched_id = models.BigIntegerField(null=True, blank=True)
    data = models.JSONField(default=dict, blank=True)  # the original cells (errors, review)
    errors = models.JSONField(default=list, blank=True)  # [{"column", "value", "message"}]
    before = models.JSONField(default=dict, blank=True)  # fields an update replaced

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["job", "line"], name="importrow_unique_line")
        ]
        indexes = [models.Index(fields=["job", "outcome", "line"], name="importrow_outcome")]

    def __str__(self) -> str:
        return f"{self.job_id}:{self.line} {self.outcome}"


class Merge(WorkspaceModel):
    """Contacts merged into one, with everything needed to take it back: the survivor's
    fields before, each merged contact's id, and what moved from each (per participant:
    contact points, addresses, account links, tags, and what other apps registered)."""

    survivor = models.ForeignKey(Contact, on_delete=models.PROTECT, related_name="+")
    merged_ids = models.JSONField(default=list)  # primary keys of the merged contacts
    fields = models.JSONField(default=dict, blank=True)  # field -> public id it came from
    survivor_before = models.JSONField(default=dict, blank=True)
    moved = models.JSONField(default=dict, blank=True)  # merged pk -> participant -> [ids]
    undone_at = models.DateTimeField(null=True, blank=True)

    public_id_prefix = "mrg"
    object_type = "customers.merge"
    owner_field = "created_by"

    class Meta:
        verbose_name = _("merge")
        verbose_name_plural = _("merges")

    def __str__(self) -> str:
        return f"{self.merged_ids} → {self.survivor_id}"


class ImportTemplate(WorkspaceModel):
    """A saved column mapping — headers to fields with their transforms, defaults for empty
    cells and the policy for matching rows — offered again for files of the same shape.
    Private to its author unless shared with the workspace."""

    kind = models.CharField(_("type"), max_length=20, choices=ImportJob.Kind.choices)
    name = models.CharField(_("name"), max_length=200)
    mapping = models.JSONField(default=dict, blank=True)  # header -> {"field", "transform"}
    defaults = models.JSONField(default=dict, blank=True)  # field -> value for empty cells
    policy = models.CharField(
        _("when a row matches a customer"), max_length=10, choices=ImportJob.Policy.choices,
        default=ImportJob.Policy.SKIP,
    )  # fmt: skip
    is_shared = models.BooleanField(_("shared with the workspace"), default=False)

    public_id_prefix = "imt"
    object_type = "customers.importtemplate"
    owner_field = "created_by"

    class Meta:
        verbose_name = _("import template")
        verbose_name_plural = _("import templates")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "kind", "name"],
                condition=models.Q(deleted_at__isnull=True),
                name="importtemplate_unique_name",
            )
        ]

    def __str__(self) -> str:
        return self.name


class ExportJob(WorkspaceModel):
    """A large export written in the background to a file its author downloads later: which
    list (the filters and columns as the list had them), in what format, how far it got."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    kind = models.CharField(_("type"), max_length=20, choices=ImportJob.Kind.choices)
    file_format = models.CharField(_("format"), max_length=10)
    params = models.JSONField(default=dict, blank=True)  # filters, view, ids, columns
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0)
    file_name = models.CharField(_("file"), max_length=300, blank=True)
    file_path = models.CharField(max_length=500, blank=True, editable=False)
    file_size = models.BigIntegerField(default=0)
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    public_id_prefix = "exp"
    object_type = "customers.exportjob"
    owner_field = "created_by"

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")

    def __str__(self) -> str:
        return self.file_name or self.public_id


class IdentitySettings(WorkspaceModel):
    """How a workspace treats proposed duplicates: pairs the batch model scores at or above
    ``review_threshold`` go to the review queue; pairs that share an identifier (phone,
    e-mail, messaging id) and score at or above ``auto_merge_threshold`` are merged without
    review — never, while that threshold is empty. ``trusted_sources`` ranks where records
    came from, for the values a merge keeps."""

    review_threshold = models.FloatField(_("propose pairs from this probability"), default=0.9)
    auto_merge_threshold = models.FloatField(
        _("merge pairs sharing an identifier from this probability"), null=True, blank=True
    )
    # Record sources (``Customer.source``: "erp", "import", "web"…) from the most trusted
    # down: a merge keeps, per field, the value of the contact from the most trusted source.
    trusted_sources = models.JSONField(_("trusted sources"), default=list, blank=True)

    public_id_prefix = "ids"
    object_type = "customers.identitysettings"

    class Meta:
        verbose_name = _("identity settings")
        verbose_name_plural = _("identity settings")
        constraints = [
            models.UniqueConstraint(fields=["workspace"], name="identitysettings_one_per_workspace")
        ]

    def __str__(self) -> str:
        return f"{self.workspace_id}: {self.review_threshold}/{self.auto_merge_threshold}"


class DedupeRun(WorkspaceModel):
    """One scan of a workspace's contacts for duplicates: the model trained on them, the
    pairs it proposed (``DuplicatePair``), and the counts."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Done")
        FAILED = "failed", _("Failed")

    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    threshold = models.FloatField(default=0.9)
    counts = models.JSONField(default=dict, blank=True)  # contacts, pairs, clusters, merged
    model = models.JSONField(default=dict, blank=True)  # the trained model, as Splink saves it
    error = models.TextField(blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    public_id_prefix = "ddr"
    object_type = "customers.deduperun"
    owner_field = "created_by"

    class Meta:
        verbose_name = _("duplicate scan")
        verbose_name_plural = _("duplicate scans")

    def __str__(self) -> str:
        return self.public_id


class DuplicatePair(WorkspaceModel):
    """Two contacts a scan thinks are one person (``contact_a`` has the lower key), the
    cluster they fall in, the probability, the evidence, and what a reviewer made of it.
    A rejected pair is not proposed again by later scans."""

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("To review")
        MERGED = "merged", _("Merged")
        AUTO_MERGED = "auto_merged", _("Merged automatically")
        REJECTED = "rejected", _("Not the same")

    run = models.ForeignKey(DedupeRun, on_delete=models.CASCADE, related_name="pairs")
    contact_a = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    contact_b = models.ForeignKey(Contact, on_delete=models.CASCADE, related_name="+")
    cluster = models.CharField(max_length=40)
    score = models.FloatField()
    reasons = models.JSONField(default=list, blank=True)
    identifier = models.CharField(max_length=20, blank=True)  # the identifier both share
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PROPOSED)
    merge = models.ForeignKey(Merge, null=True, blank=True, on_delete=models.SET_NULL)
    decided_at = models.DateTimeField(null=True, blank=True)

    public_id_prefix = "dup"
    object_type = "customers.duplicatepair"

    class Meta:
        verbose_name = _("possible duplicate")
        verbose_name_plural = _("possible duplicates")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "contact_a", "contact_b"], name="duplicatepair_unique"
            )
        ]
        indexes = [
            models.Index(fields=["workspace", "status", "score"], name="duplicatepair_queue"),
            models.Index(fields=["run", "cluster"], name="duplicatepair_cluster"),
            models.Index(fields=["contact_b"], name="duplicatepair_contact_b"),
        ]

    def __str__(self) -> str:
        return f"{self.contact_a_id} ~ {self.contact_b_id} {self.score:.3f}"

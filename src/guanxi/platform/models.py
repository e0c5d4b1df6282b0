"""Tenancy, users, teams, roles, memberships, API tokens, audit events, idempotency records."""

from __future__ import annotations

from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.platform.context import require_workspace
from guanxi.platform.history import HistoricalRecords
from guanxi.platform.ids import new_public_id
from guanxi.platform.permissions import effective_grants

if TYPE_CHECKING:
    from guanxi.platform.permissions import Grants

SLUG_VALIDATOR = RegexValidator(
    r"^[a-z0-9](?:[a-z0-9-]{0,48}[a-z0-9])?$",
    _("Use 1–50 lowercase letters, digits and hyphens, not starting or ending with a hyphen."),
)


class User(AbstractUser):
    """A person who signs in. One login can belong to several workspaces (Membership)."""

    public_id = models.CharField(max_length=40, unique=True, editable=False)
    language = models.CharField(_("language"), max_length=10, blank=True)
    time_zone = models.CharField(_("time zone"), max_length=64, blank=True)

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.public_id:
            self.public_id = new_public_id("usr")
        super().save(*args, **kwargs)


class Workspace(models.Model):
    """A tenant: one company, or a dealer under a manufacturer's workspace (``parent``)."""

    public_id = models.CharField(max_length=40, unique=True, editable=False)
    slug = models.CharField(_("slug"), max_length=50, unique=True, validators=[SLUG_VALIDATOR])
    name = models.CharField(_("name"), max_length=200)
    region = models.CharField(
        _("default region"),
        max_length=2,
        default="CN",
        help_text=_("ISO 3166 country code used to read phone numbers typed without +."),
    )
    currency = models.CharField(_("default currency"), max_length=3, default="CNY")
    time_zone = models.CharField(_("time zone"), max_length=64, default="Asia/Shanghai")
    language = models.CharField(_("language"), max_length=10, default="zh-hans")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent workspace"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    updated_at = models.DateTimeField(default=timezone.now)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    object_type: ClassVar[str] = "platform.workspace"

    class Meta:
        verbose_name = _("workspace")
        verbose_name_plural = _("workspaces")

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.public_id:
            self.public_id = new_public_id("ws")
        super().save(*args, **kwargs)


class WorkspaceQuerySet(models.QuerySet):
    def alive(self) -> WorkspaceQuerySet:
        return self.filter(deleted_at__isnull=True)

    def visible_to(self, user: Any, action: str = "view") -> WorkspaceQuerySet:
        from guanxi.platform.visibility import restrict

        return restrict(self, user=user, action=action)


class ActiveWorkspaceId(models.Expression):
    """The active workspace's id, read when the SQL is compiled, not when the queryset is
    built: querysets made at import time (form fields, class attributes) stay correct, and
    one evaluated with no workspace active raises WorkspaceNotActive instead of leaking."""

    output_field = models.BigIntegerField()

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list[Any]]:
        return "%s", [require_workspace().pk]


class WorkspaceManager(models.Manager.from_queryset(WorkspaceQuerySet)):  # type: ignore[misc]
    """Rows of the active workspace only, soft-deleted rows left out.

    ``for_workspace(ws)`` names the workspace explicitly; ``dangerously_all_workspaces()``
    is the only unscoped entry and is for platform code that resolves the tenant itself
    (token authentication, migrations of the whole installation, operators' commands).
    """

    def _unscoped(self) -> WorkspaceQuerySet:
        return WorkspaceQuerySet(self.model, using=self._db)

    def get_queryset(self) -> WorkspaceQuerySet:
        return self._unscoped().alive().filter(workspace_id=ActiveWorkspaceId())

    def for_workspace(
        self, workspace: Workspace | int, *, include_deleted: bool = False
    ) -> WorkspaceQuerySet:
        workspace_id = workspace if isinstance(workspace, int) else workspace.pk
        queryset = self._unscoped().filter(workspace_id=workspace_id)
        return queryset if include_deleted else queryset.alive()

    def dangerously_all_workspaces(self, *, include_deleted: bool = False) -> WorkspaceQuerySet:
        queryset = self._unscoped()
        return queryset if include_deleted else queryset.alive()

    def visible_to(self, user: Any, action: str = "view") -> WorkspaceQuerySet:
        from guanxi.platform.visibility import restrict

        return restrict(self._unscoped().alive(), user=user, action=action)


class WorkspaceModel(models.Model):
    """Base of every business record: tenant, public id, who/when, version, soft delete.

    Subclasses set ``public_id_prefix`` and ``object_type``; records with an owner name the
    field in ``owner_field`` (a User FK) and optionally ``team_field`` for team scope.
    """

    workspace = models.ForeignKey(Workspace, on_delete=models.PROTECT, related_name="+")
    public_id = models.CharField(max_length=40, unique=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # see docs/adr/0004: nobody looks records up by who touched them
    )
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # see docs/adr/0004: nobody looks records up by who touched them
    )
    version = models.PositiveIntegerField(default=1)
    deleted_at = models.DateTimeField(null=True, blank=True)
    deleted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # see docs/adr/0004: nobody looks records up by who touched them
    )

    objects = WorkspaceManager()

    public_id_prefix: ClassVar[str] = "obj"
    object_type: ClassVar[str] = ""
    owner_field: ClassVar[str | None] = None
    team_field: ClassVar[str | None] = None

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self.public_id:
            self.public_id = new_public_id(self.public_id_prefix)
        super().save(*args, **kwargs)

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class Team(WorkspaceModel):
    name = models.CharField(_("name"), max_length=200)
    history = HistoricalRecords()

    public_id_prefix = "team"
    object_type = "platform.team"

    class Meta:
        verbose_name = _("team")
        verbose_name_plural = _("teams")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"],
                condition=models.Q(deleted_at__isnull=True),
                name="team_unique_name_per_workspace",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Role(WorkspaceModel):
    """Named set of grants: object type -> action -> scope."""

    key = models.CharField(_("key"), max_length=50, validators=[SLUG_VALIDATOR])
    name = models.CharField(_("name"), max_length=200)
    is_system = models.BooleanField(_("default role"), default=False)
    permissions = models.JSONField(_("permissions"), default=dict, blank=True)
    history = HistoricalRecords()

    public_id_prefix = "role"
    object_type = "platform.role"

    class Meta:
        verbose_name = _("role")
        verbose_name_plural = _("roles")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "key"],
                condition=models.Q(deleted_at__isnull=True),
                name="role_unique_key_per_workspace",
            )
        ]

    def __str__(self) -> str:
        return self.name

    def grants(self) -> dict[str, Grants]:
        return effective_grants(
            role_key=self.key, is_system=self.is_system, stored=self.permissions
        )


class Membership(WorkspaceModel):
    """A user in a workspace: role, team and place in the manager tree.

    ``path`` is the chain of membership ids from the top of the tree down to this one
    ("/3/17/42/"), so "everyone under me" is one indexed prefix query.
    """

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships"
    )
    role = models.ForeignKey(Role, on_delete=models.PROTECT, related_name="memberships")
    team = models.ForeignKey(
        Team, null=True, blank=True, on_delete=models.SET_NULL, related_name="memberships"
    )
    manager = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="reports"
    )
    path = models.CharField(max_length=1000, db_index=True, editable=False, default="/")
    is_active = models.BooleanField(_("active"), default=True)
    # per-user settings of pages in this workspace, e.g. {"columns": {"contacts": [...]}}
    preferences = models.JSONField(default=dict, blank=True, editable=False)
    # SHA-256 of the secret in the user's calendar feed URL (read-only, activities only)
    calendar_token_hash = models.CharField(
        max_length=64, blank=True, default="", db_index=True, editable=False
    )
    history = HistoricalRecords()

    public_id_prefix = "mem"
    object_type = "platform.membership"
    owner_field = "user"
    team_field = "team"

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "user"],
                condition=models.Q(deleted_at__isnull=True),
                name="membership_unique_user_per_workspace",
            )
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.workspace_id}"

    @cached_property
    def grants(self) -> dict[str, Grants]:
        return self.role.grants()

    def scope_for(self, object_type: str, action: str) -> str:
        return self.grants.get(object_type, {}).get(action, "none")


class ApiToken(WorkspaceModel):
    """A bearer token for one membership. Only a SHA-256 of the secret is stored."""

    membership = models.ForeignKey(Membership, on_delete=models.CASCADE, related_name="tokens")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=200)
    prefix = models.CharField(max_length=16, editable=False)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_used_ip = models.GenericIPAddressField(null=True, blank=True, editable=False)

    public_id_prefix = "tok"
    object_type = "platform.apitoken"
    owner_field = "user"

    class Meta:
        verbose_name = _("API token")
        verbose_name_plural = _("API tokens")

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("the audit log is append-only")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("the audit log is append-only")


class AuditEvent(models.Model):
    """Append-only log of security-relevant events (sign-ins, permission changes, exports…)."""

    public_id = models.CharField(max_length=40, unique=True, editable=False)
    workspace = models.ForeignKey(
        Workspace, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=40, blank=True)
    object_repr = models.CharField(max_length=300, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["workspace", "-created_at", "-id"], name="audit_ws_time")]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.action} {self.object_repr}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("the audit log is append-only")
        if not self.public_id:
            self.public_id = new_public_id("aud")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("the audit log is append-only")


class IdempotencyRecord(models.Model):
    """The first response to a POST carrying an ``Idempotency-Key``, replayed for repeats."""

    scope = models.CharField(max_length=80)
    key = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True)
    content_type = models.CharField(max_length=100, blank=True)
    body = models.BinaryField(null=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_unique_key")
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key}"


class PeriodicRun(models.Model):
    """When a periodic job (``guanxi.platform.periodic``) was last put on the queue; the
    conditional update of ``enqueued_at`` lets one scheduler among several claim a run."""

    name = models.CharField(max_length=100, unique=True)
    enqueued_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Tag(WorkspaceModel):
    """A label users put on records (accounts, contacts, later anything taggable)."""

    name = models.CharField(_("name"), max_length=100)
    color = models.CharField(_("colour"), max_length=7, blank=True, default="")

    public_id_prefix = "tag"
    object_type = "platform.tag"

    class Meta:
        verbose_name = _("tag")
        verbose_name_plural = _("tags")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "name"],
                condition=models.Q(deleted_at__isnull=True),
                name="tag_unique_name_per_workspace",
            )
        ]

    def __str__(self) -> str:
        return self.name


class CustomField(WorkspaceModel):
    """A typed field administrators add to an object type; values live in the record's
    ``custom_fields`` JSON, validated by ``guanxi.platform.customfields``."""

    class FieldType(models.TextChoices):
        TEXT = "text", _("Text")
        NUMBER = "number", _("Number")
        MONEY = "money", _("Money")
        DATE = "date", _("Date")
        CHOICE = "choice", _("Choice")
        MULTI_CHOICE = "multi_choice", _("Multiple choice")
        BOOLEAN = "boolean", _("Yes/no")

    applies_to = models.CharField(
        _("object type"), max_length=64, help_text=_("e.g. customers.contact")
    )
    key = models.CharField(_("key"), max_length=50, validators=[SLUG_VALIDATOR])
    label = models.CharField(_("label"), max_length=200)
    field_type = models.CharField(_("type"), max_length=20, choices=FieldType.choices)
    choices = models.JSONField(
        _("choices"), default=list, blank=True, help_text=_("For choice fields: allowed values.")
    )
    required = models.BooleanField(_("required"), default=False)
    position = models.PositiveIntegerField(_("position"), default=0)
    history = HistoricalRecords()

    public_id_prefix = "cf"
    object_type = "platform.customfield"

    class Meta:
        verbose_name = _("custom field")
        verbose_name_plural = _("custom fields")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "applies_to", "key"],
                condition=models.Q(deleted_at__isnull=True),
                name="customfield_unique_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.applies_to}.{self.key}"


class SavedView(WorkspaceModel):
    """A list's filters, sort and columns under a name: private to its owner, or shared
    with the workspace. Applying a view never widens what the list shows: the list's
    visibility rules still decide which rows appear."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_views"
    )
    list_key = models.CharField(_("list"), max_length=50)
    name = models.CharField(_("name"), max_length=200)
    query = models.CharField(_("query"), max_length=2000, blank=True)
    is_shared = models.BooleanField(_("shared with the workspace"), default=False)

    public_id_prefix = "view"
    object_type = "platform.savedview"
    owner_field = "owner"

    class Meta:
        verbose_name = _("saved view")
        verbose_name_plural = _("saved views")
        constraints = [
            models.UniqueConstraint(
                fields=["workspace", "owner", "list_key", "name"],
                condition=models.Q(deleted_at__isnull=True),
                name="savedview_unique_name",
            )
        ]

    def __str__(self) -> str:
        return self.name


class Notification(WorkspaceModel):
    """Something a user should know: an activity someone gave them, customers handed over
    to them. The text is rendered in the reader's language from ``kind`` and ``data``
    (see ``guanxi.platform.notifications``)."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+", db_index=False,
    )  # fmt: skip
    kind = models.CharField(_("kind"), max_length=64)
    data = models.JSONField(default=dict, blank=True)
    url = models.CharField(max_length=500, blank=True)
    # notifications with the same key, unread, are one that counts up (a big handover
    # arriving in batches is one notification)
    merge_key = models.CharField(max_length=200, blank=True)
    read_at = models.DateTimeField(null=True, blank=True)

    public_id_prefix = "ntf"
    object_type = "platform.notification"
    owner_field = "recipient"

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        indexes = [
            models.Index(
                fields=["workspace", "recipient", "read_at", "-created_at"],
                name="notification_inbox",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient_id}"

"""Saved import mappings: save a job's columns-to-fields mapping (with transforms, defaults
for empty cells and the matching policy) under a name, offer it again for files of the same
shape, apply it to a new import, rename, share or delete it.

A template is its author's; shared ones are offered to everyone who may import. Applying one
goes through ``engine.set_mapping``, so a template is checked against the file exactly like a
mapping chosen by hand.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers.imports import engine
from guanxi.customers.imports import mapping as mappings
from guanxi.customers.models import ImportJob, ImportTemplate
from guanxi.platform.audit import record_audit
from guanxi.platform.errors import Forbidden, NotFound, ValidationFailed
from guanxi.platform.models import Membership, User
from guanxi.platform.permissions import Scope
from guanxi.platform.versioning import save_versioned

NAME_LENGTH = ImportTemplate._meta.get_field("name").max_length
_UNSET: Any = object()


# --- checks -----------------------------------------------------------------------------------
def check_name(name: str) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationFailed([("name", _("must not be empty"))])
    if len(name) > NAME_LENGTH:
        raise ValidationFailed(
            [("name", _("at most %(count)s characters") % {"count": NAME_LENGTH})]
        )
    return name


def check_defaults(defaults: Any, *, kind: str, custom: set[str]) -> dict[str, str]:
    """Values for empty cells, field -> text; empty values are dropped."""
    if defaults is None:
        return {}
    if not isinstance(defaults, dict):
        raise ValidationFailed([("defaults", _("must map fields to values"))])
    fields = mappings.FIELDS[kind]
    cleaned: dict[str, str] = {}
    errors: list[tuple[str, str]] = []
    for field, value in defaults.items():
        if field not in fields and not (field.startswith("cf.") and field[3:] in custom):
            errors.append((f"defaults.{field}", _("unknown field %(field)r") % {"field": field}))
        elif value is not None and not isinstance(value, str | int | float | bool):
            errors.append((f"defaults.{field}", _("must be a text")))
        elif value not in (None, "") and str(value).strip():
            cleaned[field] = str(value).strip()[:300]
    if errors:
        raise ValidationFailed(errors)
    return cleaned


def _check_policy(policy: str) -> str:
    if policy not in ImportJob.Policy.values:
        raise ValidationFailed(
            [("policy", _("one of %(p)s") % {"p": ", ".join(ImportJob.Policy.values)})]
        )
    return policy


def check_kind(kind: str) -> str:
    if kind not in mappings.FIELDS:
        raise ValidationFailed(
            [("type", _("one of %(kinds)s") % {"kinds": ", ".join(mappings.FIELDS)})]
        )
    return kind


def _check_mapping(mapping: Any, *, kind: str, custom: set[str]) -> dict[str, dict[str, str]]:
    """The same checks as an import's mapping, the template's own headers standing for the
    file's columns."""
    columns = list(mapping) if isinstance(mapping, dict) else []
    return mappings.check_mapping(mapping, columns=columns, kind=kind, custom=custom)


def _custom(workspace_id: int, kind: str) -> set[str]:
    return set(engine.custom_fields(workspace_id, kind))


def may_use_templates(membership: Membership) -> bool:
    """Templates are for people who may import."""
    return membership.scope_for(ImportJob.object_type, "add") != Scope.NONE


def _require(membership: Membership, action: str) -> None:
    if membership.scope_for(ImportTemplate.object_type, action) == Scope.NONE:
        raise Forbidden(action=action, object_type=ImportTemplate.object_type)


# --- reads ------------------------------------------------------------------------------------
def usable_templates(*, membership: Membership, kind: str | None = None) -> QuerySet:
    """The templates this member may apply: their own (as far as their role sees templates)
    and the shared ones, for one kind of record or all; by name."""
    if not may_use_templates(membership):
        return ImportTemplate.objects.for_workspace(membership.workspace_id).none()
    own = ImportTemplate.objects.visible_to(membership, "view")
    queryset = ImportTemplate.objects.for_workspace(membership.workspace_id).filter(
        Q(is_shared=True) | Q(pk__in=own.values("pk"))
    )
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    return queryset.select_related("created_by").order_by("name", "id")


def get_template(*, membership: Membership, public_id: str, action: str = "view") -> ImportTemplate:
    """A template to use (``view``: own or shared) or to change or delete (only where the
    role allows it on that template, normally one's own); NotFound otherwise."""
    if action == "view":
        queryset = usable_templates(membership=membership)
    else:
        queryset = ImportTemplate.objects.visible_to(membership, action).select_related(
            "created_by"
        )
    template = queryset.filter(public_id=public_id).first()
    if template is None:
        raise NotFound(_("import template"))
    return template


@dataclass(frozen=True)
class Fit:
    """How well a template fits a file: its headers the file has, out of all of them."""

    template: ImportTemplate
    present: int
    total: int


def fit(template: ImportTemplate, columns: list[str]) -> Fit:
    headers = {mappings.normalize_header(column) for column in columns}
    present = sum(1 for header in template.mapping if mappings.normalize_header(header) in headers)
    return Fit(template=template, present=present, total=len(template.mapping))


def best_fit(templates: list[ImportTemplate], columns: list[str]) -> Fit | None:
    """The template with the most of its headers in the file (ties: fewer headers missing,
    then the most recently changed); None when no template shares a header with it."""
    fits = [fit(template, columns) for template in templates]
    fits = [f for f in fits if f.present]
    if not fits:
        return None
    return max(fits, key=lambda f: (f.present, f.present - f.total, f.template.updated_at))


# --- writes -----------------------------------------------------------------------------------
@transaction.atomic
def create_template(
    *, membership: Membership, kind: str, name: str, mapping: Any,
    defaults: Any = None, policy: str = ImportJob.Policy.SKIP, is_shared: bool = False,
) -> ImportTemplate:  # fmt: skip
    """A template from a mapping given whole (``{header: field}`` or
    ``{header: {"field", "transform"}}``)."""
    _require(membership, "add")
    if not may_use_templates(membership):
        raise Forbidden(action="add", object_type=ImportJob.object_type)
    kind = check_kind(kind)
    name = check_name(name)
    custom = _custom(membership.workspace_id, kind)
    errors: list[tuple[str, str]] = []
    cleaned_mapping: dict = {}
    cleaned_defaults: dict = {}
    try:
        cleaned_mapping = _check_mapping(mapping, kind=kind, custom=custom)
    except ValidationFailed as exc:
        errors += exc.errors
    try:
        cleaned_defaults = check_defaults(defaults, kind=kind, custom=custom)
    except ValidationFailed as exc:
        errors += exc.errors
    try:
        _check_policy(policy)
    except ValidationFailed as exc:
        errors += exc.errors
    _check_unique(membership.workspace_id, kind, name, errors=errors)
    if errors:
        raise ValidationFailed(errors)
    user = membership.user
    template = ImportTemplate(
        workspace_id=membership.workspace_id, kind=kind, name=name, mapping=cleaned_mapping,
        defaults=cleaned_defaults, policy=policy, is_shared=bool(is_shared), created_by=user,
        updated_by=user,
    )  # fmt: skip
    _save_unique(template)
    record_audit(
        action="import_template.created", actor=user, workspace=membership.workspace, obj=template,
        data={"type": kind, "shared": template.is_shared, "columns": len(cleaned_mapping)},
    )  # fmt: skip
    return template


def save_from_job(
    *, membership: Membership, job: ImportJob, name: str, is_shared: bool = False
) -> ImportTemplate:
    """Save an import's current mapping, defaults and policy as a template."""
    return create_template(
        membership=membership, kind=job.kind, name=name, mapping=job.mapping,
        defaults=job.defaults, policy=job.policy, is_shared=is_shared,
    )  # fmt: skip


@transaction.atomic
def update_template(
    *, template: ImportTemplate, by: User, expected_version: int, name: str = _UNSET,
    is_shared: bool = _UNSET, mapping: Any = _UNSET, defaults: Any = _UNSET,
    policy: str = _UNSET,
) -> ImportTemplate:  # fmt: skip
    """Rename, share or unshare, or replace the mapping, defaults or policy."""
    changed: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    custom = _custom(template.workspace_id, template.kind)
    try:
        if name is not _UNSET:
            changed["name"] = check_name(name)
            _check_unique(template.workspace_id, template.kind, changed["name"],
                          errors=errors, exclude=template.pk)  # fmt: skip
        if is_shared is not _UNSET:
            changed["is_shared"] = bool(is_shared)
        if mapping is not _UNSET:
            changed["mapping"] = _check_mapping(mapping, kind=template.kind, custom=custom)
        if defaults is not _UNSET:
            changed["defaults"] = check_defaults(defaults, kind=template.kind, custom=custom)
        if policy is not _UNSET:
            changed["policy"] = _check_policy(policy)
    except ValidationFailed as exc:
        errors += exc.errors
    if errors:
        raise ValidationFailed(errors)
    before = {field: getattr(template, field) for field in ("name", "is_shared")}
    for field, value in changed.items():
        setattr(template, field, value)
    save_versioned(template, expected_version=expected_version, by=by, fields=changed.keys())
    record_audit(
        action="import_template.changed", actor=by, workspace=template.workspace, obj=template,
        data={"fields": sorted(changed), **{f"{k}_before": v for k, v in before.items()
                                            if k in changed and changed[k] != v}},
    )  # fmt: skip
    return template


@transaction.atomic
def delete_template(*, template: ImportTemplate, by: User) -> None:
    template.deleted_at, template.deleted_by = timezone.now(), by
    template.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="import_template.deleted", actor=by, workspace=template.workspace,
                 obj=template)  # fmt: skip


def mapping_for(template: ImportTemplate, columns: list[str]) -> dict[str, dict[str, str]]:
    """The template's mapping on a file's columns: a header matches as written, else as
    normalized (``手機`` = ``手机``, ``E-mail`` = ``email``); headers the file lacks are left
    out."""
    by_header = {mappings.normalize_header(column): column for column in columns}
    result: dict[str, dict[str, str]] = {}
    for header, spec in template.mapping.items():
        column = header if header in columns else by_header.get(mappings.normalize_header(header))
        if column is not None and column not in result:
            result[column] = dict(spec)
    return result


def apply_template(*, template: ImportTemplate, job: ImportJob) -> ImportJob:
    """Map an import's columns as the template says, with its defaults and policy; checked by
    the engine as any mapping is (a file missing the columns a record needs is refused)."""
    if template.kind != job.kind:
        raise ValidationFailed(
            [
                (
                    "template",
                    _("this template is for %(kind)s") % {"kind": template.get_kind_display()},
                )
            ]
        )
    custom = _custom(job.workspace_id, job.kind)
    defaults = {
        field: value for field, value in template.defaults.items()
        if field in mappings.FIELDS[job.kind] or field.removeprefix("cf.") in custom
    }  # fmt: skip
    return engine.set_mapping(
        job=job, mapping=mapping_for(template, job.columns), policy=template.policy,
        defaults=defaults,
    )  # fmt: skip


def _check_unique(
    workspace_id: int, kind: str, name: str, *, errors: list, exclude: int | None = None
) -> None:
    clash = ImportTemplate.objects.for_workspace(workspace_id).filter(kind=kind, name=name)
    if exclude is not None:
        clash = clash.exclude(pk=exclude)
    if clash.exists():
        errors.append(("name", _("a template named %(name)r already exists") % {"name": name}))


def _save_unique(template: ImportTemplate) -> None:
    """Save, turning a name taken at the same moment by someone else into the same error."""
    try:
        with transaction.atomic():
            template.save()
    except IntegrityError:
        raise ValidationFailed(
            [("name", _("a template named %(name)r already exists") % {"name": template.name})]
        ) from None

"""Every write of the customer master. Keyword-only, typed, one transaction each."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, Max
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from guanxi.customers import normalize
from guanxi.customers.errors import ContactPointClash, DuplicateExternalId
from guanxi.customers.models import (
    Account,
    AccountContact,
    Address,
    Consent,
    Contact,
    ContactPoint,
    Customer,
    LifecycleStage,
)
from guanxi.platform.audit import record_audit
from guanxi.platform.context import acting_in, current_membership
from guanxi.platform.customfields import clean_custom_values
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import Membership, Team, User, Workspace
from guanxi.platform.services import check_slug, get_or_create_tags
from guanxi.platform.versioning import save_versioned
from guanxi.platform.visibility import can

# --- lifecycle stages -------------------------------------------------------------------------
STAGE_PRESETS: dict[str, list[tuple[str, Any]]] = {
    "default": [
        ("lead", _("Lead")),
        ("prospect", _("Prospect")),
        ("customer", _("Customer")),
        ("loyal", _("Loyal customer")),
        ("former", _("Former customer")),
    ],
    # Seed 003: the five kinds of real-estate customer.
    "real_estate": [
        ("prospect", _("Prospect")),
        ("pre-owner", _("Pre-owner")),
        ("run-in-owner", _("Run-in owner")),
        ("stable-owner", _("Stable owner")),
        ("long-time-owner", _("Long-time owner")),
    ],
}


def create_default_stages(*, workspace: Workspace, by: User | None = None) -> None:
    # stage names are the workspace's data from now on: written in its language
    with translation.override(workspace.language or settings.LANGUAGE_CODE):
        apply_stage_preset(workspace=workspace, preset="default", by=by)


@transaction.atomic
def apply_stage_preset(
    *, workspace: Workspace, preset: str, by: User | None = None
) -> list[LifecycleStage]:
    """Add a preset's stages (existing keys are kept); the first becomes the default when
    the workspace has none."""
    if preset not in STAGE_PRESETS:
        raise ValidationFailed([("preset", f"one of {', '.join(STAGE_PRESETS)}")])
    stages = LifecycleStage.objects.for_workspace(workspace)
    existing = {stage.key: stage for stage in stages}
    has_default = any(stage.is_default for stage in existing.values())
    start = (stages.aggregate(top=Max("position"))["top"] or 0) + 1 if existing else 0
    result = []
    for offset, (key, name) in enumerate(STAGE_PRESETS[preset]):
        stage = existing.get(key)
        if stage is None:
            stage = LifecycleStage(
                workspace=workspace,
                key=key,
                name=str(name),
                position=start + offset,
                is_default=not has_default and offset == 0,
                created_by=by,
                updated_by=by,
            )
            stage.save()
        result.append(stage)
    return result


def _stage(workspace: Workspace, key: str | None, *, field: str = "lifecycle_stage") -> Any:
    stages = LifecycleStage.objects.for_workspace(workspace)
    if key is None:
        return stages.filter(is_default=True).first()
    stage = stages.filter(key=key).first()
    if stage is None:
        known = ", ".join(stages.values_list("key", flat=True))
        raise ValidationFailed(
            [(field, _("unknown stage %(key)r; stages: %(known)s") % {"key": key, "known": known})]
        )
    return stage


@transaction.atomic
def create_stage(
    *, workspace: Workspace, key: str, name: str, by: User | None = None,
    position: int | None = None, is_default: bool = False,
) -> LifecycleStage:  # fmt: skip
    """A new lifecycle stage; placed last unless a position is given."""
    stages = LifecycleStage.objects.for_workspace(workspace)
    errors = check_slug("key", key)
    if not name.strip():
        errors.append(("name", _("must not be empty")))
    if not errors and stages.filter(key=key).exists():
        errors.append(("key", _("a stage with key %(key)r already exists") % {"key": key}))
    if errors:
        raise ValidationFailed(errors)
    if position is None:
        position = (stages.aggregate(top=Max("position"))["top"] or 0) + 1
    stage = LifecycleStage(workspace=workspace, key=key, name=name.strip(), position=position,
                           created_by=by, updated_by=by)  # fmt: skip
    stage.save()
    if is_default or not stages.filter(is_default=True).exists():
        _make_default(stage)
    record_audit(action="stage.created", actor=by, workspace=workspace, obj=stage)
    return stage


def _make_default(stage: LifecycleStage) -> None:
    LifecycleStage.objects.for_workspace(stage.workspace_id).exclude(pk=stage.pk).filter(
        is_default=True
    ).update(is_default=False)
    stage.is_default = True
    LifecycleStage.objects.filter(pk=stage.pk).update(is_default=True)


@transaction.atomic
def update_stage(
    *, stage: LifecycleStage, by: User, expected_version: int, name: str | None = None,
    position: int | None = None, is_default: bool | None = None,
) -> LifecycleStage:  # fmt: skip
    """Rename or move a stage, or make it the default for new customers (the key stays:
    the API and imports name stages by key)."""
    fields = []
    if name is not None:
        if not name.strip():
            raise ValidationFailed([("name", _("must not be empty"))])
        stage.name = name.strip()
        fields.append("name")
    if position is not None:
        stage.position = position
        fields.append("position")
    save_versioned(stage, expected_version=expected_version, by=by, fields=fields)
    if is_default:
        _make_default(stage)
    return stage


@transaction.atomic
def delete_stage(*, stage: LifecycleStage, by: User, replacement: LifecycleStage | None) -> int:
    """Remove a stage; the customers in it move to ``replacement`` (or to no stage).
    The default stage cannot go: choose another default first. Returns how many moved."""
    if stage.is_default:
        raise ValidationFailed(
            [("stage", _("This is the default stage for new customers; choose another first."))]
        )
    if replacement is not None and (
        replacement.pk == stage.pk or replacement.workspace_id != stage.workspace_id
    ):
        raise ValidationFailed([("replacement", _("Choose another stage of this workspace."))])
    moved = 0
    for model in (Account, Contact):
        moved += (
            model.objects.for_workspace(stage.workspace_id)
            .filter(lifecycle_stage=stage)
            .update(lifecycle_stage=replacement, version=F("version") + 1)
        )
    stage.deleted_at, stage.deleted_by = timezone.now(), by
    stage.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="stage.deleted", actor=by, workspace=stage.workspace, obj=stage,
                 data={"moved": moved, "to": replacement.key if replacement else None})  # fmt: skip
    return moved


# --- shared pieces ----------------------------------------------------------------------------
@dataclass
class ContactPointInput:
    kind: str
    value: str
    label: str = ""
    is_primary: bool = False
    is_shared: bool = False
    is_verified: bool = False
    consents: dict[str, str] = field(default_factory=dict)  # purpose -> granted/withdrawn
    consent_source: str = ""


@dataclass
class AddressInput:
    country: str
    label: str = "work"
    region: str = ""
    city: str = ""
    district: str = ""
    street: str = ""
    street2: str = ""
    postcode: str = ""
    is_primary: bool = False


def _membership(workspace: Workspace, user: User | None) -> Membership | None:
    if user is None:
        return None
    return Membership.objects.for_workspace(workspace).filter(user=user, is_active=True).first()


def _owner_and_team(
    workspace: Workspace, *, owner: User | None, team: Team | None, by: User | None
) -> tuple[User | None, Team | None]:
    owner = owner or by
    errors = []
    member = _membership(workspace, owner)
    if owner is not None and member is None:
        errors.append(("owner", f"{owner.username} is not an active member of this workspace"))
    if team is not None and team.workspace_id != workspace.pk:
        errors.append(("team", _("belongs to another workspace")))
    if errors:
        raise ValidationFailed(errors)
    if team is None and member is not None and member.team_id:
        team = member.team
    return owner, team


def _check_external_id(model: type[Customer], workspace: Workspace, external_id: str, pk=None):
    if not external_id:
        return
    # said twice so that PostgreSQL uses the partial unique index (external_id <> '')
    clash = model.objects.for_workspace(workspace).filter(external_id=external_id)
    clash = clash.exclude(external_id="")
    if pk is not None:
        clash = clash.exclude(pk=pk)
    existing = clash.values_list("public_id", flat=True).first()
    if existing:
        raise DuplicateExternalId(
            object_type=model.object_type, external_id=external_id, existing_id=existing
        )


def _refresh_contact_search(contact: Contact) -> None:
    companies = list(
        AccountContact.objects.for_workspace(contact.workspace_id)
        .filter(contact=contact, account__deleted_at__isnull=True)
        .values_list("account__name", flat=True)
    )
    names = [contact.display_name, f"{contact.family_name}{contact.given_name}"]
    contact.search_document = normalize.search_document(*names, personal=True)
    if companies:
        contact.search_document += " " + normalize.search_document(*companies)
    contact.sort_key = normalize.sort_key(family=contact.family_name, given=contact.given_name)[
        :300
    ]


def _refresh_account_search(account: Account) -> None:
    account.search_document = normalize.search_document(account.name, account.legal_name)
    account.sort_key = normalize.sort_key(family=account.name, given="")[:300]


def _set_name(contact: Contact, *, family_name: str, given_name: str, full_name: str) -> None:
    family_name, given_name = family_name.strip(), given_name.strip()
    if full_name.strip() and not (family_name or given_name):
        family_name, given_name = normalize.split_full_name(full_name.strip())
    if not (family_name or given_name):
        raise ValidationFailed([("family_name", _("a contact needs a family or a given name"))])
    contact.family_name, contact.given_name = family_name, given_name
    contact.display_name = normalize.display_name(family=family_name, given=given_name)


def _set_tags(customer: Customer, names: Iterable[str], *, by: User | None) -> None:
    """Replace a customer's tags; works outside a request too (CLI, jobs, imports)."""
    tags = get_or_create_tags(workspace=customer.workspace, names=list(names), by=by)
    with acting_in(customer.workspace, current_membership()):
        customer.tags.set(tags)


def _describe(customer: Customer) -> dict[str, str]:
    kind = "contact" if isinstance(customer, Contact) else "account"
    return {"type": kind, "id": customer.public_id, "display_name": str(customer)}


# --- contact points ---------------------------------------------------------------------------
def _normalize_point(
    workspace: Workspace, point: ContactPointInput, *, path: str
) -> tuple[str, str, str]:
    """(value, match key, reversed national digits) or a 422 naming the field."""
    if point.kind not in ContactPoint.Kind.values:
        raise ValidationFailed(
            [(f"{path}.kind", f"must be one of {', '.join(ContactPoint.Kind.values)}")]
        )
    if point.label and point.label not in ContactPoint.Label.values:
        raise ValidationFailed(
            [(f"{path}.label", f"must be one of {', '.join(ContactPoint.Label.values)}")]
        )
    try:
        value, extra = normalize.normalize_contact_value(
            kind=point.kind, value=point.value, region=workspace.region
        )
    except normalize.InvalidContactValue as exc:
        raise ValidationFailed([(f"{path}.value", exc.reason)]) from exc
    is_email = point.kind == ContactPoint.Kind.EMAIL
    match_key = normalize.email_match_key(value) if is_email else value
    digits = extra.get("national_digits", "")
    return value, match_key, digits[::-1]


def _check_clash(
    *, workspace: Workspace, kind: str, match_key: str, owner: Customer, shared: bool,
    path: str, by: User | None, exclude_pk: int | None = None,
) -> None:  # fmt: skip
    others = ContactPoint.objects.for_workspace(workspace).filter(kind=kind, match_key=match_key)
    if isinstance(owner, Contact):
        others = others.exclude(contact_id=owner.pk)
    else:
        others = others.exclude(account_id=owner.pk)
    if exclude_pk is not None:
        others = others.exclude(pk=exclude_pk)
    if shared:
        others = others.filter(is_shared=False)
    clash = others.select_related("contact", "account").first()
    if clash is None:
        return
    holder = clash.contact or clash.account
    visible = by is not None and holder.deleted_at is None and can(by, "view", holder)
    raise ContactPointClash(
        field=f"{path}.value", value=clash.value, existing=_describe(holder) if visible else None
    )


@transaction.atomic
def add_contact_point(
    *,
    customer: Customer,
    point: ContactPointInput,
    by: User | None,
    path: str = "contact_point",
) -> ContactPoint:
    """Add a normalized contact point; refuses one that another customer holds unless both
    are marked shared; records the consents given with it."""
    workspace = customer.workspace
    value, match_key, digits_reversed = _normalize_point(workspace, point, path=path)
    _check_clash(
        workspace=workspace, kind=point.kind, match_key=match_key, owner=customer,
        shared=point.is_shared, path=path, by=by,
    )  # fmt: skip
    siblings = ContactPoint.objects.for_workspace(workspace).filter(
        **{_owner_field(customer): customer}, kind=point.kind
    )
    same = siblings.filter(match_key=match_key).first()
    if same is not None:
        return same  # already there: adding it again changes nothing
    is_primary = point.is_primary or not siblings.exists()
    if is_primary:
        siblings.update(is_primary=False)
    contact_point = ContactPoint(
        workspace=workspace,
        **{_owner_field(customer): customer},
        kind=point.kind,
        label=point.label,
        value=value,
        match_key=match_key,
        raw_value=point.value.strip()[:320],
        digits_reversed=digits_reversed,
        is_primary=is_primary,
        is_shared=point.is_shared,
        is_verified=point.is_verified,
        created_by=by,
        updated_by=by,
    )
    contact_point.save()
    for purpose, status in point.consents.items():
        record_consent(
            contact_point=contact_point,
            purpose=purpose,
            status=status,
            source=point.consent_source or "entered with the contact point",
            by=by,
            path=f"{path}.consents.{purpose}",
        )
    return contact_point


def _owner_field(customer: Customer) -> str:
    return "contact" if isinstance(customer, Contact) else "account"


@transaction.atomic
def update_contact_point(
    *,
    contact_point: ContactPoint,
    by: User,
    expected_version: int,
    value: str | None = None,
    label: str | None = None,
    is_primary: bool | None = None,
    is_shared: bool | None = None,
    is_verified: bool | None = None,
) -> ContactPoint:
    customer = contact_point.contact or contact_point.account
    workspace = customer.workspace
    fields = []
    if label is not None:
        if label and label not in ContactPoint.Label.values:
            raise ValidationFailed(
                [("label", f"must be one of {', '.join(ContactPoint.Label.values)}")]
            )
        contact_point.label = label
        fields.append("label")
    if is_shared is not None:
        contact_point.is_shared = is_shared
        fields.append("is_shared")
    if is_verified is not None:
        contact_point.is_verified = is_verified
        fields.append("is_verified")
    if value is not None:
        point = ContactPointInput(kind=contact_point.kind, value=value)
        normalized, match_key, digits_reversed = _normalize_point(workspace, point, path="")
        if match_key != contact_point.match_key:
            contact_point.is_verified = False  # a new number is not the verified one
            fields.append("is_verified")
        contact_point.value, contact_point.match_key = normalized, match_key
        contact_point.raw_value, contact_point.digits_reversed = (
            value.strip()[:320],
            digits_reversed,
        )
        fields += ["value", "match_key", "raw_value", "digits_reversed"]
    if value is not None or is_shared is not None:
        _check_clash(
            workspace=workspace, kind=contact_point.kind, match_key=contact_point.match_key,
            owner=customer, shared=contact_point.is_shared, path="", by=by,
            exclude_pk=contact_point.pk,
        )  # fmt: skip
    if is_primary:
        ContactPoint.objects.for_workspace(workspace).filter(
            **{_owner_field(customer): customer}, kind=contact_point.kind
        ).exclude(pk=contact_point.pk).update(is_primary=False)
        contact_point.is_primary = True
        fields.append("is_primary")
    return save_versioned(
        contact_point, expected_version=expected_version, by=by, fields=set(fields)
    )


@transaction.atomic
def remove_contact_point(*, contact_point: ContactPoint, by: User) -> None:
    contact_point.deleted_at, contact_point.deleted_by = timezone.now(), by
    contact_point.save(update_fields=["deleted_at", "deleted_by"])


@transaction.atomic
def record_consent(
    *,
    contact_point: ContactPoint,
    purpose: str,
    status: str,
    source: str,
    by: User | None,
    recorded_at: datetime | None = None,
    path: str = "consent",
) -> Consent:
    errors = []
    if purpose not in Consent.Purpose.values:
        errors.append((path, f"purpose must be one of {', '.join(Consent.Purpose.values)}"))
    if status not in Consent.Status.values:
        errors.append((path, f"status must be one of {', '.join(Consent.Status.values)}"))
    if not source.strip():
        errors.append((path, _("say where the consent came from (source)")))
    if errors:
        raise ValidationFailed(errors)
    consent = Consent(
        workspace_id=contact_point.workspace_id,
        contact_point=contact_point,
        purpose=purpose,
        status=status,
        source=source.strip()[:200],
        recorded_at=recorded_at or timezone.now(),
        created_by=by,
        updated_by=by,
    )
    consent.save()
    # The current state is the newest consent by the time it was given, whatever order
    # the records arrive in (a back-dated import must not override a newer opt-out).
    locked = ContactPoint._base_manager.select_for_update().get(pk=contact_point.pk)
    state = dict(locked.consent_state)
    current = state.get(purpose)
    if current is None or datetime.fromisoformat(current["recorded_at"]) <= consent.recorded_at:
        state[purpose] = {
            "status": consent.status,
            "source": consent.source,
            "recorded_at": consent.recorded_at.isoformat(),
        }
        ContactPoint._base_manager.filter(pk=locked.pk).update(consent_state=state)
    contact_point.consent_state = state
    return consent


# --- addresses --------------------------------------------------------------------------------
def _clean_address(address: AddressInput, *, path: str) -> AddressInput:
    country = address.country.strip().upper()
    errors = []
    if len(country) != 2 or not country.isalpha():
        errors.append((f"{path}.country", _("must be a two-letter ISO 3166 code such as CN")))
    if address.label not in Address.Label.values:
        errors.append((f"{path}.label", f"must be one of {', '.join(Address.Label.values)}"))
    if not any((address.street, address.city, address.region, address.district)):
        errors.append((path, _("give at least a street, city, district or province/state")))
    if errors:
        raise ValidationFailed(errors)
    address.country = country
    return address


@transaction.atomic
def add_address(
    *, customer: Customer, address: AddressInput, by: User | None, path: str = "address"
) -> Address:
    address = _clean_address(address, path=path)
    siblings = Address.objects.for_workspace(customer.workspace_id).filter(
        **{_owner_field(customer): customer}
    )
    is_primary = address.is_primary or not siblings.exists()
    if is_primary:
        siblings.update(is_primary=False)
    row = Address(
        workspace_id=customer.workspace_id,
        **{_owner_field(customer): customer},
        label=address.label,
        country=address.country,
        region=address.region.strip(),
        city=address.city.strip(),
        district=address.district.strip(),
        street=address.street.strip(),
        street2=address.street2.strip(),
        postcode=address.postcode.strip(),
        is_primary=is_primary,
        created_by=by,
        updated_by=by,
    )
    row.save()
    return row


@transaction.atomic
def remove_address(*, address: Address, by: User) -> None:
    address.deleted_at, address.deleted_by = timezone.now(), by
    address.save(update_fields=["deleted_at", "deleted_by"])


# --- accounts ---------------------------------------------------------------------------------
ACCOUNT_FIELDS = (
    "name", "legal_name", "industry", "size", "website", "region", "source", "external_id",
    "value_tier",
)  # fmt: skip


def _clean_account_fields(changes: dict[str, Any]) -> list[tuple[str, str]]:
    errors = []
    if "name" in changes and not str(changes["name"] or "").strip():
        errors.append(("name", _("must not be empty")))
    size = changes.get("size")
    if size and size not in Account.Size.values:
        errors.append(("size", f"must be one of {', '.join(Account.Size.values)}"))
    region = changes.get("region")
    if region and (len(region) != 2 or not region.isalpha()):
        errors.append(("region", _("must be a two-letter ISO 3166 code")))
    website = changes.get("website")
    if website:
        try:
            changes["website"], _extra = normalize.normalize_contact_value(
                kind="web", value=website, region="CN"
            )
        except normalize.InvalidContactValue as exc:
            errors.append(("website", exc.reason))
    return errors


@transaction.atomic
def create_account(
    *,
    workspace: Workspace,
    by: User | None,
    name: str,
    owner: User | None = None,
    team: Team | None = None,
    lifecycle_stage: str | None = None,
    parent: Account | None = None,
    tags: Iterable[str] = (),
    custom_fields: dict[str, Any] | None = None,
    contact_points: Iterable[ContactPointInput] = (),
    addresses: Iterable[AddressInput] = (),
    **fields: Any,
) -> Account:
    unknown = set(fields) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValidationFailed([(name_, _("unknown field")) for name_ in sorted(unknown)])
    fields = {key: (value or "").strip() for key, value in fields.items()}
    cleaned = {"name": name, **fields}
    errors = _clean_account_fields(cleaned)  # normalizes in place (the website)
    fields = {key: cleaned[key] for key in fields}
    if parent is not None and parent.workspace_id != workspace.pk:
        errors.append(("parent", _("belongs to another workspace")))
    if errors:
        raise ValidationFailed(errors)
    owner, team = _owner_and_team(workspace, owner=owner, team=team, by=by)
    _check_external_id(Account, workspace, fields.get("external_id", ""))
    account = Account(
        workspace=workspace,
        name=name.strip(),
        owner=owner,
        team=team,
        parent=parent,
        lifecycle_stage=_stage(workspace, lifecycle_stage),
        custom_fields=clean_custom_values(
            workspace=workspace, applies_to=Account.object_type, values=custom_fields
        ),
        created_by=by,
        updated_by=by,
        **fields,
    )
    if "region" in fields:
        account.region = fields["region"].upper()
    _refresh_account_search(account)
    account.save()
    if tags:
        _set_tags(account, tags, by=by)
    for index, point in enumerate(contact_points):
        add_contact_point(customer=account, point=point, by=by, path=f"contact_points.{index}")
    for index, address in enumerate(addresses):
        add_address(customer=account, address=address, by=by, path=f"addresses.{index}")
    return account


def _announce_owner_change(customer: Customer, *, by: User) -> None:
    if not hasattr(customer, "_owner_changed_from"):
        return
    previous = customer.__dict__.pop("_owner_changed_from")
    from guanxi.customers.handover import notify_owner_change

    notify_owner_change(customers=[customer], from_user=previous, to_user=customer.owner, by=by)


def _apply_common_changes(customer: Customer, changes: dict[str, Any], *, by: User) -> list[str]:
    """Owner, team, stage, parent-independent fields shared by accounts and contacts."""
    workspace = customer.workspace
    fields = []
    if "lifecycle_stage" in changes:
        key = changes.pop("lifecycle_stage")
        customer.lifecycle_stage = _stage(workspace, key) if key else None
        fields.append("lifecycle_stage")
    if "custom_fields" in changes:
        customer.custom_fields = clean_custom_values(
            workspace=workspace,
            applies_to=customer.object_type,
            values=changes.pop("custom_fields"),
            existing=customer.custom_fields,
        )
        fields.append("custom_fields")
    if "owner" in changes or "team" in changes:
        owner = changes.pop("owner", customer.owner)
        team = changes.pop("team", customer.team)
        if owner != customer.owner and not can(by, "assign", customer):
            from guanxi.platform.errors import Forbidden

            raise Forbidden(action="assign", object_type=customer.object_type)
        previous = customer.owner
        customer.owner, customer.team = _owner_and_team(workspace, owner=owner, team=team, by=None)
        fields += ["owner", "team"]
        if customer.owner != previous and customer.owner is not None:
            # announced after the save (same transaction): the timeline notes the handover
            customer._owner_changed_from = previous
    if "external_id" in changes:
        external_id = (changes.pop("external_id") or "").strip()
        _check_external_id(type(customer), workspace, external_id, pk=customer.pk)
        customer.external_id = external_id
        fields.append("external_id")
    return fields


@transaction.atomic
def update_account(*, account: Account, by: User, expected_version: int, **changes: Any) -> Account:
    tags = changes.pop("tags", None)
    fields = _apply_common_changes(account, changes, by=by)
    if "parent" in changes:
        parent = changes.pop("parent")
        if parent is not None and (
            parent.workspace_id != account.workspace_id or parent == account
        ):
            raise ValidationFailed([("parent", _("must be another account of this workspace"))])
        account.parent = parent
        fields.append("parent")
    unknown = set(changes) - set(ACCOUNT_FIELDS)
    if unknown:
        raise ValidationFailed([(name, _("cannot be changed")) for name in sorted(unknown)])
    changes = {key: (value or "").strip() for key, value in changes.items()}
    errors = _clean_account_fields(changes)
    if errors:
        raise ValidationFailed(errors)
    for name, value in changes.items():
        setattr(account, name, value.upper() if name == "region" else value)
    fields += list(changes)
    _refresh_account_search(account)
    fields += ["search_document", "sort_key"]
    save_versioned(account, expected_version=expected_version, by=by, fields=set(fields))
    _announce_owner_change(account, by=by)
    if tags is not None:
        _set_tags(account, tags, by=by)
    return account


@transaction.atomic
def delete_customer(*, customer: Customer, by: User) -> None:
    """Soft delete: the record disappears from lists and search; its timeline stays."""
    customer.deleted_at, customer.deleted_by = timezone.now(), by
    customer.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action=f"{customer.object_type}.deleted", actor=by, obj=customer)


# --- contacts ---------------------------------------------------------------------------------
CONTACT_FIELDS = (
    "gender", "occupation", "interests", "preferred_language", "preferred_channel", "source",
    "external_id", "value_tier",
)  # fmt: skip


def _clean_contact_fields(changes: dict[str, Any]) -> list[tuple[str, str]]:
    errors = []
    gender = changes.get("gender")
    if gender and gender not in Contact.Gender.values:
        errors.append(("gender", f"must be one of {', '.join(Contact.Gender.values)}"))
    channel = changes.get("preferred_channel")
    if channel and channel not in ContactPoint.Kind.values:
        errors.append(
            ("preferred_channel", f"must be one of {', '.join(ContactPoint.Kind.values)}")
        )
    language = changes.get("preferred_language")
    if language and language not in ("en", "zh-hans", "zh-hant"):
        errors.append(("preferred_language", _("must be one of en, zh-hans, zh-hant")))
    return errors


def _clean_birthday(value: Any) -> date | None:
    if value in (None, ""):
        return None
    if isinstance(value, date):
        birthday = value
    else:
        try:
            birthday = date.fromisoformat(str(value))
        except ValueError:
            raise ValidationFailed([("birthday", _("must be a date as YYYY-MM-DD"))]) from None
    if birthday > timezone.localdate() or birthday.year < 1900:
        raise ValidationFailed([("birthday", _("must be between 1900 and today"))])
    return birthday


@transaction.atomic
def create_contact(
    *,
    workspace: Workspace,
    by: User | None,
    family_name: str = "",
    given_name: str = "",
    full_name: str = "",
    birthday: Any = None,
    owner: User | None = None,
    team: Team | None = None,
    lifecycle_stage: str | None = None,
    account: Account | None = None,
    title: str = "",
    tags: Iterable[str] = (),
    custom_fields: dict[str, Any] | None = None,
    contact_points: Iterable[ContactPointInput] = (),
    addresses: Iterable[AddressInput] = (),
    **fields: Any,
) -> Contact:
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationFailed([(name, _("unknown field")) for name in sorted(unknown)])
    fields = {key: (value or "").strip() for key, value in fields.items()}
    errors = _clean_contact_fields(fields)
    if account is not None and account.workspace_id != workspace.pk:
        errors.append(("account_id", _("belongs to another workspace")))
    if errors:
        raise ValidationFailed(errors)
    owner, team = _owner_and_team(workspace, owner=owner, team=team, by=by)
    _check_external_id(Contact, workspace, fields.get("external_id", ""))
    contact = Contact(
        workspace=workspace,
        owner=owner,
        team=team,
        birthday=_clean_birthday(birthday),
        lifecycle_stage=_stage(workspace, lifecycle_stage),
        custom_fields=clean_custom_values(
            workspace=workspace, applies_to=Contact.object_type, values=custom_fields
        ),
        created_by=by,
        updated_by=by,
        **fields,
    )
    _set_name(contact, family_name=family_name, given_name=given_name, full_name=full_name)
    contact.save()
    if account is not None:
        link_contact(contact=contact, account=account, title=title, is_primary=True, by=by)
    if tags:
        _set_tags(contact, tags, by=by)
    for index, point in enumerate(contact_points):
        add_contact_point(customer=contact, point=point, by=by, path=f"contact_points.{index}")
    for index, address in enumerate(addresses):
        add_address(customer=contact, address=address, by=by, path=f"addresses.{index}")
    _refresh_contact_search(contact)
    contact.save(update_fields=["search_document", "sort_key"])
    return contact


@transaction.atomic
def update_contact(*, contact: Contact, by: User, expected_version: int, **changes: Any) -> Contact:
    tags = changes.pop("tags", None)
    fields = _apply_common_changes(contact, changes, by=by)
    if "family_name" in changes or "given_name" in changes:
        _set_name(
            contact,
            family_name=changes.pop("family_name", contact.family_name) or "",
            given_name=changes.pop("given_name", contact.given_name) or "",
            full_name="",
        )
        fields += ["family_name", "given_name", "display_name"]
    if "birthday" in changes:
        contact.birthday = _clean_birthday(changes.pop("birthday"))
        fields.append("birthday")
    unknown = set(changes) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationFailed([(name, _("cannot be changed")) for name in sorted(unknown)])
    changes = {key: (value or "").strip() for key, value in changes.items()}
    errors = _clean_contact_fields(changes)
    if errors:
        raise ValidationFailed(errors)
    for name, value in changes.items():
        setattr(contact, name, value)
    fields += list(changes)
    _refresh_contact_search(contact)
    fields += ["search_document", "sort_key"]
    save_versioned(contact, expected_version=expected_version, by=by, fields=set(fields))
    _announce_owner_change(contact, by=by)
    if tags is not None:
        _set_tags(contact, tags, by=by)
    return contact


@transaction.atomic
def link_contact(
    *,
    contact: Contact,
    account: Account,
    by: User | None,
    title: str = "",
    role: str = "",
    is_primary: bool = False,
    started_on: date | None = None,
    ended_on: date | None = None,
) -> AccountContact:
    """Record that a person works at (or with) an organization; updates the person's search
    terms with the company name."""
    if contact.workspace_id != account.workspace_id:
        raise ValidationFailed([("account_id", _("belongs to another workspace"))])
    if started_on and ended_on and ended_on < started_on:
        raise ValidationFailed([("ended_on", _("must not be before started_on"))])
    links = AccountContact.objects.for_workspace(contact.workspace_id)
    link = links.filter(contact=contact, account=account).first()
    if is_primary:
        links.filter(contact=contact).update(is_primary=False)
    if link is None:
        link = AccountContact(
            workspace_id=contact.workspace_id,
            contact=contact,
            account=account,
            created_by=by,
        )
    link.title, link.role, link.is_primary = title.strip(), role.strip(), is_primary
    link.started_on, link.ended_on, link.updated_by = started_on, ended_on, by
    link.save()
    _refresh_contact_search(contact)
    contact.save(update_fields=["search_document", "sort_key"])
    return link


@transaction.atomic
def unlink_contact(*, link: AccountContact, by: User) -> None:
    link.deleted_at, link.deleted_by = timezone.now(), by
    link.save(update_fields=["deleted_at", "deleted_by"])
    _refresh_contact_search(link.contact)
    link.contact.save(update_fields=["search_document", "sort_key"])

"""Customer master endpoints: accounts, contacts, contact points and consent, addresses,
relationships, custom fields, lifecycle stages."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse
from ninja import Field, Query, Router, Schema
from ninja.responses import Status

from guanxi.customers import columns, exports, identity, merging, search, selectors, services
from guanxi.customers.errors import PossibleDuplicate, PossibleDuplicateAccount
from guanxi.customers.models import (
    Account,
    AccountContact,
    Address,
    Contact,
    ContactPoint,
    Customer,
    LifecycleStage,
    Merge,
)
from guanxi.customers.panels import render_panels
from guanxi.platform.apiframework import CursorPage, Problem, keyset_page, with_etag
from guanxi.platform.errors import Forbidden, NotFound, ValidationFailed
from guanxi.platform.models import CustomField, Membership, Team, User
from guanxi.platform.services import create_custom_field, delete_custom_field, update_custom_field
from guanxi.platform.versioning import expected_version
from guanxi.platform.visibility import can, get_visible_or_404, require_action, require_add

router = Router(tags=["customers"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
WRITE_ERRORS = {**ERRORS, 428: Problem}


# --- schemas ----------------------------------------------------------------------------------
class ConsentOut(Schema):
    status: str
    source: str
    recorded_at: datetime


class ContactPointIn(Schema):
    kind: str = Field(description="phone, email, wechat, qq, whatsapp, line, fax or web")
    value: str = Field(min_length=1, max_length=320)
    label: str = Field("", description="work, mobile, home or other")
    is_primary: bool = False
    is_shared: bool = Field(False, description="May also belong to other customers (household).")
    is_verified: bool = False
    consents: dict[str, Literal["granted", "withdrawn"]] = Field(
        default_factory=dict, description="purpose (marketing/service/transactional) -> status"
    )
    consent_source: str = ""


class ContactPointOut(Schema):
    id: str
    kind: str
    label: str
    value: str
    raw_value: str
    is_primary: bool
    is_verified: bool
    is_shared: bool
    consents: dict[str, ConsentOut]
    version: int


class ContactPointUpdate(Schema):
    value: str | None = None
    label: str | None = None
    is_primary: bool | None = None
    is_shared: bool | None = None
    is_verified: bool | None = None
    version: int | None = None


class ConsentIn(Schema):
    purpose: Literal["marketing", "service", "transactional"]
    status: Literal["granted", "withdrawn"]
    source: str = Field(min_length=1, max_length=200)
    recorded_at: datetime | None = None


class AddressIn(Schema):
    country: str = Field(description="ISO 3166 code, e.g. CN, HK, TW, US")
    label: str = "work"
    region: str = Field("", description="Province (省) or state")
    city: str = ""
    district: str = Field("", description="District or county (区/县)")
    street: str = ""
    street2: str = ""
    postcode: str = ""
    is_primary: bool = False


class AddressOut(AddressIn):
    id: str
    formatted: str
    version: int


class AccountLinkOut(Schema):
    account_id: str
    name: str
    title: str
    role: str
    is_primary: bool


class CustomerCommon(Schema):
    owner: str | None = Field(None, description="Username of the owner; default: you.")
    team: str | None = Field(None, description="Team id; default: the owner's team.")
    lifecycle_stage: str | None = Field(None, description="Stage key; default stage if omitted.")
    source: str = ""
    external_id: str = Field("", max_length=100, description="Id in the source system.")
    tags: list[str] = Field(default_factory=list)
    custom_fields: dict[str, Any] = Field(default_factory=dict)
    contact_points: list[ContactPointIn] = Field(default_factory=list)
    addresses: list[AddressIn] = Field(default_factory=list)


class AccountIn(CustomerCommon):
    name: str = Field(min_length=1, max_length=300)
    legal_name: str = ""
    industry: str = ""
    size: str = ""
    website: str = ""
    region: str = ""
    parent_id: str | None = None


class AccountUpdate(Schema):
    name: str | None = None
    legal_name: str | None = None
    industry: str | None = None
    size: str | None = None
    website: str | None = None
    region: str | None = None
    parent_id: str | None = None
    owner: str | None = None
    team: str | None = None
    lifecycle_stage: str | None = None
    source: str | None = None
    external_id: str | None = None
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None
    version: int | None = None


class CustomerOut(Schema):
    id: str
    owner: str | None
    team: str | None
    lifecycle_stage: str | None
    value_tier: str
    source: str
    external_id: str
    tags: list[str]
    custom_fields: dict[str, Any]
    contact_points: list[ContactPointOut]
    addresses: list[AddressOut]
    created_at: datetime
    updated_at: datetime
    version: int


class AccountOut(CustomerOut):
    name: str
    legal_name: str
    industry: str
    size: str
    website: str
    region: str
    parent_id: str | None


class ContactIn(CustomerCommon):
    family_name: str = Field("", max_length=150)
    given_name: str = Field("", max_length=150)
    full_name: str = Field("", description="Split into family/given names when those are empty.")
    gender: str = ""
    birthday: date | None = None
    occupation: str = ""
    interests: str = ""
    preferred_language: str = ""
    preferred_channel: str = ""
    account_id: str | None = Field(None, description="Account the person works at.")
    title: str = Field("", description="Job title at that account.")


class ContactUpdate(Schema):
    family_name: str | None = None
    given_name: str | None = None
    gender: str | None = None
    birthday: date | None = None
    occupation: str | None = None
    interests: str | None = None
    preferred_language: str | None = None
    preferred_channel: str | None = None
    owner: str | None = None
    team: str | None = None
    lifecycle_stage: str | None = None
    source: str | None = None
    external_id: str | None = None
    tags: list[str] | None = None
    custom_fields: dict[str, Any] | None = None
    version: int | None = None


class ContactOut(CustomerOut):
    family_name: str
    given_name: str
    display_name: str
    gender: str
    birthday: date | None
    occupation: str
    interests: str
    preferred_language: str
    preferred_channel: str
    accounts: list[AccountLinkOut]


class LinkIn(Schema):
    contact_id: str
    title: str = ""
    role: str = ""
    is_primary: bool = False
    started_on: date | None = None
    ended_on: date | None = None


# --- serialization ----------------------------------------------------------------------------
def _point_out(point: ContactPoint) -> dict[str, Any]:
    return {
        "id": point.public_id,
        "kind": point.kind,
        "label": point.label,
        "value": point.value,
        "raw_value": point.raw_value,
        "is_primary": point.is_primary,
        "is_verified": point.is_verified,
        "is_shared": point.is_shared,
        "consents": point.consent_state,
        "version": point.version,
    }


def _address_out(address: Address) -> dict[str, Any]:
    fields = ("country", "label", "region", "city", "district", "street", "street2", "postcode")
    return {name: getattr(address, name) for name in fields} | {
        "id": address.public_id,
        "is_primary": address.is_primary,
        "formatted": str(address),
        "version": address.version,
    }


def _common_out(customer: Customer) -> dict[str, Any]:
    return {
        "id": customer.public_id,
        "owner": customer.owner.username if customer.owner_id else None,
        "team": customer.team.public_id if customer.team_id else None,
        "lifecycle_stage": customer.lifecycle_stage.key if customer.lifecycle_stage_id else None,
        "value_tier": customer.value_tier,
        "source": customer.source,
        "external_id": customer.external_id,
        "tags": sorted(tag.name for tag in selectors.related(customer, "tags")),
        "custom_fields": customer.custom_fields,
        "contact_points": [_point_out(p) for p in selectors.related(customer, "contact_points")],
        "addresses": [_address_out(a) for a in selectors.related(customer, "addresses")],
        "created_at": customer.created_at,
        "updated_at": customer.updated_at,
        "version": customer.version,
    }


def _account_out(account: Account) -> dict[str, Any]:
    fields = ("name", "legal_name", "industry", "size", "website", "region")
    return (
        _common_out(account)
        | {name: getattr(account, name) for name in fields}
        | {"parent_id": account.parent.public_id if account.parent_id else None}
    )


def _contact_out(contact: Contact) -> dict[str, Any]:
    fields = (
        "family_name", "given_name", "display_name", "gender", "birthday", "occupation",
        "interests", "preferred_language", "preferred_channel",
    )  # fmt: skip
    links = [
        {
            "account_id": link.account.public_id,
            "name": link.account.name,
            "title": link.title,
            "role": link.role,
            "is_primary": link.is_primary,
        }
        for link in selectors.related(contact, "memberships")
    ]
    return (
        _common_out(contact)
        | {name: getattr(contact, name) for name in fields}
        | {"accounts": links}
    )


# --- helpers ----------------------------------------------------------------------------------
def _owner(membership: Membership, username: str | None) -> User | None:
    if username is None:
        return None
    member = (
        Membership.objects.for_workspace(membership.workspace_id)
        .select_related("user")
        .filter(user__username=username, is_active=True)
        .first()
    )
    if member is None:
        raise ValidationFailed([("owner", f"no active member {username!r} in this workspace")])
    return member.user


def _team(membership: Membership, public_id: str | None) -> Team | None:
    if public_id is None:
        return None
    team = Team.objects.for_workspace(membership.workspace_id).filter(public_id=public_id).first()
    if team is None:
        raise ValidationFailed([("team", f"no team {public_id!r} in this workspace")])
    return team


def _related_account(membership: Membership, public_id: str | None, field: str) -> Account | None:
    """An account the caller may see, for linking; invisible ones are "not found"."""
    if public_id is None:
        return None
    account = Account.objects.visible_to(membership, "view").filter(public_id=public_id).first()
    if account is None:
        raise ValidationFailed([(field, f"no account {public_id!r}")])
    return account


def _point_inputs(points: list[ContactPointIn]) -> list[services.ContactPointInput]:
    return [services.ContactPointInput(**point.dict()) for point in points]


def _address_inputs(addresses: list[AddressIn]) -> list[services.AddressInput]:
    return [services.AddressInput(**address.dict()) for address in addresses]


def _version(request: HttpRequest, body_version: int | None) -> int:
    return expected_version(if_match=request.headers.get("If-Match"), body_version=body_version)


def _custom_filters(request: HttpRequest) -> dict[str, str]:
    return {
        key[3:]: value for key, value in request.GET.items() if key.startswith("cf.") and key[3:]
    }


class ListFilters(Schema):
    owner: str | None = Field(None, description="Owner's username")
    team: str | None = Field(None, description="Team id")
    lifecycle_stage: str | None = None
    value_tier: str | None = None
    tag: str | None = None
    external_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    sort: str | None = Field(
        None, description="name, -name, created_at, -created_at, updated_at, -updated_at"
    )
    cursor: str | None = None
    limit: int | None = None


def _list(request: HttpRequest, queryset: Any, filters: ListFilters, render: Any) -> dict:
    queryset = selectors.filter_customers(
        queryset,
        custom=_custom_filters(request),
        **filters.dict(exclude={"sort", "cursor", "limit"}),
    )
    rows, next_cursor = keyset_page(
        queryset,
        ordering=selectors.ordering_for(filters.sort),
        cursor=filters.cursor,
        limit=filters.limit,
    )
    return {"items": [render(row) for row in rows], "next_cursor": next_cursor}


class ExportFilters(ListFilters):
    format: str = Field("csv", description="csv, xlsx, or vcf (contacts)")
    columns: str | None = Field(
        None,
        description="Comma-separated column keys, e.g. company,phone,email,owner,stage,tags,"
        "cf.<custom field key>; the list's defaults when omitted.",
    )


def _export(request: HttpRequest, model: type, kind: str, filters: ExportFilters) -> HttpResponse:
    """The rows the member may export, filtered like the list, streamed as a file."""
    membership: Membership = request.auth
    if membership.scope_for(model.object_type, "export") == "none":
        raise Forbidden(action="export", object_type=model.object_type)
    exports.check_format(filters.format, model)
    definitions = list(
        CustomField.objects.for_workspace(membership.workspace_id)
        .filter(applies_to=model.object_type)
        .order_by("position", "id")
    )
    available = columns.available_columns(kind, definitions)
    keys = [key for key in (filters.columns or "").split(",") if key]
    unknown = [key for key in keys if key not in available]
    if unknown:
        raise ValidationFailed([("columns", f"unknown: {', '.join(unknown)}; known: "
                                            f"{', '.join(available)}")])  # fmt: skip
    queryset = selectors.filter_customers(
        exports.exportable(model, membership),
        custom=_custom_filters(request),
        **filters.dict(exclude={"sort", "cursor", "limit", "format", "columns"}),
    )
    return exports.response(
        membership=membership, model=model, kind=kind, queryset=queryset, fmt=filters.format,
        available=available, keys=keys or columns.DEFAULT_COLUMNS[kind],
        query=request.GET.urlencode(),
    )  # fmt: skip


@router.get("/accounts/export", response={200: None, **ERRORS}, summary="Export accounts")
def export_accounts(request: HttpRequest, filters: ExportFilters = Query(...)) -> HttpResponse:  # noqa: B008
    """CSV (UTF-8 with BOM) or XLSX of the accounts you may export, filtered like the list."""
    return _export(request, Account, "accounts", filters)


@router.get("/contacts/export", response={200: None, **ERRORS}, summary="Export contacts")
def export_contacts(request: HttpRequest, filters: ExportFilters = Query(...)) -> HttpResponse:  # noqa: B008
    """CSV, XLSX or vCard of the contacts you may export, filtered like the list; streamed."""
    return _export(request, Contact, "contacts", filters)


# --- accounts ---------------------------------------------------------------------------------
@router.get("/accounts", response={200: CursorPage[AccountOut], **ERRORS}, summary="List accounts")
def list_accounts(request: HttpRequest, filters: ListFilters = Query(...)) -> dict:  # noqa: B008
    return _list(request, selectors.accounts(user=request.auth), filters, _account_out)


def _account(request: HttpRequest, account_id: str, action: str = "view") -> Account:
    return get_visible_or_404(
        Account,
        user=request.auth,
        public_id=account_id,
        action=action,
        queryset=selectors.accounts(user=request.auth),
    )


class CandidateOut(Schema):
    id: str
    display_name: str
    score: float = Field(description="0–1; 0.93 and above share an identifier")
    reasons: list[str]


class AccountMatchIn(Schema):
    name: str = Field("", description="Name or legal name, in any script")
    phone: str = ""
    email: str = ""
    website: str = Field("", description="Compared by domain (www. aside)")
    city: str = ""
    limit: int = Field(10, ge=1, le=50)


class AccountMatchOut(Schema):
    candidates: list[CandidateOut]
    hidden: int = Field(description="Matching accounts you may not see")


@router.post(
    "/accounts/match", response={200: AccountMatchOut, **ERRORS}, summary="Which account is it?"
)
def match_accounts(request: HttpRequest, payload: AccountMatchIn) -> dict:
    """Existing accounts that may be the organization described: same phone, e-mail or web
    domain, or the same name or legal name in any script (上海远景贸易 = 上海遠景貿易 =
    Shanghai Yuanjing Maoyi), confirmed by the city. Each with a score and the reasons."""
    candidates, hidden = identity.match_accounts(user=request.auth, **payload.dict())
    return {"candidates": [identity.describe(c) for c in candidates], "hidden": hidden}


class MergedOnEntry(Schema):
    into: str = Field(description="Id of the existing record the payload was merged into")
    score: float
    reasons: list[str]
    filled: list[str] = Field(
        description="Fields filled from the payload (they were empty), and contact_points, "
        "addresses, accounts, tags or custom_fields when some were added"
    )


class AccountMergedOut(AccountOut):
    merged: MergedOnEntry


OnDuplicate = Literal["create", "error", "merge"]


def _merged(entry: Any, filled: list[str]) -> dict[str, Any]:
    return {"into": entry.customer.public_id, "score": entry.score, "reasons": entry.reasons,
            "filled": filled}  # fmt: skip


def _merge_target(membership: Membership, candidates: list[Any]) -> Any:
    """The candidate a new record is merged into, or None to create it. One the member may
    see but not change refuses the creation as the error policy would."""
    best = candidates[0] if candidates else None
    if best is None or not best.identifier or best.score < identity.IDENTIFIER_LEVEL:
        return None
    if not can(membership, "change", best.customer):
        strong = [identity.describe(c) for c in candidates if c.score >= DUPLICATE_THRESHOLD]
        error = (
            PossibleDuplicate if isinstance(best.customer, Contact) else PossibleDuplicateAccount
        )
        raise error(strong)
    return best


@router.post(
    "/accounts",
    response={200: AccountMergedOut, 201: AccountOut, **WRITE_ERRORS},
    summary="Create an account",
)
def create_account(
    request: HttpRequest, payload: AccountIn, on_duplicate: OnDuplicate = "create"
) -> Status:
    """With `on_duplicate=error`, an account that looks like an existing one (score 0.8 or
    more, see /accounts/match) is not created: 409 `possible_duplicate` lists the candidates.
    With `on_duplicate=merge`, when the best candidate shares an identifier (phone, e-mail,
    web domain) and you may change it, nothing is created: its empty fields are filled from
    the payload, the contact points, addresses and tags it lacks are added, and the answer
    is 200 with that account and `merged`; otherwise the account is created (201)."""
    membership: Membership = request.auth
    require_add(membership, Account.object_type)
    data = payload.dict(exclude={"owner", "team", "parent_id", "contact_points", "addresses"})
    parent = _related_account(membership, payload.parent_id, "parent_id")
    points = _point_inputs(payload.contact_points)
    addresses = _address_inputs(payload.addresses)
    if on_duplicate != "create":
        first = {p.kind: p.value for p in reversed(payload.contact_points)}
        web = next((p.value for p in payload.contact_points if p.kind == "web"), "")
        candidates, _hidden = identity.match_accounts(
            user=membership, name=payload.legal_name or payload.name, phone=first.get("phone", ""),
            email=first.get("email", ""), website=payload.website or web,
            city=next((a.city for a in payload.addresses if a.city), ""),
        )  # fmt: skip
        if payload.legal_name and payload.name:
            more, _hidden = identity.match_accounts(user=membership, name=payload.name)
            seen = {c.account.pk for c in candidates}
            candidates = sorted(candidates + [c for c in more if c.account.pk not in seen],
                                key=lambda c: -c.score)  # fmt: skip
        if on_duplicate == "merge" and (best := _merge_target(membership, candidates)):
            account, filled = identity.fill_from_duplicate(
                customer=best.account, by=request.user,
                data=data, tags=payload.tags, custom_fields=payload.custom_fields,
                lifecycle_stage=payload.lifecycle_stage, contact_points=points,
                addresses=addresses, parent=parent,
            )  # fmt: skip
            body = _account_out(selectors.reloaded(account)) | {"merged": _merged(best, filled)}
            return Status(200, body)
        strong = [identity.describe(c) for c in candidates if c.score >= DUPLICATE_THRESHOLD]
        if on_duplicate == "error" and strong:
            raise PossibleDuplicateAccount(strong)
    account = services.create_account(
        workspace=membership.workspace,
        by=request.user,
        owner=_owner(membership, payload.owner),
        team=_team(membership, payload.team),
        parent=parent,
        contact_points=points,
        addresses=addresses,
        **data,
    )
    return Status(201, _account_out(selectors.reloaded(account)))


@router.get("/accounts/{account_id}", response={200: AccountOut, **ERRORS}, summary="One account")
def get_account(request: HttpRequest, account_id: str, response: HttpResponse) -> dict:
    account = _account(request, account_id)
    with_etag(response, account)
    return _account_out(account)


@router.patch("/accounts/{account_id}", response={200: AccountOut, **WRITE_ERRORS})
def update_account(
    request: HttpRequest, account_id: str, payload: AccountUpdate, response: HttpResponse
) -> dict:
    membership: Membership = request.auth
    account = _account(request, account_id, action="change")
    changes = payload.dict(exclude_unset=True, exclude={"version", "owner", "team", "parent_id"})
    given = payload.model_fields_set
    if "owner" in given:
        changes["owner"] = _owner(membership, payload.owner)
    if "team" in given:
        changes["team"] = _team(membership, payload.team)
    if "parent_id" in given:
        changes["parent"] = _related_account(membership, payload.parent_id, "parent_id")
    account = services.update_account(
        account=account,
        by=request.user,
        expected_version=_version(request, payload.version),
        **changes,
    )
    account = selectors.reloaded(account)
    with_etag(response, account)
    return _account_out(account)


@router.delete("/accounts/{account_id}", response={204: None, **ERRORS}, summary="Delete")
def delete_account(request: HttpRequest, account_id: str) -> Status:
    account = _account(request, account_id, action="delete")
    services.delete_customer(customer=account, by=request.user)
    return Status(204, None)


@router.get("/accounts/{account_id}/contacts", response={200: CursorPage[ContactOut], **ERRORS})
def list_account_contacts(
    request: HttpRequest,
    account_id: str,
    filters: ListFilters = Query(...),  # noqa: B008
) -> dict:
    account = _account(request, account_id)
    queryset = selectors.contacts(user=request.auth).filter(
        memberships__account=account, memberships__deleted_at__isnull=True
    )
    return _list(request, queryset, filters, _contact_out)


@router.post("/accounts/{account_id}/contacts", response={200: ContactOut, **WRITE_ERRORS})
def link_contact(request: HttpRequest, account_id: str, payload: LinkIn) -> dict:
    account = _account(request, account_id)
    contact = _contact(request, payload.contact_id, action="change")
    services.link_contact(
        contact=contact, account=account, by=request.user, **payload.dict(exclude={"contact_id"})
    )
    return _contact_out(selectors.reloaded(contact))


@router.delete("/accounts/{account_id}/contacts/{contact_id}", response={204: None, **ERRORS})
def unlink_contact(request: HttpRequest, account_id: str, contact_id: str) -> Status:
    account = _account(request, account_id)
    contact = _contact(request, contact_id, action="change")
    link = (
        AccountContact.objects.for_workspace(account.workspace_id)
        .filter(account=account, contact=contact)
        .select_related("contact")
        .first()
    )
    if link is None:
        raise NotFound("relationship")
    services.unlink_contact(link=link, by=request.user)
    return Status(204, None)


# --- contacts ---------------------------------------------------------------------------------
@router.get("/contacts", response={200: CursorPage[ContactOut], **ERRORS}, summary="List contacts")
def list_contacts(request: HttpRequest, filters: ListFilters = Query(...)) -> dict:  # noqa: B008
    return _list(request, selectors.contacts(user=request.auth), filters, _contact_out)


def _contact(request: HttpRequest, contact_id: str, action: str = "view") -> Contact:
    return get_visible_or_404(
        Contact,
        user=request.auth,
        public_id=contact_id,
        action=action,
        queryset=selectors.contacts(user=request.auth),
    )


class MatchIn(Schema):
    family_name: str = ""
    given_name: str = ""
    full_name: str = ""
    phone: str = ""
    email: str = ""
    wechat: str = ""
    company: str = ""
    city: str = ""
    birthday: date | None = None
    limit: int = Field(10, ge=1, le=50)


class MatchOut(Schema):
    candidates: list[CandidateOut]
    hidden: int = Field(description="Matching contacts you may not see")


@router.post("/contacts/match", response={200: MatchOut, **ERRORS}, summary="Who might this be?")
def match_contacts(request: HttpRequest, payload: MatchIn) -> dict:
    """Existing contacts that may be the person described: same phone, e-mail or WeChat ID,
    or a similar name (any script or order) with the same company, city or birthday. Each
    with a score and the reasons."""
    candidates, hidden = identity.match_contacts(user=request.auth, **payload.dict())
    return {"candidates": [identity.describe(c) for c in candidates], "hidden": hidden}


class MergeIn(Schema):
    survivor_id: str
    merged_ids: list[str] = Field(min_length=1)
    fields: dict[str, str] = Field(
        default_factory=dict,
        description="Field -> id of the contact whose value to keep (default: the survivor's, "
        "or the most recently updated merged contact's where the survivor has none).",
    )


class MergeOut(Schema):
    id: str
    survivor_id: str
    merged_ids: list[str]
    fields: dict[str, str]
    created_at: datetime
    undone_at: datetime | None


def _merge_out(merge: Merge) -> dict[str, Any]:
    ids = dict(Contact._base_manager.filter(pk__in=[merge.survivor_id, *merge.merged_ids])
               .values_list("pk", "public_id"))  # fmt: skip
    return {"id": merge.public_id, "survivor_id": ids[merge.survivor_id],
            "merged_ids": [ids[pk] for pk in merge.merged_ids], "fields": merge.fields,
            "created_at": merge.created_at, "undone_at": merge.undone_at}  # fmt: skip


@router.post("/contacts/merge", response={201: MergeOut, **WRITE_ERRORS}, summary="Merge contacts")
def merge_contacts(request: HttpRequest, payload: MergeIn) -> Status:
    """Merge duplicates into the survivor: its fields as chosen, and everything that hangs
    on the others (contact points, addresses, accounts, tags, timeline, activities) moved
    onto it. Needs "change" on every contact. Undo with POST /merges/{id}/undo."""
    survivor = _contact(request, payload.survivor_id, action="change")
    merged = [_contact(request, pk, action="change") for pk in payload.merged_ids]
    merge = merging.merge_contacts(
        membership=request.auth, survivor=survivor, merged=merged, fields=payload.fields
    )
    return Status(201, _merge_out(merge))


@router.post("/merges/{merge_id}/undo", response={200: MergeOut, **WRITE_ERRORS}, summary="Unmerge")
def undo_merge(request: HttpRequest, merge_id: str) -> dict:
    """The merged contacts come back with what was theirs; the survivor's fields as before."""
    merge = get_visible_or_404(Merge, user=request.auth, public_id=merge_id, action="change")
    merging.unmerge(membership=request.auth, merge=merge)
    return _merge_out(merge)


DUPLICATE_THRESHOLD = 0.8


class ContactMergedOut(ContactOut):
    merged: MergedOnEntry


@router.post(
    "/contacts",
    response={200: ContactMergedOut, 201: ContactOut, **WRITE_ERRORS},
    summary="Create a contact",
)
def create_contact(
    request: HttpRequest, payload: ContactIn, on_duplicate: OnDuplicate = "create"
) -> Status:
    """With `on_duplicate=error`, a contact that looks like an existing one (score 0.8 or
    more, see /contacts/match) is not created: 409 `possible_duplicate` lists the candidates.
    With `on_duplicate=merge`, when the best candidate shares an identifier (phone, e-mail,
    WeChat ID) and you may change it, nothing is created: its empty fields are filled from
    the payload, the contact points, addresses, tags and account link it lacks are added,
    and the answer is 200 with that contact and `merged`; otherwise it is created (201)."""
    membership: Membership = request.auth
    require_add(membership, Contact.object_type)
    account = _related_account(membership, payload.account_id, "account_id")
    points = _point_inputs(payload.contact_points)
    addresses = _address_inputs(payload.addresses)
    data = payload.dict(exclude={"owner", "team", "account_id", "contact_points", "addresses"})
    if on_duplicate != "create":
        first = {p.kind: p.value for p in reversed(payload.contact_points)}
        candidates, _hidden = identity.match_contacts(
            user=membership, family_name=payload.family_name or "",
            given_name=payload.given_name or "", full_name=payload.full_name or "",
            phone=first.get("phone", ""), email=first.get("email", ""),
            wechat=first.get("wechat", ""), birthday=payload.birthday,
            city=next((a.city for a in payload.addresses if a.city), ""),
            account_ids=[account.pk] if account else None,
            company=account.name if account else "",
        )  # fmt: skip
        if on_duplicate == "merge" and (best := _merge_target(membership, candidates)):
            contact, filled = identity.fill_from_duplicate(
                customer=best.contact, by=request.user,
                data=data, tags=payload.tags, custom_fields=payload.custom_fields,
                lifecycle_stage=payload.lifecycle_stage, contact_points=points,
                addresses=addresses, account=account, title=payload.title,
            )  # fmt: skip
            body = _contact_out(selectors.reloaded(contact)) | {"merged": _merged(best, filled)}
            return Status(200, body)
        strong = [identity.describe(c) for c in candidates if c.score >= DUPLICATE_THRESHOLD]
        if on_duplicate == "error" and strong:
            raise PossibleDuplicate(strong)
    contact = services.create_contact(
        workspace=membership.workspace,
        by=request.user,
        owner=_owner(membership, payload.owner),
        team=_team(membership, payload.team),
        account=account,
        contact_points=points,
        addresses=addresses,
        **data,
    )
    return Status(201, _contact_out(selectors.reloaded(contact)))


@router.get("/contacts/{contact_id}", response={200: ContactOut, **ERRORS}, summary="One contact")
def get_contact(request: HttpRequest, contact_id: str, response: HttpResponse) -> dict:
    contact = _contact(request, contact_id)
    with_etag(response, contact)
    return _contact_out(contact)


@router.patch("/contacts/{contact_id}", response={200: ContactOut, **WRITE_ERRORS})
def update_contact(
    request: HttpRequest, contact_id: str, payload: ContactUpdate, response: HttpResponse
) -> dict:
    membership: Membership = request.auth
    contact = _contact(request, contact_id, action="change")
    changes = payload.dict(exclude_unset=True, exclude={"version", "owner", "team"})
    given = payload.model_fields_set
    if "owner" in given:
        changes["owner"] = _owner(membership, payload.owner)
    if "team" in given:
        changes["team"] = _team(membership, payload.team)
    contact = services.update_contact(
        contact=contact,
        by=request.user,
        expected_version=_version(request, payload.version),
        **changes,
    )
    contact = selectors.reloaded(contact)
    with_etag(response, contact)
    return _contact_out(contact)


@router.delete("/contacts/{contact_id}", response={204: None, **ERRORS}, summary="Delete")
def delete_contact(request: HttpRequest, contact_id: str) -> Status:
    contact = _contact(request, contact_id, action="delete")
    services.delete_customer(customer=contact, by=request.user)
    return Status(204, None)


# --- contact points and addresses -------------------------------------------------------------
def _customer(request: HttpRequest, kind: str, customer_id: str, action: str) -> Customer:
    return (_contact if kind == "contacts" else _account)(request, customer_id, action)


@router.get("/{kind}/{customer_id}/contact-points", response={200: list[ContactPointOut], **ERRORS})
def list_contact_points(
    request: HttpRequest, kind: Literal["contacts", "accounts"], customer_id: str
) -> list[dict]:
    customer = _customer(request, kind, customer_id, "view")
    return [_point_out(point) for point in selectors.related(customer, "contact_points")]


@router.post(
    "/{kind}/{customer_id}/contact-points", response={201: ContactPointOut, **WRITE_ERRORS}
)
def add_contact_point(
    request: HttpRequest,
    kind: Literal["contacts", "accounts"],
    customer_id: str,
    payload: ContactPointIn,
) -> Status:
    customer = _customer(request, kind, customer_id, "change")
    point = services.add_contact_point(
        customer=customer, point=services.ContactPointInput(**payload.dict()), by=request.user
    )
    return Status(201, _point_out(point))


def _contact_point(request: HttpRequest, point_id: str, action: str) -> ContactPoint:
    """A contact point whose customer the caller may see (and act on, for ``action``)."""
    membership: Membership = request.auth
    point = (
        ContactPoint.objects.for_workspace(membership.workspace_id)
        .select_related("contact", "account")
        .filter(public_id=point_id)
        .first()
    )
    if point is None:
        raise NotFound("contact point")
    holder = selectors.customer_of(point)
    visible = type(holder).objects.visible_to(membership, "view").filter(pk=holder.pk).exists()
    if not visible:
        raise NotFound("contact point")
    require_action(membership, action, holder)
    return point


@router.patch("/contact-points/{point_id}", response={200: ContactPointOut, **WRITE_ERRORS})
def update_contact_point(request: HttpRequest, point_id: str, payload: ContactPointUpdate) -> dict:
    point = _contact_point(request, point_id, "change")
    point = services.update_contact_point(
        contact_point=point,
        by=request.user,
        expected_version=_version(request, payload.version),
        **payload.dict(exclude_unset=True, exclude={"version"}),
    )
    return _point_out(point)


@router.delete("/contact-points/{point_id}", response={204: None, **ERRORS})
def remove_contact_point(request: HttpRequest, point_id: str) -> Status:
    point = _contact_point(request, point_id, "change")
    services.remove_contact_point(contact_point=point, by=request.user)
    return Status(204, None)


@router.post("/contact-points/{point_id}/consents", response={201: ContactPointOut, **WRITE_ERRORS})
def record_consent(request: HttpRequest, point_id: str, payload: ConsentIn) -> Status:
    point = _contact_point(request, point_id, "change")
    services.record_consent(contact_point=point, by=request.user, **payload.dict())
    point = ContactPoint.objects.for_workspace(point.workspace_id).get(pk=point.pk)
    return Status(201, _point_out(point))


@router.post("/{kind}/{customer_id}/addresses", response={201: AddressOut, **WRITE_ERRORS})
def add_address(
    request: HttpRequest,
    kind: Literal["contacts", "accounts"],
    customer_id: str,
    payload: AddressIn,
) -> Status:
    customer = _customer(request, kind, customer_id, "change")
    address = services.add_address(
        customer=customer, address=services.AddressInput(**payload.dict()), by=request.user
    )
    return Status(201, _address_out(address))


@router.delete("/addresses/{address_id}", response={204: None, **ERRORS})
def remove_address(request: HttpRequest, address_id: str) -> Status:
    membership: Membership = request.auth
    address = (
        Address.objects.for_workspace(membership.workspace_id)
        .select_related("contact", "account")
        .filter(public_id=address_id)
        .first()
    )
    holder = selectors.customer_of(address) if address else None
    if (
        holder is None
        or not type(holder).objects.visible_to(membership, "view").filter(pk=holder.pk).exists()
    ):
        raise NotFound("address")
    require_action(membership, "change", holder)
    services.remove_address(address=address, by=request.user)
    return Status(204, None)


# --- lifecycle stages -------------------------------------------------------------------------
class StageOut(Schema):
    id: str
    key: str
    name: str
    position: int
    is_default: bool
    version: int


def _stage_out(stage: LifecycleStage) -> dict[str, Any]:
    return {
        "id": stage.public_id,
        "key": stage.key,
        "name": stage.name,
        "position": stage.position,
        "is_default": stage.is_default,
        "version": stage.version,
    }


@router.get("/lifecycle-stages", response={200: list[StageOut], **ERRORS})
def list_stages(request: HttpRequest) -> list[dict]:
    stages = LifecycleStage.objects.visible_to(request.auth, "view").order_by("position", "id")
    return [_stage_out(stage) for stage in stages]


@router.post("/lifecycle-stages/presets/{preset}", response={200: list[StageOut], **WRITE_ERRORS})
def apply_stage_preset(request: HttpRequest, preset: str) -> list[dict]:
    membership: Membership = request.auth
    require_add(membership, LifecycleStage.object_type)
    stages = services.apply_stage_preset(
        workspace=membership.workspace, preset=preset, by=request.user
    )
    return [_stage_out(stage) for stage in stages]


# --- custom fields ----------------------------------------------------------------------------
class CustomFieldIn(Schema):
    applies_to: str = Field(description="customers.account or customers.contact")
    key: str
    label: str
    field_type: str = Field(description="text, number, money, date, choice, multi_choice, boolean")
    choices: list[str] = Field(default_factory=list)
    required: bool = False
    position: int = 0


class CustomFieldUpdate(Schema):
    label: str | None = None
    choices: list[str] | None = None
    required: bool | None = None
    position: int | None = None
    version: int | None = None


class CustomFieldOut(CustomFieldIn):
    id: str
    version: int


def _field_out(field: CustomField) -> dict[str, Any]:
    names = ("applies_to", "key", "label", "field_type", "choices", "required", "position")
    return {name: getattr(field, name) for name in names} | {
        "id": field.public_id,
        "version": field.version,
    }


@router.get("/custom-fields", response={200: list[CustomFieldOut], **ERRORS})
def list_custom_fields(request: HttpRequest, applies_to: str | None = None) -> list[dict]:
    fields = CustomField.objects.visible_to(request.auth, "view").order_by(
        "applies_to", "position", "key"
    )
    if applies_to:
        fields = fields.filter(applies_to=applies_to)
    return [_field_out(field) for field in fields]


@router.post("/custom-fields", response={201: CustomFieldOut, **WRITE_ERRORS})
def create_field(request: HttpRequest, payload: CustomFieldIn) -> Status:
    membership: Membership = request.auth
    require_add(membership, CustomField.object_type)
    field = create_custom_field(workspace=membership.workspace, by=request.user, **payload.dict())
    return Status(201, _field_out(field))


@router.patch("/custom-fields/{field_id}", response={200: CustomFieldOut, **WRITE_ERRORS})
def update_field(request: HttpRequest, field_id: str, payload: CustomFieldUpdate) -> dict:
    field = get_visible_or_404(CustomField, user=request.auth, public_id=field_id, action="change")
    field = update_custom_field(
        field=field,
        by=request.user,
        expected_version=_version(request, payload.version),
        **payload.dict(exclude_unset=True, exclude={"version"}),
    )
    return _field_out(field)


@router.delete("/custom-fields/{field_id}", response={204: None, **ERRORS})
def delete_field(request: HttpRequest, field_id: str) -> Status:
    field = get_visible_or_404(CustomField, user=request.auth, public_id=field_id, action="delete")
    delete_custom_field(field=field, by=request.user)
    return Status(204, None)


# --- customer 360 -----------------------------------------------------------------------------
class Contact360(Schema):
    profile: ContactOut
    panels: dict[str, Any] = Field(
        description="Data other apps add (open activities, timeline, opportunities, cases…)."
    )


class Account360(Schema):
    profile: AccountOut
    panels: dict[str, Any]


@router.get("/contacts/{contact_id}/360", response={200: Contact360, **ERRORS}, summary="360")
def contact_360(request: HttpRequest, contact_id: str) -> dict:
    contact = _contact(request, contact_id)
    return {
        "profile": _contact_out(contact),
        "panels": render_panels(customer=contact, user=request.auth),
    }


@router.get("/accounts/{account_id}/360", response={200: Account360, **ERRORS}, summary="360")
def account_360(request: HttpRequest, account_id: str) -> dict:
    account = _account(request, account_id)
    return {
        "profile": _account_out(account),
        "panels": render_panels(customer=account, user=request.auth),
    }


# --- search -----------------------------------------------------------------------------------
class SearchHit(Schema):
    type: Literal["contact", "account"]
    id: str
    display_name: str
    score: float = Field(description="0–100; higher is a better match.")
    matched: str = Field(description="name, phone, email or messaging")


class SearchOut(Schema):
    results: list[SearchHit]


@router.get("/search", response={200: SearchOut, **ERRORS}, summary="Find customers")
def search_customers(request: HttpRequest, q: str, limit: int = 20) -> dict:
    """Names (Han, pinyin, initials, traditional/simplified, Latin in any order), company
    names, phones (any format, or the last 4+ digits) and e-mail addresses."""
    if not 1 <= limit <= 100:
        raise ValidationFailed([("query.limit", "must be between 1 and 100")])
    hits = search.search(user=request.auth, q=q, limit=limit)
    return {"results": [hit.__dict__ for hit in hits]}


# --- handover ---------------------------------------------------------------------------------
class HandoverIn(Schema):
    to: str = Field(description="Username of the member who takes over.")


class HandoverOut(Schema):
    moved: dict[str, int] | None = Field(None, description="Records moved, per kind.")
    job_id: str | None = Field(None, description="Set when the handover runs in the background.")


SYNC_HANDOVER_LIMIT = 5000


@router.post(
    "/users/{member_id}/handover",
    response={200: HandoverOut, 202: HandoverOut, **WRITE_ERRORS},
    summary="Hand over everything a user owns",
    description="Accounts, contacts and open activities move to `to`, each customer gets a "
    "timeline note. Above 5,000 customers it runs as a background job (202).",
)
def handover(request: HttpRequest, member_id: str, payload: HandoverIn) -> Status:
    from guanxi.customers.handover import hand_over, owned_count
    from guanxi.customers.tasks import hand_over_job

    membership: Membership = request.auth
    leaver = get_visible_or_404(Membership, user=membership, public_id=member_id)
    for object_type in (Account.object_type, Contact.object_type):
        scope = membership.scope_for(object_type, "assign")
        in_subtree = leaver.path.startswith(membership.path)
        if scope != "all" and not (scope == "subtree" and in_subtree):
            raise Forbidden(action="assign", object_type=object_type)
    successor = _owner(membership, payload.to)
    leaver_user = User.objects.get(pk=leaver.user_id)
    if owned_count(workspace=membership.workspace, user=leaver_user) > SYNC_HANDOVER_LIMIT:
        result = hand_over_job.enqueue(
            workspace_id=membership.workspace_id,
            from_user_id=leaver_user.pk,
            to_user_id=successor.pk,
            by_id=request.user.pk,
        )
        return Status(202, {"job_id": str(result.id)})
    moved = hand_over(
        workspace=membership.workspace, from_user=leaver_user, to_user=successor, by=request.user
    )
    return Status(200, {"moved": moved})

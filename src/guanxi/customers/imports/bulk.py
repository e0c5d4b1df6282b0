"""The fast path of imports: a batch's new customers written straight into the tables — COPY
on PostgreSQL, ``executemany`` on SQLite, through the writer ``guanxi generate`` uses —
with their contact points, addresses, account links, tags and field history, holding
exactly the values the services would store (normalized contact points, display name,
search document, sort key, primary flags, owner's team, default stage).

Also what the batch needs to know about the workspace in one query per kind of key:
which external ids, phones, e-mails and messaging ids some customer already has.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from django.db import models
from django.utils import timezone
from email_validator.rfc_constants import CASE_INSENSITIVE_MAILBOX_NAMES

from guanxi.customers import normalize, services
from guanxi.customers.generate import Table, Writer, public_id
from guanxi.customers.models import (
    Account,
    AccountContact,
    Address,
    Contact,
    ContactPoint,
    ImportRow,
)
from guanxi.platform.models import User

if TYPE_CHECKING:
    from guanxi.customers.imports.engine import Context, Prepared

# --- normalizations, cached -------------------------------------------------------------------
# An ASCII dot-atom local part (RFC 5322 §3.2.3) is what nearly every address has; for it,
# email_validator returns the local part unchanged, so only the domain needs its checks —
# once per domain. Anything else goes through email_validator whole.
_DOT_ATOM = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*")


@lru_cache(maxsize=20_000)
def _email_domain(domain: str) -> str | None:
    """The normalized domain, or None when email_validator should judge the address."""
    try:
        return normalize.normalize_email(f"a@{domain}").partition("@")[2]
    except normalize.InvalidContactValue:
        return None


# role mailboxes the full parser lower-cases (www@, postmaster@ …): the same list, so both
# ways give one answer
_CASE_INSENSITIVE_MAILBOXES = frozenset(CASE_INSENSITIVE_MAILBOX_NAMES)


def normalize_email(value: str) -> str:
    """``normalize.normalize_email``, answering common addresses without a full parse."""
    text = value.strip()
    if text.isascii() and len(text) <= 254:
        local, at, domain = text.rpartition("@")
        if at and len(local) <= 64 and _DOT_ATOM.fullmatch(local):
            normalized = _email_domain(domain)
            if normalized is not None:
                if local.lower() in _CASE_INSENSITIVE_MAILBOXES:  # RFC 2142: info@, sales@ …
                    local = local.lower()
                return f"{local}@{normalized}"
    return normalize.normalize_email(value)


def normalize_point(kind: str, value: str, region: str) -> tuple[str, str, str]:
    """(normalized value, match key, reversed national digits) as the services store them."""
    if kind == "email":
        normalized = normalize_email(value)
        return normalized, normalized.lower(), ""
    normalized, extra = normalize.normalize_contact_value(kind=kind, value=value, region=region)
    return normalized, normalized, extra.get("national_digits", "")[::-1]


@lru_cache(maxsize=200_000)  # 张伟 is many people
def person_terms(family: str, given: str) -> tuple[str, str, str]:
    """(display name, search document without companies, sort key) of a person."""
    display = normalize.display_name(family=family, given=given)
    document = normalize.search_document(display, f"{family}{given}", personal=True)
    return display, document, normalize.sort_key(family=family, given=given)[:300]


@lru_cache(maxsize=50_000)
def company_terms(name: str, legal_name: str = "") -> tuple[str, str]:
    """(search document, sort key) of an account."""
    document = normalize.search_document(name, legal_name)
    return document, normalize.sort_key(family=name, given="")[:300]


# --- what the workspace already has -----------------------------------------------------------
def existing_keys(items: Iterable[Prepared], ctx: Context) -> dict[tuple[str, str], int]:
    """For each external id and contact point key of the batch that the workspace already
    has: the customer (of the import's kind, not deleted) it identifies, or 0 when only
    something else holds it (an account's phone in a contact import). Where several
    customers share a key, the one ``engine.find_match`` would pick (oldest point)."""
    model = Contact if ctx.job.kind == "contacts" else Account
    holder = "contact" if model is Contact else "account"
    found: dict[tuple[str, str], int] = {}
    external: set[str] = set()
    by_kind: dict[str, set[str]] = {}
    for item in items:
        if item.fields.get("external_id"):
            external.add(item.fields["external_id"])
        for _name, point, _value, key, _digits in item.normalized_points:
            by_kind.setdefault(point.kind, set()).add(key)
    if external:
        # ``<> ''`` as in the unique index's condition, so that the index answers
        rows = (
            model.objects.for_workspace(ctx.job.workspace_id)
            .filter(external_id__in=external)
            .exclude(external_id="")
        )
        for external_id, pk in rows.values_list("external_id", "pk"):
            found[("external_id", external_id)] = pk
    for kind, keys in by_kind.items():
        points = (
            ContactPoint.objects.for_workspace(ctx.job.workspace_id)
            .filter(kind=kind, match_key__in=keys)
            .order_by("pk")
            .values_list("match_key", f"{holder}_id", f"{holder}__deleted_at")
        )
        for key, holder_id, deleted_at in points:
            live = holder_id if holder_id is not None and deleted_at is None else 0
            if not found.get((kind, key)):
                found[(kind, key)] = live
    return found


# --- writing ----------------------------------------------------------------------------------
_RANDOM = random.Random()  # seeded from the system; public ids need no crypto strength
COMPUTED = ("lifecycle_stage", "full_name", "family_name", "given_name")  # not stored as given


class Rows:
    """Rows of one model's table (and of its history table), built from a template."""

    def __init__(self, model: type[models.Model], *, auto_pk: bool = False) -> None:
        self.table = Table(model, auto_pk=auto_pk)
        self.position = self.table.position
        self.template = self.table.template
        self.prefix = getattr(model, "public_id_prefix", "")
        self.rows: list[list[Any]] = []
        self.history: Table | None = None
        self.history_rows: list[list[Any]] = []
        history = getattr(model, "history", None)
        if history is not None:
            self.history = Table(history.model, auto_pk=True)
            extra = len(self.table.columns)
            # each history column: the main row's value, or one of the four history values
            tail = {"history_date": 0, "history_change_reason": 1, "history_type": 2,
                    "history_user_id": 3}  # fmt: skip
            self.history_source = [
                self.position[name] if name in self.position else extra + tail[name]
                for name in self.history.position
            ]

    def add(self, values: dict[str, Any], batch: Batch) -> list:
        """A new row: the template, then ``values``, then the public id and who/when."""
        row = self.template.copy()
        position = self.position
        for name, value in values.items():
            row[position[name]] = value
        if self.prefix:
            row[position["public_id"]] = public_id(
                self.prefix, batch.millis, _RANDOM.getrandbits(80)
            )
            row[position["created_at"]] = row[position["updated_at"]] = batch.stamp
            row[position["created_by_id"]] = row[position["updated_by_id"]] = batch.by
        self.rows.append(row)
        if self.history is not None:
            extended = [*row, batch.stamp, None, "+", batch.by]
            self.history_rows.append([extended[i] for i in self.history_source])
        return row

    def flush(self, writer: Writer) -> None:
        writer.insert(self.table, self.rows)
        if self.history is not None:
            writer.insert(self.history, self.history_rows)
        self.rows, self.history_rows = [], []


@dataclass
class Batch:
    """What one batch writes, table by table, flushed together at the end."""

    writer: Writer
    by: int
    now: datetime = field(default_factory=timezone.now)

    def __post_init__(self) -> None:
        self.stamp = self.writer.timestamp(self.now)
        self.millis = int(self.now.timestamp() * 1000)
        self.tables: dict[type[models.Model], Rows] = {}

    def rows(self, model: type[models.Model], *, auto_pk: bool = False) -> Rows:
        if model not in self.tables:
            self.tables[model] = Rows(model, auto_pk=auto_pk)
        return self.tables[model]

    def add(self, model: type[models.Model], **values: Any) -> list:
        return self.rows(model).add(values, self)

    def ids(self, model: type[models.Model], count: int) -> list[int]:
        return self.writer.new_ids(self.rows(model).table, count)

    def flush(self, writer: Writer | None = None) -> None:
        """Write the rows, through ``writer`` (another connection's) or the batch's own."""
        for rows in self.tables.values():  # parents were asked for first
            rows.flush(writer or self.writer)


def _json(value: Any) -> str:
    return json.dumps(value, default=_json_default)


def _json_default(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _date(writer: Writer, value: date | None) -> Any:
    if value is None or writer.vendor == "postgresql":
        return value
    return value.isoformat()


def write_import_rows(writer: Writer, job_id: int, records: list[tuple]) -> None:
    """The batch's row records (line, outcome, record id, matched id, data, errors, before)."""
    if not records:
        return
    table = _import_row_table()
    template, pos = table.template, table.position
    rows = []
    for line, outcome, record_id, matched_id, data, errors, before in records:
        row = template.copy()
        row[pos["job_id"]], row[pos["line"]], row[pos["outcome"]] = job_id, line, outcome
        row[pos["record_id"]], row[pos["matched_id"]] = record_id, matched_id
        row[pos["data"]], row[pos["errors"]] = _json(data), _json(errors)
        row[pos["before"]] = _json(before)
        rows.append(row)
    writer.insert(table, rows)


@lru_cache(maxsize=1)
def _import_row_table() -> Table:
    return Table(ImportRow, auto_pk=True)


def create_customers(items: list[Prepared], ctx: Context, by: User) -> tuple[list[int], Batch]:
    """New customers of a batch with their contact points, addresses, tags and (contacts)
    company links, as the services would write them one by one: their ids in the order of
    ``items``, and the rows to write."""
    is_contact = ctx.job.kind == "contacts"
    model = Contact if is_contact else Account
    holder = "contact_id" if is_contact else "account_id"
    batch = Batch(writer=ctx.writer, by=by.pk)
    workspace_id = ctx.job.workspace_id
    companies = _companies(items, ctx, by, batch) if is_contact else {}
    ids = batch.ids(model, len(items))
    tag_ids = {}
    if any(item.tags for item in items):
        names = sorted({t for item in items for t in item.tags})
        tags = services.get_or_create_tags(workspace=ctx.workspace, names=names, by=by)
        tag_ids = {t.name: t.pk for t in tags}
    points = batch.rows(ContactPoint)
    addresses = batch.rows(Address)
    links = batch.rows(AccountContact)
    tag_table = model.tags.through
    tag_rows = batch.rows(tag_table, auto_pk=True)
    tag_holder = f"{model._meta.model_name}_id"
    customers = batch.rows(model)
    point_count = sum(len(item.normalized_points) for item in items)
    point_ids = iter(batch.ids(ContactPoint, point_count))
    address_ids = iter(batch.ids(Address, sum(1 for i in items if i.address is not None)))
    link_ids = iter(
        batch.ids(AccountContact, sum(1 for i in items if i.company)) if is_contact else []
    )
    common = {"workspace_id": workspace_id}
    for pk, item in zip(ids, items, strict=True):
        owner = item.owner or by
        values = {
            **common, "id": pk, "owner_id": owner.pk, "team_id": ctx.team_of(owner),
            "lifecycle_stage_id": ctx.stage_id(item.fields.get("lifecycle_stage")),
            "custom_fields": _json(item.custom_clean),
        }  # fmt: skip
        fields = item.fields
        for name, value in fields.items():
            if name not in COMPUTED and value not in (None, ""):
                values[name] = value
        if is_contact:
            family = fields.get("family_name", "") or ""
            given = fields.get("given_name", "") or ""
            if not (family or given):
                family, given = normalize.split_full_name(fields.get("full_name", "") or "")
            display, document, sort_key = person_terms(family, given)
            if item.company:
                document = f"{document} {company_terms(item.company)[0]}"
            values.update(family_name=family, given_name=given, display_name=display,
                          search_document=document, sort_key=sort_key)  # fmt: skip
            if "birthday" in values:
                values["birthday"] = _date(ctx.writer, values["birthday"])
        else:
            if "region" in values:
                values["region"] = values["region"].upper()
            document, sort_key = company_terms(values["name"], values.get("legal_name", ""))
            values.update(search_document=document, sort_key=sort_key)
        customers.add(values, batch)
        primary: set[str] = set()
        for _name, point, value, key, digits in item.normalized_points:
            points.add(
                {**common, "id": next(point_ids), holder: pk, "kind": point.kind, "value": value,
                 "match_key": key, "raw_value": point.value.strip()[:320],
                 "digits_reversed": digits, "is_primary": point.kind not in primary},
                batch,
            )  # fmt: skip
            primary.add(point.kind)
        if item.address is not None:
            a = item.address
            addresses.add(
                {**common, "id": next(address_ids), holder: pk, "label": a.label,
                 "country": a.country, "region": a.region, "city": a.city,
                 "district": a.district, "street": a.street, "street2": a.street2,
                 "postcode": a.postcode, "is_primary": True},
                batch,
            )  # fmt: skip
        if is_contact and item.company:
            links.add(
                {**common, "id": next(link_ids), "account_id": companies[item.company],
                 "contact_id": pk, "title": item.title, "is_primary": True},
                batch,
            )  # fmt: skip
        for name in dict.fromkeys(item.tags):
            tag_rows.rows.append(_tag_row(tag_rows, tag_holder, pk, tag_ids[name]))
    return ids, batch


def _tag_row(rows: Rows, holder: str, pk: int, tag_id: int) -> list:
    row = rows.template.copy()
    row[rows.position[holder]], row[rows.position["tag_id"]] = pk, tag_id
    return row


def _companies(items: list[Prepared], ctx: Context, by: User, batch: Batch) -> dict[str, int]:
    """The account each company name of the batch stands for: the oldest of that name the
    importer can see, else a new one (owned by the first row's owner), written with the
    batch."""
    wanted = {item.company for item in items if item.company}
    missing = wanted - set(ctx.accounts)
    if missing:
        visible = (
            Account.objects.visible_to(ctx.membership, "view")
            .filter(name__in=missing)
            .order_by("pk")
            .values_list("name", "pk")
        )
        for name, pk in visible:
            ctx.accounts.setdefault(name, pk)
    new = [name for name in dict.fromkeys(i.company for i in items if i.company)
           if name not in ctx.accounts]  # fmt: skip
    if new:
        owners = {}
        for item in items:
            if item.company in new:
                owners.setdefault(item.company, item.owner or by)
        accounts = batch.rows(Account)
        for pk, name in zip(batch.ids(Account, len(new)), new, strict=True):
            owner = owners[name]
            document, sort_key = company_terms(name)
            accounts.add(
                {"workspace_id": ctx.job.workspace_id, "id": pk, "name": name.strip(),
                 "owner_id": owner.pk, "team_id": ctx.team_of(owner),
                 "lifecycle_stage_id": ctx.stage_id(None), "search_document": document,
                 "sort_key": sort_key},
                batch,
            )  # fmt: skip
            ctx.accounts[name] = pk
    return {name: ctx.accounts[name] for name in wanted}

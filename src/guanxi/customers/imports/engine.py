"""The import engine: check a file (dry run), bring it in (resumable), undo it — for
contacts, accounts and (``interactions``) timeline entries, and for the kinds other apps
register (``register_kind``: orders).

An imported contact is validated, normalized and de-duplicated exactly like one typed into a
form: new ones are written in bulk with the values the services would store (``bulk``),
the rest go through the services. A row that matches an existing customer — same external
id, or the same normalized phone or e-mail — is created anyway, updated, skipped or set aside
for review, as the job's policy says.

Rows are done in batches; each batch, its row records and the job's checkpoint commit in one
transaction. A job that stops — an error, a deploy, ``kill -9`` — continues after the last
committed batch when run again: no row lost, none done twice.
"""

from __future__ import annotations

import concurrent.futures
import contextvars
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cached_property
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers import normalize, services
from guanxi.customers.errors import ContactPointClash, DuplicateExternalId
from guanxi.customers.generate import Writer
from guanxi.customers.imports import bulk, interactions, readers
from guanxi.customers.imports import mapping as mappings
from guanxi.customers.models import (
    Account,
    AccountContact,
    Address,
    Contact,
    ContactPoint,
    ImportJob,
    ImportRow,
    LifecycleStage,
)
from guanxi.customers.services import AddressInput, ContactPointInput
from guanxi.platform.audit import record_audit
from guanxi.platform.context import acting_in
from guanxi.platform.customfields import clean_custom_values
from guanxi.platform.errors import GuanxiError, ValidationFailed
from guanxi.platform.models import CustomField, Membership, Tag, User
from guanxi.timeline.models import Interaction

BATCH = 2000  # rows per transaction: fewer commits, a few MB of rows in memory
ERROR_SAMPLE = 1000
MODELS = {"contacts": Contact, "accounts": Account, "interactions": Interaction}


@dataclass(frozen=True)
class ImportKind:
    """A kind of record an app further up brings in through this engine: how a batch of
    its rows is worked out (``plan_batch(chunk, ctx, by, inflight) -> Plan``) and how a
    job of it is undone (``undo(job, by) -> {"removed": n, "restored": n}``). Apps depend
    downward only, so they register here rather than being imported."""

    model: type
    plan_batch: Callable[..., Plan]
    undo: Callable[..., dict[str, int]]


KINDS: dict[str, ImportKind] = {}


def register_kind(kind: str, spec: ImportKind) -> None:
    KINDS[kind] = spec
    MODELS[kind] = spec.model


POINT_FIELDS = (("phone", "phone"), ("phone2", "phone"), ("email", "email"),
                ("email2", "email"), ("wechat", "wechat"), ("qq", "qq"))  # fmt: skip
POINT_KINDS = dict(POINT_FIELDS)
ADDRESS_FIELDS = ("street", "district", "city", "region", "postcode", "country")
DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d", "%Y.%m.%d", "%Y%m%d", "%d/%m/%Y", "%m/%d/%Y",
                "%Y年%m月%d日", "%d.%m.%Y")  # fmt: skip
GENDERS = {"m": "male", "male": "male", "男": "male", "先生": "male", "f": "female",
           "female": "female", "女": "female", "女士": "female", "小姐": "female"}  # fmt: skip
SIZES = {"micro": "micro", "small": "small", "medium": "medium", "large": "large",
         "enterprise": "enterprise", "微型": "micro", "小型": "small", "中型": "medium",
         "大型": "large", "特大型": "enterprise"}  # fmt: skip


def storage_dir(job: ImportJob) -> Path:
    return Path(settings.MEDIA_ROOT) / "imports" / str(job.workspace_id)


def file_info(job: ImportJob) -> readers.FileInfo:
    return readers.FileInfo(
        file_format=job.file_format, encoding=job.encoding, delimiter=job.delimiter,
        sheet=job.sheet, columns=list(job.columns),
    )  # fmt: skip


# --- creating a job ---------------------------------------------------------------------------
def custom_fields(workspace_id: int, kind: str) -> dict[str, CustomField]:
    applies_to = MODELS[kind].object_type
    return {
        f.key: f
        for f in CustomField.objects.for_workspace(workspace_id).filter(applies_to=applies_to)
    }


@transaction.atomic
def create_job(
    *, membership: Membership, kind: str, upload: Any, file_name: str, sheet: str = "",
    mapping: dict | None = None, policy: str = ImportJob.Policy.SKIP,
    defaults: dict | None = None,
) -> ImportJob:  # fmt: skip
    """Store the file, read its columns and suggest (or check) a mapping."""
    if kind not in MODELS:
        raise ValidationFailed([("type", _("one of %(kinds)s") % {"kinds": ", ".join(MODELS)})])
    if membership.scope_for(MODELS[kind].object_type, "add") == "none":
        raise ValidationFailed([("type", _("your role may not add %(kind)s") % {"kind": kind})])
    if policy not in ImportJob.Policy.values:
        raise ValidationFailed(
            [("policy", _("one of %(p)s") % {"p": ", ".join(ImportJob.Policy.values)})]
        )
    custom = custom_fields(membership.workspace_id, kind)
    _check_defaults(defaults, kind=kind, custom=set(custom))
    job = ImportJob(
        workspace_id=membership.workspace_id, kind=kind, file_name=Path(file_name).name[:300],
        policy=policy, defaults=defaults or {}, created_by=membership.user,
        updated_by=membership.user,
    )  # fmt: skip
    job.save()
    directory = storage_dir(job)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{job.public_id}{Path(file_name).suffix.lower()}"
    size = 0
    with path.open("wb") as out:
        for chunk in _chunks(upload):
            size += len(chunk)
            out.write(chunk)
    job.file_path, job.file_size = str(path), size
    try:
        info = readers.inspect(path, file_name, sheet=sheet)
    except readers.FileProblem as exc:
        path.unlink(missing_ok=True)
        raise ValidationFailed([("file", str(exc))]) from None
    job.file_format, job.encoding, job.delimiter = info.file_format, info.encoding, info.delimiter
    job.sheet, job.columns = info.sheet, info.columns
    if mapping is None:
        job.mapping = mappings.suggest(
            info.columns, kind, custom={k: f.label for k, f in custom.items()}
        )
    else:
        job.mapping = mappings.check_mapping(
            mapping, columns=info.columns, kind=kind, custom=set(custom)
        )
    job.save()
    record_audit(action="import.created", actor=membership.user, workspace=membership.workspace,
                 obj=job, data={"file": job.file_name, "type": kind, "size": size})  # fmt: skip
    return job


def _check_defaults(defaults: dict | None, *, kind: str, custom: set[str]) -> None:
    """Values for empty cells are for the fields of the import's type only."""
    errors = [
        (f"defaults.{name}", _("unknown field %(field)r") % {"field": name})
        for name in defaults or {}
        if name not in mappings.FIELDS[kind] and name.removeprefix("cf.") not in custom
    ]
    if errors:
        raise ValidationFailed(errors)


def _chunks(upload: Any) -> Iterator[bytes]:
    if isinstance(upload, bytes):
        yield upload
    elif hasattr(upload, "chunks"):
        yield from upload.chunks()
    else:
        while chunk := upload.read(1 << 20):
            yield chunk


def set_mapping(
    *, job: ImportJob, mapping: dict, policy: str | None = None, defaults: dict | None = None
) -> ImportJob:
    if job.status not in (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED):
        raise ValidationFailed([("mapping", _("the import has started; its mapping is fixed"))])
    custom = custom_fields(job.workspace_id, job.kind)
    job.mapping = mappings.check_mapping(
        mapping, columns=job.columns, kind=job.kind, custom=set(custom)
    )
    if policy is not None:
        if policy not in ImportJob.Policy.values:
            raise ValidationFailed([("policy", ", ".join(ImportJob.Policy.values))])
        job.policy = policy
    if defaults is not None:
        _check_defaults(defaults, kind=job.kind, custom=set(custom))
        job.defaults = defaults
    job.status = ImportJob.Status.UPLOADED
    job.save(update_fields=["mapping", "policy", "defaults", "status", "updated_at"])
    return job


# --- one row ----------------------------------------------------------------------------------
@dataclass
class Prepared:
    """A row turned into service arguments; ``columns`` says which column gave each field."""

    fields: dict[str, Any] = field(default_factory=dict)
    points: list[tuple[str, ContactPointInput]] = field(default_factory=list)  # (field, input)
    address: AddressInput | None = None
    tags: list[str] = field(default_factory=list)
    custom: dict[str, Any] = field(default_factory=dict)
    company: str = ""
    title: str = ""
    owner: User | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, str] = field(default_factory=dict)
    # (field, input, normalized value, match key, reversed national digits)
    normalized_points: list[tuple[str, ContactPointInput, str, str, str]] = field(
        default_factory=list
    )
    custom_clean: dict[str, Any] = field(default_factory=dict)

    @property
    def point_keys(self) -> set[tuple[str, str]]:
        return {(point.kind, key) for _f, point, _v, key, _d in self.normalized_points}

    @property
    def ordered_keys(self) -> list[tuple[str, str]]:
        """External id first, then the contact points in column order (how matches are
        looked for)."""
        external = self.fields.get("external_id")
        points = [(point.kind, key) for _f, point, _v, key, _d in self.normalized_points]
        return [("external_id", external), *points] if external else points


class Context:
    """What rows look up again and again, loaded once per run."""

    def __init__(self, job: ImportJob, membership: Membership) -> None:
        self.job, self.membership = job, membership
        self.workspace = membership.workspace
        self.region = self.workspace.region or "CN"
        self.custom = custom_fields(job.workspace_id, job.kind)
        self.stages = {}
        for stage in LifecycleStage.objects.for_workspace(job.workspace_id):
            self.stages[stage.key.lower()] = stage.key
            self.stages[stage.name.lower()] = stage.key
        self.owners: dict[str, User | None] = {}
        self.accounts: dict[str, int] = {}  # company name -> account id
        self.teams: dict[int, int | None] = {}
        self.stage_ids: dict[str | None, int | None] = {}
        self.state: dict[str, Any] = {}  # what a registered kind keeps across batches

    @cached_property
    def writer(self) -> Writer:
        return Writer()

    @cached_property
    def zone(self) -> ZoneInfo:
        return interactions.workspace_zone(self)

    def team_of(self, user: User) -> int | None:
        if user.pk not in self.teams:
            self.teams[user.pk] = (
                Membership.objects.for_workspace(self.job.workspace_id)
                .filter(user=user).values_list("team_id", flat=True).first()
            )  # fmt: skip
        return self.teams[user.pk]

    def stage_id(self, key: str | None) -> int | None:
        if key not in self.stage_ids:
            stages = LifecycleStage.objects.for_workspace(self.job.workspace_id)
            stage = (
                stages.filter(key=key).first() if key else stages.filter(is_default=True).first()
            )
            self.stage_ids[key] = stage.pk if stage else None
        return self.stage_ids[key]

    def owner(self, username: str) -> User | None:
        if username not in self.owners:
            member = (
                Membership.objects.for_workspace(self.job.workspace_id)
                .filter(user__username=username, is_active=True)
                .select_related("user")
                .first()
            )
            self.owners[username] = member.user if member else None
        return self.owners[username]


def parse_date(text: str) -> date | None:
    for fmt in DATE_FORMATS:
        try:
            return datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    return None


def prepare(row: dict[str, str], ctx: Context) -> Prepared:
    """Mapped, transformed and checked cells of a row, ready for the services; problems
    are collected per column rather than stopping at the first."""
    job = ctx.job
    result = Prepared()
    values: dict[str, str] = {}
    for column, spec in job.mapping.items():
        text = mappings.transform(row.get(column, "") or "", spec.get("transform", "trim"))
        result.columns[spec["field"]] = column
        if text:
            values[spec["field"]] = text
    for name, value in (job.defaults or {}).items():
        if value and not values.get(name):
            values[name] = str(value)
            result.columns.setdefault(name, name)
    result.values = values

    def error(name: str, message: str) -> None:
        result.errors.append({"column": result.columns.get(name, name),
                              "value": values.get(name, ""), "message": str(message)})  # fmt: skip

    for name, value in values.items():
        if name in POINT_KINDS:
            kind = POINT_KINDS[name]
            try:
                normalized, key, digits = bulk.normalize_point(kind, value, ctx.region)
            except normalize.InvalidContactValue as exc:
                error(name, exc.reason)
                continue
            point = ContactPointInput(kind=kind, value=value)
            if any(k == (kind, key) for k in result.point_keys):
                continue  # the same number in two columns
            result.points.append((name, point))
            result.normalized_points.append((name, point, normalized, key, digits))
        elif name in ADDRESS_FIELDS:
            continue
        elif name == "tags":
            result.tags = [
                t.strip()
                for t in value.replace("，", ",").replace("、", ",").split(",")
                if t.strip()
            ]
        elif name == "owner":
            result.owner = ctx.owner(value)
            if result.owner is None:
                error(name, _("no active user %(name)r in this workspace") % {"name": value})
        elif name == "lifecycle_stage":
            key = ctx.stages.get(value.lower())
            if key is None:
                error(name, _("no stage %(value)r; stages: %(known)s")
                      % {"value": value, "known": ", ".join(sorted(set(ctx.stages.values())))})  # fmt: skip
            result.fields["lifecycle_stage"] = key
        elif name == "birthday":
            day = parse_date(value)
            if day is None:
                error(name, _("not a date (write it as 2024-03-15)"))
            elif day > timezone.localdate() or day.year < 1900:
                error(name, _("must be between 1900 and today"))
            result.fields["birthday"] = day
        elif name == "gender":
            gender = GENDERS.get(value.lower())
            if gender is None:
                error(name, _("write male or female (男/女)"))
            result.fields["gender"] = gender or ""
        elif name == "size":
            size = SIZES.get(value.lower())
            if size is None:
                error(
                    name, _("one of %(sizes)s") % {"sizes": ", ".join(sorted(set(SIZES.values())))}
                )
            result.fields["size"] = size or ""
        elif name == "company":
            result.company = value
        elif name == "title":
            result.title = value
        elif name.startswith("cf."):
            result.custom[name[3:]] = value
        else:
            result.fields[name] = value
    if any(values.get(name) for name in ADDRESS_FIELDS):
        given = values.get("country", "")
        country = normalize.country_code(given) or (given.upper() if given else ctx.region)
        if len(country) != 2:
            country = ctx.region
        result.address = AddressInput(
            country=country, street=values.get("street", ""), district=values.get("district", ""),
            city=values.get("city", ""), region=values.get("region", ""),
            postcode=values.get("postcode", ""), is_primary=True,
        )  # fmt: skip
        try:
            services._clean_address(result.address, path="address")
        except ValidationFailed as exc:
            for path, message in exc.errors:
                name = "country" if path.endswith("country") else "street"
                if name == "street" and name not in result.columns:
                    name = next((n for n in ADDRESS_FIELDS if n in values), name)
                error(name, message)
    if result.custom:
        try:
            result.custom_clean = clean_custom_values(
                workspace=ctx.workspace,
                applies_to=MODELS[job.kind].object_type,
                values=result.custom,
            )
        except ValidationFailed as exc:
            for path, message in exc.errors:
                error("cf." + path.split(".")[-1], message)
    for name, message in _field_problems(result.fields, job.kind):
        error(name, message)
    return result


def _field_problems(fields: dict[str, Any], kind: str) -> list[tuple[str, str]]:
    """What the services would refuse in the plain fields, found before writing (and the
    website normalized, as the service stores it)."""
    plain = {k: v for k, v in fields.items() if isinstance(v, str)}
    if kind == "contacts":
        return services._clean_contact_fields(plain)
    problems = services._clean_account_fields(plain)
    if "website" in plain:
        fields["website"] = plain["website"]
    return problems


def find_match(prepared: Prepared, ctx: Context) -> Any:
    """An existing customer this row describes: same external id, else the same normalized
    phone, e-mail or messaging id."""
    model = MODELS[ctx.job.kind]
    external_id = prepared.fields.get("external_id")
    if external_id:
        found = (
            model.objects.for_workspace(ctx.job.workspace_id)
            .filter(external_id=external_id)
            .exclude(external_id="")  # the unique index's condition: the index answers
            .first()
        )
        if found is not None:
            return found
    keys = [(point.kind, key) for _n, point, _v, key, _d in prepared.normalized_points]
    holder = "contact" if model is Contact else "account"
    for kind, key in keys:
        point = (
            ContactPoint.objects.for_workspace(ctx.job.workspace_id)
            .filter(
                kind=kind,
                match_key=key,
                **{f"{holder}__isnull": False, f"{holder}__deleted_at__isnull": True},
            )
            .select_related(holder)
            .first()
        )
        if point is not None:
            return getattr(point, holder)
    return None


def _service_errors(exc: GuanxiError, prepared: Prepared) -> list[dict[str, str]]:
    """A service's errors on the columns they came from (``contact_points.1.value`` is the
    second contact point given, in the order of ``prepared.points``)."""
    if isinstance(exc, ContactPointClash):
        pairs = [(exc.field, exc.message)]
    elif isinstance(exc, ValidationFailed):
        pairs = exc.errors
    elif isinstance(exc, DuplicateExternalId):
        pairs = [("external_id", str(exc))]
    else:
        pairs = [("", str(exc))]
    result = []
    for path, message in pairs:
        parts = path.split(".")
        name = parts[0]
        if name == "contact_points" and len(parts) > 1 and parts[1].isdigit():
            index = int(parts[1])
            name = prepared.points[index][0] if index < len(prepared.points) else "phone"
        elif name == "custom_fields" and len(parts) > 1:
            name = f"cf.{parts[1]}"
        elif name.startswith("addresses"):
            name = "city"
        result.append({"column": prepared.columns.get(name, name),
                       "value": prepared.values.get(name, ""), "message": str(message)})  # fmt: skip
    return result


def _company(prepared: Prepared, ctx: Context, by: User) -> Account | None:
    """The account a contact's company names: found by name (visible to the importer),
    else created."""
    name = prepared.company
    if not name:
        return None
    if name in ctx.accounts:
        return Account.objects.for_workspace(ctx.job.workspace_id).get(pk=ctx.accounts[name])
    account = (
        Account.objects.visible_to(ctx.membership, "view").filter(name=name).order_by("pk").first()
    ) or services.create_account(workspace=ctx.workspace, by=by, name=name, owner=prepared.owner)
    ctx.accounts[name] = account.pk
    return account


def _create(prepared: Prepared, ctx: Context, by: User) -> Any:
    common = {
        "workspace": ctx.workspace, "by": by, "owner": prepared.owner, "tags": prepared.tags,
        "custom_fields": prepared.custom or None,
        "contact_points": [point for _name, point in prepared.points],
        "addresses": [prepared.address] if prepared.address else [],
        **{k: v for k, v in prepared.fields.items() if v not in (None, "")},
    }  # fmt: skip
    if ctx.job.kind == "contacts":
        full_name = common.pop("full_name", "")
        return services.create_contact(
            full_name=full_name, account=_company(prepared, ctx, by), title=prepared.title, **common
        )
    return services.create_account(**common)


def _update(record: Any, prepared: Prepared, ctx: Context, by: User) -> dict[str, Any]:
    """Fill and change the matching record from the row; returns what it replaced."""
    changes = {k: v for k, v in prepared.fields.items() if v not in (None, "")}
    if record.external_id:
        changes.pop("external_id", None)
    if ctx.job.kind == "contacts" and "full_name" in changes:
        family, given = normalize.split_full_name(changes.pop("full_name"))
        changes.setdefault("family_name", family)
        changes.setdefault("given_name", given)
    before: dict[str, Any] = {}
    for name, value in list(changes.items()):
        current = getattr(record, name, None)
        if name == "lifecycle_stage":
            current = record.lifecycle_stage.key if record.lifecycle_stage_id else None
        if current == value or (current in (None, "") and value in (None, "")):
            changes.pop(name)
            continue
        before[name] = current.isoformat() if isinstance(current, date) else current
    if prepared.owner is not None and prepared.owner.pk != record.owner_id:
        before["owner"] = record.owner_id
        changes["owner"] = prepared.owner
    if prepared.custom:
        before["custom_fields"] = dict(record.custom_fields)
        changes["custom_fields"] = prepared.custom
    update = services.update_contact if ctx.job.kind == "contacts" else services.update_account
    if changes:
        key = "contact" if ctx.job.kind == "contacts" else "account"
        update(**{key: record}, by=by, expected_version=record.version, **changes)
    added_points = []
    existing = {(p.kind, p.match_key) for p in ContactPoint.objects.for_workspace(ctx.job.workspace_id)
                .filter(**{"contact" if ctx.job.kind == "contacts" else "account": record})}  # fmt: skip
    for _name, point, _value, key, _digits in prepared.normalized_points:
        if (point.kind, key) not in existing:
            added = services.add_contact_point(customer=record, point=point, by=by)
            added_points.append(added.pk)
            existing.add((point.kind, key))
    if added_points:
        before["_added_points"] = added_points
    if prepared.tags:
        have = {t.name for t in record.tags.all()}
        new = [t for t in prepared.tags if t not in have]
        if new:
            record.tags.add(*services.get_or_create_tags(workspace=ctx.workspace, names=new, by=by))
            before["_added_tags"] = new
    return before


# --- running ----------------------------------------------------------------------------------
@dataclass
class Outcome:
    outcome: str
    record_id: int | None = None
    matched_id: int | None = None
    errors: list[dict[str, str]] = field(default_factory=list)
    before: dict[str, Any] = field(default_factory=dict)


def process(row: dict[str, str] | readers.RowProblem, ctx: Context, by: User) -> Outcome:
    """Bring one row in (inside the caller's transaction; a failing row rolls back alone)."""
    if isinstance(row, readers.RowProblem):
        return Outcome("error", errors=[{"column": "", "value": "", "message": str(row)}])
    prepared = prepare(row, ctx)
    if prepared.errors:
        return Outcome("error", errors=prepared.errors)
    match = find_match(prepared, ctx)
    policy = ctx.job.policy
    if match is not None and policy == ImportJob.Policy.SKIP:
        return Outcome("skipped", matched_id=match.pk)
    if match is not None and policy == ImportJob.Policy.REVIEW:
        return Outcome("review", matched_id=match.pk)
    if match is None or policy == ImportJob.Policy.CREATE:
        missing = _missing_name(prepared, ctx.job.kind)
        if missing:
            return Outcome("error", errors=missing)
    try:
        with transaction.atomic():
            if match is not None and policy == ImportJob.Policy.UPDATE:
                before = _update(match, prepared, ctx, by)
                return Outcome("updated", record_id=match.pk, matched_id=match.pk, before=before)
            record = _create(prepared, ctx, by)
            return Outcome("created", record_id=record.pk, matched_id=match.pk if match else None)
    except GuanxiError as exc:
        return Outcome("error", errors=_service_errors(exc, prepared))


def _missing_name(prepared: Prepared, kind: str) -> list[dict[str, str]]:
    """A new record needs a name (an update of a matched one does not)."""
    names = ("full_name", "family_name", "given_name") if kind == "contacts" else ("name",)
    if any(prepared.values.get(name) for name in names):
        return []
    column = next((prepared.columns[n] for n in names if n in prepared.columns), names[0])
    message = _("a contact needs a name") if kind == "contacts" else _("an account needs a name")
    return [{"column": column, "value": "", "message": message}]


@dataclass
class Plan:
    """A batch worked out before anything of it is written: each row's outcome as far as it
    is known, the new rows (``batch``), the rows left for the services (``slow``), and the
    match keys of the records it creates, which the next batch must see before this one is
    committed."""

    chunk: list
    outcomes: dict[int, Outcome]
    batch: bulk.Batch | None = None
    slow: list[int] = field(default_factory=list)
    keys: dict[tuple[str, str], int] = field(default_factory=dict)
    # a registered kind's writes, done in the batch's transaction; the next batch is
    # worked out after they are committed
    write: Callable[[], None] | None = None


def process_batch(chunk: list, ctx: Context, by: User) -> list[tuple[int, Any, Outcome]]:
    """A batch of rows, worked out and written; outcomes in file order."""
    return apply_batch(plan_batch(chunk, ctx, by), ctx, by, ctx.writer)


def apply_batch(
    plan: Plan, ctx: Context, by: User, writer: Writer
) -> list[tuple[int, Any, Outcome]]:
    """Write a planned batch (inside the caller's transaction): the new rows together, then
    the rest one by one through the services, which so see the rows just written."""
    if plan.batch is not None:
        plan.batch.flush(writer)
    if plan.write is not None:
        plan.write()
    rows = dict(plan.chunk)
    for line in plan.slow:
        plan.outcomes[line] = process(rows[line], ctx, by)
    return [(line, row, plan.outcomes[line]) for line, row in plan.chunk]


def sort_rows(chunk: list, ctx: Context, prepare_row: Callable[[dict, Context], Any]
              ) -> tuple[dict[int, Outcome], dict[int, Any]]:  # fmt: skip
    """A batch's rows prepared: the ones with errors as error outcomes, the others ready."""
    outcomes: dict[int, Outcome] = {}
    prepared: dict[int, Any] = {}
    for line, row in chunk:
        if isinstance(row, readers.RowProblem):
            outcomes[line] = Outcome(
                "error", errors=[{"column": "", "value": "", "message": str(row)}]
            )
            continue
        item = prepare_row(row, ctx)
        if item.errors:
            outcomes[line] = Outcome("error", errors=item.errors)
        else:
            prepared[line] = item
    return outcomes, prepared


def plan_batch(
    chunk: list, ctx: Context, by: User, inflight: dict[tuple[str, str], int] | None = None
) -> Plan:
    """Work a batch out. What its external ids and contact points match is asked in one
    query per kind of key (``inflight``: the keys of the batch written meanwhile). New
    customers — no match in the workspace nor earlier in the file — become rows to write
    together (``bulk``); a row matching one of them or an existing customer is skipped or
    set aside at once (``skip``, ``review``). The rest — updates, ``create`` despite a match,
    a phone some account holds — are left for the services."""
    if ctx.job.kind == "interactions":
        return interactions.plan_batch(chunk, ctx, by, inflight or {})
    if ctx.job.kind in KINDS:
        return KINDS[ctx.job.kind].plan_batch(chunk, ctx, by, inflight or {})
    outcomes, prepared = sort_rows(chunk, ctx, prepare)
    found = bulk.existing_keys(prepared.values(), ctx)
    for key, pk in (inflight or {}).items():
        found.setdefault(key, pk)
    policy = ctx.job.policy
    new: list[Prepared] = []
    new_lines: list[int] = []
    created_keys: dict[tuple[str, str], int] = {}  # key -> index in ``new``
    matched_new: list[tuple[int, int]] = []  # (line, index in ``new``)
    slow: list[int] = []
    slow_keys: set[tuple[str, str]] = set()
    for line, item in prepared.items():
        keys = item.ordered_keys
        if slow_keys.intersection(keys):
            slow.append(line)
            slow_keys.update(keys)
            continue
        match, index = _batch_match(keys, found, created_keys)
        if (match or index is not None) and policy in (
            ImportJob.Policy.SKIP,
            ImportJob.Policy.REVIEW,
        ):
            outcome = "skipped" if policy == ImportJob.Policy.SKIP else "review"
            outcomes[line] = Outcome(outcome, matched_id=match)
            if index is not None:
                matched_new.append((line, index))
        elif match or index is not None or any(key in found for key in keys):
            slow.append(line)
            slow_keys.update(keys)
        elif missing := _missing_name(item, ctx.job.kind):
            outcomes[line] = Outcome("error", errors=missing)
        else:
            for key in keys:
                created_keys.setdefault(key, len(new))
            new.append(item)
            new_lines.append(line)
    ids, batch = bulk.create_customers(new, ctx, by) if new else ([], None)
    for line, record_id in zip(new_lines, ids, strict=True):
        outcomes[line] = Outcome("created", record_id=record_id)
    for line, index in matched_new:
        outcomes[line].matched_id = ids[index]
    keys = {key: ids[index] for key, index in created_keys.items()}
    return Plan(chunk=chunk, outcomes=outcomes, batch=batch, slow=slow, keys=keys)


def _batch_match(
    keys: list[tuple[str, str]], found: dict[tuple[str, str], int],
    created: dict[tuple[str, str], int],
) -> tuple[int | None, int | None]:  # fmt: skip
    """(existing customer id, or index of a customer new in this batch) the row matches,
    by the rule of ``find_match``: external id first, then contact points in order."""
    for key in keys:
        if found.get(key):
            return found[key], None
        if key in created:
            return None, created[key]
    return None, None


Progress = Callable[[ImportJob, float], None]


def _membership(job: ImportJob) -> Membership:
    membership = (
        Membership.objects.for_workspace(job.workspace_id)
        .select_related("user", "role", "workspace", "team")
        .filter(user_id=job.created_by_id, is_active=True)
        .first()
    )
    if membership is None:
        raise ValidationFailed(
            [("job", _("the user who started this import is no longer a member"))]
        )
    return membership


def dry_run(job: ImportJob) -> dict[str, Any]:
    """What running the job would do, without keeping anything: every row goes through the
    same steps inside one transaction that is rolled back at the end."""
    membership = _membership(job)
    counts: Counter[str] = Counter()
    sample: list[dict[str, Any]] = []
    with acting_in(membership.workspace, membership), transaction.atomic():
        ctx = Context(job, membership)
        rows = readers.rows(Path(job.file_path), file_info(job))
        while chunk := _take(rows, BATCH):
            for line, _row, result in process_batch(chunk, ctx, membership.user):
                counts["total"] += 1
                counts[result.outcome] += 1
                if result.matched_id is not None:
                    counts["duplicates"] += 1
                if result.errors and len(sample) < ERROR_SAMPLE:
                    sample.extend({"line": line, **e} for e in result.errors)
        transaction.set_rollback(True)
    job.dry_run_counts = {**_count_dict(counts), "errors_sample": sample[:ERROR_SAMPLE]}
    job.total_rows = counts["total"]
    if job.status == ImportJob.Status.UPLOADED:
        job.status = ImportJob.Status.CHECKED
    job.save(update_fields=["dry_run_counts", "total_rows", "status", "updated_at"])
    return job.dry_run_counts


def _count_dict(counts: Counter[str]) -> dict[str, int]:
    names = ("total", "created", "updated", "skipped", "review", "error", "duplicates")
    result = {name: counts.get(name, 0) for name in names}
    result["errors"] = result.pop("error")
    return result


def run(job: ImportJob, *, progress: Progress | None = None, batch: int = BATCH,
        stop_after: int | None = None) -> ImportJob:  # fmt: skip
    """Bring the file in from the job's checkpoint on; ``stop_after`` (tests) ends after
    that many batches as a crash would, leaving the job resumable.

    On PostgreSQL, outside a transaction, batches are pipelined: while one is written and
    committed on a second connection (a thread: the database works, this process waits),
    the next is read and worked out here. Batches still commit one after the other, each
    with its checkpoint."""
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.UNDONE):
        return job
    membership = _membership(job)
    info = file_info(job)
    if job.total_rows is None:
        job.total_rows = readers.count_rows(Path(job.file_path), info)
    job.status = ImportJob.Status.RUNNING
    job.started_at = job.started_at or timezone.now()
    job.error = ""
    job.save(update_fields=["status", "started_at", "total_rows", "error", "updated_at"])
    counts = Counter(job.counts or {})
    began, done_here = time.monotonic(), 0
    pipelined = connection.vendor == "postgresql" and not connection.in_atomic_block
    with acting_in(membership.workspace, membership), _Committer(pipelined) as committer:
        ctx = Context(job, membership)
        rows = readers.rows(Path(job.file_path), info, start_after=job.checkpoint)
        batches = 0
        inflight: dict[tuple[str, str], int] = {}

        def done(size: int) -> None:
            nonlocal done_here
            done_here += size
            if progress is not None:
                progress(job, done_here / max(time.monotonic() - began, 1e-9))

        try:
            while chunk := _take(rows, batch):
                plan = plan_batch(chunk, ctx, membership.user, inflight)
                for size in committer.wait():
                    done(size)
                inflight = plan.keys
                committer.submit(_commit_batch, plan, ctx, membership.user, counts, len(chunk))
                if (
                    plan.slow or plan.write
                ):  # the services' writes are seen by the next batch's queries
                    for size in committer.wait():
                        done(size)
                batches += 1
                if stop_after is not None and batches >= stop_after:
                    for size in committer.wait():
                        done(size)
                    return job
            for size in committer.wait():
                done(size)
        except (readers.FileProblem, OSError) as exc:
            committer.wait()
            job.status, job.error = ImportJob.Status.FAILED, str(exc)
            job.save(update_fields=["status", "error", "updated_at"])
            return job
    job.status, job.finished_at = ImportJob.Status.DONE, timezone.now()
    job.save(update_fields=["status", "finished_at", "updated_at"])
    record_audit(action="import.done", actor=membership.user, workspace=membership.workspace,
                 obj=job, data=job.counts)  # fmt: skip
    return job


def _commit_batch(plan: Plan, ctx: Context, by: User, counts: Counter[str], size: int) -> int:
    """Write a planned batch, its row records and the job's checkpoint in one transaction."""
    job = ctx.job
    writer = _writer()
    with transaction.atomic():
        if writer.vendor == "postgresql":
            # The batch and its checkpoint are one transaction: should the server stop
            # before the commit reached the disk, both are gone together and a resume does
            # the batch again — so the commit need not wait for the disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        records = []
        for line, row, result in apply_batch(plan, ctx, by, writer):
            counts["total"] += 1
            counts[result.outcome] += 1
            if result.matched_id is not None:
                counts["duplicates"] += 1
            if result.outcome != "skipped":
                keep = result.outcome in ("error", "review") and isinstance(row, dict)
                records.append((line, result.outcome, result.record_id, result.matched_id,
                                row if keep else {}, result.errors, result.before))  # fmt: skip
        bulk.write_import_rows(writer, job.pk, records)
        job.checkpoint = plan.chunk[-1][0]
        job.counts = _count_dict(counts)
        ImportJob.objects.filter(pk=job.pk).update(
            checkpoint=job.checkpoint, counts=job.counts, updated_at=timezone.now()
        )
    return size


_local = threading.local()


def _writer() -> Writer:
    """The writer of this thread's database connection."""
    if getattr(_local, "writer", None) is None or _local.writer.raw is not connection.connection:
        _local.writer = Writer()
    return _local.writer


class _Committer:
    """Runs batch commits one at a time, on a thread of their own when pipelined (at most
    one waiting while the next batch is worked out), else at once."""

    def __init__(self, pipelined: bool) -> None:
        self.executor = ThreadPoolExecutor(max_workers=1) if pipelined else None
        self.pending: Future | None = None
        self.finished: list[int] = []

    def __enter__(self) -> _Committer:
        return self

    def submit(self, fn: Callable[..., int], *args: Any) -> None:
        if self.executor is None:
            self.finished.append(fn(*args))
        else:
            self.pending = self.executor.submit(contextvars.copy_context().run, fn, *args)

    def wait(self) -> list[int]:
        """Sizes of the batches committed since the last call (raises what a commit raised)."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self.finished.append(pending.result())
        finished, self.finished = self.finished, []
        return finished

    def __exit__(self, *exc_info: Any) -> None:
        if self.executor is None:
            return
        try:
            if self.pending is not None:
                concurrent.futures.wait([self.pending])
            self.executor.submit(lambda: connection.close()).result()  # the thread's own
        finally:
            self.executor.shutdown()


def _take(rows: Iterator, size: int) -> list:
    chunk = []
    for item in rows:
        chunk.append(item)
        if len(chunk) >= size:
            break
    return chunk


# --- undo -------------------------------------------------------------------------------------
@transaction.atomic
def undo(job: ImportJob, *, by: User) -> dict[str, int]:
    """Remove what the import created (with its contact points, addresses and account
    links) and put back what it changed: the fields' earlier values, the contact points and
    tags it added taken off again."""
    if job.status == ImportJob.Status.UNDONE:
        raise ValidationFailed([("status", _("this import has been undone already"))])
    if job.status in (ImportJob.Status.RUNNING, ImportJob.Status.QUEUED):
        raise ValidationFailed([("status", _("wait until the import has stopped"))])
    if job.kind in KINDS:
        return _undone(job, by, KINDS[job.kind].undo(job, by))
    model = MODELS[job.kind]
    rows = ImportRow.objects.filter(job=job)
    created = list(rows.filter(outcome="created").values_list("record_id", flat=True))
    if model is Interaction:
        interactions.undo(job, created)
        return _undone(job, by, {"removed": len(created), "restored": 0})
    holder = "contact" if model is Contact else "account"
    now = timezone.now()
    for start in range(0, len(created), 1000):
        ids = created[start : start + 1000]
        ContactPoint.objects.for_workspace(job.workspace_id).filter(
            **{f"{holder}_id__in": ids}
        ).update(deleted_at=now, deleted_by=by)
        Address.objects.for_workspace(job.workspace_id).filter(**{f"{holder}_id__in": ids}).update(
            deleted_at=now, deleted_by=by
        )
        if model is Contact:
            AccountContact.objects.for_workspace(job.workspace_id).filter(
                contact_id__in=ids
            ).update(deleted_at=now, deleted_by=by)
        model.objects.for_workspace(job.workspace_id).filter(pk__in=ids).update(
            deleted_at=now, deleted_by=by
        )
    restored = 0
    for row in rows.filter(outcome="updated").iterator():
        record = model.objects.for_workspace(job.workspace_id).filter(pk=row.record_id).first()
        if record is None:
            continue
        before = dict(row.before)
        points = before.pop("_added_points", [])
        tags = before.pop("_added_tags", [])
        ContactPoint.objects.for_workspace(job.workspace_id).filter(pk__in=points).update(
            deleted_at=now, deleted_by=by
        )
        if tags:
            record.tags.remove(*Tag.objects.for_workspace(job.workspace_id).filter(name__in=tags))
        if "owner" in before:
            record.owner_id = before.pop("owner")
        if "lifecycle_stage" in before:
            key = before.pop("lifecycle_stage")
            record.lifecycle_stage = (
                LifecycleStage.objects.for_workspace(job.workspace_id).filter(key=key).first()
                if key
                else None
            )
        for name, value in before.items():
            setattr(record, name, value)
        record.version += 1
        record.save()
        restored += 1
    return _undone(job, by, {"removed": len(created), "restored": restored})


def _undone(job: ImportJob, by: User, result: dict[str, int]) -> dict[str, int]:
    job.status = ImportJob.Status.UNDONE
    job.save(update_fields=["status", "updated_at"])
    record_audit(action="import.undone", actor=by, workspace=job.workspace, obj=job, data=result)
    return result


# --- the error report -------------------------------------------------------------------------
def error_report(job: ImportJob, fmt: str = "csv") -> tuple[list[str], Iterator[list[str]]]:
    """The rows that failed, as they were in the file plus a column saying what is wrong
    and where: fix them and import the report again."""
    header = [*job.columns, _("line"), _("errors")]

    def rows() -> Iterator[list[str]]:
        failed = ImportRow.objects.filter(job=job, outcome="error").order_by("line")
        for row in failed.iterator(chunk_size=2000):
            problems = "; ".join(
                f"{e['column']}: {e['message']}" if e.get("column") else e["message"]
                for e in row.errors
            )
            yield [*(row.data.get(c, "") for c in job.columns), str(row.line), problems]

    return header, rows()

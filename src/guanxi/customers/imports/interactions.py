"""Imports of interactions — a call log, an e-mail archive, exported WeChat messages — onto
the timelines of existing contacts, through the same engine as contacts: readers, mapping,
dry run, batches with their checkpoint, undo, error report.

A row names its contact by external id, phone or e-mail (normalized as the customer master
stores them), among the contacts the importer can see; it carries channel, direction, when
(in the workspace's time zone unless the cell says otherwise), subject and content. An
interaction's own external id makes re-imports idempotent: the same channel and external id
is stored once (``timeline.services.record_interaction``'s rule), later rows are skipped.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers import normalize
from guanxi.customers.imports import bulk
from guanxi.customers.imports import mapping as mappings
from guanxi.customers.models import AccountContact, Contact, ContactPoint
from guanxi.platform.models import User
from guanxi.timeline.models import Channel, Interaction

if TYPE_CHECKING:
    from guanxi.customers.imports.engine import Context, Plan

# what people write in a channel column, English and Chinese
CHANNELS = {
    **{c.value: c.value for c in Channel},
    "call": "phone", "telephone": "phone", "tel": "phone", "电话": "phone", "電話": "phone",
    "通话": "phone", "来电": "phone", "去电": "phone", "e-mail": "email", "mail": "email",
    "邮件": "email", "邮箱": "email", "电子邮件": "email", "短信": "sms", "text": "sms",
    "微信": "wechat", "weixin": "wechat", "聊天": "chat", "在线客服": "chat", "im": "chat",
    "webform": "web_form", "form": "web_form", "表单": "web_form", "网页表单": "web_form",
    "拜访": "visit", "上门": "visit", "走访": "visit", "会议": "meeting", "会面": "meeting",
    "信函": "letter", "信件": "letter", "传真": "fax", "social media": "social",
    "社交媒体": "social", "微博": "social", "面谈": "in_person", "in person": "in_person",
    "当面": "in_person", "系统": "system",
}  # fmt: skip
DIRECTIONS = {
    "inbound": "inbound", "in": "inbound", "incoming": "inbound", "received": "inbound",
    "呼入": "inbound", "来电": "inbound", "进": "inbound", "入": "inbound", "收到": "inbound",
    "客户发起": "inbound", "outbound": "outbound", "out": "outbound", "outgoing": "outbound",
    "sent": "outbound", "呼出": "outbound", "去电": "outbound", "出": "outbound",
    "发出": "outbound", "我方发起": "outbound", "internal": "internal", "内部": "internal",
}  # fmt: skip
DATETIME_FORMATS = (
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d %H:%M",
    "%Y.%m.%d", "%Y年%m月%d日 %H:%M:%S", "%Y年%m月%d日 %H:%M", "%Y年%m月%d日%H:%M:%S",
    "%Y年%m月%d日%H:%M", "%Y年%m月%d日 %H时%M分%S秒", "%Y年%m月%d日 %H时%M分",
    "%Y年%m月%d日%H时%M分%S秒", "%Y年%m月%d日%H时%M分", "%Y年%m月%d日", "%d/%m/%Y %H:%M:%S",
    "%d/%m/%Y %H:%M", "%d/%m/%Y", "%m/%d/%Y %I:%M:%S %p", "%m/%d/%Y %I:%M %p",
    "%m/%d/%Y %H:%M", "%m/%d/%Y", "%Y-%m-%d %I:%M %p", "%Y/%m/%d %I:%M %p", "%Y%m%d%H%M%S",
    "%Y%m%d %H:%M", "%Y%m%d", "%d.%m.%Y %H:%M", "%d.%m.%Y",
)  # fmt: skip
_EPOCH = re.compile(r"\d{10}(?:\d{3})?")
CONTACT_REFS = (("contact_external_id", "external_id"), ("phone", "phone"), ("email", "email"))


def workspace_zone(ctx: Context) -> ZoneInfo:
    try:
        return ZoneInfo(ctx.workspace.time_zone or settings.TIME_ZONE)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(settings.TIME_ZONE)


def parse_datetime(text: str, zone: ZoneInfo) -> datetime | None:
    """A moment from what spreadsheets and systems write: ISO 8601 (with or without its
    offset), 2024/3/15 14:30, 2024年3月15日 14时30分, 15/03/2024 14:30, 03/15/2024 2:30 PM,
    20240315143000, Unix seconds or milliseconds. Without an offset, in ``zone``."""
    value = " ".join(unicodedata.normalize("NFKC", text).split())
    if not value:
        return None
    if _EPOCH.fullmatch(value):
        seconds = int(value) / (1000 if len(value) == 13 else 1)
        return datetime.fromtimestamp(seconds, UTC)
    moment = None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        for fmt in DATETIME_FORMATS:
            try:
                moment = datetime.strptime(value.upper() if "%p" in fmt else value, fmt)
                break
            except ValueError:
                continue
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return moment


@dataclass
class PreparedInteraction(mappings.MappedRow):
    """A row as a timeline entry; ``refs`` name its contact, in the order they are tried."""

    fields: dict[str, Any] = field(default_factory=dict)
    refs: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, key, field)


def prepare(row: dict[str, str], ctx: Context) -> PreparedInteraction:
    """Mapped and checked cells of a row; every problem is reported, not only the first."""
    result = PreparedInteraction()
    values = result.read(row, ctx)
    error = result.error

    for name, kind in CONTACT_REFS:
        value = values.get(name)
        if not value:
            continue
        if kind == "external_id":
            result.refs.append((kind, value, name))
            continue
        try:
            _normalized, key, _digits = bulk.normalize_point(kind, value, ctx.region)
        except normalize.InvalidContactValue as exc:
            error(name, exc.reason)
            continue
        result.refs.append((kind, key, name))
    if not result.refs and not result.errors:
        column = next((result.columns[n] for n, _k in CONTACT_REFS if n in result.columns), "")
        result.errors.append({"column": column, "value": "",
                              "message": _("say whose interaction it is: the contact's "
                                           "external id, phone or e-mail")})  # fmt: skip
    fields = result.fields
    channel = values.get("channel", "")
    fields["channel"] = CHANNELS.get(channel.casefold())
    if fields["channel"] is None:
        error("channel", _("one of %(channels)s (or 电话, 邮件, 微信, 短信, 拜访, 会议…)")
              % {"channels": ", ".join(Channel.values)} if channel else _("give the channel"))  # fmt: skip
    direction = values.get("direction", "")
    fields["direction"] = DIRECTIONS.get(direction.casefold())
    if fields["direction"] is None:
        error("direction", _("write inbound, outbound or internal (呼入/呼出/内部)")
              if direction else _("give the direction: inbound, outbound or internal"))  # fmt: skip
    when = values.get("occurred_at", "")
    moment = parse_datetime(when, ctx.zone) if when else None
    if moment is None:
        error("occurred_at", _("not a date and time (write it as 2024-03-15 14:30)")
              if when else _("say when it happened"))  # fmt: skip
    elif moment > timezone.now() + timedelta(days=1):
        error("occurred_at", _("must not be in the future"))
    fields["occurred_at"] = moment
    fields["subject"] = values.get("subject", "")[:300]
    fields["body"] = values.get("body", "")
    fields["reference"] = values.get("reference", "")[:500]
    external_id = values.get("external_id", "")
    if len(external_id) > 200:
        error("external_id", _("at most 200 characters"))
    fields["external_id"] = external_id
    fields["actor"] = None
    if values.get("actor"):
        fields["actor"] = ctx.owner(values["actor"])
        if fields["actor"] is None:
            error(
                "actor", _("no active user %(name)r in this workspace") % {"name": values["actor"]}
            )
    return result


def _contacts(items: list[PreparedInteraction], ctx: Context) -> dict[tuple[str, str], int]:
    """Each reference of the batch that names a contact the importer can see: that contact
    (the oldest point's holder when several share a phone or e-mail)."""
    wanted: dict[str, set[str]] = {}
    for item in items:
        for kind, key, _name in item.refs:
            wanted.setdefault(kind, set()).add(key)
    candidates: dict[tuple[str, str], list[int]] = {}
    if wanted.get("external_id"):
        rows = (
            Contact.objects.for_workspace(ctx.job.workspace_id)
            .filter(external_id__in=wanted["external_id"])
            .exclude(external_id="")  # the unique index's condition
            .values_list("external_id", "pk")
        )
        for external_id, pk in rows:
            candidates[("external_id", external_id)] = [pk]
    for kind in ("phone", "email"):
        if not wanted.get(kind):
            continue
        points = (
            ContactPoint.objects.for_workspace(ctx.job.workspace_id)
            .filter(kind=kind, match_key__in=wanted[kind], contact__isnull=False)
            .order_by("pk")
            .values_list("match_key", "contact_id")
        )
        for key, contact_id in points:
            candidates.setdefault((kind, key), []).append(contact_id)
    ids = {pk for pks in candidates.values() for pk in pks}
    visible = set(
        Contact.objects.visible_to(ctx.membership, "view")
        .filter(pk__in=ids)
        .values_list("pk", flat=True)
    )
    result = {}
    for ref, pks in candidates.items():
        seen = next((pk for pk in pks if pk in visible), None)
        if seen is not None:
            result[ref] = seen
    return result


def _primary_accounts(contact_ids: set[int], ctx: Context) -> dict[int, int]:
    """The account a timeline entry of each contact also belongs to, as
    ``record_interaction`` finds it: the contact's primary, not deleted."""
    links = (
        AccountContact.objects.for_workspace(ctx.job.workspace_id)
        .filter(contact_id__in=contact_ids, is_primary=True, account__deleted_at__isnull=True)
        .order_by("pk")
        .values_list("contact_id", "account_id")
    )
    result: dict[int, int] = {}
    for contact_id, account_id in links:
        result.setdefault(contact_id, account_id)
    return result


def _stored(items: list[PreparedInteraction], ctx: Context) -> dict[tuple[str, str], int]:
    """(channel, external id) of the batch already on a timeline of the workspace — deleted
    ones included, as the unique constraint counts them."""
    external = {i.fields["external_id"] for i in items if i.fields["external_id"]}
    if not external:
        return {}
    rows = (
        Interaction.objects.for_workspace(ctx.job.workspace_id, include_deleted=True)
        .filter(external_id__in=external)
        .exclude(external_id="")
        .values_list("channel", "external_id", "pk")
    )
    return {(channel, external_id): pk for channel, external_id, pk in rows}


def plan_batch(chunk: list, ctx: Context, by: User, inflight: dict[tuple[str, str], int]) -> Plan:
    """A batch of interaction rows worked out: contacts, accounts and stored external ids
    looked up in a few queries for the whole batch (``inflight``: the channel events of the
    batch being written meanwhile), the new entries as rows to write together."""
    from guanxi.customers.imports.engine import Outcome, Plan, sort_rows

    outcomes, prepared = sort_rows(chunk, ctx, prepare)
    contacts = _contacts(list(prepared.values()), ctx)
    stored = {**inflight, **_stored(list(prepared.values()), ctx)}
    new: list[tuple[int, PreparedInteraction, int]] = []
    new_keys: dict[tuple[str, str], int] = {}  # (channel, external id) -> index in ``new``
    repeats: list[tuple[int, int]] = []  # (line, index in ``new``)
    for line, item in prepared.items():
        contact_id = next(
            (contacts[(k, key)] for k, key, _n in item.refs if (k, key) in contacts), None
        )
        if contact_id is None:
            kind, key, name = item.refs[0]
            shown = item.values.get(name, key)
            outcomes[line] = Outcome("error", errors=[{
                "column": item.columns.get(name, name), "value": shown,
                "message": _("no contact you can see has %(what)s %(value)r")
                % {"what": {"external_id": _("external id"), "phone": _("phone"),
                            "email": _("e-mail")}[kind], "value": shown},
            }])  # fmt: skip
            continue
        event = (item.fields["channel"], item.fields["external_id"])
        if event[1] and event in stored:
            outcomes[line] = Outcome("skipped", matched_id=stored[event])
            continue
        if event[1] and event in new_keys:
            outcomes[line] = Outcome("skipped")
            repeats.append((line, new_keys[event]))
            continue
        if event[1]:
            new_keys[event] = len(new)
        new.append((line, item, contact_id))
    ids, batch = _rows(new, ctx, by) if new else ([], None)
    for (line, _item, _contact), pk in zip(new, ids, strict=True):
        outcomes[line] = Outcome("created", record_id=pk)
    for line, index in repeats:
        outcomes[line].matched_id = ids[index]
    keys = {event: ids[index] for event, index in new_keys.items()}
    return Plan(chunk=chunk, outcomes=outcomes, batch=batch, keys=keys)


def _rows(
    new: list[tuple[int, PreparedInteraction, int]], ctx: Context, by: User
) -> tuple[list[int], bulk.Batch]:
    accounts = _primary_accounts({contact for _l, _i, contact in new}, ctx)
    batch = bulk.Batch(writer=ctx.writer, by=by.pk)
    ids = batch.ids(Interaction, len(new))
    for pk, (_line, item, contact_id) in zip(ids, new, strict=True):
        f = item.fields
        batch.add(
            Interaction, workspace_id=ctx.job.workspace_id, id=pk, channel=f["channel"],
            direction=f["direction"], occurred_at=ctx.writer.timestamp(f["occurred_at"]),
            actor_id=(f["actor"] or by).pk, contact_id=contact_id,
            account_id=accounts.get(contact_id), subject=f["subject"].strip(), body=f["body"],
            reference=f["reference"].strip(), external_id=f["external_id"].strip(),
        )  # fmt: skip
    return ids, batch


def undo(job: Any, created: list[int]) -> None:
    """Take the interactions the import created off the timelines — deleted for good, so
    that the same file, with the same external ids, can come in again."""
    for start in range(0, len(created), 1000):
        Interaction.objects.for_workspace(job.workspace_id, include_deleted=True).filter(
            pk__in=created[start : start + 1000]
        ).delete()

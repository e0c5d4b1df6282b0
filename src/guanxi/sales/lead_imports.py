"""Imports of leads through the customers' import engine (readers, mapping, dry run,
batches with their checkpoint, undo, error report), registered as the kind ``leads``: a
trade show's visitor list, a purchased list, a partner's referrals, or business cards — a
vCard file from a phone's card scanner (one card or many) reads like any other file.

Every lead is created through ``leads.create_lead``, so it is scored, routed by the
assignment rules and given its follow-up time like a lead from the web form. A row names a
lead already reported when its external id matches, or its phone or e-mail matches a lead
still open (or one created earlier in the same file): such a row is skipped (``skip``,
``review``), fills and changes that lead (``update``), or becomes a second lead
(``create``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from guanxi.customers import normalize
from guanxi.customers.imports import engine, tasks
from guanxi.customers.imports import mapping as mappings
from guanxi.customers.models import ImportJob, ImportRow
from guanxi.platform.customfields import clean_custom_values
from guanxi.platform.errors import GuanxiError, ValidationFailed
from guanxi.platform.models import Membership, User
from guanxi.platform.visibility import can
from guanxi.sales import leads
from guanxi.sales.models import Lead

FIELDS = {
    "full_name": gettext_lazy("Full name"), "family_name": gettext_lazy("Family name"),
    "given_name": gettext_lazy("Given name"), "title": gettext_lazy("Job title"),
    "company": gettext_lazy("Company"), "industry": gettext_lazy("Industry"),
    "phone": gettext_lazy("Phone"),
    "phone2": gettext_lazy("Second phone (kept in the message)"),
    "email": gettext_lazy("E-mail"),
    "email2": gettext_lazy("Second e-mail (kept in the message)"),
    "website": gettext_lazy("Website"), "country": gettext_lazy("Country"),
    "region": gettext_lazy("Province/state"), "city": gettext_lazy("City"),
    "language": gettext_lazy("Language"),
    "product_interest": gettext_lazy("Product interest"),
    "message": gettext_lazy("Message or notes"), "source": gettext_lazy("Source"),
    "source_detail": gettext_lazy("Source detail (campaign, trade show, partner)"),
    "external_id": gettext_lazy("External id"),
    "consent": gettext_lazy("Consent to be contacted (yes/no)"),
    "status": gettext_lazy("Status"), "owner": gettext_lazy("Owner (username)"),
}  # fmt: skip
SYNONYMS = {
    "website": ["website", "web", "url", "homepage", "网站", "网址", "主页", "官网"],
    "language": ["language", "preferredlanguage", "语言", "语种"],
    "product_interest": ["productinterest", "interest", "interestedin", "product", "products",
                         "意向产品", "感兴趣的产品", "意向", "产品", "需求产品"],
    "message": ["message", "note", "notes", "comment", "comments", "remarks", "description",
                "留言", "备注", "需求", "需求描述", "说明"],
    "source_detail": ["sourcedetail", "campaign", "event", "tradeshow", "exhibition",
                      "partner", "来源详情", "活动", "展会", "展会名称", "合作伙伴", "渠道"],
    "status": ["status", "leadstatus", "状态", "线索状态"],
    "consent": ["consent", "optin", "gdpr", "同意", "同意联系", "授权", "是否同意联系"],
    "external_id": ["id", "externalid", "leadid", "编号", "线索编号", "外部编号", "uid"],
    "owner": ["owner", "leadowner", "salesrep", "负责人", "所有人", "销售", "跟进人"],
    "phone2": ["officephone", "workphone", "businessphone", "phone2", "座机", "办公电话",
               "公司电话", "固定电话"],
}  # fmt: skip
SOURCES = {
    **{s.value: s.value for s in Lead.Source},
    **{str(s.label).casefold(): s.value for s in Lead.Source},
    "website": "web", "web form": "web", "网站": "web", "网页表单": "web", "官网": "web",
    "官网表单": "web", "表单": "web", "导入": "import", "名片": "business_card",
    "card": "business_card", "vcard": "business_card", "呼叫中心": "contact_center",
    "客服中心": "contact_center", "电话咨询": "contact_center", "call center": "contact_center",
    "合作伙伴": "partner", "渠道": "partner", "代理商": "partner", "经销商": "partner",
    "市场活动": "campaign", "活动": "campaign", "营销活动": "campaign", "展会": "trade_show",
    "展览会": "trade_show", "exhibition": "trade_show", "推荐": "referral",
    "转介绍": "referral", "介绍": "referral", "手工录入": "manual", "手动": "manual",
}  # fmt: skip
STATUSES = {
    **{s: s for s in ("new", "working", "nurturing", "qualified")},
    "新": "new", "新建": "new", "未处理": "new", "待跟进": "new", "跟进中": "working",
    "处理中": "working", "contacted": "working", "已联系": "working", "培育": "nurturing",
    "培育中": "nurturing", "合格": "qualified", "已确认": "qualified", "有效": "qualified",
}  # fmt: skip
YES = {"yes", "y", "true", "1", "x", "✓", "✔", "是", "同意", "已同意", "有", "对"}
NO = {"no", "n", "false", "0", "否", "不同意", "未同意", "无", "不"}
SNAPSHOT = (*leads.TEXT_FIELDS, "status", "source", "owner_id", "team_id")


def check_mapping(seen: set[str]) -> list[tuple[str, str]]:
    errors = []
    if not {"full_name", "family_name", "given_name", "company"} & seen:
        errors.append(("mapping", _("map a column to the lead's name or company")))
    if not {"phone", "phone2", "email", "email2"} & seen:
        errors.append(("mapping", _("map a column to a phone or an e-mail address")))
    return errors


@dataclass
class LeadRow(mappings.MappedRow):
    """A row as a lead: cleaned fields, how it is matched, what the services are given."""

    texts: dict[str, str] = field(default_factory=dict)
    full_name: str = ""
    source: str = Lead.Source.IMPORT
    status: str = ""
    consent: bool | None = None
    owner: User | None = None
    custom: dict[str, str] = field(default_factory=dict)

    def match_keys(self) -> list[tuple[str, str]]:
        """External id, phone (E.164), e-mail (lower-cased: mailboxes are in practice)."""
        return [(name, _key(name, self.texts[name])) for name in ("external_id", "phone", "email")
                if self.texts.get(name)]  # fmt: skip


def _key(name: str, value: str) -> str:
    return value.lower() if name == "email" else value


def prepare(row: dict[str, str], ctx: engine.Context) -> LeadRow:
    """Mapped and checked cells of a row; every problem is reported, not only the first."""
    result = LeadRow()
    values = result.read(row, ctx)
    error = result.error
    texts = {name: values[name] for name in leads.TEXT_FIELDS if values.get(name)}
    extra = []
    for name, second in (("phone", "phone2"), ("email", "email2")):
        if values.get(second):
            if texts.get(name):
                extra.append(f"{FIELDS[second].split(' (')[0]}: {values[second]}")
            else:
                texts[name] = values[second]
                result.columns[name] = result.columns.get(second, second)
                values.setdefault(name, values[second])
    if extra:
        texts["message"] = "\n".join(filter(None, [texts.get("message", ""), *extra]))
    result.full_name = values.get("full_name", "")
    cleaned, problems = leads.clean_lead_fields(
        texts, region=ctx.region, full_name=result.full_name
    )
    named = next((n for n in ("full_name", "family_name", "given_name", "company")
                  if n in result.columns), "full_name")  # fmt: skip
    for name, message in problems:
        error(named if name == "name" else name, message)
    result.texts = cleaned
    if values.get("source"):
        source = SOURCES.get(values["source"].casefold())
        if source is None:
            error("source", _("one of %(sources)s (or 展会, 名片, 合作伙伴, 推荐, 市场活动)")
                  % {"sources": ", ".join(Lead.Source.values)})  # fmt: skip
        else:
            result.source = source
    if values.get("status"):
        status = STATUSES.get(values["status"].casefold())
        if status is None:
            error("status", _("an imported lead is new, working, nurturing or qualified "
                              "(or 新, 跟进中, 培育中, 合格)"))  # fmt: skip
        else:
            result.status = status
    if values.get("consent"):
        answer = values["consent"].casefold()
        if answer not in YES | NO:
            error("consent", _("write yes or no (是 or 否)"))
        result.consent = answer in YES
    if values.get("owner"):
        result.owner = ctx.owner(values["owner"])
        if result.owner is None:
            error("owner", _("no active member has this username"))
    result.custom = {
        name.removeprefix("cf."): value for name, value in values.items() if name.startswith("cf.")
    }
    return result


def _existing(items: list[LeadRow], ctx: engine.Context) -> dict[tuple[str, str], Lead]:
    """The leads the batch's rows name: by external id (any lead), by phone or e-mail (an
    open lead), in three indexed lookups; the newest when several share a phone."""
    wanted: dict[str, set[str]] = {}
    for item in items:
        for name, value in item.match_keys():
            wanted.setdefault(name, set()).update({value, item.texts[name]})
    found: dict[tuple[str, str], Lead] = {}
    stored = Lead.objects.for_workspace(ctx.job.workspace_id)
    for name, values in wanted.items():
        query = stored.filter(**{f"{name}__in": values})
        if name != "external_id":
            query = query.filter(status__in=Lead.OPEN_STATUSES)
        for lead in query.order_by("pk"):
            found[(name, _key(name, getattr(lead, name)))] = lead
    return found


def plan_batch(chunk: list, ctx: engine.Context, by: User, inflight: dict) -> engine.Plan:
    """A batch of lead rows, checked and matched; the leads are written when the batch is
    (``write``), each in its own savepoint so one failing row fails alone."""
    outcomes, prepared = engine.sort_rows(chunk, ctx, prepare)
    if not prepared:
        return engine.Plan(chunk=chunk, outcomes=outcomes)
    found = _existing(list(prepared.values()), ctx)

    def write() -> None:
        # leads this job wrote, by key (a card scanned twice in one file is one lead): their
        # ids, or within this batch the leads themselves until they are inserted
        written: dict[tuple[str, str], Any] = ctx.state.setdefault("lead_keys", {})
        # the batch's new leads are inserted, scored and assigned together when it is written
        created: list[tuple[engine.Outcome, Lead]] = []
        with leads.created_together(by=by):
            _write_rows(written, created)
        for outcome, lead in created:
            outcome.record_id = lead.pk
        for key, value in written.items():
            if isinstance(value, Lead):
                written[key] = value.pk

    def _write_rows(written: dict[tuple[str, str], Any],
                    created: list[tuple[engine.Outcome, Lead]]) -> None:  # fmt: skip
        for line, item in prepared.items():
            match = next((found[key] for key in item.match_keys() if key in found), None)
            if match is None:
                hit = next((written[key] for key in item.match_keys() if key in written), None)
                if isinstance(hit, Lead):
                    leads.flush_created()  # an earlier row of this batch: insert it now
                    match = hit
                elif hit is not None:
                    match = Lead.objects.filter(pk=hit).first()
            try:
                with transaction.atomic():
                    outcome, lead = _write(item, match, ctx, by)
            except GuanxiError as exc:
                outcome, lead = engine.Outcome("error", errors=item.service_errors(exc)), None
            if outcome.outcome == "created":
                created.append((outcome, lead))
                for key in item.match_keys():
                    written.setdefault(key, lead)
            outcomes[line] = outcome

    return engine.Plan(chunk=chunk, outcomes=outcomes, write=write)


def _write(item: LeadRow, match: Lead | None, ctx: engine.Context,
           by: User) -> tuple[engine.Outcome, Lead | None]:  # fmt: skip
    """The row's outcome, and the lead it created (inserted when the batch's leads are)."""
    policy = ctx.job.policy
    custom = None
    if item.custom:
        custom = clean_custom_values(
            workspace=ctx.workspace, applies_to=Lead.object_type, values=item.custom,
            existing=match.custom_fields if match is not None else None,
        )  # fmt: skip
    if match is not None and policy != ImportJob.Policy.CREATE:
        if policy != ImportJob.Policy.UPDATE or match.status == Lead.Status.CONVERTED:
            return engine.Outcome("skipped", matched_id=match.pk), None
        if not can(ctx.membership, "change", match):
            return engine.Outcome("skipped", matched_id=match.pk), None
        before = {name: getattr(match, name) for name in SNAPSHOT}
        changes: dict[str, Any] = {
            k: v for k, v in item.texts.items() if v and _key(k, v) != _key(k, getattr(match, k))
        }
        if item.source != Lead.Source.IMPORT:
            changes["source"] = item.source
        if item.status:
            changes["status"] = item.status
        if item.owner is not None:
            changes["owner"] = item.owner
        if not any(getattr(match, k) != v for k, v in changes.items()) and custom is None:
            return engine.Outcome("skipped", matched_id=match.pk), None
        lead = leads.update_lead(lead=match, by=by, expected_version=match.version, **changes)
        if custom is not None:
            Lead.objects.filter(pk=lead.pk).update(custom_fields=custom)
            before["custom_fields"] = match.custom_fields
        outcome = engine.Outcome("updated", record_id=lead.pk, matched_id=match.pk, before=before)
        return outcome, None
    consent = bool(item.consent)
    lead = leads.create_lead(
        workspace=ctx.workspace, by=by, source=item.source, owner=item.owner,
        status=item.status or Lead.Status.NEW, consent=consent,
        consent_text=_("Consent recorded in the imported file %(file)s")
        % {"file": ctx.job.file_name} if consent else "",
        custom_fields=custom, already_clean=True,
        **{k: v for k, v in item.texts.items() if v},
    )  # fmt: skip
    outcome = engine.Outcome("created", matched_id=match.pk if match is not None else None)
    return outcome, lead


def undo(job: ImportJob, by: User) -> dict[str, int]:
    """Remove the leads the import created (unless converted since: those are work done);
    put back the fields of the ones it updated."""
    rows = ImportRow.objects.filter(job=job)
    created = set(rows.filter(outcome="created").values_list("record_id", flat=True))
    stored = Lead.objects.for_workspace(job.workspace_id)
    removed = 0
    for lead in stored.filter(pk__in=created).exclude(status=Lead.Status.CONVERTED):
        lead.deleted_at, lead.deleted_by = timezone.now(), by
        lead.save(update_fields=["deleted_at", "deleted_by"])
        removed += 1
    restored = 0
    for row in rows.filter(outcome="updated").exclude(before={}).order_by("-line").iterator():
        lead = stored.filter(pk=row.record_id).first()
        if lead is None or lead.status == Lead.Status.CONVERTED:
            continue
        for name, value in row.before.items():
            setattr(lead, name, value)
        lead.display_name = normalize.display_name(family=lead.family_name, given=lead.given_name)
        lead.version += 1
        lead.updated_by, lead.updated_at = by, timezone.now()
        lead.save()
        restored += 1
    return {"removed": removed, "restored": restored}


def register() -> None:
    mappings.FIELDS["leads"] = FIELDS
    mappings.REQUIRED["leads"] = (("full_name", "family_name", "given_name", "company"),)
    mappings.SYNONYMS_BY_KIND["leads"] = SYNONYMS
    mappings.CHECKS["leads"] = check_mapping
    engine.register_kind("leads", engine.ImportKind(model=Lead, plan_batch=plan_batch, undo=undo))


# --- business cards ---------------------------------------------------------------------------
CARDS_INLINE = 500  # cards read within the request; more go to the background


@dataclass
class CardsImport:
    job: ImportJob
    leads: list[Lead]  # the leads created, when the cards were read at once


def import_business_cards(
    *, membership: Membership, upload: bytes, file_name: str = "cards.vcf",
    met_at: str = "", consent: bool = False,
) -> CardsImport:  # fmt: skip
    """Leads from a vCard file (a phone's card scanner exports one card or many): source
    "business card", where they were met as the source detail, consent when the person
    agreed to be contacted. Up to ``CARDS_INLINE`` cards are read at once; a bigger file
    becomes a background import to follow on its page. Cards of leads already open are
    skipped; every lead is routed as usual."""
    if not upload.lstrip(b"\xef\xbb\xbf \r\n").upper().startswith(b"BEGIN:VCARD"):
        raise ValidationFailed([("file", _("not a vCard file (.vcf) of business cards"))])
    if len(met_at) > 200:
        raise ValidationFailed([("met_at", _("at most %(n)d characters") % {"n": 200})])
    defaults = {"source": Lead.Source.BUSINESS_CARD, "source_detail": met_at.strip(),
                "consent": "yes" if consent else ""}  # fmt: skip
    job = engine.create_job(
        membership=membership, kind="leads", upload=upload,
        file_name=file_name if file_name.lower().endswith((".vcf", ".vcard")) else "cards.vcf",
        defaults={k: v for k, v in defaults.items() if v},
    )  # fmt: skip
    if upload.upper().count(b"BEGIN:VCARD") > CARDS_INLINE:
        tasks.enqueue(job)
        return CardsImport(job=job, leads=[])
    job = engine.run(job)
    created = ImportRow.objects.filter(job=job, outcome="created").values_list("record_id")
    made = Lead.objects.filter(pk__in=created).select_related("owner", "team").order_by("pk")
    return CardsImport(job=job, leads=list(made))

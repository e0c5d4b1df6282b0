"""Every write on leads: capture (by hand, API, import, public web form), work (update,
status, first touch, calls logged on the lead), soft delete and conversion into an account,
a contact and perhaps an opportunity. Keyword-only, typed, one transaction each.

Scoring, assignment rules and the follow-up SLA are not here: they listen to the signals
``lead_creating``, ``lead_created``, ``leads_created`` and ``lead_first_touched``
(``guanxi.sales.signals``), which every creation path sends: ``lead_creating`` just before
the lead's transaction, the others inside it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.customers import identity, normalize
from guanxi.customers import services as customers
from guanxi.customers.models import Account, AccountContact, Contact, ContactPoint
from guanxi.platform import rowinsert
from guanxi.platform.audit import audit_event, record_audit
from guanxi.platform.bulkupdate import update_columns
from guanxi.platform.context import acting_in
from guanxi.platform.errors import Forbidden, ValidationFailed
from guanxi.platform.ids import new_public_id
from guanxi.platform.models import AuditEvent, Membership, Team, User, Workspace
from guanxi.platform.permissions import Scope
from guanxi.platform.versioning import save_versioned
from guanxi.platform.visibility import can, may_add
from guanxi.sales import services as sales
from guanxi.sales.models import Lead, Opportunity
from guanxi.sales.permissions import CONVERT
from guanxi.sales.signals import lead_created, lead_creating, lead_first_touched, leads_created
from guanxi.timeline import services as timeline
from guanxi.timeline.models import Activity, Channel, Interaction

log = logging.getLogger(__name__)

Status = Lead.Status
# what a person may type into a lead (the rest is the system's: score, SLA, conversion)
TEXT_FIELDS = (
    "family_name", "given_name", "title", "company", "industry", "phone", "email", "website",
    "country", "region", "city", "language", "product_interest", "message", "source_detail",
    "external_id",
)  # fmt: skip
MAX_LENGTHS = {
    name: Lead._meta.get_field(name).max_length
    for name in TEXT_FIELDS
    if Lead._meta.get_field(name).max_length
}
# channels of a logged touch that count as the owner working the lead
TOUCH_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.MEETING, Channel.VISIT, Channel.WECHAT)


# --- validation -------------------------------------------------------------------------------
def clean_lead_fields(
    values: dict[str, Any], *, region: str, full_name: str = "", partial: bool = False
) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Trimmed and normalized fields, and the errors naming them. A phone becomes E.164 and an
    e-mail address is normalized the way contact points are (``guanxi.customers.normalize``);
    a name typed in one field is split into family and given name.

    ``partial`` (updates): only the fields given are checked, and a lead must still have a
    name or company and a phone or e-mail — which the caller checks on the merged record."""
    errors: list[tuple[str, str]] = []
    cleaned = {
        key: " ".join(str(value or "").split()) if key != "message" else str(value or "").strip()
        for key, value in values.items()
    }
    if full_name.strip() and not (cleaned.get("family_name") or cleaned.get("given_name")):
        cleaned["family_name"], cleaned["given_name"] = normalize.split_full_name(full_name)
    country = cleaned.get("country", "")
    if country:
        code = normalize.country_code(country)
        if code is None:
            errors.append(("country", _("not a country: write its name or its two-letter ISO "
                                        "3166 code, e.g. CN")))  # fmt: skip
        cleaned["country"] = code or ""
    for name, limit in MAX_LENGTHS.items():
        if len(cleaned.get(name, "")) > limit:
            errors.append((name, _("at most %(n)d characters") % {"n": limit}))
    if cleaned.get("phone"):
        try:
            cleaned["phone"] = normalize.normalize_phone(cleaned["phone"], region=region).e164
        except normalize.InvalidContactValue as exc:
            errors.append(("phone", str(exc.reason)))
    if cleaned.get("email"):
        try:
            cleaned["email"] = normalize.normalize_email(cleaned["email"])
        except normalize.InvalidContactValue as exc:
            errors.append(("email", str(exc.reason)))
    if cleaned.get("website"):
        try:
            cleaned["website"], _extra = normalize.normalize_contact_value(
                kind="web", value=cleaned["website"], region=region
            )
        except normalize.InvalidContactValue as exc:
            errors.append(("website", str(exc.reason)))
    if not partial:
        errors += missing_essentials(cleaned)
    return cleaned, errors


def missing_essentials(fields: dict[str, Any]) -> list[tuple[str, str]]:
    """A lead is someone to call back: a name or a company, and a way to reach them."""
    errors = []
    if not any(fields.get(k) for k in ("family_name", "given_name", "company")):
        errors.append(("name", _("give a name or a company")))
    if not (fields.get("phone") or fields.get("email")):
        errors.append(("phone", _("give a phone number or an e-mail address")))
    return errors


def _display_name(lead: Lead) -> str:
    return normalize.display_name(family=lead.family_name, given=lead.given_name)


def _membership(workspace_id: int, user: User | None) -> Membership | None:
    return sales._membership(workspace_id, user)


def _owner_and_team(
    workspace: Workspace, owner: User | None, team: Team | None
) -> tuple[User | None, Team | None]:
    return sales._owner_and_team(workspace, owner=owner, team=team)


# --- create -----------------------------------------------------------------------------------
@dataclass
class _Together:
    """Leads being created together: all of them in order, those not inserted yet, and the
    audit events waiting with them."""

    leads: list[Lead] = field(default_factory=list)
    pending: list[Lead] = field(default_factory=list)
    audits: list[Any] = field(default_factory=list)


_together: ContextVar[_Together | None] = ContextVar("leads_created_together", default=None)


def create_lead(
    *,
    workspace: Workspace,
    by: User | None,
    source: str = Lead.Source.MANUAL,
    full_name: str = "",
    owner: User | None = None,
    team: Team | None = None,
    status: str = Status.NEW,
    consent: bool = False,
    consent_text: str = "",
    consent_at: datetime | None = None,
    submitted_ip: str | None = None,
    custom_fields: dict[str, Any] | None = None,
    already_clean: bool = False,
    **fields: Any,
) -> Lead:
    """A new lead, in one transaction (a savepoint when nested). ``lead_creating`` is sent
    just before that transaction (receivers score it, assign it and set its follow-up time)
    and ``lead_created`` inside it, once the lead is inserted; when nobody assigned it and a
    user created it, that user owns it. Giving another ``owner`` needs the *assign* right."""
    unknown = set(fields) - set(TEXT_FIELDS)
    if unknown:
        raise ValidationFailed([(name, _("unknown field")) for name in sorted(unknown)])
    errors: list[tuple[str, str]] = []
    if source not in Lead.Source.values:
        errors.append(("source", _("must be one of %(v)s") % {"v": ", ".join(Lead.Source.values)}))
    if status not in (Status.NEW, Status.WORKING, Status.NURTURING, Status.QUALIFIED):
        errors.append(("status", _("a new lead is new, working, nurturing or qualified")))
    if already_clean:  # the caller ran clean_lead_fields (the web form does, to answer 422)
        cleaned = {key: str(value) for key, value in fields.items()}
    else:
        cleaned, field_errors = clean_lead_fields(
            fields, region=workspace.region or "CN", full_name=full_name
        )
        errors += field_errors
    if errors:
        raise ValidationFailed(errors)
    together = _together.get()
    if cleaned.get("external_id"):
        clash = Lead.objects.for_workspace(workspace).filter(external_id=cleaned["external_id"])
        pending = together.pending if together is not None else []
        if clash.exclude(external_id="").exists() or any(
            lead.external_id == cleaned["external_id"] for lead in pending
        ):
            raise ValidationFailed([("external_id", _("another lead has this external id"))])
    if owner is not None and by is not None and owner.pk != by.pk:
        member = _membership(workspace.pk, by)
        if member is None or member.scope_for(Lead.object_type, "assign") == Scope.NONE:
            raise Forbidden(action="assign", object_type=Lead.object_type)
    if owner is not None or team is not None:
        owner, team = _owner_and_team(workspace, owner, team)
    now = timezone.now()
    lead = Lead(
        workspace=workspace,
        source=source,
        status=status,
        owner=owner,
        team=team,
        assigned_at=now if owner is not None else None,
        consent=consent,
        consent_text=consent_text if consent else "",
        consent_at=(consent_at or now) if consent else None,
        submitted_ip=submitted_ip,
        custom_fields=custom_fields or {},
        created_at=now,
        updated_at=now,
        created_by=by,
        updated_by=by,
        **cleaned,
    )
    lead.display_name = _display_name(lead)
    audit = {"action": "sales.lead.created", "actor": by, "workspace": workspace, "obj": lead,
             "data": {"source": source}}  # fmt: skip
    if together is not None:
        # inserted with the others (``flush_created``), announced when the block ends; a
        # visitor's form is no one's act: its history row and source say where it came from
        lead.public_id = new_public_id(Lead.public_id_prefix)
        together.leads.append(lead)
        together.pending.append(lead)
        if by is not None:
            together.audits.append(audit_event(**audit))
        return lead
    if by is not None:
        _route(lead, by=by)
        with transaction.atomic():
            _insert_one(lead, by=by, audit=audit)
        return lead
    return _insert_visitors_lead(lead)


def _route(lead: Lead, *, by: User | None) -> None:
    """``lead_creating``, before the lead's transaction opens (in the caller's, when there is
    one). Routing writes one thing, a team's round-robin turn: taken outside the lead's
    transaction, it commits at once and holds no lock while the lead is written, so that
    leads arriving together for one team do not wait on each other's commits. A turn taken
    for a lead whose insert then fails is skipped, as a sequence number would be."""
    lead_creating.send(sender=Lead, lead=lead, actor=by)
    if lead.owner_id is None and by is not None:
        # nobody routed it: whoever typed it in works it
        lead.owner, lead.team = _owner_and_team(lead.workspace, by, lead.team)
        lead.assigned_at = timezone.now()


def _insert_one(lead: Lead, *, by: User | None, audit: dict[str, Any] | None) -> None:
    # as lead.save() with its "created" history record, routed — by a statement built once
    lead.public_id = lead.public_id or new_public_id(Lead.public_id_prefix)
    rowinsert.insert(lead, signals=True)
    if audit is not None:
        record_audit(**audit)
    lead_created.send(sender=Lead, lead=lead, actor=by)


ROUTED_FIELDS = ("score", "score_details", "scored_at", "owner_id", "team_id", "assigned_at",
                 "sla_due_at")  # fmt: skip


def _insert_visitors_lead(lead: Lead) -> Lead:
    """A public form's lead is never lost to a failing receiver: when routing fails, what it
    wrote inside a transaction is rolled back (its own savepoint, nested), the lead written
    unrouted and the failure logged and audited."""
    before = {name: getattr(lead, name) for name in ROUTED_FIELDS}
    nested = transaction.get_connection().in_atomic_block
    try:
        with transaction.atomic() if nested else nullcontext():
            _route(lead, by=None)
        with transaction.atomic():
            _insert_one(lead, by=None, audit=None)
        return lead
    except Exception:
        log.exception("routing failed for the web form lead %s; kept unrouted", lead.public_id)
    for name, value in before.items():
        setattr(lead, name, value)
    lead.__dict__.pop("_routing_choice", None)
    lead.pk, lead._state.adding = None, True
    with transaction.atomic():
        lead.save()
        record_audit(action="sales.lead.routing_failed", workspace=lead.workspace, obj=lead)
    return lead


@contextmanager
def created_together(*, by: User | None) -> Iterator[list[Lead]]:
    """Leads created inside the block (``create_lead``) are inserted together (one statement
    per 500) and announced together when it ends — one ``leads_created`` signal, which
    routing answers by scoring and assigning them all at once — and then, like one by one, a
    lead nobody was given goes to ``by``; their "created" history rows are written last, in
    one insert, showing them routed. Use it inside a transaction (an import's batch); the
    list holds the leads created. Until the block ends (or ``flush_created``), a lead
    created in it has no primary key yet."""
    together = _Together()
    token = _together.set(together)
    try:
        yield together.leads
    finally:
        _together.reset(token)
    _insert(together)
    batch = together.leads
    if not batch:
        return
    leads_created.send(sender=Lead, leads=batch, actor=by)
    unowned = [lead for lead in batch if lead.owner_id is None] if by is not None else []
    if unowned:
        owner, team = _owner_and_team(batch[0].workspace, by, None)
        now = timezone.now()
        for lead in unowned:
            lead.owner, lead.team = owner, lead.team or team
            lead.assigned_at = now
        update_columns(Lead, unowned, ["owner", "team", "assigned_at"])
    # the "created" history rows, as the leads stand once routed (one insert)
    for lead in batch:
        lead._history_date = lead.created_at
    Lead.history.bulk_history_create(batch, default_user=by)


def _insert(together: _Together) -> None:
    if together.pending:
        Lead._base_manager.bulk_create(together.pending, batch_size=500)
        AuditEvent.objects.bulk_create(together.audits, batch_size=500)
        together.pending, together.audits = [], []


def flush_created() -> None:
    """Insert the leads created together so far, so that they have their primary keys (an
    import row about to change a lead an earlier row of its batch created)."""
    together = _together.get()
    if together is not None:
        _insert(together)


# --- update, status, touch --------------------------------------------------------------------
UPDATABLE = (*TEXT_FIELDS, "source", "status", "disqualify_reason", "owner", "team",
             "full_name")  # fmt: skip


def _check_status(lead: Lead, status: str, reason: str) -> list[tuple[str, str]]:
    if status not in Status.values:
        return [("status", _("must be one of %(v)s") % {"v": ", ".join(Status.values)})]
    if status == Status.CONVERTED and lead.status != Status.CONVERTED:
        return [("status", _("a lead is converted by converting it, not by its status"))]
    if lead.status == Status.CONVERTED and status != Status.CONVERTED:
        return [("status", _("a converted lead keeps its status"))]
    if status == Status.DISQUALIFIED and not reason.strip():
        return [("disqualify_reason", _("say why the lead is disqualified"))]
    return []


@transaction.atomic
def update_lead(*, lead: Lead, by: User, expected_version: int, **changes: Any) -> Lead:
    """Change fields and/or the status. Disqualifying needs ``disqualify_reason``; the owner
    moving a new lead to working is its first touch."""
    unknown = set(changes) - set(UPDATABLE)
    if unknown:
        raise ValidationFailed([(name, _("cannot be changed")) for name in sorted(unknown)])
    workspace = lead.workspace
    if lead.status == Status.CONVERTED and set(changes) - {"owner", "team"}:
        raise ValidationFailed([("status", _("a converted lead cannot be changed"))])
    errors: list[tuple[str, str]] = []
    texts = {name: changes.pop(name) for name in TEXT_FIELDS if name in changes}
    full_name = changes.pop("full_name", "") or ""
    cleaned, errors = clean_lead_fields(
        texts, region=workspace.region or "CN", full_name=full_name, partial=True
    )
    if "source" in changes:
        if changes["source"] not in Lead.Source.values:
            errors.append(("source", _("must be one of %(v)s")
                           % {"v": ", ".join(Lead.Source.values)}))  # fmt: skip
        else:
            lead.source = changes.pop("source")
    was = lead.status
    status = changes.pop("status", None) or was
    reason_given = "disqualify_reason" in changes
    reason = changes.pop("disqualify_reason", None)
    reason = lead.disqualify_reason if reason is None else str(reason).strip()
    if status != was or reason_given:
        errors += _check_status(lead, status, reason)
    merged = {name: cleaned.get(name, getattr(lead, name)) for name in TEXT_FIELDS}
    if texts or full_name:
        errors += missing_essentials(merged)
    if cleaned.get("external_id"):
        clash = Lead.objects.for_workspace(workspace).filter(external_id=cleaned["external_id"])
        if clash.exclude(pk=lead.pk).exclude(external_id="").exists():
            errors.append(("external_id", _("another lead has this external id")))
    if errors:
        raise ValidationFailed(errors)
    for name, value in cleaned.items():
        setattr(lead, name, value)
    lead.display_name = _display_name(lead)
    lead.status = status
    lead.disqualify_reason = reason if status == Status.DISQUALIFIED else ""
    if "owner" in changes or "team" in changes:
        owner = changes.pop("owner", lead.owner)
        team = changes.pop("team", lead.team)
        if owner != lead.owner:
            if not can(_membership(workspace.pk, by) or by, "assign", lead):
                raise Forbidden(action="assign", object_type=Lead.object_type)
            lead.assigned_at = timezone.now()
        lead.owner, lead.team = _owner_and_team(workspace, owner, team)
    touched = was == Status.NEW and status == Status.WORKING and _set_first_touch(lead, by=by)
    save_versioned(lead, expected_version=expected_version, by=by)
    if status != was:
        record_audit(action=f"sales.lead.{_status_action(status)}", actor=by,
                     workspace=workspace, obj=lead,
                     data={"from": was, "to": status, "reason": lead.disqualify_reason})  # fmt: skip
    if touched:
        lead_first_touched.send(sender=Lead, lead=lead, actor=by)
    return lead


def _status_action(status: str) -> str:
    return {Status.DISQUALIFIED: "disqualified"}.get(status, "status_changed")


def change_status(
    *, lead: Lead, by: User, expected_version: int, status: str, reason: str = ""
) -> Lead:
    changes: dict[str, Any] = {"status": status}
    if reason or status == Status.DISQUALIFIED:
        changes["disqualify_reason"] = reason
    return update_lead(lead=lead, by=by, expected_version=expected_version, **changes)


def _set_first_touch(lead: Lead, *, by: User | None) -> bool:
    """Mark the first touch when the owner touches an open lead nobody touched yet."""
    if lead.first_touched_at is not None or by is None or lead.owner_id != by.pk:
        return False
    if not lead.is_open:
        return False
    lead.first_touched_at = timezone.now()
    return True


@transaction.atomic
def log_touch(
    *,
    lead: Lead,
    by: User,
    channel: str = Channel.PHONE,
    direction: str = Interaction.Direction.OUTBOUND,
    subject: str = "",
    body: str = "",
    occurred_at: datetime | None = None,
) -> Interaction:
    """A call, e-mail or meeting with the lead, on its timeline. The owner's first one is the
    lead's first touch (``lead_first_touched``)."""
    interaction, _created = timeline.record_interaction(
        workspace=lead.workspace, by=by, channel=channel, direction=direction,
        occurred_at=occurred_at, subject=subject, body=body, lead=lead,
        contact=lead.converted_contact, account=lead.converted_account,
    )  # fmt: skip
    if channel in TOUCH_CHANNELS and _set_first_touch(lead, by=by):
        # a conditional update: two touches at once set it once, and the version is not
        # bumped (a touch is not an edit that should conflict with someone's form)
        done = (
            Lead.objects.for_workspace(lead.workspace_id)
            .filter(pk=lead.pk, first_touched_at__isnull=True)
            .update(first_touched_at=lead.first_touched_at)
        )
        if done:
            lead_first_touched.send(sender=Lead, lead=lead, actor=by)
    return interaction


@transaction.atomic
def plan_activity(
    *, lead: Lead, by: User, kind: str, subject: str, due_at: datetime | None = None,
    description: str = "", assigned_to: User | None = None,
) -> Activity:  # fmt: skip
    """A task, call or meeting to do with the lead."""
    return timeline.create_activity(
        workspace=lead.workspace, by=by, kind=kind, subject=subject, due_at=due_at,
        description=description, assigned_to=assigned_to or lead.owner or by, lead=lead,
    )  # fmt: skip


@transaction.atomic
def delete_lead(*, lead: Lead, by: User) -> None:
    """Soft delete: gone from lists; its history and timeline stay."""
    lead.deleted_at, lead.deleted_by = timezone.now(), by
    lead.save(update_fields=["deleted_at", "deleted_by"])
    record_audit(action="sales.lead.deleted", actor=by, obj=lead)


# --- conversion -------------------------------------------------------------------------------
# a matched contact's fields a lead may fill, and how the lead names them
CONTACT_FROM_LEAD = {"family_name": "family_name", "given_name": "given_name",
                     "preferred_language": "language"}  # fmt: skip
ACCOUNT_FROM_LEAD = {"industry": "industry", "website": "website", "region": "country"}
# a matched company is the same organization when its name is this alike (any script)
SAME_COMPANY = 0.9
LANGUAGES = ("en", "zh-hans", "zh-hant")


@dataclass
class ConversionPlan:
    """What converting a lead would do: the records matched (or None: created) and, for a
    match, the fields the lead would fill and those that differ and are kept."""

    lead: Lead
    contact: Contact | None
    account: Account | None
    contact_reason: str = ""
    account_reason: str = ""
    fill: dict[str, Any] = field(default_factory=dict)  # "contact.x" -> lead's value
    kept: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # "contact.x" -> (kept, lead's)
    link_exists: bool = False


@dataclass
class Conversion:
    lead: Lead
    account: Account | None
    contact: Contact
    opportunity: Opportunity | None
    contact_created: bool
    account_created: bool
    kept: list[str]
    filled: list[str]


def _lead_value(lead: Lead, name: str) -> str:
    value = getattr(lead, name)
    if name == "language":
        value = value.lower()
        return value if value in LANGUAGES else {"zh": "zh-hans", "zh-cn": "zh-hans",
                                                 "zh-tw": "zh-hant"}.get(value, "")  # fmt: skip
    return value


def _compare(plan: ConversionPlan, prefix: str, record: Any, mapping: dict[str, str]) -> None:
    for target, source in mapping.items():
        wanted = _lead_value(plan.lead, source)
        if not wanted:
            continue
        have = getattr(record, target) or ""
        if not have:
            plan.fill[f"{prefix}.{target}"] = wanted
        elif str(have).casefold() != str(wanted).casefold():
            plan.kept[f"{prefix}.{target}"] = (have, wanted)


def plan_conversion(
    *,
    lead: Lead,
    user: Membership,
    account: Account | None = None,
    contact: Contact | None = None,
) -> ConversionPlan:
    """Match the lead to customers the user may see: a contact only when it is certain (the
    same phone or e-mail, through identity resolution), an account by its name (the account
    matcher, names in any script) — unless the caller chose them."""
    plan = ConversionPlan(lead=lead, contact=contact, account=account)
    if contact is None and (lead.phone or lead.email):
        candidates, _hidden = identity.match_contacts(
            user=user, phone=lead.phone, email=lead.email, limit=3,
            family_name=lead.family_name, given_name=lead.given_name,
        )  # fmt: skip
        certain = [c for c in candidates if c.identifier in ("phone", "email")]
        if certain:
            plan.contact = certain[0].contact
            plan.contact_reason = "; ".join(certain[0].reasons)
    if plan.contact is not None and plan.contact.pk is not None:
        # match_contacts reads a few columns only: the whole record, to compare and fill
        plan.contact = Contact.objects.for_workspace(lead.workspace_id).get(pk=plan.contact.pk)
    if account is None and lead.company:
        found, _hidden = identity.match_accounts(user=user, name=lead.company, city=lead.city,
                                                 limit=3)  # fmt: skip
        for entry in found:
            similarity = max(
                identity.company_similarity(lead.company, entry.account.name),
                identity.company_similarity(lead.company, entry.account.legal_name or ""),
            )
            if similarity >= SAME_COMPANY:
                plan.account = Account.objects.for_workspace(lead.workspace_id).get(
                    pk=entry.account.pk
                )
                plan.account_reason = "; ".join(entry.reasons)
                break
    if plan.account is None and not lead.company and plan.contact is not None:
        # a person without a company given: the company they already work at, if any
        link = (
            AccountContact.objects.for_workspace(lead.workspace_id)
            .filter(contact=plan.contact, is_primary=True, account__deleted_at__isnull=True)
            .select_related("account")
            .first()
        )
        if link is not None and can(user, "view", link.account):
            plan.account = link.account
    if plan.contact is not None:
        _compare(plan, "contact", plan.contact, CONTACT_FROM_LEAD)
    if plan.account is not None:
        _compare(plan, "account", plan.account, ACCOUNT_FROM_LEAD)
        name = plan.account.name
        if lead.company and identity.company_similarity(lead.company, name) < 1:
            plan.kept["account.name"] = (name, lead.company)
    if plan.contact is not None and plan.account is not None:
        plan.link_exists = (
            AccountContact.objects.for_workspace(lead.workspace_id)
            .filter(contact=plan.contact, account=plan.account)
            .exists()
        )
    return plan


def _check_open(lead: Lead) -> None:
    if not lead.is_open:
        raise ValidationFailed(
            [("status", _("only an open lead can be converted; this one is %(s)s")
              % {"s": lead.get_status_display()})]
        )  # fmt: skip


def _points(lead: Lead, *, holder: Contact | None) -> list[customers.ContactPointInput]:
    """The lead's phone and e-mail as contact points, leaving out one held by another
    customer (it stays on the lead; a contact point belongs to one customer)."""
    points = []
    for kind, value in (("phone", lead.phone), ("email", lead.email)):
        if not value:
            continue
        key = normalize.email_match_key(value) if kind == "email" else value
        held = ContactPoint.objects.for_workspace(lead.workspace_id).filter(
            kind=kind, match_key=key
        )
        if holder is not None:
            held = held.exclude(contact_id=holder.pk)
        if held.exists():
            continue
        points.append(customers.ContactPointInput(kind=kind, value=value, is_primary=True))
    return points


@transaction.atomic
def convert_lead(
    *,
    lead: Lead,
    by: User,
    membership: Membership,
    create_opportunity: bool = True,
    opportunity_name: str = "",
    amount: Decimal | int | str = 0,
    currency: str | None = None,
    account: Account | None = None,
    contact: Contact | None = None,
) -> Conversion:
    """Turn an open lead into a contact, an account (if it names a company or one is given)
    and optionally an opportunity in the default pipeline's first stage. Existing records
    matched are completed (empty fields filled), never overwritten: what differed is
    reported in ``kept``. The lead's calls, e-mails and tasks move to the contact and
    account; the lead is marked converted with links to what it became."""
    # the customers' services read tags and the like through the active workspace
    with acting_in(lead.workspace, membership):
        return _convert(lead=lead, by=by, membership=membership,
                        create_opportunity=create_opportunity,
                        opportunity_name=opportunity_name, amount=amount, currency=currency,
                        account=account, contact=contact)  # fmt: skip


def _convert(
    *, lead: Lead, by: User, membership: Membership, create_opportunity: bool,
    opportunity_name: str, amount: Decimal | int | str, currency: str | None,
    account: Account | None, contact: Contact | None,
) -> Conversion:  # fmt: skip
    locked = Lead.objects.for_workspace(lead.workspace_id).select_for_update().get(pk=lead.pk)
    lead.status, lead.version = locked.status, locked.version
    _check_open(lead)
    if not can(membership, CONVERT, lead):
        raise Forbidden(action=CONVERT, object_type=Lead.object_type)
    workspace = lead.workspace
    plan = plan_conversion(lead=lead, user=membership, account=account, contact=contact)
    if create_opportunity:
        if plan.account is None and not lead.company:
            raise ValidationFailed([("account_id", _("an opportunity needs an account: give the "
                                     "lead a company or choose an account"))])  # fmt: skip
        if not may_add(membership, Opportunity.object_type):
            raise Forbidden(action="add", object_type=Opportunity.object_type)
    owner = lead.owner or by
    filled: list[str] = []
    account_created = contact_created = False
    target_account = plan.account
    if target_account is None and lead.company:
        if not may_add(membership, Account.object_type):
            raise Forbidden(action="add", object_type=Account.object_type)
        target_account = customers.create_account(
            workspace=workspace, by=by, name=lead.company, owner=owner,
            industry=lead.industry, website=lead.website, region=lead.country,
            source=lead.get_source_display()[:100],
        )  # fmt: skip
        account_created = True
    elif target_account is not None:
        data = {k.split(".", 1)[1]: v for k, v in plan.fill.items() if k.startswith("account.")}
        if data:
            target_account, done = identity.fill_from_duplicate(
                customer=target_account, by=by, data=data
            )
            filled += [f"account.{name}" for name in done]
    target_contact = plan.contact
    if target_contact is None:
        if not may_add(membership, Contact.object_type):
            raise Forbidden(action="add", object_type=Contact.object_type)
        family, given = lead.family_name, lead.given_name
        if not (family or given):
            # a company-only lead: the person is not known yet, the company stands for them
            family, given = "", lead.company
        target_contact = customers.create_contact(
            workspace=workspace, by=by, family_name=family, given_name=given, owner=owner,
            account=target_account, title=lead.title,
            contact_points=_points(lead, holder=None),
            preferred_language=_lead_value(lead, "language"),
            source=lead.get_source_display()[:100],
        )  # fmt: skip
        contact_created = True
    else:
        data = {k.split(".", 1)[1]: v for k, v in plan.fill.items() if k.startswith("contact.")}
        target_contact, done = identity.fill_from_duplicate(
            customer=target_contact, by=by, data=data,
            contact_points=_points(lead, holder=target_contact),
        )  # fmt: skip
        filled += [f"contact.{name}" for name in done]
        if target_account is not None and not plan.link_exists:
            has_primary = (
                AccountContact.objects.for_workspace(workspace)
                .filter(contact=target_contact, is_primary=True)
                .exists()
            )
            customers.link_contact(contact=target_contact, account=target_account, by=by,
                                   title=lead.title, is_primary=not has_primary)  # fmt: skip
    opportunity = None
    if create_opportunity:
        assert target_account is not None
        opportunity = sales.create_opportunity(
            workspace=workspace, by=by, name=opportunity_name or _default_deal_name(lead),
            account=target_account, contact=target_contact, amount=amount, currency=currency,
            owner=lead.owner if lead.owner_id and can(membership, "assign", lead) else None,
            lead_source=lead.get_source_display()[:100],
        )  # fmt: skip
    moved = _move_timeline(lead, contact=target_contact, account=target_account)
    now = timezone.now()
    lead.status = Status.CONVERTED
    lead.converted_at, lead.converted_by = now, by
    lead.converted_account, lead.converted_contact = target_account, target_contact
    lead.converted_opportunity = opportunity
    save_versioned(lead, expected_version=lead.version, by=by)
    kept = sorted(plan.kept)
    record_audit(
        action="sales.lead.converted", actor=by, workspace=workspace, obj=lead,
        data={"account": target_account.public_id if target_account else None,
              "contact": target_contact.public_id,
              "opportunity": opportunity.public_id if opportunity else None,
              "contact_created": contact_created, "account_created": account_created,
              "kept": kept, "filled": filled, "moved": moved},
    )  # fmt: skip
    return Conversion(lead=lead, account=target_account, contact=target_contact,
                      opportunity=opportunity, contact_created=contact_created,
                      account_created=account_created, kept=kept, filled=filled)  # fmt: skip


def _default_deal_name(lead: Lead) -> str:
    who = lead.company or lead.display_name or str(lead)
    what = lead.product_interest
    return f"{who} – {what}" if what else who


def _move_timeline(lead: Lead, *, contact: Contact, account: Account | None) -> int:
    """The lead's interactions and activities now concern the customer (they keep the lead
    too, so the lead's page still shows its history)."""
    interactions = Interaction.objects.for_workspace(lead.workspace_id).filter(lead=lead)
    activities = Activity.objects.for_workspace(lead.workspace_id).filter(lead=lead)
    now = timezone.now()
    moved = interactions.update(contact=contact, account=account, updated_at=now)
    moved += activities.update(contact=contact, account=account, updated_at=now)
    return moved

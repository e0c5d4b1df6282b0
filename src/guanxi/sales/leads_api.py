"""Lead endpoints: the list, one lead, its conversion, the workspace's web form settings, and
the public web-to-lead endpoint (no authentication, no CSRF: a visitor's browser posts it
from the company's own site)."""

from __future__ import annotations

import json
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from guanxi.customers.models import Account, Contact
from guanxi.platform.apiframework import CursorPage, Problem, keyset_page, with_etag
from guanxi.platform.errors import Forbidden, NotFound, ValidationFailed
from guanxi.platform.middleware import client_ip
from guanxi.platform.models import Membership, Team, User
from guanxi.platform.problems import problem_response
from guanxi.platform.versioning import expected_version
from guanxi.platform.visibility import get_visible_or_404, require_add
from guanxi.sales import lead_imports, web_to_lead
from guanxi.sales import lead_selectors as selectors
from guanxi.sales import leads as services
from guanxi.sales.models import Lead, WebToLeadSettings
from guanxi.sales.permissions import CONVERT

router = Router(tags=["leads"])
# the public form, in a router of its own that the API mounts first: the busiest endpoint
# (every visitor, every flood) is then the first path Django's resolver tries, not the 124th
public_router = Router(tags=["leads"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
WRITE_ERRORS = {**ERRORS, 428: Problem}
Source = Literal[tuple(Lead.Source.values)]  # type: ignore[valid-type]
StatusName = Literal[tuple(Lead.Status.values)]  # type: ignore[valid-type]


# --- schemas ----------------------------------------------------------------------------------
class LeadIn(Schema):
    family_name: str = ""
    given_name: str = ""
    name: str = Field("", description="A full name in one field; split into family and given.")
    title: str = ""
    company: str = ""
    industry: str = ""
    phone: str = Field("", description="Stored as E.164; numbers without + read in the "
                       "workspace's region.")  # fmt: skip
    email: str = ""
    website: str = ""
    country: str = Field("", description="ISO 3166 two-letter code")
    region: str = ""
    city: str = ""
    language: str = ""
    product_interest: str = ""
    message: str = ""
    source: Source = "api"  # type: ignore[valid-type]
    source_detail: str = ""
    external_id: str = ""
    status: StatusName = "new"  # type: ignore[valid-type]
    owner: str | None = Field(None, description="Username; default: assignment rules, else you.")
    team: str | None = Field(None, description="Team id")


class LeadUpdate(Schema):
    family_name: str | None = None
    given_name: str | None = None
    title: str | None = None
    company: str | None = None
    industry: str | None = None
    phone: str | None = None
    email: str | None = None
    website: str | None = None
    country: str | None = None
    region: str | None = None
    city: str | None = None
    language: str | None = None
    product_interest: str | None = None
    message: str | None = None
    source: Source | None = None  # type: ignore[valid-type]
    source_detail: str | None = None
    external_id: str | None = None
    status: StatusName | None = Field(  # type: ignore[valid-type]
        None, description="`disqualified` needs `disqualify_reason`; `converted` only by "
        "POST /leads/{id}/convert."
    )  # fmt: skip
    disqualify_reason: str | None = None
    owner: str | None = None
    team: str | None = None
    version: int | None = None


class LeadOut(Schema):
    id: str
    display_name: str
    family_name: str
    given_name: str
    title: str
    company: str
    industry: str
    phone: str
    email: str
    website: str
    country: str
    region: str
    city: str
    language: str
    product_interest: str
    message: str
    source: str
    source_detail: str
    external_id: str
    consent: bool
    consent_at: datetime | None
    status: str
    disqualify_reason: str
    score: int
    score_details: list[Any]
    owner: str | None
    team: str | None
    assigned_at: datetime | None
    sla_due_at: datetime | None
    first_touched_at: datetime | None
    escalated_at: datetime | None
    converted_at: datetime | None
    converted_account_id: str | None
    converted_contact_id: str | None
    converted_opportunity_id: str | None
    created_at: datetime
    updated_at: datetime
    version: int


class ConvertIn(Schema):
    create_opportunity: bool = True
    opportunity_name: str = Field("", max_length=300, description="Default: company – interest")
    amount: Decimal = Field(Decimal(0), description="Non-negative, at most 2 decimals.")
    currency: str | None = Field(None, description="ISO 4217; default: the workspace's.")
    account_id: str | None = Field(None, description="Use this account instead of matching.")
    contact_id: str | None = Field(None, description="Use this contact instead of matching.")


class ConvertOut(Schema):
    account_id: str | None
    contact_id: str
    opportunity_id: str | None
    account_created: bool
    contact_created: bool
    kept: list[str] = Field(description="Fields of existing records that differed from the "
                            "lead's and were kept, e.g. contact.given_name.")  # fmt: skip
    filled: list[str] = Field(description="Empty fields of existing records the lead filled.")


class FormSettingsOut(Schema):
    is_enabled: bool
    require_consent: bool
    consent_text: str
    redirect_hosts: list[str]
    endpoint: str
    version: int


class FormSettingsIn(Schema):
    is_enabled: bool
    require_consent: bool = False
    consent_text: str = ""
    redirect_hosts: list[str] = Field(default_factory=list)
    version: int | None = None


PLAIN_FIELDS = (
    *(name for name in LeadOut.model_fields
      if name not in ("id", "owner", "team", "score_details")
      and not name.startswith("converted_")),
    "converted_at",
)  # fmt: skip


def lead_out(lead: Lead) -> dict[str, Any]:
    def public(obj: Any) -> str | None:
        return obj.public_id if obj is not None else None

    out = {name: getattr(lead, name) for name in PLAIN_FIELDS}
    out.update(
        id=lead.public_id,
        owner=lead.owner.username if lead.owner_id else None,
        team=lead.team.public_id if lead.team_id else None,
        score_details=lead.score_details if isinstance(lead.score_details, list) else [],
        converted_account_id=public(lead.converted_account),
        converted_contact_id=public(lead.converted_contact),
        converted_opportunity_id=public(lead.converted_opportunity),
    )
    return out


# --- helpers ----------------------------------------------------------------------------------
def _member(membership: Membership, username: str) -> User:
    found = (
        Membership.objects.for_workspace(membership.workspace_id)
        .select_related("user")
        .filter(user__username=username, is_active=True)
        .first()
    )
    if found is None:
        raise ValidationFailed([("owner", f"no active member {username!r} in this workspace")])
    return found.user


def _team(membership: Membership, public_id: str) -> Team:
    team = Team.objects.for_workspace(membership.workspace_id).filter(public_id=public_id).first()
    if team is None:
        raise ValidationFailed([("team", f"no team {public_id!r} in this workspace")])
    return team


def _lead(request: HttpRequest, lead_id: str, action: str = "view") -> Lead:
    return get_visible_or_404(
        Lead, user=request.auth, public_id=lead_id, action=action,
        queryset=selectors.leads(user=request.auth),
    )  # fmt: skip


def _reloaded(lead: Lead) -> Lead:
    return (
        Lead.objects.for_workspace(lead.workspace_id)
        .select_related(
            "owner", "team", "converted_account", "converted_contact", "converted_opportunity"
        )
        .get(pk=lead.pk)
    )


def visible_customer(model: type, membership: Membership, public_id: str | None) -> Any:
    """An account or contact the caller may see; one they may not is as good as missing."""
    if not public_id:
        return None
    found = model.objects.visible_to(membership, "view").filter(public_id=public_id).first()
    if found is None:
        raise NotFound(model._meta.verbose_name)
    return found


# --- leads ------------------------------------------------------------------------------------
class LeadFilters(Schema):
    status: Literal[tuple([*Lead.Status.values, "open"])] | None = Field(  # type: ignore[valid-type]
        None, description="A status, or `open` (new, working, nurturing, qualified)"
    )
    owner: str | None = Field(None, description="`me`, `none` (unassigned) or a username")
    source: Source | None = None  # type: ignore[valid-type]
    q: str | None = Field(None, description="Name, company, phone or e-mail")
    sort: Literal["-created_at", "created_at", "-score"] = "-created_at"
    cursor: str | None = None
    limit: int | None = None


@router.get("/leads", response={200: CursorPage[LeadOut], **ERRORS}, summary="List leads")
def list_leads(request: HttpRequest, filters: LeadFilters = Query(...)) -> dict:  # noqa: B008
    membership: Membership = request.auth
    queryset = selectors.filter_leads(
        selectors.leads(user=membership), user_id=membership.user_id,
        **filters.dict(exclude={"sort", "cursor", "limit"}),
    )  # fmt: skip
    rows, next_cursor = keyset_page(queryset, ordering=selectors.ORDERINGS[filters.sort],
                                    cursor=filters.cursor, limit=filters.limit)  # fmt: skip
    return {"items": [lead_out(row) for row in rows], "next_cursor": next_cursor}


@router.post("/leads", response={201: LeadOut, **WRITE_ERRORS}, summary="Create a lead")
def create_lead(request: HttpRequest, payload: LeadIn) -> Status:
    """Sends `lead_created` (scoring, assignment rules); unassigned, it is yours."""
    membership: Membership = request.auth
    require_add(membership, Lead.object_type)
    fields = payload.dict(exclude={"owner", "team", "name", "source", "status"})
    lead = services.create_lead(
        workspace=membership.workspace, by=request.user, source=payload.source,
        status=payload.status, full_name=payload.name,
        owner=_member(membership, payload.owner) if payload.owner else None,
        team=_team(membership, payload.team) if payload.team else None, **fields,
    )  # fmt: skip
    return Status(201, lead_out(_reloaded(lead)))


class CardsOut(Schema):
    import_id: str
    status: str
    counts: dict[str, int]
    leads: list[LeadOut]


@router.post("/leads/cards", response={201: CardsOut, 202: CardsOut, **ERRORS},
             summary="Leads from business cards (vCard)")  # fmt: skip
def business_cards(
    request: HttpRequest, file: File[UploadedFile], met_at: Form[str] = "",
    consent: Form[bool] = False,
) -> Status:  # fmt: skip
    """A vCard file of one card or many (what card scanner apps export) becomes leads with
    the source "business card", `met_at` as the source detail, and consent when the people
    agreed to be contacted. Up to 500 cards are read at once (201, the leads created); a
    bigger file is imported in the background (202; follow `/api/v1/imports/{import_id}`).
    Cards of leads already open are skipped; each lead is routed like any other."""
    membership: Membership = request.auth
    require_add(membership, Lead.object_type)
    result = lead_imports.import_business_cards(
        membership=membership, upload=file.read(), file_name=file.name or "cards.vcf",
        met_at=met_at, consent=consent,
    )  # fmt: skip
    job = result.job
    body = {"import_id": job.public_id, "status": job.status, "counts": job.counts or {},
            "leads": [lead_out(lead) for lead in result.leads]}  # fmt: skip
    return Status(202 if job.status == job.Status.QUEUED else 201, body)


@router.get("/leads/{lead_id}", response={200: LeadOut, **ERRORS}, summary="One lead")
def get_lead(request: HttpRequest, lead_id: str, response: HttpResponse) -> dict:
    lead = _lead(request, lead_id)
    with_etag(response, lead)
    return lead_out(_reloaded(lead))


@router.patch("/leads/{lead_id}", response={200: LeadOut, **WRITE_ERRORS}, summary="Change")
def update_lead(
    request: HttpRequest, lead_id: str, payload: LeadUpdate, response: HttpResponse
) -> dict:
    """Send the version you read (If-Match or `version`)."""
    membership: Membership = request.auth
    lead = _lead(request, lead_id, action="change")
    given = payload.model_fields_set
    changes = payload.dict(exclude_unset=True, exclude={"version", "owner", "team"})
    for name in ("status", "source"):
        if name in changes and changes[name] is None:
            raise ValidationFailed([(name, "must not be null")])
    if "owner" in given:
        changes["owner"] = _member(membership, payload.owner) if payload.owner else None
    if "team" in given:
        changes["team"] = _team(membership, payload.team) if payload.team else None
    lead = services.update_lead(
        lead=lead, by=request.user,
        expected_version=expected_version(if_match=request.headers.get("If-Match"),
                                          body_version=payload.version),
        **changes,
    )  # fmt: skip
    lead = _reloaded(lead)
    with_etag(response, lead)
    return lead_out(lead)


@router.delete("/leads/{lead_id}", response={204: None, **ERRORS}, summary="Delete a lead")
def delete_lead(request: HttpRequest, lead_id: str) -> Status:
    lead = _lead(request, lead_id, action="delete")
    services.delete_lead(lead=lead, by=request.user)
    return Status(204, None)


@router.post(
    "/leads/{lead_id}/convert",
    response={200: ConvertOut, **WRITE_ERRORS},
    summary="Convert a lead",
)
def convert_lead(request: HttpRequest, lead_id: str, payload: ConvertIn) -> dict:
    """Into a contact (matched by the same phone or e-mail, else created), an account
    (matched by name, else created from the company) and, with `create_opportunity`, an
    opportunity in the default pipeline's first stage. Existing records are completed,
    never overwritten: `kept` lists what differed. Only open leads convert (422)."""
    membership: Membership = request.auth
    lead = _lead(request, lead_id, action=CONVERT)
    result = services.convert_lead(
        lead=lead, by=request.user, membership=membership,
        create_opportunity=payload.create_opportunity,
        opportunity_name=payload.opportunity_name.strip(), amount=payload.amount,
        currency=payload.currency,
        account=visible_customer(Account, membership, payload.account_id),
        contact=visible_customer(Contact, membership, payload.contact_id),
    )  # fmt: skip
    return {
        "account_id": result.account.public_id if result.account else None,
        "contact_id": result.contact.public_id,
        "opportunity_id": result.opportunity.public_id if result.opportunity else None,
        "account_created": result.account_created,
        "contact_created": result.contact_created,
        "kept": result.kept,
        "filled": result.filled,
    }


# --- the web form's settings ------------------------------------------------------------------
def _settings_out(request: HttpRequest, current: WebToLeadSettings, slug: str) -> dict:
    return {
        "is_enabled": current.is_enabled,
        "require_consent": current.require_consent,
        "consent_text": current.consent_text,
        "redirect_hosts": current.hosts,
        "endpoint": request.build_absolute_uri(f"/api/v1/web-to-lead/{slug}"),
        "version": current.version,
    }


@router.get("/web-to-lead-settings", response={200: FormSettingsOut, **ERRORS},
            summary="Web form settings")  # fmt: skip
def get_form_settings(request: HttpRequest) -> dict:
    membership: Membership = request.auth
    if membership.scope_for(WebToLeadSettings.object_type, "view") == "none":
        raise NotFound(WebToLeadSettings._meta.verbose_name)
    current = web_to_lead.form_settings(membership.workspace_id)
    return _settings_out(request, current, membership.workspace.slug)


@router.patch("/web-to-lead-settings", response={200: FormSettingsOut, **WRITE_ERRORS},
              summary="Change the web form settings")  # fmt: skip
def update_form_settings(request: HttpRequest, payload: FormSettingsIn) -> dict:
    membership: Membership = request.auth
    if membership.scope_for(WebToLeadSettings.object_type, "view") == "none":
        raise NotFound(WebToLeadSettings._meta.verbose_name)
    if membership.scope_for(WebToLeadSettings.object_type, "change") == "none":
        raise Forbidden(action="change", object_type=WebToLeadSettings.object_type)
    current = web_to_lead.update_form_settings(
        membership=membership, expected_version=payload.version,
        is_enabled=payload.is_enabled, require_consent=payload.require_consent,
        consent_text=payload.consent_text, redirect_hosts="\n".join(payload.redirect_hosts),
    )  # fmt: skip
    return _settings_out(request, current, membership.workspace.slug)


# --- the public endpoint ----------------------------------------------------------------------
def _form_data(request: HttpRequest) -> tuple[dict[str, Any], bool]:
    """(fields, sent as JSON?) from a JSON body or a form-encoded one."""
    content_type = request.content_type or ""
    if content_type == "application/json":
        try:
            data = json.loads(request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise ValidationFailed([("body", "not valid JSON")]) from None
        if not isinstance(data, dict):
            raise ValidationFailed([("body", "send a JSON object of fields")])
        return data, True
    post: QueryDict = request.POST
    return {key: post.get(key) for key in post}, False


def _wants_html(request: HttpRequest, as_json: bool) -> bool:
    return not as_json and "text/html" in request.headers.get("Accept", "")


@public_router.post(
    "/web-to-lead/{slug}",
    auth=None,
    response={201: dict, 303: None, 404: Problem, 422: Problem, 429: Problem},
    summary="Submit a web form (public)",
    openapi_extra={"requestBody": {"content": {
        "application/json": {"schema": {"type": "object"}},
        "application/x-www-form-urlencoded": {"schema": {"type": "object"}},
    }}},
)  # fmt: skip
def web_to_lead_submit(request: HttpRequest, slug: str) -> HttpResponse:
    """A visitor's form from the company's site: no authentication, no CSRF token. Fields:
    family_name, given_name or name, company, title, email, phone, city, region, country,
    language, product_interest, message, consent, source_detail, redirect. A name or a
    company and a valid phone or e-mail are required (422 naming the fields); the consent
    box too when the workspace asks for it. Too many submissions answer 429 with
    Retry-After. With `redirect` (an allowed host), the browser is sent there (303)."""
    data, as_json = _form_data(request)
    html = _wants_html(request, as_json)
    try:
        result = web_to_lead.submit(slug=slug, data=data, ip=client_ip(request))
    except web_to_lead.RateLimited as exc:
        response = problem_response(status=429, code=exc.code, title=exc.title,
                                    detail=exc.detail)  # fmt: skip
        response["Retry-After"] = str(exc.retry_after)
        return response
    except ValidationFailed as exc:
        if html:
            body = render_to_string("web/leads/web_form_errors.html",
                                    {"errors": exc.errors}, request=request)  # fmt: skip
            return HttpResponse(body, status=422)
        raise
    if result.redirect:
        response = HttpResponse(status=303)
        response["Location"] = result.redirect
        return response
    if html:
        body = render_to_string("web/leads/web_form_thanks.html", {}, request=request)
        return HttpResponse(body, status=201)
    return HttpResponse(
        json.dumps({"status": "accepted", "message": _("Thank you, we will be in touch.")}),
        status=201, content_type="application/json",
    )  # fmt: skip

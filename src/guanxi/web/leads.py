"""Pages of leads: the list, a lead's page (its timeline, a call logged on it, its status),
the new/edit form, conversion, and the web-to-lead settings with the form to embed.

Every write goes through ``guanxi.sales.leads`` (the API's services); the list and the
record come through the lead selectors, visibility first.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from guanxi.platform.apiframework import keyset_page
from guanxi.platform.errors import GuanxiError, ValidationFailed, VersionConflict
from guanxi.platform.models import Membership, User
from guanxi.platform.visibility import can
from guanxi.sales import lead_imports, web_to_lead
from guanxi.sales import lead_selectors as selectors
from guanxi.sales import leads as services
from guanxi.sales.models import Lead, WebToLeadSettings
from guanxi.sales.permissions import CONVERT
from guanxi.timeline.models import Channel, Interaction
from guanxi.web.common import is_htmx, may, membership_of, visible_or_404
from guanxi.web.forms import ServiceErrorsMixin
from guanxi.web.setup_forms import ACTION_LABELS

ACTION_LABELS.setdefault(CONVERT, gettext_lazy("Convert"))
PAGE = 50
LOG_CHANNELS = (Channel.PHONE, Channel.EMAIL, Channel.MEETING, Channel.VISIT, Channel.WECHAT)


# --- forms ------------------------------------------------------------------------------------
class LeadForm(ServiceErrorsMixin, forms.Form):
    family_name = forms.CharField(label=gettext_lazy("family name"), max_length=150,
                                  required=False)  # fmt: skip
    given_name = forms.CharField(label=gettext_lazy("given name"), max_length=150, required=False)
    company = forms.CharField(label=gettext_lazy("company"), max_length=300, required=False)
    title = forms.CharField(label=gettext_lazy("job title"), max_length=200, required=False)
    phone = forms.CharField(label=gettext_lazy("phone"), max_length=64, required=False)
    email = forms.CharField(label=gettext_lazy("e-mail"), max_length=320, required=False)
    city = forms.CharField(label=gettext_lazy("city"), max_length=100, required=False)
    country = forms.CharField(label=gettext_lazy("country/region"), max_length=100,
                              required=False,
                              help_text=gettext_lazy("Its name or two-letter code: 中国, CN"))  # fmt: skip
    industry = forms.CharField(label=gettext_lazy("industry"), max_length=100, required=False)
    product_interest = forms.CharField(label=gettext_lazy("product interest"), max_length=200,
                                       required=False)  # fmt: skip
    source = forms.ChoiceField(label=gettext_lazy("source"), choices=Lead.Source.choices)
    source_detail = forms.CharField(label=gettext_lazy("source detail"), max_length=200,
                                    required=False)  # fmt: skip
    message = forms.CharField(label=gettext_lazy("message"), required=False,
                              widget=forms.Textarea(attrs={"rows": 3}))  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def field_for(self, path: str) -> str | None:
        # "name" (a name or a company is needed) lands on the family name
        return "family_name" if path == "name" else super().field_for(path)


class StatusForm(ServiceErrorsMixin, forms.Form):
    status = forms.ChoiceField(
        label=gettext_lazy("status"),
        choices=[c for c in Lead.Status.choices if c[0] != Lead.Status.CONVERTED],
    )
    disqualify_reason = forms.CharField(
        label=gettext_lazy("disqualification reason"), max_length=300, required=False,
        help_text=gettext_lazy("Required to disqualify."),
    )  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput)


class ConvertForm(ServiceErrorsMixin, forms.Form):
    create_opportunity = forms.BooleanField(label=gettext_lazy("Create an opportunity"),
                                            required=False, initial=True)  # fmt: skip
    opportunity_name = forms.CharField(label=gettext_lazy("Opportunity name"), max_length=300,
                                       required=False)  # fmt: skip
    amount = forms.DecimalField(label=gettext_lazy("Amount"), required=False, min_value=0,
                                decimal_places=2, max_digits=18)  # fmt: skip


class FormSettingsForm(ServiceErrorsMixin, forms.Form):
    is_enabled = forms.BooleanField(label=gettext_lazy("Accept leads from web forms"),
                                    required=False)  # fmt: skip
    require_consent = forms.BooleanField(label=gettext_lazy("Require consent"), required=False)
    consent_text = forms.CharField(
        label=gettext_lazy("Consent text"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Shown next to the checkbox; stored with each lead."),
    )  # fmt: skip
    redirect_hosts = forms.CharField(
        label=gettext_lazy("Allowed redirect hosts"), required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("One host name per line, e.g. www.example.com."),
    )  # fmt: skip
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


# --- helpers ----------------------------------------------------------------------------------
def _lead(request: HttpRequest, public_id: str, action: str = "view") -> Lead:
    membership = membership_of(request)
    return visible_or_404(Lead, membership, public_id, action=action,
                          queryset=selectors.leads(user=membership))  # fmt: skip


def _members(membership: Membership) -> list[User]:
    rows = (
        Membership.objects.for_workspace(membership.workspace_id)
        .filter(is_active=True)
        .select_related("user")
        .order_by("user__username")
    )
    return [row.user for row in rows]


def _write(form: Any, request: HttpRequest, write: Any) -> Any:
    """A service write; its 422s onto the form's fields, a conflict as a message."""
    try:
        return write()
    except ValidationFailed as exc:
        form.add_service_errors(exc.errors)
    except VersionConflict:
        messages.error(request, _("Someone else changed this lead meanwhile. Here is what is "
                                  "saved now; apply your change again."))  # fmt: skip
    except GuanxiError as exc:
        form.add_error(None, str(exc))
    return None


# --- list -------------------------------------------------------------------------------------
@login_required
def lead_list(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    if not may(membership, "view", Lead) and not may(membership, "add", Lead):
        raise PermissionDenied
    mine = request.GET.get("who", "mine") != "all"
    status = request.GET.get("status", "open")
    owner = request.GET.get("owner", "")
    source = request.GET.get("source", "")
    q = request.GET.get("q", "").strip()
    queryset = selectors.filter_leads(
        selectors.leads(user=membership), user_id=membership.user_id,
        status=status if status in (*Lead.Status.values, "open") else None,
        owner="me" if mine else (owner or None),
        source=source if source in Lead.Source.values else None, q=q,
    )  # fmt: skip
    try:
        rows, next_cursor = keyset_page(queryset, ordering=selectors.ORDERINGS["-created_at"],
                                        cursor=request.GET.get("cursor"), limit=PAGE)  # fmt: skip
    except ValidationFailed:
        return redirect("web:lead_list")
    query = request.GET.copy()
    query.pop("cursor", None)
    context = {
        "rows": rows, "next_cursor": next_cursor, "query": query.urlencode(), "mine": mine,
        "status": status, "owner": owner, "source": source, "q": q, "now": timezone.now(),
        "statuses": [("open", _("Open")), *Lead.Status.choices, ("", _("All"))],
        "sources": Lead.Source.choices,
        "members": [] if mine else _members(membership),
        "can_add": may(membership, "add", Lead),
    }  # fmt: skip
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "web/leads/_rows.html", context)
    return render(request, "web/leads/list.html", context)


# --- create and edit --------------------------------------------------------------------------
FORM_FIELDS = ("family_name", "given_name", "company", "title", "phone", "email", "city",
               "country", "industry", "product_interest", "source", "source_detail", "message")  # fmt: skip


@login_required
def lead_new(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    if not may(membership, "add", Lead):
        raise PermissionDenied
    form = LeadForm(request.POST or None, initial={"source": Lead.Source.MANUAL})
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in FORM_FIELDS}
        source = data.pop("source")
        lead = _write(form, request, lambda: services.create_lead(
            workspace=membership.workspace, by=request.user, source=source, **data))  # fmt: skip
        if lead is not None:
            messages.success(request, _("Lead saved."))
            return redirect("web:lead_detail", public_id=lead.public_id)
    return render(request, "web/leads/form.html", {"form": form, "title": _("New lead")})


class CardsForm(ServiceErrorsMixin, forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Business cards (vCard file)"),
        help_text=gettext_lazy("A .vcf file of one card or many, as card scanner apps and "
                               "phones export them."),
        widget=forms.ClearableFileInput(attrs={"accept": ".vcf,.vcard,text/vcard"}),
    )  # fmt: skip
    met_at = forms.CharField(
        label=gettext_lazy("Where you met them"), max_length=200, required=False,
        help_text=gettext_lazy("A trade show, an event or a visit; kept as the source detail."),
    )  # fmt: skip
    consent = forms.BooleanField(label=gettext_lazy("They agreed to be contacted"),
                                 required=False)  # fmt: skip


@login_required
def lead_cards(request: HttpRequest) -> HttpResponse:
    """Leads from business cards: a vCard file read at once (or in the background when it
    holds hundreds), each card a lead routed as usual; one card opens its lead."""
    membership = membership_of(request)
    if not may(membership, "add", Lead):
        raise PermissionDenied
    form = CardsForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        result = _write(form, request, lambda: lead_imports.import_business_cards(
            membership=membership, upload=upload.read(), file_name=upload.name,
            met_at=form.cleaned_data["met_at"], consent=form.cleaned_data["consent"],
        ))  # fmt: skip
        if result is not None:
            counts = result.job.counts or {}
            if len(result.leads) == 1 and not counts.get("skipped") and not counts.get("errors"):
                messages.success(request, _("Lead saved."))
                return redirect("web:lead_detail", public_id=result.leads[0].public_id)
            if counts:
                messages.success(request, ngettext(
                    "%(created)d lead from %(total)d cards; %(skipped)d already known, "
                    "%(errors)d not read.",
                    "%(created)d leads from %(total)d cards; %(skipped)d already known, "
                    "%(errors)d not read.", counts.get("created", 0))
                                 % {"created": counts.get("created", 0),
                                    "total": counts.get("total", 0),
                                    "skipped": counts.get("skipped", 0),
                                    "errors": counts.get("errors", 0)})  # fmt: skip
            return redirect("web:import_detail", result.job.public_id)
    return render(request, "web/leads/cards.html", {"form": form},
                  status=422 if form.errors else 200)  # fmt: skip


@login_required
def lead_edit(request: HttpRequest, public_id: str) -> HttpResponse:
    lead = _lead(request, public_id, action="change")
    initial = {name: getattr(lead, name) for name in FORM_FIELDS} | {"version": lead.version}
    form = LeadForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name] for name in FORM_FIELDS}
        saved = _write(form, request, lambda: services.update_lead(
            lead=lead, by=request.user, expected_version=form.cleaned_data["version"] or 0,
            **data))  # fmt: skip
        if saved is not None:
            messages.success(request, _("Lead saved."))
            return redirect("web:lead_detail", public_id=lead.public_id)
    return render(request, "web/leads/form.html",
                  {"form": form, "lead": lead, "title": _("Edit lead")})  # fmt: skip


# --- the lead's page --------------------------------------------------------------------------
def _detail_context(request: HttpRequest, lead: Lead, membership: Membership) -> dict[str, Any]:
    return {
        "lead": lead,
        "interactions": selectors.lead_timeline(lead=lead),
        "activities": selectors.lead_activities(lead=lead),
        "channels": [(c.value, c.label) for c in LOG_CHANNELS],
        "can_change": can(membership, "change", lead),
        "can_convert": lead.is_open and can(membership, CONVERT, lead),
        "can_log": may(membership, "add", Interaction),
        "now": timezone.now(),
    }


@login_required
def lead_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    lead = _lead(request, public_id)
    context = _detail_context(request, lead, membership)
    context["status_form"] = StatusForm(initial={"status": lead.status, "version": lead.version,
                                                 "disqualify_reason": lead.disqualify_reason})  # fmt: skip
    return render(request, "web/leads/detail.html", context)


@login_required
@require_POST
def lead_status(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    lead = _lead(request, public_id, action="change")
    form = StatusForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        saved = _write(form, request, lambda: services.change_status(
            lead=lead, by=request.user, expected_version=data["version"], status=data["status"],
            reason=data["disqualify_reason"]))  # fmt: skip
        if saved is not None:
            messages.success(request, _("Status changed."))
            return redirect("web:lead_detail", public_id=lead.public_id)
    lead = _lead(request, public_id)
    context = _detail_context(request, lead, membership)
    context["status_form"] = form
    return render(request, "web/leads/detail.html", context, status=422)


@login_required
@require_POST
def lead_log(request: HttpRequest, public_id: str) -> HttpResponse:
    """Log a call (or e-mail, meeting…) on the lead; answers the refreshed timeline."""
    membership = membership_of(request)
    lead = _lead(request, public_id)
    if not may(membership, "add", Interaction):
        raise Http404
    errors: list[str] = []
    subject = request.POST.get("subject", "").strip()
    channel = request.POST.get("channel", Channel.PHONE)
    if not subject:
        errors.append(_("Say in a few words what it was about."))
    if channel not in [c.value for c in LOG_CHANNELS]:
        errors.append(_("Choose how you were in touch."))
    if not errors:
        try:
            services.log_touch(lead=lead, by=request.user, channel=channel, subject=subject,
                               body=request.POST.get("body", ""),
                               direction=request.POST.get("direction", "outbound"))  # fmt: skip
        except GuanxiError as exc:
            errors.append(str(exc))
    if not is_htmx(request):
        if errors:
            messages.error(request, " ".join(errors))
        return redirect("web:lead_detail", public_id=lead.public_id)
    return render(request, "web/leads/_timeline.html",
                  {"interactions": selectors.lead_timeline(lead=lead), "errors": errors,
                   "logged": not errors})  # fmt: skip


# --- conversion -------------------------------------------------------------------------------
FIELD_LABELS = {
    "contact.family_name": gettext_lazy("Contact: family name"),
    "contact.given_name": gettext_lazy("Contact: given name"),
    "contact.preferred_language": gettext_lazy("Contact: preferred language"),
    "account.industry": gettext_lazy("Account: industry"),
    "account.website": gettext_lazy("Account: website"),
    "account.region": gettext_lazy("Account: country/region"),
    "account.name": gettext_lazy("Account: name"),
}


@login_required
def lead_convert(request: HttpRequest, public_id: str) -> HttpResponse:
    """What conversion will match and create, then the conversion; lands on the account."""
    membership = membership_of(request)
    lead = _lead(request, public_id, action=CONVERT)
    if not lead.is_open:
        messages.error(request, _("Only an open lead can be converted."))
        return redirect("web:lead_detail", public_id=lead.public_id)
    plan = services.plan_conversion(lead=lead, user=membership)
    initial = {"create_opportunity": True, "opportunity_name": services._default_deal_name(lead)}
    form = ConvertForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        result = _write(form, request, lambda: services.convert_lead(
            lead=lead, by=request.user, membership=membership,
            create_opportunity=data["create_opportunity"],
            opportunity_name=data["opportunity_name"].strip(), amount=data["amount"] or 0))  # fmt: skip
        if result is not None:
            messages.success(request, _("Lead converted."))
            if result.kept:
                kept = ", ".join(str(FIELD_LABELS.get(k, k)) for k in result.kept)
                messages.info(request, _("Kept the existing values of: %(fields)s")
                              % {"fields": kept})  # fmt: skip
            if result.account is not None:
                return redirect("web:customer_detail", "accounts", result.account.public_id)
            return redirect("web:customer_detail", "contacts", result.contact.public_id)
    context = {
        "lead": lead, "plan": plan, "form": form,
        "fill": [(FIELD_LABELS.get(k, k), v) for k, v in sorted(plan.fill.items())],
        "kept": [(FIELD_LABELS.get(k, k), have, wanted)
                 for k, (have, wanted) in sorted(plan.kept.items())],
        "can_see_account": plan.account is not None and can(membership, "view", plan.account),
    }  # fmt: skip
    return render(request, "web/leads/convert.html", context)


# --- settings: the web form -------------------------------------------------------------------
FORM_SNIPPET_FIELDS = (
    ("name", gettext_lazy("Name"), "text", "name"),
    ("company", gettext_lazy("Company"), "text", "organization"),
    ("email", gettext_lazy("E-mail"), "email", "email"),
    ("phone", gettext_lazy("Phone"), "tel", "tel"),
    ("city", gettext_lazy("City"), "text", "address-level2"),
    ("product_interest", gettext_lazy("Interested in"), "text", "off"),
)


@login_required
def web_to_lead_settings(request: HttpRequest) -> HttpResponse:
    from guanxi.web.setup import _page

    membership = membership_of(request)
    current = web_to_lead.form_settings(membership.workspace_id)
    editable = may(membership, "change", WebToLeadSettings)
    initial = {"is_enabled": current.is_enabled, "require_consent": current.require_consent,
               "consent_text": current.consent_text, "redirect_hosts": current.redirect_hosts,
               "version": current.version}  # fmt: skip
    form = FormSettingsForm(request.POST or None, initial=initial)
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        if form.is_valid():
            data = form.cleaned_data
            saved = _write(form, request, lambda: web_to_lead.update_form_settings(
                membership=membership, expected_version=data["version"],
                is_enabled=data["is_enabled"], require_consent=data["require_consent"],
                consent_text=data["consent_text"], redirect_hosts=data["redirect_hosts"]))  # fmt: skip
            if saved is not None:
                messages.success(request, _("Saved."))
                return redirect("web:settings_web_to_lead")
    endpoint = request.build_absolute_uri(f"/api/v1/web-to-lead/{membership.workspace.slug}")
    limits = web_to_lead.limits()
    return _page(request, "web_to_lead", "web_to_lead.html", form=form, editable=editable,
                 current=current, endpoint=endpoint, fields=FORM_SNIPPET_FIELDS,
                 per_ip=limits["ip"], per_workspace=limits["workspace"],
                 redirect_example=f"https://{current.hosts[0]}/thanks" if current.hosts else "")  # fmt: skip

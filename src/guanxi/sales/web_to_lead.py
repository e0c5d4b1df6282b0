"""Leads from public web forms (web-to-lead): the workspace's form settings, the rate limits
that keep a form from being flooded, and the submission itself.

Rate limits are fixed-window counters in Django's cache: the local-memory cache of one
process (tests, the embedded mode) or the shared Redis cache in production
(``GUANXI_REDIS_URL``), where every web process counts against the same limit. When the
cache is unreachable the form is served unlimited rather than refused: a lead a visitor
sent is worth more than the limit.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.cache import caches
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from guanxi.platform.audit import record_audit
from guanxi.platform.errors import Forbidden, GuanxiError, ValidationFailed, VersionConflict
from guanxi.platform.models import Membership, Workspace
from guanxi.platform.permissions import Scope
from guanxi.sales import leads
from guanxi.sales.models import Lead, WebToLeadSettings

log = logging.getLogger(__name__)

# fields a form may send; anything else is ignored (forms carry buttons, tracking fields…)
FORM_FIELDS = (
    "family_name", "given_name", "name", "company", "title", "email", "phone", "city",
    "region", "country", "language", "product_interest", "message", "consent",
    "source_detail", "redirect",
)  # fmt: skip
HONEYPOT = "website_url"
TRUE = {"1", "true", "on", "yes", "y", "checked"}

# (requests, seconds): defaults of GUANXI_WEB_TO_LEAD_PER_IP / _PER_WORKSPACE
DEFAULT_PER_IP = (10, 60)
DEFAULT_PER_WORKSPACE = (600, 60)


class RateLimited(GuanxiError):
    status = 429
    code = "rate_limited"
    title = "Too many requests"

    def __init__(self, *, retry_after: int) -> None:
        self.retry_after = retry_after
        super().__init__(
            _("Too many submissions; try again in %(n)d seconds.") % {"n": retry_after}
        )

    def extra(self) -> dict:
        return {"retry_after": self.retry_after}


class FormClosed(GuanxiError):
    status = 404
    code = "not_found"
    title = "Not found"

    def __init__(self) -> None:
        super().__init__(_("This workspace takes no leads from web forms."))


# --- settings ---------------------------------------------------------------------------------
def form_settings(workspace: Workspace | int) -> WebToLeadSettings:
    """The workspace's form settings; unsaved defaults (closed) when it has none."""
    workspace_id = workspace if isinstance(workspace, int) else workspace.pk
    found = WebToLeadSettings.objects.for_workspace(workspace_id).first()
    return found or WebToLeadSettings(workspace_id=workspace_id)


def _host(value: str) -> str:
    return value.strip().lower().rstrip(".")


@transaction.atomic
def update_form_settings(
    *, membership: Membership, expected_version: int | None, is_enabled: bool,
    require_consent: bool, consent_text: str, redirect_hosts: str,
) -> WebToLeadSettings:  # fmt: skip
    """Open or close the form, set the consent text and the hosts a form may return to."""
    if membership.scope_for(WebToLeadSettings.object_type, "change") == Scope.NONE:
        raise Forbidden(action="change", object_type=WebToLeadSettings.object_type)
    current = form_settings(membership.workspace_id)
    if current.pk is not None:
        current = WebToLeadSettings.objects.select_for_update().get(pk=current.pk)
    if expected_version is not None and expected_version != current.version:
        raise VersionConflict(current_version=current.version, expected_version=expected_version)
    errors = []
    consent_text = consent_text.strip()
    if require_consent and not consent_text:
        errors.append(("consent_text", _("say what visitors consent to")))
    hosts = []
    for line in redirect_hosts.splitlines():
        host = _host(line)
        if not host:
            continue
        if "/" in host or ":" in host or " " in host or "." not in host:
            errors.append(("redirect_hosts", _("%(h)s is not a host name, e.g. www.example.com")
                           % {"h": line.strip()}))  # fmt: skip
        hosts.append(host)
    if errors:
        raise ValidationFailed(errors)
    before = _describe(current)
    current.is_enabled, current.require_consent = is_enabled, require_consent
    current.consent_text, current.redirect_hosts = consent_text, "\n".join(dict.fromkeys(hosts))
    current.updated_by, current.updated_at = membership.user, timezone.now()
    if current.pk is None:  # the defaults were version 1 to whoever read them
        current.created_by = membership.user
    current.version += 1
    current.save()
    _forget_form(membership.workspace.slug)  # and once committed, should a reader race us
    transaction.on_commit(lambda: _forget_form(membership.workspace.slug))
    record_audit(action="sales.web_to_lead.settings_changed", actor=membership.user,
                 workspace=membership.workspace, obj=current,
                 data={"before": before, "after": _describe(current)})  # fmt: skip
    return current


def _describe(current: WebToLeadSettings) -> dict[str, Any]:
    return {"is_enabled": current.is_enabled, "require_consent": current.require_consent,
            "consent_text": current.consent_text, "redirect_hosts": current.hosts}  # fmt: skip


# --- rate limits ------------------------------------------------------------------------------
def _limit(name: str, default: tuple[int, int]) -> tuple[int, int]:
    value = getattr(settings, name, None)
    if value is None:
        return default
    count, seconds = value
    return int(count), int(seconds)


def limits() -> dict[str, tuple[int, int]]:
    return {
        "ip": _limit("GUANXI_WEB_TO_LEAD_PER_IP", DEFAULT_PER_IP),
        "workspace": _limit("GUANXI_WEB_TO_LEAD_PER_WORKSPACE", DEFAULT_PER_WORKSPACE),
    }


def _hit(cache: Any, key: str, count: int, seconds: int, now: float) -> int:
    """Count one request in the current window; seconds until it ends when over ``count``."""
    window = int(now // seconds)
    name = f"guanxi:w2l:{key}:{window}"
    # add() then incr(): atomic on Redis and within one local-memory cache
    cache.add(name, 0, timeout=seconds + 1)
    try:
        used = cache.incr(name)
    except ValueError:  # expired between the two calls
        cache.add(name, 1, timeout=seconds + 1)
        used = 1
    if used > count:
        return max(1, int((window + 1) * seconds - now + 0.999))
    return 0


def check_rate(*, workspace_id: int, ip: str | None) -> None:
    """RateLimited (429 with Retry-After) when the client or the workspace sent too many."""
    configured = limits()
    now = time.time()
    try:
        cache = caches[getattr(settings, "GUANXI_WEB_TO_LEAD_CACHE", "default")]
        wait = 0
        if ip:
            count, seconds = configured["ip"]
            wait = _hit(cache, f"ip:{workspace_id}:{ip}", count, seconds, now)
        if not wait:  # one flooding client does not use up the workspace's allowance
            count, seconds = configured["workspace"]
            wait = _hit(cache, f"ws:{workspace_id}", count, seconds, now)
    except Exception:  # the cache is down: take the lead rather than lose it
        log.exception("web-to-lead rate limit unavailable; serving unlimited")
        return
    if wait:
        raise RateLimited(retry_after=wait)


# --- submission -------------------------------------------------------------------------------
@dataclass
class Submission:
    accepted: bool
    lead: Lead | None  # None for a honeypot hit: answered as accepted, nothing stored
    redirect: str | None


SETTINGS_TTL = 30  # seconds a process may serve a form from its cached settings


def _settings_key(slug: str) -> str:
    return f"guanxi:w2l:form:{slug}"


# and a second, shorter memory in the process itself: a busy form costs no trip to the shared
# cache (and no unpickling) for every submission; a change reaches other processes after it
SETTINGS_MEMO_SECONDS = 2
_memo: dict[str, tuple[float, Any]] = {}


def open_form(slug: str) -> WebToLeadSettings:
    """The form settings of an active workspace taking web leads (FormClosed otherwise).
    Read through the cache for a few seconds: a busy form then costs no query for them;
    saving the settings drops the cached copy."""
    now = time.monotonic()
    memo = _memo.get(slug)
    if memo is not None and now - memo[0] < SETTINGS_MEMO_SECONDS:
        found = memo[1]
    else:
        found = _shared_form(slug)
        if len(_memo) >= 1000:
            _memo.clear()
        _memo[slug] = (now, found)
    if not found:
        raise FormClosed()
    return found


def _shared_form(slug: str) -> WebToLeadSettings | bool:
    """The settings from the shared cache, or the database (then cached); False: closed."""
    cache = caches[getattr(settings, "GUANXI_WEB_TO_LEAD_CACHE", "default")]
    try:
        found = cache.get(_settings_key(slug))
    except Exception:
        found = None
    if found is None:
        found = (
            WebToLeadSettings.objects.dangerously_all_workspaces()
            .select_related("workspace")
            .filter(workspace__slug=slug, workspace__is_active=True, is_enabled=True)
            .first()
        ) or False  # closed forms are cached too: a flood on one costs no queries
        try:
            cache.set(_settings_key(slug), found, timeout=SETTINGS_TTL)
        except Exception:
            log.exception("web-to-lead settings cache unavailable")
    return found


def forget_memos() -> None:
    """Drop what this process remembers of every form (the shared cache keeps its copies)."""
    _memo.clear()


def _forget_form(slug: str) -> None:
    _memo.pop(slug, None)
    try:
        caches[getattr(settings, "GUANXI_WEB_TO_LEAD_CACHE", "default")].delete(_settings_key(slug))
    except Exception:
        log.exception("web-to-lead settings cache unavailable")


def _truthy(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value or "").strip().lower() in TRUE


def safe_redirect(value: str, form: WebToLeadSettings) -> str:
    """The URL to send a plain HTML form back to: http(s) on an allow-listed host only."""
    parts = urlsplit(value.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValidationFailed([("redirect", _("must be an http or https URL"))])
    if _host(parts.hostname) not in form.hosts:
        raise ValidationFailed([("redirect", _("host %(h)s is not allowed for this form")
                                 % {"h": parts.hostname})])  # fmt: skip
    return value.strip()


def submit(*, slug: str, data: dict[str, Any], ip: str | None) -> Submission:
    """Validate and store one web form submission as a lead (source web, no actor).

    Order matters: the form must be open (404), the client within its limits (429), the
    redirect allowed and the fields valid (422) — then the lead is saved and announced in
    one transaction before the answer goes out, so an accepted lead is never lost."""
    form = open_form(slug)
    workspace = form.workspace
    check_rate(workspace_id=workspace.pk, ip=ip)
    redirect = str(data.get("redirect") or "").strip()
    errors: list[tuple[str, str]] = []
    try:
        redirect = safe_redirect(redirect, form) if redirect else ""
    except ValidationFailed as exc:
        errors += exc.errors
    if str(data.get(HONEYPOT) or "").strip():
        # a bot filled the field people never see: it is told what a person would be
        return Submission(accepted=True, lead=None, redirect=redirect or None)
    consent = _truthy(data.get("consent"))
    if form.require_consent and not consent:
        errors.append(("consent", _("please accept: %(text)s") % {"text": form.consent_text}))
    values = {
        name: str(data.get(name) or "")
        for name in FORM_FIELDS
        if name in leads.TEXT_FIELDS and data.get(name) not in (None, "")
    }
    cleaned, field_errors = leads.clean_lead_fields(
        values, region=workspace.region or "CN", full_name=str(data.get("name") or "")
    )
    errors += field_errors
    if errors:
        raise ValidationFailed(errors)
    lead = leads.create_lead(
        workspace=workspace, by=None, source=Lead.Source.WEB, full_name="",
        consent=consent, consent_text=form.consent_text if consent else "",
        submitted_ip=ip, already_clean=True, **cleaned,
    )  # fmt: skip
    return Submission(accepted=True, lead=lead, redirect=redirect or None)

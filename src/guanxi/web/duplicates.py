"""Pages for duplicates: the review queue of what scans propose, merging contacts side by
side (choosing the value each field keeps), a merge's page with its undo, and the rules.

Every decision goes through ``customers.duplicates`` and ``customers.merging`` (rights,
audit, undo); a reviewer sees a pair only when they may see both contacts.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.customers import dedupe, dedupe_tasks, duplicates, merging
from guanxi.customers.models import (
    AccountContact,
    Address,
    Contact,
    ContactPoint,
    DedupeRun,
    DuplicatePair,
    Merge,
)
from guanxi.platform.apiframework import keyset_page
from guanxi.platform.errors import GuanxiError
from guanxi.platform.models import Membership
from guanxi.platform.visibility import can, may_add
from guanxi.web.common import is_htmx, may, membership_of, visible_or_404

PAGE = 20
# what the side-by-side view compares, in this order (the merge service's fields)
SHOWN = (
    "family_name", "given_name", "gender", "birthday", "occupation", "preferred_language",
    "preferred_channel", "value_tier", "source", "external_id", "lifecycle_stage", "owner",
    "team",
)  # fmt: skip


def _reviewer(request: HttpRequest) -> Membership:
    membership = membership_of(request)
    if not may(membership, "view", DuplicatePair):
        raise PermissionDenied
    return membership


def _details(contacts: list[Contact]) -> dict[int, dict[str, list[str]]]:
    """Phones, e-mails, companies and cities of these contacts (three queries)."""
    ids = [c.pk for c in contacts]
    result: dict[int, dict[str, list[str]]] = {
        pk: {"phone": [], "email": [], "company": [], "city": []} for pk in ids
    }
    points = (
        ContactPoint.objects.filter(contact_id__in=ids, kind__in=("phone", "email"))
        .order_by("-is_primary", "pk")
        .values_list("contact_id", "kind", "value")
    )
    for contact_id, kind, value in points:
        result[contact_id][kind].append(value)
    links = AccountContact.objects.filter(
        contact_id__in=ids, account__deleted_at__isnull=True
    ).values_list("contact_id", "account__name")
    for contact_id, name in links:
        result[contact_id]["company"].append(name)
    for contact_id, city in (
        Address.objects.filter(contact_id__in=ids)
        .exclude(city="")
        .values_list("contact_id", "city")
    ):
        result[contact_id]["city"].append(city)
    return result


@login_required
def review(request: HttpRequest) -> HttpResponse:
    """The queue: the latest scan, then open pairs, most likely first, a page at a time."""
    membership = _reviewer(request)
    try:
        pairs, next_cursor = keyset_page(
            duplicates.visible_pairs(membership), ordering=("-score", "id"),
            cursor=request.GET.get("cursor") or None, limit=PAGE,
        )  # fmt: skip
    except GuanxiError as exc:
        raise Http404 from exc
    details = _details([c for p in pairs for c in (p.contact_a, p.contact_b)])
    sizes = _cluster_sizes(pairs)
    rows = [
        {"pair": pair, "reasons": dedupe.describe_evidence(pair.reasons),
         "a": details[pair.contact_a_id], "b": details[pair.contact_b_id],
         "cluster_size": sizes.get((pair.run_id, pair.cluster), 2)}
        for pair in pairs
    ]  # fmt: skip
    context = {
        "rows": rows, "next_cursor": next_cursor, "run": _last_run(membership),
        "can_scan": may_add(membership, DedupeRun.object_type),
        "can_decide": may(membership, "change", DuplicatePair),
    }  # fmt: skip
    if is_htmx(request) and request.GET.get("cursor"):
        return render(request, "web/duplicates/_rows.html", context)
    return render(request, "web/duplicates/review.html", context)


def _last_run(membership: Membership) -> DedupeRun | None:
    return DedupeRun.objects.visible_to(membership, "view").order_by("-created_at", "-pk").first()


def _cluster_sizes(pairs: list[DuplicatePair]) -> dict[tuple[int, str], int]:
    """How many contacts each shown pair's cluster holds (one query)."""
    big = {(p.run_id, p.cluster) for p in pairs}
    if not big:
        return {}
    members: dict[tuple[int, str], set[int]] = {}
    rows = DuplicatePair.objects.filter(
        run_id__in={run for run, _c in big}, cluster__in={c for _r, c in big},
        status=DuplicatePair.Status.PROPOSED,
    ).values_list("run_id", "cluster", "contact_a_id", "contact_b_id")  # fmt: skip
    for run, cluster, a, b in rows:
        if (run, cluster) in big:
            members.setdefault((run, cluster), set()).update((a, b))
    return {key: len(ids) for key, ids in members.items()}


@login_required
def scan_status(request: HttpRequest) -> HttpResponse:
    membership = _reviewer(request)
    return render(request, "web/duplicates/_scan.html", {"run": _last_run(membership),
                                                        "can_scan": may_add(membership, DedupeRun.object_type)})  # fmt: skip


@login_required
@require_POST
def start_scan(request: HttpRequest) -> HttpResponse:
    membership = _reviewer(request)
    running = _last_run(membership)
    if running is not None and running.status in (
        DedupeRun.Status.QUEUED,
        DedupeRun.Status.RUNNING,
    ):
        messages.warning(request, _("A scan is already running."))
        return redirect("web:duplicate_review")
    try:
        run = dedupe.start_run(membership=membership)
    except GuanxiError as exc:
        raise PermissionDenied from exc
    dedupe_tasks.enqueue(run)
    messages.success(request, _("Scan started. Pairs appear here when it is done."))
    return redirect("web:duplicate_review")


def _open_pair(membership: Membership, public_id: str) -> DuplicatePair:
    pair = duplicates.visible_pairs(membership).filter(public_id=public_id).first()
    if pair is None:
        raise Http404
    return pair


@login_required
@require_POST
def reject(request: HttpRequest, public_id: str) -> HttpResponse:
    """Not the same person (the pair, or with cluster=1 its whole cluster)."""
    membership = _reviewer(request)
    pair = _open_pair(membership, public_id)
    pairs = [pair]
    if request.POST.get("cluster"):
        pairs = list(
            duplicates.visible_pairs(membership).filter(run_id=pair.run_id, cluster=pair.cluster)
        )
    try:
        count = duplicates.reject(membership=membership, pairs=pairs)
    except GuanxiError as exc:
        raise PermissionDenied from exc
    if is_htmx(request):
        return render(request, "web/duplicates/_decided.html", {"count": count})
    messages.success(request, _("Marked as different people."))
    return redirect("web:duplicate_review")


# --- merging side by side -------------------------------------------------------------------
def _value(contact: Contact, name: str) -> str:
    if name in ("owner", "team", "lifecycle_stage"):
        related = getattr(contact, name)
        return str(related) if related else ""
    if name == "birthday":
        return contact.birthday.isoformat() if contact.birthday else ""
    if name in ("gender",):
        return contact.get_gender_display() if contact.gender else ""
    return str(getattr(contact, name) or "")


def _field_rows(contacts: list[Contact], survivor: Contact) -> list[dict[str, Any]]:
    """Each field's values side by side; which one the merge keeps unless told otherwise
    (``merging.default_source``: the most trusted source's, the survivor's, the newest)."""
    rank = merging.trust_rank(survivor.workspace_id)
    others = [c for c in contacts if c.pk != survivor.pk]
    rows = []
    for name in SHOWN:
        values = [_value(c, name) for c in contacts]
        default = merging.default_source(name, survivor, others, rank, _value)
        rows.append({
            "name": name, "label": Contact._meta.get_field(name).verbose_name,
            "cells": [{"contact": c, "value": v} for c, v in zip(contacts, values, strict=True)],
            "differ": len({v for v in values if v}) > 1, "default": default.public_id,
        })  # fmt: skip
    return rows


@login_required
def merge_contacts(request: HttpRequest) -> HttpResponse:
    """GET ?ids=…&ids=…: the contacts side by side; POST: merge them into the chosen one."""
    membership = membership_of(request)
    source = request.POST if request.method == "POST" else request.GET
    ids = list(dict.fromkeys(source.getlist("ids")))
    if not 2 <= len(ids) <= 10:
        raise Http404
    queryset = Contact.objects.select_related("owner", "team", "lifecycle_stage")
    contacts = [visible_or_404(Contact, membership, i, queryset=queryset) for i in ids]
    contacts.sort(key=lambda c: c.pk)
    editable = all(can(membership, "change", c) for c in contacts)
    chosen = source.get("survivor") or contacts[0].public_id
    survivor = next((c for c in contacts if c.public_id == chosen), contacts[0])
    errors: list[str] = []
    if request.method == "POST":
        if not editable:
            raise PermissionDenied
        by_id = {c.public_id: c for c in contacts}
        fields = {name: request.POST[f"field_{name}"] for name in SHOWN
                  if request.POST.get(f"field_{name}") in by_id}  # fmt: skip
        try:
            record = duplicates.merge(
                membership=membership, survivor=survivor,
                merged=[c for c in contacts if c.pk != survivor.pk], fields=fields,
            )  # fmt: skip
        except GuanxiError as exc:
            errors.append(str(exc))
        else:
            messages.success(request, _("Merged into %(name)s.") % {"name": survivor})
            return redirect("web:merge_detail", record.public_id)
    details = _details(contacts)
    return render(request, "web/duplicates/merge.html", {
        "contacts": [{"contact": c, **details[c.pk]} for c in contacts], "ids": ids,
        "survivor": survivor, "rows": _field_rows(contacts, survivor), "editable": editable,
        "errors": errors,
    })  # fmt: skip


@login_required
def merge_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    record = visible_or_404(Merge, membership, public_id)
    people = {c.pk: c for c in Contact._base_manager.filter(
        pk__in=[record.survivor_id, *record.merged_ids], workspace_id=membership.workspace_id)}  # fmt: skip
    survivor = people.get(record.survivor_id)
    return render(request, "web/duplicates/merge_detail.html", {
        "merge": record, "survivor": survivor,
        "merged": [people[pk] for pk in record.merged_ids if pk in people],
        "can_undo": record.undone_at is None and can(membership, "change", record),
    })  # fmt: skip


@login_required
@require_POST
def merge_undo(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    record = visible_or_404(Merge, membership, public_id, action="change")
    try:
        restored = merging.unmerge(membership=membership, merge=record)
    except GuanxiError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Merge undone: %(names)s are separate again.")
                         % {"names": ", ".join(str(c) for c in restored)})  # fmt: skip
    return redirect("web:merge_detail", record.public_id)

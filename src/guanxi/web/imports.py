"""The import wizard: upload, map the columns, check, import, follow, fix the errors, undo."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from guanxi.customers import import_templates
from guanxi.customers.imports import engine, readers, review
from guanxi.customers.imports import mapping as mappings
from guanxi.customers.imports.api import INLINE_ROWS, error_report_response
from guanxi.customers.imports.tasks import enqueue
from guanxi.customers.models import ImportJob, ImportTemplate
from guanxi.platform.errors import GuanxiError, ValidationFailed
from guanxi.web.common import is_htmx, may, membership_of, visible_or_404

PREVIEW_ROWS = 3
ERRORS_SHOWN = 50


@login_required
def import_list(request: HttpRequest) -> HttpResponse:
    membership = membership_of(request)
    if not may(membership, "add", ImportJob):
        raise PermissionDenied
    errors: list[str] = []
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            errors.append(_("Choose a file to import."))
        else:
            try:
                job = engine.create_job(
                    membership=membership, kind=request.POST.get("type", "contacts"),
                    upload=upload, file_name=upload.name, sheet=request.POST.get("sheet", ""),
                    policy=request.POST.get("policy", "skip"),
                )  # fmt: skip
            except ValidationFailed as exc:
                errors.extend(message for _path, message in exc.errors)
            else:
                return redirect("web:import_detail", job.public_id)
    jobs = ImportJob.objects.visible_to(membership, "view").order_by("-created_at", "-id")[:50]
    return render(
        request,
        "web/imports/list.html",
        {"jobs": jobs, "errors": errors, "policies": ImportJob.Policy.choices,
         "kinds": ImportJob.Kind.choices, "kind": request.GET.get("type", "contacts"),
         "templates": import_templates.usable_templates(membership=membership)[:100]},
        status=422 if errors else 200,
    )  # fmt: skip


def _preview(job: ImportJob) -> list[dict[str, str]]:
    try:
        rows = readers.rows(Path(job.file_path), engine.file_info(job), limit=PREVIEW_ROWS)
        return [row for _line, row in rows if isinstance(row, dict)]
    except (readers.FileProblem, OSError):
        return []


EXTRA_DEFAULTS = 3  # rows offered for values of fields no column fills


def _posted_mapping(request: HttpRequest, job: ImportJob) -> tuple[dict, dict[str, str]]:
    """The mapping, transforms and defaults for empty cells as the form sent them: a
    default beside a column fills that column's field; the extra rows name a field."""
    chosen = {
        column: {"field": request.POST.get(f"field-{index}", ""),
                 "transform": request.POST.get(f"transform-{index}", "trim")}
        for index, column in enumerate(job.columns)
    }  # fmt: skip
    defaults: dict[str, str] = {}
    for index, column in enumerate(job.columns):
        value = request.POST.get(f"default-{index}", "").strip()
        if value and chosen[column]["field"]:
            defaults[chosen[column]["field"]] = value
    extra = sorted(int(key[12:]) for key in request.POST if key.startswith("extra-field-")
                   and key[12:].isdigit())  # fmt: skip
    for index in extra[:50]:
        field = request.POST.get(f"extra-field-{index}", "")
        value = request.POST.get(f"extra-value-{index}", "").strip()
        if field and value:
            defaults.setdefault(field, value)
    return {c: m for c, m in chosen.items() if m["field"]}, defaults


@login_required
def import_detail(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    job = visible_or_404(ImportJob, membership, public_id)
    errors: list[str] = []
    if request.method == "POST":
        job = visible_or_404(ImportJob, membership, public_id, action="change")
        step = request.POST.get("step", "check")
        if step == "apply_template":
            return _apply_template(request, membership, job)
        mapping, defaults = _posted_mapping(request, job)
        try:
            engine.set_mapping(
                job=job, mapping=mapping, policy=request.POST.get("policy", job.policy),
                defaults=import_templates.check_defaults(
                    defaults, kind=job.kind,
                    custom=set(engine.custom_fields(job.workspace_id, job.kind)),
                ),
            )  # fmt: skip
            if step == "save_template":
                template = import_templates.save_from_job(
                    membership=membership, job=job, name=request.POST.get("template_name", ""),
                    is_shared=request.POST.get("template_shared") == "on",
                )  # fmt: skip
                messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
                return redirect(
                    f"{reverse('web:import_detail', args=[job.public_id])}"
                    f"?template={template.public_id}"
                )
            if step == "run":
                return _start(request, job)
            engine.dry_run(job)
        except ValidationFailed as exc:
            errors.extend(message for _path, message in exc.errors)
            job.mapping, job.defaults = mapping, defaults
        except GuanxiError as exc:
            errors.append(str(exc))
            job.mapping, job.defaults = mapping, defaults
    return _detail_page(request, membership, job, errors)


def _apply_template(request: HttpRequest, membership: Any, job: ImportJob) -> HttpResponse:
    url = reverse("web:import_detail", args=[job.public_id])
    try:
        template = import_templates.get_template(
            membership=membership, public_id=request.POST.get("template", "")
        )
        import_templates.apply_template(template=template, job=job)
    except ValidationFailed as exc:
        messages.error(request, "; ".join(message for _path, message in exc.errors))
        return redirect(url)
    except GuanxiError as exc:
        messages.error(request, str(exc))
        return redirect(url)
    messages.success(request, _("Columns mapped with “%(name)s”.") % {"name": template.name})
    return redirect(f"{url}?template={template.public_id}")


def _detail_page(
    request: HttpRequest, membership: Any, job: ImportJob, errors: list[str]
) -> HttpResponse:
    custom = engine.custom_fields(job.workspace_id, job.kind)
    fields = [(key, str(label)) for key, label in mappings.FIELDS[job.kind].items()]
    fields += [(f"cf.{key}", f"{definition.label} ({_('custom field')})")
               for key, definition in custom.items()]  # fmt: skip
    editable = job.status in (ImportJob.Status.UPLOADED, ImportJob.Status.CHECKED)
    preview = _preview(job) if editable else []
    defaults = dict(job.defaults or {})
    mapped = {spec.get("field") for spec in job.mapping.values()}
    columns = []
    for index, column in enumerate(job.columns):
        field = job.mapping.get(column, {}).get("field", "")
        columns.append({
            "index": index, "name": column, "samples": [row.get(column, "") for row in preview],
            "field": field, "transform": job.mapping.get(column, {}).get("transform", "trim"),
            "default": defaults.get(field, "") if field else "",
        })  # fmt: skip
    extra = [(f, v) for f, v in defaults.items() if f not in mapped]
    extra += [("", "")] * max(EXTRA_DEFAULTS - len(extra), 1)
    templates: list[Any] = []
    suggested = None
    if editable and import_templates.may_use_templates(membership):
        templates = list(import_templates.usable_templates(membership=membership, kind=job.kind))
        suggested = import_templates.best_fit(templates, job.columns)
    chosen = request.GET.get("template") or (suggested.template.public_id if suggested else "")
    dry = job.dry_run_counts or {}
    waiting = (
        review.pending(job, membership)
        if (job.counts or {}).get("review") and job.status == ImportJob.Status.DONE
        else []
    )
    return render(
        request,
        "web/imports/detail.html",
        {"job": job, "columns": columns, "fields": fields, "errors": errors,
         "transforms": [("trim", _("as it is")), ("upper", _("UPPER CASE")),
                        ("lower", _("lower case")), ("title", _("Title Case"))],
         "policies": ImportJob.Policy.choices, "dry": dry,
         "dry_errors": dry.get("errors_sample", [])[:ERRORS_SHOWN],
         "editable": editable,
         "running": job.status in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING),
         "progress": _progress(job), "extra_defaults": extra,
         "templates": [(t, import_templates.fit(t, job.columns)) for t in templates],
         "suggested": suggested, "chosen_template": chosen,
         "can_save_template": editable and may(membership, "add", ImportTemplate),
         "review_rows": [{"line": p.row.line, "match": p.match,
                          "cells": [(c, p.row.data.get(c, "")) for c in job.columns
                                    if p.row.data.get(c, "")]} for p in waiting]},
        status=422 if errors else 200,
    )  # fmt: skip


def _start(request: HttpRequest, job: ImportJob) -> HttpResponse:
    """Small files are imported at once; bigger ones go to a background job to follow."""
    if job.total_rows is None:
        job.total_rows = readers.count_rows(Path(job.file_path), engine.file_info(job))
        job.save(update_fields=["total_rows"])
    if job.total_rows <= INLINE_ROWS:
        try:
            engine.run(job)
        except GuanxiError as exc:
            messages.error(request, str(exc))
    else:
        enqueue(job)
    return redirect("web:import_detail", job.public_id)


def _progress(job: ImportJob) -> dict[str, Any]:
    done = (job.counts or {}).get("total", 0)
    total = job.total_rows or 0
    elapsed = (timezone.now() - job.started_at).total_seconds() if job.started_at else 0
    rate = done / elapsed if elapsed > 0 and done else 0
    return {
        "done": done, "total": total, "percent": done * 100 // total if total else 0,
        "rate": round(rate), "eta": round((total - done) / rate) if rate else None,
    }  # fmt: skip


@login_required
def import_progress(request: HttpRequest, public_id: str) -> HttpResponse:
    """The progress bar, polled while the import runs; the whole page once it has ended."""
    job = visible_or_404(ImportJob, membership_of(request), public_id)
    if job.status not in (ImportJob.Status.QUEUED, ImportJob.Status.RUNNING) and is_htmx(request):
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "web/imports/_progress.html", {"job": job, "progress": _progress(job)})


@login_required
@require_POST
def import_resume(request: HttpRequest, public_id: str) -> HttpResponse:
    job = visible_or_404(ImportJob, membership_of(request), public_id, action="change")
    if job.status == ImportJob.Status.FAILED:
        return _start(request, job)
    return redirect("web:import_detail", public_id)


@login_required
@require_POST
def import_undo(request: HttpRequest, public_id: str) -> HttpResponse:
    job = visible_or_404(ImportJob, membership_of(request), public_id, action="change")
    try:
        result = engine.undo(job, by=request.user)
    except ValidationFailed as exc:
        messages.error(request, "; ".join(message for _path, message in exc.errors))
    else:
        messages.success(
            request,
            _("Undone: %(removed)s records removed, %(restored)s restored.") % result,
        )
    return redirect("web:import_detail", public_id)


@login_required
def import_errors(request: HttpRequest, public_id: str) -> HttpResponse:
    job = visible_or_404(ImportJob, membership_of(request), public_id)
    fmt = request.GET.get("format", "csv")
    return error_report_response(job, fmt if fmt in ("csv", "xlsx") else "csv")


@login_required
@require_POST
def template_change(request: HttpRequest, public_id: str) -> HttpResponse:
    """Rename, share or unshare, or delete one of one's templates (from the imports page)."""
    membership = membership_of(request)
    action = "delete" if request.POST.get("step") == "delete" else "change"
    try:
        template = import_templates.get_template(
            membership=membership, public_id=public_id, action=action
        )
    except GuanxiError as exc:
        raise Http404(str(exc)) from exc
    try:
        if action == "delete":
            import_templates.delete_template(template=template, by=request.user)
            messages.success(request, _("Template “%(name)s” deleted.") % {"name": template.name})
        else:
            import_templates.update_template(
                template=template, by=request.user,
                expected_version=int(request.POST.get("version") or 0),
                name=request.POST.get("name", template.name),
                is_shared=request.POST.get("is_shared") == "on",
            )  # fmt: skip
            messages.success(request, _("Template “%(name)s” saved.") % {"name": template.name})
    except GuanxiError as exc:
        messages.error(request, str(exc))
    return redirect("web:import_list")


@login_required
@require_POST
def import_review(request: HttpRequest, public_id: str, line: int) -> HttpResponse:
    """The importer's decision for a row set aside for review: update the match, create a
    new record, or skip it."""
    job = visible_or_404(ImportJob, membership_of(request), public_id, action="change")
    try:
        review.decide(job=job, line=int(line), decision=request.POST.get("decision", ""),
                      membership=membership_of(request))  # fmt: skip
    except ValidationFailed as exc:
        messages.error(request, _("Line %(line)s: %(problems)s") % {
            "line": line, "problems": "; ".join(message for _path, message in exc.errors)})  # fmt: skip
    else:
        messages.success(request, _("Line %(line)s done.") % {"line": line})
    return redirect(reverse("web:import_detail", args=[public_id]) + "#gx-review")

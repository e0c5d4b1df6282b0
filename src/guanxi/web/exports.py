"""The exports page: the member's background exports with their status, rows and size, and
the download of a finished file (its author's alone)."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy as _

from guanxi.customers import export_jobs
from guanxi.customers.models import ExportJob
from guanxi.platform import notifications
from guanxi.platform.errors import ValidationFailed
from guanxi.web.common import is_htmx, membership_of

PAGE = 50

notifications.register_kind(
    "export.done", _("Your export %(file)s is ready to download (%(rows)s rows)")
)
notifications.register_kind("export.failed", _("Your export %(file)s failed: %(error)s"))


@login_required
def export_list(request: HttpRequest) -> HttpResponse:
    """Newest first; while one is queued or running the table refreshes itself."""
    membership = membership_of(request)
    jobs = list(export_jobs.my_exports(membership=membership)[:PAGE])
    context = {
        "jobs": jobs,
        "active": any(
            j.status in (ExportJob.Status.QUEUED, ExportJob.Status.RUNNING) for j in jobs
        ),
        "keep_days": export_jobs.keep_days(),
    }
    template = "web/exports/_table.html" if is_htmx(request) else "web/exports/list.html"
    return render(request, template, context)


@login_required
def export_download(request: HttpRequest, public_id: str) -> HttpResponse:
    membership = membership_of(request)
    job = export_jobs.get_mine(membership=membership, public_id=public_id)
    if job is None:
        raise Http404(_("Export not found."))
    try:
        handle = export_jobs.open_download(job=job, membership=membership)
    except ValidationFailed as exc:
        messages.error(request, "; ".join(message for _path, message in exc.errors))
        return redirect("web:export_list")
    return FileResponse(
        handle, as_attachment=True, filename=job.file_name,
        content_type=export_jobs.content_type(job),
    )  # fmt: skip

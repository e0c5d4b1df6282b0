"""Exports of long lists as background jobs: the list's filters and columns are kept with the
job, a worker writes the file under the data folder, its author is notified and downloads it
later. Old files are removed after ``EXPORT_KEEP_DAYS``.

The job runs with its author's rights at the time it runs (a role changed or a membership
ended in between counts), through the same reading and writing as the streamed export:
keyset batches, formulas neutralized, XLSX in openpyxl's write-only mode, audited.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from openpyxl import Workbook

from guanxi.customers import exports, selectors
from guanxi.customers.columns import DEFAULT_COLUMNS, available_columns
from guanxi.customers.models import Account, Contact, ExportJob
from guanxi.platform.audit import record_audit
from guanxi.platform.context import acting_in
from guanxi.platform.errors import Forbidden, GuanxiError, ValidationFailed
from guanxi.platform.models import CustomField, Membership
from guanxi.platform.notifications import notify
from guanxi.platform.permissions import Scope

MODELS = {"contacts": Contact, "accounts": Account}
FILTERS = (
    "owner", "team", "lifecycle_stage", "value_tier", "tag", "external_id", "created_after",
    "created_before", "updated_after", "updated_before",
)  # fmt: skip
DATE_FILTERS = ("created_after", "created_before", "updated_after", "updated_before")
PROGRESS_EVERY = 10_000  # rows between two progress updates of the job row
MAX_IDS = 10_000


def background_rows() -> int:
    """Lists longer than this are exported in the background."""
    return int(getattr(settings, "EXPORT_BACKGROUND_ROWS", 50_000))


def keep_days() -> int:
    return int(getattr(settings, "EXPORT_KEEP_DAYS", 7))


def storage_dir(workspace_id: int) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / str(workspace_id)


def definitions(workspace_id: int, model: type) -> list[CustomField]:
    return list(
        CustomField.objects.for_workspace(workspace_id)
        .filter(applies_to=model.object_type)
        .order_by("position", "id")
    )


def _json_filters(filters: dict[str, Any]) -> dict[str, str]:
    cleaned: dict[str, str] = {}
    for name in FILTERS:
        value = filters.get(name)
        if value in (None, ""):
            continue
        cleaned[name] = value.isoformat() if isinstance(value, datetime) else str(value)
    return cleaned


# --- starting a job ---------------------------------------------------------------------------
def start_export(
    *, membership: Membership, kind: str, fmt: str, filters: dict[str, Any] | None = None,
    custom: dict[str, str] | None = None, columns: list[str] | None = None,
    ids: list[str] | None = None, query: str = "",
) -> ExportJob:  # fmt: skip
    """Queue an export of the list as filtered (``filters`` as ``selectors.filter_customers``
    takes them, ``custom`` the custom-field filters) or of the ticked rows (``ids``)."""
    if kind not in MODELS:
        raise ValidationFailed([("type", _("one of %(kinds)s") % {"kinds": ", ".join(MODELS)})])
    model = MODELS[kind]
    if membership.scope_for(model.object_type, "export") == Scope.NONE:
        raise Forbidden(action="export", object_type=model.object_type)
    if membership.scope_for(ExportJob.object_type, "add") == Scope.NONE:
        raise Forbidden(action="add", object_type=ExportJob.object_type)
    exports.check_format(fmt, model)
    available = available_columns(kind, definitions(membership.workspace_id, model))
    keys = [key for key in columns or [] if key]
    unknown = [key for key in keys if key not in available]
    if unknown:
        raise ValidationFailed([("columns", _("unknown: %(unknown)s; known: %(known)s")
                                 % {"unknown": ", ".join(unknown),
                                    "known": ", ".join(available)})])  # fmt: skip
    if ids is not None and len(ids) > MAX_IDS:
        raise ValidationFailed([("ids", _("at most %(count)s rows") % {"count": MAX_IDS})])
    params: dict[str, Any] = {
        "filters": _json_filters(filters or {}),
        "custom": {str(k): str(v) for k, v in (custom or {}).items() if v not in (None, "")},
        "columns": keys or DEFAULT_COLUMNS[kind],
        "query": query[:2000],
    }
    if ids is not None:
        params["ids"] = [str(i) for i in ids]
    user = membership.user
    job = ExportJob(
        workspace_id=membership.workspace_id, kind=kind, file_format=fmt, params=params,
        status=ExportJob.Status.QUEUED, created_by=user, updated_by=user,
        file_name=f"{kind}-{timezone.localdate().isoformat()}.{exports.FORMATS[fmt][1]}",
    )  # fmt: skip
    job.save()
    record_audit(action="export.queued", actor=user, workspace=membership.workspace, obj=job,
                 data={"type": kind, "format": fmt, "query": params["query"]})  # fmt: skip
    from guanxi.customers.tasks import run_export_job

    run_export_job.enqueue(job_id=job.pk)
    return job


# --- running it -------------------------------------------------------------------------------
def author_membership(job: ExportJob) -> Membership | None:
    return (
        Membership.objects.for_workspace(job.workspace_id)
        .select_related("user", "role", "workspace", "team")
        .filter(user_id=job.created_by_id, is_active=True)
        .first()
    )


def queryset_for(job: ExportJob, membership: Membership) -> QuerySet:
    """The rows the job exports, as its author may export them now."""
    model = MODELS[job.kind]
    filters: dict[str, Any] = dict(job.params.get("filters") or {})
    for name in DATE_FILTERS:
        if name in filters:
            filters[name] = parse_datetime(filters[name])
    queryset = selectors.filter_customers(
        exports.exportable(model, membership),
        custom=job.params.get("custom") or {},
        **{name: filters[name] for name in FILTERS if filters.get(name)},
    )
    if "ids" in job.params:
        queryset = queryset.filter(public_id__in=job.params["ids"])
    return queryset


class _Counted:
    """Rows passed through, counted, the job's row count updated now and then."""

    def __init__(self, job: ExportJob, rows: Iterable[Any]) -> None:
        self.job, self.rows, self.count = job, rows, 0

    def __iter__(self) -> Iterator[Any]:
        for row in self.rows:
            self.count += 1
            if self.count % PROGRESS_EVERY == 0:
                ExportJob.objects.for_workspace(self.job.workspace_id).filter(
                    pk=self.job.pk
                ).update(rows=self.count, updated_at=timezone.now())
            yield row


def write_file(job: ExportJob, membership: Membership, path: Path) -> int:
    """Write the export to ``path``; the number of rows written."""
    model = MODELS[job.kind]
    queryset = queryset_for(job, membership)
    if job.file_format == "vcf":
        counted = _Counted(job, exports.vcard_chunks(queryset))
        with path.open("wb") as out:
            for card in counted:
                out.write(card)
        return counted.count
    available = available_columns(job.kind, definitions(job.workspace_id, model))
    keys = [key for key in job.params.get("columns") or [] if key in available]
    header, rows = exports.table(queryset, available, keys or DEFAULT_COLUMNS[job.kind])
    counted = _Counted(job, rows)
    if job.file_format == "csv":
        with path.open("wb") as out:
            for chunk in exports.csv_chunks(header, counted):
                out.write(chunk)
        return counted.count
    workbook = Workbook(write_only=True)  # rows go to a temporary file, not memory
    sheet = workbook.create_sheet()
    sheet.append([exports.neutralize(cell) for cell in header])
    for row in counted:
        if counted.count > exports.XLSX_MAX_ROWS:
            raise ValidationFailed([("format", _("more than %(count)s rows do not fit a sheet; "
                                                 "use CSV") % {"count": f"{exports.XLSX_MAX_ROWS:,}"})])  # fmt: skip
        sheet.append([exports.neutralize(cell) for cell in row])
    workbook.save(path)
    return counted.count


def run(job: ExportJob) -> ExportJob:
    """Write the file (again, from the start, if an earlier run stopped), then tell the
    author. A failure is recorded on the job, not raised."""
    if job.status == ExportJob.Status.DONE:
        return job
    now = timezone.now()
    job.status, job.started_at, job.error, job.rows = ExportJob.Status.RUNNING, now, "", 0
    job.save(update_fields=["status", "started_at", "error", "rows", "updated_at"])
    membership = author_membership(job)
    directory = storage_dir(job.workspace_id)
    path = directory / f"{job.public_id}.{exports.FORMATS[job.file_format][1]}"
    partial = path.with_name(path.name + ".part")
    try:
        if membership is None:
            raise ValidationFailed([("job", _("the user who asked for this export is no longer "
                                              "a member"))])  # fmt: skip
        model = MODELS[job.kind]
        if membership.scope_for(model.object_type, "export") == Scope.NONE:
            raise Forbidden(action="export", object_type=model.object_type)
        directory.mkdir(parents=True, exist_ok=True)
        with acting_in(membership.workspace, membership):
            rows = write_file(job, membership, partial)
        os.replace(partial, path)
    except (GuanxiError, OSError) as exc:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        message = (
            "; ".join(m for _f, m in exc.errors) if isinstance(exc, ValidationFailed) else str(exc)
        )
        job.status, job.error, job.finished_at = ExportJob.Status.FAILED, message, timezone.now()
        job.save(update_fields=["status", "error", "finished_at", "updated_at"])
        if membership is not None:
            notify(workspace=job.workspace_id, recipient=membership.user, by=None,
                   kind="export.failed", data={"file": job.file_name, "error": message},
                   url=f"export:{job.public_id}")  # fmt: skip
        return job
    job.status, job.rows, job.finished_at = ExportJob.Status.DONE, rows, timezone.now()
    job.file_path, job.file_size = str(path), path.stat().st_size
    job.save(update_fields=["status", "rows", "finished_at", "file_path", "file_size",
                            "updated_at"])  # fmt: skip
    record_audit(
        action=f"{model._meta.model_name}.exported", actor=membership.user,
        workspace=membership.workspace, obj=job,
        data={"format": job.file_format, "query": job.params.get("query", ""), "rows": rows,
              "background": True},
    )  # fmt: skip
    notify(workspace=job.workspace_id, recipient=membership.user, by=None, kind="export.done",
           data={"file": job.file_name, "rows": rows}, url=f"export:{job.public_id}")  # fmt: skip
    return job


# --- reading and downloading ------------------------------------------------------------------
def my_exports(*, membership: Membership) -> QuerySet:
    """The member's own export jobs, newest first."""
    return (
        ExportJob.objects.for_workspace(membership.workspace_id)
        .filter(created_by_id=membership.user_id)
        .order_by("-created_at", "-id")
    )


def get_mine(*, membership: Membership, public_id: str) -> ExportJob | None:
    """An export of this member's; None for anyone else's (answered as not found)."""
    return my_exports(membership=membership).filter(public_id=public_id).first()


def open_download(*, job: ExportJob, membership: Membership) -> Any:
    """The finished file, opened for reading, the download audited; ValidationFailed when
    it is not ready or has been removed."""
    if job.status != ExportJob.Status.DONE:
        raise ValidationFailed([("status", _("the export is not ready (%(status)s)")
                                 % {"status": job.get_status_display()})])  # fmt: skip
    if not job.file_path or not Path(job.file_path).exists():
        raise ValidationFailed([("file", _("the file has been removed; export the list again"))])
    handle = Path(job.file_path).open("rb")  # noqa: SIM115 -- the response closes it
    record_audit(action="export.downloaded", actor=membership.user,
                 workspace=membership.workspace, obj=job,
                 data={"rows": job.rows, "size": job.file_size})  # fmt: skip
    return handle


def content_type(job: ExportJob) -> str:
    return exports.FORMATS[job.file_format][0]


# --- cleanup ----------------------------------------------------------------------------------
def remove_old_files(*, days: int | None = None, now: datetime | None = None) -> int:
    """Delete the files of exports finished more than ``days`` ago (the jobs stay, without
    their file); the number of files removed."""
    days = keep_days() if days is None else days
    cutoff = (now or timezone.now()) - timedelta(days=days)
    old = (
        ExportJob.objects.dangerously_all_workspaces()
        .filter(finished_at__lt=cutoff)
        .exclude(file_path="")
    )
    removed = 0
    for job in old.iterator():
        with contextlib.suppress(FileNotFoundError):
            Path(job.file_path).unlink()
            removed += 1
        ExportJob.objects.dangerously_all_workspaces().filter(pk=job.pk).update(
            file_path="", updated_at=timezone.now()
        )
    return removed

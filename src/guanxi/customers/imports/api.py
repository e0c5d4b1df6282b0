"""Imports over the API: upload, map, check, run (in the background), follow, undo, and the
error report to fix and import again."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from ninja import File, Form, Router, Schema
from ninja.files import UploadedFile
from ninja.responses import Status

from guanxi.customers import exports
from guanxi.customers.imports import engine
from guanxi.customers.imports.tasks import enqueue
from guanxi.customers.models import ImportJob
from guanxi.platform.apiframework import CursorPage, Problem, keyset_page
from guanxi.platform.errors import ValidationFailed
from guanxi.platform.models import Membership
from guanxi.platform.visibility import get_visible_or_404, require_add

router = Router(tags=["imports"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}
INLINE_ROWS = 2000  # smaller imports run within the request when asked to wait


class ImportOut(Schema):
    id: str
    type: str
    file_name: str
    file_format: str
    encoding: str
    columns: list[str]
    mapping: dict[str, Any]
    policy: str
    status: str
    total_rows: int | None
    rows_done: int
    counts: dict[str, int]
    dry_run: dict[str, Any]
    error: str
    created_at: datetime
    finished_at: datetime | None


class ImportChange(Schema):
    mapping: dict[str, Any] | None = None
    policy: str | None = None
    defaults: dict[str, str] | None = None


def job_out(job: ImportJob) -> dict[str, Any]:
    return {
        "id": job.public_id, "type": job.kind, "file_name": job.file_name,
        "file_format": job.file_format, "encoding": job.encoding, "columns": job.columns,
        "mapping": job.mapping, "policy": job.policy, "status": job.status,
        "total_rows": job.total_rows, "rows_done": (job.counts or {}).get("total", 0),
        "counts": job.counts or {}, "dry_run": job.dry_run_counts or {}, "error": job.error,
        "created_at": job.created_at, "finished_at": job.finished_at,
    }  # fmt: skip


def _job(request: HttpRequest, job_id: str, action: str = "view") -> ImportJob:
    return get_visible_or_404(ImportJob, user=request.auth, public_id=job_id, action=action)


@router.post("/imports", response={201: ImportOut, **ERRORS}, summary="Upload a file to import")
def create_import(
    request: HttpRequest,
    file: File[UploadedFile],
    type: Form[str] = "contacts",
    policy: Form[str] = "skip",
    sheet: Form[str] = "",
    mapping: Form[str] = "",
    dry_run: Form[bool] = False,
) -> Status:
    """Store the file and read its columns; `mapping` (JSON `{column: field}`) is suggested
    from the headers when omitted. With `dry_run`, the answer carries what running would do."""
    membership: Membership = request.auth
    require_add(membership, ImportJob.object_type)
    try:
        parsed = json.loads(mapping) if mapping else None
    except ValueError as exc:
        raise ValidationFailed([("mapping", f"not JSON: {exc}")]) from exc
    job = engine.create_job(
        membership=membership, kind=type, upload=file, file_name=file.name or "upload",
        sheet=sheet, mapping=parsed, policy=policy,
    )  # fmt: skip
    if dry_run:
        engine.dry_run(job)
    return Status(201, job_out(job))


@router.get("/imports", response={200: CursorPage[ImportOut], **ERRORS}, summary="List imports")
def list_imports(request: HttpRequest, cursor: str | None = None, limit: int | None = None) -> dict:
    rows, next_cursor = keyset_page(
        ImportJob.objects.visible_to(request.auth, "view"),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )
    return {"items": [job_out(job) for job in rows], "next_cursor": next_cursor}


@router.get("/imports/{job_id}", response={200: ImportOut, **ERRORS}, summary="One import")
def get_import(request: HttpRequest, job_id: str) -> dict:
    """Status and counts; poll it to follow a running import."""
    return job_out(_job(request, job_id))


@router.patch("/imports/{job_id}", response={200: ImportOut, **ERRORS}, summary="Map columns")
def change_import(request: HttpRequest, job_id: str, payload: ImportChange) -> dict:
    job = _job(request, job_id, "change")
    engine.set_mapping(
        job=job, mapping=payload.mapping if payload.mapping is not None else job.mapping,
        policy=payload.policy, defaults=payload.defaults,
    )  # fmt: skip
    return job_out(job)


@router.post("/imports/{job_id}/dry-run", response={200: ImportOut, **ERRORS}, summary="Check")
def check_import(request: HttpRequest, job_id: str) -> dict:
    job = _job(request, job_id, "change")
    engine.dry_run(job)
    return job_out(job)


@router.post("/imports/{job_id}/run", response={200: ImportOut, 202: ImportOut, **ERRORS},
             summary="Run or resume an import")  # fmt: skip
def run_import(request: HttpRequest, job_id: str, wait: bool = False) -> Status:
    """Starts the import as a background job (202; poll the import). `wait=true` runs an
    import of up to 2,000 rows within the request (200). Running a stopped import again
    resumes it."""
    job = _job(request, job_id, "change")
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.UNDONE):
        raise ValidationFailed([("status", f"the import is {job.status}")])
    if wait and (job.total_rows or 0) <= INLINE_ROWS:
        return Status(200, job_out(engine.run(job)))
    enqueue(job)
    return Status(202, job_out(job))


@router.post("/imports/{job_id}/undo", response={200: ImportOut, **ERRORS}, summary="Undo")
def undo_import(request: HttpRequest, job_id: str) -> dict:
    """Remove what the import created and restore what it updated."""
    job = _job(request, job_id, "change")
    engine.undo(job, by=request.user)
    return job_out(job)


@router.get("/imports/{job_id}/errors", response={200: None, **ERRORS}, summary="Error report")
def import_errors(request: HttpRequest, job_id: str, format: str = "csv") -> HttpResponse:
    """The rows that failed as they were, plus their line and what is wrong (CSV or XLSX)."""
    return error_report_response(_job(request, job_id), format)


def error_report_response(job: ImportJob, fmt: str) -> HttpResponse:
    if fmt not in ("csv", "xlsx"):
        raise ValidationFailed([("format", "csv or xlsx")])
    header, rows = engine.error_report(job)
    content_type, extension = exports.FORMATS[fmt]
    if fmt == "csv":
        response: HttpResponse = StreamingHttpResponse(
            exports.csv_chunks(header, rows), content_type=content_type
        )
    else:
        from django.http import FileResponse

        handle, _count = exports.xlsx_file(header, rows)
        response = FileResponse(handle, content_type=content_type)
    stem = job.file_name.rsplit(".", 1)[0]
    response["Content-Disposition"] = f'attachment; filename="{stem}-errors.{extension}"'
    return response

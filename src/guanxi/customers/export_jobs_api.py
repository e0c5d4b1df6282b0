"""Background exports over the API: ask for one (the streamed export's filters and columns),
follow it, download the file. An export is its author's alone: anyone else gets 404."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import FileResponse, HttpRequest
from django.urls import reverse
from ninja import Field, Router, Schema
from ninja.responses import Status

from guanxi.customers import export_jobs
from guanxi.customers.models import ExportJob
from guanxi.platform.apiframework import CursorPage, Problem, keyset_page
from guanxi.platform.errors import NotFound

router = Router(tags=["exports"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


class ExportJobIn(Schema):
    format: str = Field("csv", description="csv, xlsx, or vcf (contacts)")
    columns: str | None = Field(
        None,
        description="Comma-separated column keys, as for GET …/export; the list's defaults "
        "when omitted.",
    )
    owner: str | None = Field(None, description="Owner's username")
    team: str | None = Field(None, description="Team id")
    lifecycle_stage: str | None = None
    value_tier: str | None = None
    tag: str | None = None
    external_id: str | None = None
    created_after: datetime | None = None
    created_before: datetime | None = None
    updated_after: datetime | None = None
    updated_before: datetime | None = None
    custom: dict[str, str] = Field(
        default_factory=dict, description="Custom-field filters, key -> value (cf.<key>=value)"
    )
    ids: list[str] | None = Field(None, description="Only these records (at most 10,000)")


class ExportJobOut(Schema):
    id: str
    type: str
    format: str
    status: str = Field(description="queued, running, done or failed")
    rows: int = Field(description="Rows written (so far, while running)")
    file_name: str
    file_size: int
    error: str
    download_url: str | None = Field(None, description="Set once the file is ready")
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


def export_out(job: ExportJob) -> dict[str, Any]:
    ready = job.status == ExportJob.Status.DONE and bool(job.file_path)
    return {
        "id": job.public_id, "type": job.kind, "format": job.file_format, "status": job.status,
        "rows": job.rows, "file_name": job.file_name, "file_size": job.file_size,
        "error": job.error,
        "download_url": reverse("api:download_export", args=[job.public_id]) if ready else None,
        "created_at": job.created_at, "started_at": job.started_at,
        "finished_at": job.finished_at,
    }  # fmt: skip


def _start(request: HttpRequest, kind: str, payload: ExportJobIn) -> Status:
    filters = payload.dict(include=set(export_jobs.FILTERS))
    job = export_jobs.start_export(
        membership=request.auth, kind=kind, fmt=payload.format, filters=filters,
        custom=payload.custom,
        columns=[key for key in (payload.columns or "").split(",") if key],
        ids=payload.ids, query=payload.model_dump_json(exclude_defaults=True),
    )  # fmt: skip
    job.refresh_from_db()
    return Status(202, export_out(job))


@router.post("/contacts/export/jobs", response={202: ExportJobOut, **ERRORS},
             summary="Export contacts in the background")  # fmt: skip
def export_contacts_job(request: HttpRequest, payload: ExportJobIn) -> Status:
    """Writes the file in the background (for lists too long to wait for): poll
    GET /exports/{id}, then download it. Filters and columns as for GET /contacts/export."""
    return _start(request, "contacts", payload)


@router.post("/accounts/export/jobs", response={202: ExportJobOut, **ERRORS},
             summary="Export accounts in the background")  # fmt: skip
def export_accounts_job(request: HttpRequest, payload: ExportJobIn) -> Status:
    """As for contacts; CSV or XLSX."""
    return _start(request, "accounts", payload)


def _mine(request: HttpRequest, export_id: str) -> ExportJob:
    job = export_jobs.get_mine(membership=request.auth, public_id=export_id)
    if job is None:
        raise NotFound("export")
    return job


@router.get("/exports", response={200: CursorPage[ExportJobOut], **ERRORS},
            summary="Your exports")  # fmt: skip
def list_exports(request: HttpRequest, cursor: str | None = None, limit: int | None = None) -> dict:
    rows, next_cursor = keyset_page(
        export_jobs.my_exports(membership=request.auth),
        ordering=("-created_at", "-id"),
        cursor=cursor,
        limit=limit,
    )
    return {"items": [export_out(job) for job in rows], "next_cursor": next_cursor}


@router.get("/exports/{export_id}", response={200: ExportJobOut, **ERRORS}, summary="One export")
def get_export(request: HttpRequest, export_id: str) -> dict:
    """Status and rows written; poll it until `status` is done (or failed)."""
    return export_out(_mine(request, export_id))


@router.get("/exports/{export_id}/download", response={200: None, **ERRORS},
            url_name="download_export", summary="Download an export's file")  # fmt: skip
def download_export(request: HttpRequest, export_id: str) -> FileResponse:
    """The file, to its author only; 422 while it is not ready or after it was removed."""
    job = _mine(request, export_id)
    handle = export_jobs.open_download(job=job, membership=request.auth)
    return FileResponse(
        handle, as_attachment=True, filename=job.file_name,
        content_type=export_jobs.content_type(job),
    )  # fmt: skip

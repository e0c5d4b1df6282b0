"""Rows an import set aside for review, over the API: list them, decide each."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from pydantic import Field

from guanxi.customers.imports import review
from guanxi.customers.imports.api import ERRORS, _job
from guanxi.customers.models import ImportRow

router = Router(tags=["imports"])


class ReviewRowOut(Schema):
    line: int
    outcome: str
    data: dict[str, str]
    matched_id: str | None = Field(None, description="The customer the row matched (if visible).")
    record_id: str | None = None


class DecisionIn(Schema):
    decision: str = Field(description="update (it is the matched customer), create, or skip")


def _out(row: ImportRow, public_ids: dict[int, str]) -> dict[str, Any]:
    return {"line": row.line, "outcome": row.outcome, "data": row.data,
            "matched_id": public_ids.get(row.matched_id),
            "record_id": public_ids.get(row.record_id)}  # fmt: skip


@router.get("/imports/{job_id}/review", response={200: list[ReviewRowOut], **ERRORS},
            summary="Rows waiting for review")  # fmt: skip
def list_review(request: HttpRequest, job_id: str, limit: int = 50) -> list[dict]:
    """Rows that matched a customer under the "review" policy, in file order (up to
    `limit`, at most 500), each with the customer it matched."""
    job = _job(request, job_id)
    waiting = review.pending(job, request.auth, limit=max(1, min(limit, 500)))
    ids = {p.match.pk: p.match.public_id for p in waiting if p.match is not None}
    return [_out(p.row, ids) for p in waiting]


@router.post("/imports/{job_id}/review/{line}", response={200: ReviewRowOut, **ERRORS},
             summary="Decide a row set aside for review")  # fmt: skip
def decide_row(request: HttpRequest, job_id: str, line: int, payload: DecisionIn) -> dict:
    """`update`: the row is the matched customer (fill and change it); `create`: someone
    else (a new record); `skip`. The row then counts as updated, created or skipped, and
    undoing the import takes it back with the rest."""
    job = _job(request, job_id, "change")
    row = review.decide(job=job, line=line, decision=payload.decision, membership=request.auth)
    model = review.Contact if job.kind == "contacts" else review.Account
    ids = dict(
        model._base_manager.filter(pk__in=[row.matched_id, row.record_id]).values_list(
            "pk", "public_id"
        )
    )
    return _out(row, ids)

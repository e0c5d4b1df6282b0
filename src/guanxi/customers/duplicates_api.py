"""Duplicate detection over the API: start a scan, follow it, review what it proposes
(merge or reject a pair or its whole cluster), and the workspace's rules."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema
from ninja.responses import Status
from pydantic import Field

from guanxi.customers import dedupe, dedupe_tasks, duplicates
from guanxi.customers.api import MergeOut, _contact, _merge_out
from guanxi.customers.models import Contact, DedupeRun, DuplicatePair, IdentitySettings
from guanxi.platform.apiframework import CursorPage, Problem, keyset_page
from guanxi.platform.errors import NotFound, ValidationFailed
from guanxi.platform.visibility import get_visible_or_404

router = Router(tags=["duplicates"])
ERRORS = {400: Problem, 401: Problem, 403: Problem, 404: Problem, 409: Problem, 422: Problem}


class ScanOut(Schema):
    id: str
    status: str
    threshold: float
    counts: dict[str, Any]
    error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class ScanIn(Schema):
    threshold: float | None = Field(
        None, description="Propose pairs from this probability (default: the workspace's)."
    )
    wait: bool = Field(False, description="Run within the request (small workspaces).")


class ContactRef(Schema):
    id: str
    display_name: str


class PairOut(Schema):
    id: str
    scan_id: str
    cluster: str
    score: float
    identifier: str
    reasons: list[str]
    evidence: list[dict[str, str]]
    status: str
    contact_a: ContactRef
    contact_b: ContactRef


class PairMergeIn(Schema):
    survivor_id: str | None = Field(
        None, description="The contact that stays (default: the older one)."
    )
    fields: dict[str, str] = Field(default_factory=dict)


class RulesOut(Schema):
    review_threshold: float
    auto_merge_threshold: float | None
    trusted_sources: list[str]
    version: int


class RulesIn(Schema):
    review_threshold: float
    auto_merge_threshold: float | None = None
    trusted_sources: list[str] | None = Field(
        None,
        description="Record sources from the most trusted down (a merge keeps the most "
        "trusted source's values); omitted: unchanged.",
    )
    version: int | None = None


def rules_out(rules: IdentitySettings) -> dict[str, Any]:
    return {"review_threshold": rules.review_threshold,
            "auto_merge_threshold": rules.auto_merge_threshold,
            "trusted_sources": list(rules.trusted_sources), "version": rules.version}  # fmt: skip


def scan_out(run: DedupeRun) -> dict[str, Any]:
    return {"id": run.public_id, "status": run.status, "threshold": run.threshold,
            "counts": run.counts or {}, "error": run.error, "created_at": run.created_at,
            "started_at": run.started_at, "finished_at": run.finished_at}  # fmt: skip


def pair_out(pair: DuplicatePair) -> dict[str, Any]:
    def ref(contact: Contact) -> dict[str, str]:
        return {"id": contact.public_id, "display_name": contact.display_name}

    return {"id": pair.public_id, "scan_id": pair.run.public_id, "cluster": pair.cluster,
            "score": pair.score, "identifier": pair.identifier,
            "reasons": dedupe.describe_evidence(pair.reasons), "evidence": pair.reasons,
            "status": pair.status, "contact_a": ref(pair.contact_a),
            "contact_b": ref(pair.contact_b)}  # fmt: skip


@router.post("/duplicates/scans", response={201: ScanOut, 202: ScanOut, **ERRORS},
             summary="Scan for duplicates")  # fmt: skip
def start_scan(request: HttpRequest, payload: ScanIn) -> Status:
    """Train the model on the workspace's contacts and propose pairs for review (in the
    background: follow it at GET /duplicates/scans/{id}; `wait` runs it in the request)."""
    run = dedupe.start_run(membership=request.auth, threshold=payload.threshold)
    if payload.wait:
        dedupe.scan(run)
        run.refresh_from_db()
        return Status(201, scan_out(run))
    dedupe_tasks.enqueue(run)
    run.refresh_from_db()
    return Status(202, scan_out(run))


@router.get("/duplicates/scans", response={200: CursorPage[ScanOut], **ERRORS},
            summary="List scans")  # fmt: skip
def list_scans(request: HttpRequest, cursor: str | None = None, limit: int | None = None) -> dict:
    rows, next_cursor = keyset_page(
        DedupeRun.objects.visible_to(request.auth, "view"), ordering=("-created_at", "-id"),
        cursor=cursor, limit=limit,
    )  # fmt: skip
    return {"items": [scan_out(run) for run in rows], "next_cursor": next_cursor}


@router.get("/duplicates/scans/{scan_id}", response={200: ScanOut, **ERRORS}, summary="A scan")
def get_scan(request: HttpRequest, scan_id: str) -> dict:
    return scan_out(get_visible_or_404(DedupeRun, user=request.auth, public_id=scan_id))


@router.get("/duplicates/rules", response={200: RulesOut, **ERRORS}, summary="Duplicate rules")
def get_rules(request: HttpRequest) -> dict:
    if request.auth.scope_for(IdentitySettings.object_type, "view") == "none":
        raise NotFound("duplicate rules")
    return rules_out(dedupe.identity_settings(request.auth.workspace_id))


@router.patch("/duplicates/rules", response={200: RulesOut, **ERRORS},
            summary="Change the duplicate rules")  # fmt: skip
def patch_rules(request: HttpRequest, payload: RulesIn) -> dict:
    """`review_threshold`: pairs from this probability are proposed; `auto_merge_threshold`:
    pairs sharing a phone or e-mail from this probability are merged without review (null:
    never); `trusted_sources`: record sources, most trusted first. Send the `version` you
    read."""
    rules = duplicates.update_rules(
        membership=request.auth, expected_version=payload.version,
        review_threshold=payload.review_threshold,
        auto_merge_threshold=payload.auto_merge_threshold,
        trusted_sources=payload.trusted_sources,
    )  # fmt: skip
    return rules_out(rules)


@router.get("/duplicates", response={200: CursorPage[PairOut], **ERRORS},
            summary="Proposed duplicates")  # fmt: skip
def list_pairs(request: HttpRequest, status: str = "proposed", cursor: str | None = None,
               limit: int | None = None) -> dict:  # fmt: skip
    """Pairs of this status (proposed, merged, auto_merged, rejected) whose two contacts you
    may see, most likely first."""
    if status not in DuplicatePair.Status.values:
        raise ValidationFailed([("query.status", f"one of {DuplicatePair.Status.values}")])
    rows, next_cursor = keyset_page(
        duplicates.visible_pairs(request.auth, status=status).select_related("run"),
        ordering=("-score", "id"), cursor=cursor, limit=limit,
    )  # fmt: skip
    return {"items": [pair_out(pair) for pair in rows], "next_cursor": next_cursor}


def _pair(request: HttpRequest, pair_id: str) -> DuplicatePair:
    queryset = duplicates.visible_pairs(request.auth).select_related("run")
    pair = queryset.filter(public_id=pair_id).first()
    if pair is None:
        raise NotFound("possible duplicate")
    return pair


@router.post("/duplicates/{pair_id}/reject", response={200: PairOut, **ERRORS},
             summary="Not the same person")  # fmt: skip
def reject_pair(request: HttpRequest, pair_id: str, cluster: bool = False) -> dict:
    """The pair (with `cluster=true`: every open pair of its cluster) leaves the queue and
    is not proposed again."""
    pair = _pair(request, pair_id)
    pairs = [pair]
    if cluster:
        pairs = list(duplicates.visible_pairs(request.auth).filter(run_id=pair.run_id,
                                                                    cluster=pair.cluster))  # fmt: skip
    duplicates.reject(membership=request.auth, pairs=pairs)
    pair.refresh_from_db()
    return pair_out(pair)


@router.post("/duplicates/{pair_id}/merge", response={201: MergeOut, **ERRORS},
             summary="Merge a proposed pair or cluster")  # fmt: skip
def merge_pair(request: HttpRequest, pair_id: str, payload: PairMergeIn,
               cluster: bool = False) -> Status:  # fmt: skip
    """Merge the pair's two contacts (with `cluster=true`: every contact of its cluster) into
    `survivor_id`, choosing values with `fields` as POST /contacts/merge does. Undo with
    POST /merges/{id}/undo: the pairs come back to the queue."""
    pair = _pair(request, pair_id)
    people = (duplicates.cluster_of(request.auth, pair) if cluster
              else [pair.contact_a, pair.contact_b])  # fmt: skip
    survivor_id = payload.survivor_id or people[0].public_id
    if survivor_id not in {c.public_id for c in people}:
        raise ValidationFailed([("survivor_id", "must be one of the contacts merged")])
    survivor = _contact(request, survivor_id, action="change")
    merged = [_contact(request, c.public_id, action="change") for c in people
              if c.public_id != survivor_id]  # fmt: skip
    record = duplicates.merge(
        membership=request.auth, survivor=survivor, merged=merged, fields=payload.fields
    )
    return Status(201, _merge_out(record))

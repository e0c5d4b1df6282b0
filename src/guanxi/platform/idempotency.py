"""``Idempotency-Key`` on API POSTs: a retried request gets the first answer, and nothing
is created twice (draft-ietf-httpapi-idempotency-key-header)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from guanxi.platform.models import IdempotencyRecord
from guanxi.platform.problems import problem_response

KEEP_FOR = timedelta(hours=24)
# A request still "in progress" after this long died with its process: let a retry run.
ABANDONED_AFTER = timedelta(minutes=5)


def _fingerprint(request: HttpRequest) -> str:
    digest = hashlib.sha256()
    digest.update(request.method.encode())
    digest.update(request.get_full_path().encode())
    digest.update(b"\0")
    digest.update(request.body)
    return digest.hexdigest()


class IdempotencyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = request.headers.get("Idempotency-Key")
        membership = getattr(request, "membership", None)
        if (
            request.method != "POST"
            or key is None
            or membership is None
            or not request.path.startswith("/api/")
        ):
            return self.get_response(request)
        if not key or len(key) > 255:
            return problem_response(
                status=400,
                code="invalid_idempotency_key",
                title="Invalid Idempotency-Key",
                detail="The Idempotency-Key header must hold 1 to 255 characters.",
            )
        scope = f"membership:{membership.pk}"
        fingerprint = _fingerprint(request)
        IdempotencyRecord.objects.filter(
            scope=scope,
            key=key,
            status_code__isnull=True,
            created_at__lt=timezone.now() - ABANDONED_AFTER,
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    scope=scope, key=key, fingerprint=fingerprint
                )
        except IntegrityError:
            return self._repeat(scope=scope, key=key, fingerprint=fingerprint)
        response = self.get_response(request)
        if response.status_code >= 500 or response.streaming:
            # Nothing was committed by a failed request, so a retry must run again.
            IdempotencyRecord.objects.filter(pk=record.pk).delete()
            return response
        IdempotencyRecord.objects.filter(pk=record.pk).update(
            status_code=response.status_code,
            content_type=response.get("Content-Type", ""),
            body=response.content,
        )
        return response

    def _repeat(self, *, scope: str, key: str, fingerprint: str) -> HttpResponse:
        record = IdempotencyRecord.objects.filter(scope=scope, key=key).first()
        if record is None or record.status_code is None:
            return problem_response(
                status=409,
                code="idempotency_key_in_progress",
                title="Request in progress",
                detail="A request with this Idempotency-Key is still being processed; retry later.",
            )
        if record.fingerprint != fingerprint:
            return problem_response(
                status=422,
                code="idempotency_key_reused",
                title="Idempotency-Key reused",
                detail="This Idempotency-Key was used for a different request.",
            )
        response = HttpResponse(
            bytes(record.body or b""), status=record.status_code, content_type=record.content_type
        )
        response["Idempotent-Replayed"] = "true"
        return response


def prune_idempotency_records(*, older_than: timedelta = KEEP_FOR) -> int:
    deleted, _ = IdempotencyRecord.objects.filter(
        created_at__lt=timezone.now() - older_than
    ).delete()
    return deleted

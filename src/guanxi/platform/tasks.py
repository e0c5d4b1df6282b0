"""Background jobs of the platform."""

from __future__ import annotations

from django_tasks import task

from guanxi.platform.idempotency import prune_idempotency_records


@task()
def prune_idempotency_keys() -> int:
    """Forget Idempotency-Key answers older than 24 hours; returns how many were removed."""
    return prune_idempotency_records()

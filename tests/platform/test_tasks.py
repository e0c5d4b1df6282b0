"""Background jobs run by `guanxi worker` from the database queue."""

from __future__ import annotations

import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.test import override_settings
from django.utils import timezone

from guanxi.platform.models import IdempotencyRecord
from guanxi.platform.tasks import prune_idempotency_keys

DB_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


@pytest.mark.django_db(transaction=True)
def test_worker_runs_queued_jobs():
    old = IdempotencyRecord.objects.create(scope="s", key="old", fingerprint="f")
    IdempotencyRecord.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(days=2)
    )
    IdempotencyRecord.objects.create(scope="s", key="new", fingerprint="f")
    with override_settings(TASKS=DB_QUEUE):
        result = prune_idempotency_keys.enqueue()
        assert IdempotencyRecord.objects.count() == 2  # queued, not run yet
        call_command("worker", "--batch", stdout=io.StringIO(), stderr=io.StringIO())
        result.refresh()
        assert result.return_value == 1
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]

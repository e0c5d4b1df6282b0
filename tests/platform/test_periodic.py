"""Periodic jobs: each registered job is enqueued when due and once per interval (claimed by
a conditional update, so several schedulers do not double it), the scheduler loop, and
`guanxi schedule`."""

from __future__ import annotations

import json
import threading
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from guanxi.platform import periodic
from guanxi.platform.models import IdempotencyRecord, PeriodicRun

pytestmark = pytest.mark.django_db


def test_the_apps_register_their_jobs():
    assert {"lead_sla", "rescore_leads", "expire_quotes", "forecast_snapshots",
            "prune_exports", "prune_idempotency_keys"} <= set(periodic.JOBS)  # fmt: skip
    assert periodic.JOBS["lead_sla"].every == timedelta(minutes=5)


def test_due_jobs_are_enqueued_once_per_interval():
    IdempotencyRecord.objects.create(scope="s", key="old", fingerprint="f",
                                     created_at=timezone.now() - timedelta(days=2))  # fmt: skip
    now = timezone.now()
    assert set(periodic.enqueue_due(now)) == set(periodic.JOBS)  # never ran: all due
    assert not IdempotencyRecord.objects.exists()  # the test backend ran the job at once
    assert periodic.enqueue_due(now + timedelta(minutes=1)) == []
    later = periodic.enqueue_due(now + timedelta(hours=1))
    assert set(later) == {"lead_sla", "expire_quotes", "prune_idempotency_keys"}
    assert PeriodicRun.objects.get(name="lead_sla").enqueued_at == now + timedelta(hours=1)


def test_a_run_is_claimed_by_one_scheduler():
    job = periodic.JOBS["expire_quotes"]
    now = timezone.now()
    assert periodic.claim(job, now) is True
    assert periodic.claim(job, now) is False  # the second scheduler finds it claimed


def test_the_scheduler_loop_enqueues_until_stopped(monkeypatch):
    monkeypatch.setattr(periodic, "close_old_connections", lambda: None)
    stop = threading.Event()
    monkeypatch.setattr(stop, "wait", lambda timeout: stop.set())  # one round
    periodic.run_scheduler(stop, tick=0)
    assert PeriodicRun.objects.filter(enqueued_at__isnull=False).count() == len(periodic.JOBS)


def test_schedule_command_lists_and_enqueues():
    out = StringIO()
    call_command("schedule", stdout=out)
    assert "lead_sla" in out.getvalue() and "next now" in out.getvalue()
    out = StringIO()
    call_command("schedule", "--enqueue-due", stdout=out)
    assert set(json.loads(out.getvalue())["enqueued"]) == set(periodic.JOBS)
    out = StringIO()
    call_command("schedule", stdout=out)
    assert "next now" not in out.getvalue()

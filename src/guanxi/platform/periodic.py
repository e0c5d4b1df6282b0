"""Jobs that run on their own every so often — the lead SLA sweep, quotes past their
validity, forecast snapshots, old export files — without cron.

Apps register a background task with its interval (``register``); ``guanxi worker`` runs a
scheduler thread beside the worker that puts each job on the queue when it is due
(``enqueue_due``). Several workers may run: a run is claimed by a conditional update of its
``PeriodicRun`` row, so each is enqueued once. ``guanxi schedule`` lists the jobs and their
last run, and enqueues the due ones for setups that prefer cron.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import close_old_connections
from django.db.models import Q
from django.utils import timezone

log = logging.getLogger(__name__)
TICK_SECONDS = 60


@dataclass(frozen=True)
class PeriodicJob:
    name: str
    task: Any  # a django-tasks Task taking no arguments
    every: timedelta
    description: str = ""


JOBS: dict[str, PeriodicJob] = {}


def register(name: str, task: Any, *, every: timedelta, description: str = "") -> None:
    JOBS[name] = PeriodicJob(name, task, every, description)


def last_runs() -> dict[str, datetime | None]:
    from guanxi.platform.models import PeriodicRun

    return dict(PeriodicRun.objects.filter(name__in=JOBS).values_list("name", "enqueued_at"))


def claim(job: PeriodicJob, now: datetime) -> bool:
    """True for the one caller that may enqueue ``job`` now (it is due, and no other
    scheduler claimed it since)."""
    from guanxi.platform.models import PeriodicRun

    PeriodicRun.objects.get_or_create(name=job.name)
    due = Q(enqueued_at__isnull=True) | Q(enqueued_at__lte=now - job.every)
    return PeriodicRun.objects.filter(due, name=job.name).update(enqueued_at=now) == 1


def enqueue_due(now: datetime | None = None) -> list[str]:
    """Put every due job on the queue; the names of those enqueued."""
    now = now or timezone.now()
    enqueued = []
    for job in JOBS.values():
        if claim(job, now):
            try:
                job.task.enqueue()
            except Exception:  # one failing job must not stop the others
                log.exception("periodic job %s could not be enqueued", job.name)
                continue
            enqueued.append(job.name)
    return enqueued


def run_scheduler(stop: threading.Event, *, tick: float = TICK_SECONDS) -> None:
    """Enqueue due jobs every ``tick`` seconds until ``stop`` is set."""
    while not stop.is_set():
        try:
            close_old_connections()
            names = enqueue_due()
            if names:
                log.info("periodic jobs enqueued: %s", ", ".join(names))
        except Exception:
            log.exception("the periodic scheduler failed; it tries again")
        finally:
            close_old_connections()
        stop.wait(tick)


def start_scheduler(*, tick: float = TICK_SECONDS) -> tuple[threading.Thread, threading.Event]:
    stop = threading.Event()
    thread = threading.Thread(
        target=run_scheduler, args=(stop,), kwargs={"tick": tick}, name="guanxi-periodic",
        daemon=True,
    )  # fmt: skip
    thread.start()
    return thread, stop

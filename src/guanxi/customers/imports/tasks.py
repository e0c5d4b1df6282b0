"""Imports run as background jobs when they are too big to wait for."""

from __future__ import annotations

from django_tasks import task

from guanxi.customers.imports import engine
from guanxi.customers.models import ImportJob


@task()
def run_import(job_id: int) -> dict:
    """Run (or resume) an import; safe to run again after a crash."""
    job = ImportJob.objects.dangerously_all_workspaces().get(pk=job_id)
    return engine.run(job).counts


def enqueue(job: ImportJob) -> None:
    """Queue ``job`` for a worker (the page and the API follow its status)."""
    ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.QUEUED)
    job.status = ImportJob.Status.QUEUED
    run_import.enqueue(job.pk)

"""Duplicate scans run in the background: a million contacts take minutes."""

from __future__ import annotations

from django_tasks import task

from guanxi.customers import dedupe
from guanxi.customers.models import DedupeRun
from guanxi.platform.context import acting_in
from guanxi.platform.models import Workspace


@task()
def run_scan(run_id: int) -> dict:
    run = DedupeRun.objects.dangerously_all_workspaces().get(pk=run_id)
    with acting_in(Workspace.objects.get(pk=run.workspace_id)):
        return dedupe.scan(run)


def enqueue(run: DedupeRun) -> None:
    run_scan.enqueue(run.pk)

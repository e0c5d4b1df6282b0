"""`guanxi schedule`: the periodic jobs, when each last ran, and (``--enqueue-due``) put the
due ones on the queue — for setups that run workers with ``--no-schedule`` and use cron."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from guanxi.platform import periodic
from guanxi.platform.management.commands._base import GuanxiCommand


class Command(GuanxiCommand):
    help = (
        "List the periodic jobs (every, last enqueued, next due). With --enqueue-due, put "
        "the due ones on the queue (a worker runs them); prints one JSON line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--enqueue-due", action="store_true", help="Enqueue the due jobs.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["enqueue_due"]:
            self.stdout.write(json.dumps({"enqueued": periodic.enqueue_due()}))
            return
        last = periodic.last_runs()
        now = timezone.now()
        for job in sorted(periodic.JOBS.values(), key=lambda j: j.every):
            ran = last.get(job.name)
            due = "now" if ran is None or ran + job.every <= now else (ran + job.every).isoformat()
            self.stdout.write(
                f"{job.name:24} every {job.every!s:>16}  last {ran.isoformat() if ran else '—':32}"
                f"  next {due}  {job.description}"
            )

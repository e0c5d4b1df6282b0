from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

from guanxi.platform import periodic


class Command(BaseCommand):
    help = (
        "Run background jobs (django-tasks): the database queue, or RQ when GUANXI_REDIS_URL "
        "is set; and enqueue the periodic jobs when they are due."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--queue", action="append", help="Queue name(s); default: default.")
        parser.add_argument(
            "--batch", action="store_true", help="Process the jobs waiting now, then exit."
        )
        parser.add_argument(
            "--no-schedule", action="store_true",
            help="Do not enqueue the periodic jobs (lead SLA, quote expiry, …) when due; "
            "another worker or `guanxi schedule` from cron does.",
        )  # fmt: skip

    def handle(self, *args: Any, **options: Any) -> None:
        queues = options["queue"] or ["default"]
        if not options["batch"] and not options["no_schedule"]:
            periodic.start_scheduler()
        backend = settings.TASKS["default"]["BACKEND"]
        if backend.startswith("django_tasks_rq"):
            call_command("rqworker", *queues, burst=options["batch"])
            return
        call_command("db_worker", queue_name=",".join(queues), batch=options["batch"])

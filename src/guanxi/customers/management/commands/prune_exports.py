"""`guanxi prune_exports`: delete the files of old background exports."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from guanxi.customers import export_jobs
from guanxi.platform.management.commands._base import GuanxiCommand, fail


class Command(GuanxiCommand):
    help = (
        "Delete the files of background exports finished more than N days ago (default: "
        "GUANXI_EXPORT_KEEP_DAYS, 7). The exports stay listed, without a download. Run it "
        "daily, e.g. from cron."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--days", type=int, help="Keep files this many days.")

    def handle(self, *args: Any, **options: Any) -> None:
        days = options["days"]
        if days is not None and days < 0:
            raise fail("--days must be 0 or more")
        self.stdout.write(json.dumps({"removed": export_jobs.remove_old_files(days=days)}))

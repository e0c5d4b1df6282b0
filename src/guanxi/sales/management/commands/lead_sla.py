"""`guanxi lead_sla`: escalate leads nobody touched by their follow-up time."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from guanxi.platform.management.commands._base import GuanxiCommand, fail
from guanxi.sales.lead_routing import services


class Command(GuanxiCommand):
    help = (
        "Escalate open leads past their first-touch time that nobody has touched: tell the "
        "owner's manager (or the administrators), record it, reassign when the policy says "
        "so. Each lead is escalated once. Run it every few minutes. Prints one JSON line."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="Only this workspace (slug); default: all.")
        parser.add_argument("--limit", type=int, default=5000, help="At most this many leads.")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["limit"] < 1:
            raise fail("--limit must be 1 or more")
        workspace = self.workspace(options["workspace"]) if options["workspace"] else None
        result = services.escalate_overdue_leads(workspace=workspace, limit=options["limit"])
        self.stdout.write(json.dumps(result))

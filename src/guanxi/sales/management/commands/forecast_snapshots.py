"""``guanxi forecast_snapshots``: store the forecast of every active workspace (or one) for
this and next month and quarter — run it weekly (cron, a scheduler) so that forecast
accuracy has a snapshot taken at the start of each period."""

from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from guanxi.platform.management.commands._base import GuanxiCommand
from guanxi.platform.models import Workspace
from guanxi.sales import forecasts


class Command(GuanxiCommand):
    help = "Snapshot forecasts for this and next month and quarter (weekly job)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="Workspace slug; default: every active one.")
        parser.add_argument("--period", help="Only this period (2026-12 or 2026-Q4).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["workspace"]:
            workspaces = [self.workspace(options["workspace"])]
        else:
            workspaces = list(Workspace.objects.filter(is_active=True).order_by("id"))
        for workspace in workspaces:
            if options["period"]:
                period = forecasts.parse_period(options["period"])
                taken = [forecasts.take_snapshot(workspace=workspace, period=period, kind="weekly")]
            else:
                taken = forecasts.take_weekly_snapshots(workspace=workspace)
            for snapshot in taken:
                self.stdout.write(
                    f"{workspace.slug} {snapshot.period} {snapshot.public_id} "
                    f"{snapshot.line_count} lines"
                )

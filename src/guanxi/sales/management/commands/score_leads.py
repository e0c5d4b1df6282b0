"""`guanxi score_leads`: score open leads again, so behaviour points fade."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from guanxi.platform.context import acting_in
from guanxi.platform.management.commands._base import GuanxiCommand, fail
from guanxi.platform.models import Workspace
from guanxi.sales.lead_routing import services


class Command(GuanxiCommand):
    help = (
        "Score the open leads of a workspace (or of every active one) again with its scoring "
        "rules; behaviour points fade with time, so run it daily. Prints one JSON line per "
        "workspace: leads checked, scores changed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", help="The workspace's slug; default: all active.")
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["batch_size"] < 1:
            raise fail("--batch-size must be 1 or more")
        if options["workspace"]:
            workspaces = [self.workspace(options["workspace"])]
        else:
            workspaces = list(Workspace.objects.filter(is_active=True).order_by("pk"))
        for workspace in workspaces:
            with acting_in(workspace):
                result = services.rescore_leads(
                    workspace=workspace, batch_size=options["batch_size"]
                )
            self.stdout.write(json.dumps({"workspace": workspace.slug, **result}))

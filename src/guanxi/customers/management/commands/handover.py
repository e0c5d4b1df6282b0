"""`guanxi handover`: give everything a (leaving) user owns to a colleague."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from guanxi.customers.handover import hand_over
from guanxi.platform.context import acting_in
from guanxi.platform.management.commands._base import GuanxiCommand


class Command(GuanxiCommand):
    help = (
        "Move every account, contact and open activity a user owns in a workspace to another "
        "user, with a note on each customer's timeline. Safe to run again: it continues with "
        "what is left."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--from", dest="from_user", required=True, help="Username.")
        parser.add_argument("--to", dest="to_user", required=True, help="Username.")
        parser.add_argument(
            "--by", help="Username recorded as having done it (default: nobody, 'system')."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = self.workspace(options["workspace"])
        source = self.membership(workspace, options["from_user"])
        target = self.membership(workspace, options["to_user"])
        by = self.membership(workspace, options["by"]).user if options["by"] else None
        with acting_in(workspace):
            counts = hand_over(
                workspace=workspace, from_user=source.user, to_user=target.user, by=by
            )
        self.stdout.write(json.dumps(counts))

"""`guanxi search`: the search box from the command line, as a given user sees it."""

from __future__ import annotations

import json
from typing import Any

from django.core.management.base import CommandParser

from guanxi.customers.search import search
from guanxi.platform.context import acting_in
from guanxi.platform.management.commands._base import GuanxiCommand


class Command(GuanxiCommand):
    help = (
        "Find accounts and contacts by name (Han, pinyin, initials, Latin), phone (any format "
        "or last 4+ digits), e-mail or messaging id, with the user's visibility."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("query")
        parser.add_argument("--workspace", required=True, help="Workspace slug.")
        parser.add_argument("--username", required=True, help="Search as this user.")
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--json", action="store_true", help="One JSON object per line.")

    def handle(self, *args: Any, **options: Any) -> None:
        workspace = self.workspace(options["workspace"])
        membership = self.membership(workspace, options["username"])
        with acting_in(workspace, membership):
            results = search(user=membership, q=options["query"], limit=options["limit"])
        for result in results:
            if options["json"]:
                self.stdout.write(json.dumps(result.__dict__, ensure_ascii=False))
            else:
                self.stdout.write(
                    f"{result.score:5.1f}  {result.type:<7}  {result.id}  {result.display_name}"
                )

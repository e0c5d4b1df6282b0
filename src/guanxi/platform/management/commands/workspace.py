from __future__ import annotations

from typing import Any

from django.core.management.base import CommandParser

from guanxi.platform import services
from guanxi.platform.management.commands._base import GuanxiCommand, fail
from guanxi.platform.models import Workspace


class Command(GuanxiCommand):
    help = "Create or list workspaces (tenants)."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True, parser_class=CommandParser)
        create = verbs.add_parser("create", help="Create a workspace with the default roles.")
        create.add_argument("--slug", required=True, help="Short name used in URLs, e.g. acme.")
        create.add_argument("--name", required=True, help="Display name, e.g. 'ACME 贸易'.")
        create.add_argument("--region", default="CN", help="Default phone region (ISO 3166).")
        create.add_argument("--currency", default="CNY", help="Default currency (ISO 4217).")
        create.add_argument("--time-zone", default="Asia/Shanghai")
        create.add_argument("--language", default="zh-hans", help="en, zh-hans or zh-hant.")
        create.add_argument("--parent", help="Slug of the parent workspace (dealer networks).")
        verbs.add_parser("list", help="List workspaces.")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        if verb == "list":
            for workspace in Workspace.objects.order_by("slug"):
                self.stdout.write(f"{workspace.slug}\t{workspace.name}\t{workspace.public_id}")
            return
        parent = self.workspace(options["parent"]) if options["parent"] else None
        workspace = services.create_workspace(
            slug=options["slug"],
            name=options["name"],
            region=options["region"],
            currency=options["currency"],
            time_zone=options["time_zone"],
            language=options["language"],
            parent=parent,
        )
        if workspace is None:  # pragma: no cover - services raise instead
            raise fail("workspace not created")
        self.stdout.write(f"created workspace {workspace.slug} ({workspace.public_id})")

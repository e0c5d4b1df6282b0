from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import CommandParser
from django.utils import timezone

from guanxi.platform import services
from guanxi.platform.management.commands._base import GuanxiCommand, fail


class Command(GuanxiCommand):
    help = "Create API tokens. The token is printed once, alone on the last line."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True, parser_class=CommandParser)
        create = verbs.add_parser("create", help="Create a bearer token for a user.")
        create.add_argument("--username", required=True)
        create.add_argument("--workspace", required=True, help="Workspace slug.")
        create.add_argument("--name", default="CLI token", help="What the token is for.")
        create.add_argument("--expires-in-days", type=int, help="Expire after N days.")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        workspace = self.workspace(options["workspace"])
        membership = self.membership(workspace, options["username"])
        expires_at = None
        if options["expires_in_days"] is not None:
            if options["expires_in_days"] < 1:
                raise fail("--expires-in-days must be at least 1")
            expires_at = timezone.now() + timedelta(days=options["expires_in_days"])
        token, raw = services.create_api_token(
            membership=membership, name=options["name"], expires_at=expires_at
        )
        self.stderr.write(
            f"token {token.public_id} for {membership.user.username} in {workspace.slug}; "
            "store it now, it is not shown again:"
        )
        self.stdout.write(raw)

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import CommandParser
from django.db import transaction

from guanxi.platform import services
from guanxi.platform.management.commands._base import GuanxiCommand, fail
from guanxi.platform.models import Role, Team


class Command(GuanxiCommand):
    help = "Create users and add them to a workspace with a role, team and manager."

    def add_arguments(self, parser: CommandParser) -> None:
        verbs = parser.add_subparsers(dest="verb", required=True, parser_class=CommandParser)
        create = verbs.add_parser("create", help="Create a user in a workspace.")
        create.add_argument("--username", required=True)
        create.add_argument("--workspace", required=True, help="Workspace slug.")
        create.add_argument("--role", required=True, help="Role key, e.g. sales_rep.")
        create.add_argument("--team", help="Team name; created if the workspace has none such.")
        create.add_argument("--manager", help="Username of the manager in this workspace.")
        create.add_argument("--email", default="")
        create.add_argument("--first-name", default="")
        create.add_argument("--last-name", default="")
        create.add_argument(
            "--password-stdin",
            action="store_true",
            help="Read the password from standard input (otherwise the user cannot sign in "
            "until a password is set).",
        )
        create.add_argument("--staff", action="store_true", help="May open /admin/.")

    def handle(self, *args: Any, verb: str, **options: Any) -> None:
        workspace = self.workspace(options["workspace"])
        role = Role.objects.for_workspace(workspace).filter(key=options["role"]).first()
        if role is None:
            keys = ", ".join(
                Role.objects.for_workspace(workspace).order_by("key").values_list("key", flat=True)
            )
            raise fail(f"unknown role {options['role']!r}; roles of {workspace.slug}: {keys}")
        manager = self.membership(workspace, options["manager"]) if options["manager"] else None
        password = None
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\r\n")
            if not password:
                raise fail("no password on standard input")
        with transaction.atomic():
            team = None
            if options["team"]:
                team = Team.objects.for_workspace(workspace).filter(name=options["team"]).first()
                team = team or services.create_team(workspace=workspace, name=options["team"])
            user = services.create_user(
                username=options["username"],
                password=password,
                email=options["email"],
                first_name=options["first_name"],
                last_name=options["last_name"],
            )
            if options["staff"]:
                user.is_staff = True
                user.save(update_fields=["is_staff"])
            membership = services.add_member(
                workspace=workspace, user=user, role=role, team=team, manager=manager
            )
        self.stdout.write(
            f"created user {user.username} in {workspace.slug} as {role.key} ({membership.public_id})"
        )

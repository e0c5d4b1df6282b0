from __future__ import annotations

import atexit
import secrets
import subprocess
import sys
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from guanxi.platform import services
from guanxi.platform.management.commands.serve import serve
from guanxi.platform.models import Membership, Role, User, Workspace

DEMO_SLUG = "demo"
ADMIN_USERNAME = "admin"

# (username, family name, given name, role, team, manager username)
DEMO_PEOPLE = [
    ("wang.fang", "王", "芳", "sales_manager", "华东销售部", None),
    ("li.na", "李", "娜", "sales_rep", "华东销售部", "wang.fang"),
    ("zhang.wei", "张", "伟", "sales_rep", "华东销售部", "wang.fang"),
    ("liu.yang", "刘", "洋", "sales_manager", "华南销售部", None),
    ("chen.jie", "陈", "杰", "sales_rep", "华南销售部", "liu.yang"),
    ("zhao.min", "赵", "敏", "service_manager", "客户服务中心", None),
    ("sun.li", "孙", "丽", "service_agent", "客户服务中心", "zhao.min"),
    ("emily.chen", "Chen", "Emily", "marketer", "市场部", None),
    ("david.wu", "Wu", "David", "analyst", None, None),
]


def prepare_demo(*, stdout: Any) -> str:
    """Migrate, create the demo workspace and people once, and give the administrator a new
    random password (returned) every time."""
    call_command("migrate", interactive=False, verbosity=0)
    password = secrets.token_urlsafe(12)
    with transaction.atomic():
        workspace = Workspace.objects.filter(slug=DEMO_SLUG).first()
        if workspace is None:
            workspace = services.create_workspace(
                slug=DEMO_SLUG, name="演示贸易有限公司 Demo Trading Co.", language="zh-hans"
            )
            members = _create_people(workspace)
            stdout.write(f"created workspace {DEMO_SLUG} with {len(DEMO_PEOPLE)} demo users")
            for loader in services.demo_loaders():
                stdout.write(loader(workspace=workspace, members=members))
        admin = User.objects.filter(username=ADMIN_USERNAME).first()
        if admin is None:
            admin = services.create_user(username=ADMIN_USERNAME, email="admin@example.com")
        admin.is_staff = admin.is_superuser = True
        admin.set_password(password)
        admin.save()
        if not Membership.objects.for_workspace(workspace).filter(user=admin).exists():
            role = Role.objects.for_workspace(workspace).get(key="administrator")
            services.add_member(workspace=workspace, user=admin, role=role)
    return password


def _create_people(workspace: Workspace) -> dict[str, Membership]:
    roles = {r.key: r for r in Role.objects.for_workspace(workspace)}
    teams: dict[str, Any] = {}
    members: dict[str, Membership] = {}
    for username, family, given, role_key, team_name, manager in DEMO_PEOPLE:
        if team_name and team_name not in teams:
            teams[team_name] = services.create_team(workspace=workspace, name=team_name)
        user = services.create_user(
            username=username,
            email=f"{username}@example.com",
            last_name=family,
            first_name=given,
        )
        members[username] = services.add_member(
            workspace=workspace,
            user=user,
            role=roles[role_key],
            team=teams.get(team_name) if team_name else None,
            manager=members.get(manager) if manager else None,
        )
    return members


class Command(BaseCommand):
    help = (
        "Prepare the embedded database with a demo workspace and an administrator, "
        "then serve the app on http://127.0.0.1:8000."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--workers", type=int, default=2)
        parser.add_argument("--no-serve", action="store_true", help="Only prepare; don't serve.")

    def handle(self, *args: Any, **options: Any) -> None:
        self.stdout.write(f"data folder: {settings.GUANXI_HOME}")
        password = prepare_demo(stdout=self.stdout)
        url = f"http://{options['host']}:{options['port']}/"
        self.stdout.write(
            "\n".join(
                [
                    "",
                    f"  Guanxi demo is ready: {url}",
                    f"  sign in as:  {ADMIN_USERNAME}",
                    f"  password:    {password}",
                    f"  API docs:    {url}api/v1/docs",
                    "",
                ]
            )
        )
        if options["no_serve"]:
            return
        self.stdout.flush()
        # background jobs (large imports, …) need a worker; the demo runs one beside the server
        worker = subprocess.Popen([sys.executable, "-m", "guanxi", "worker"])
        atexit.register(worker.terminate)
        serve(
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            threads=4,
            access_log=False,
        )

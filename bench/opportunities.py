"""Opportunity pages at scale: the board and the list with 200,000 deals and 1,000 users.

    createdb -h 127.0.0.1 -U postgres opps_bench
    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/opps_bench python bench/opportunities.py

Builds (once; `--rebuild` starts again) a workspace with 1,000 users in a manager tree (a
head of sales, 10 regional managers, 50 team leads with a team each, reps), 20,000 accounts
and 200,000 opportunities spread over the stages, owners and two years (COPY), runs
`VACUUM ANALYZE`, then requests the pages through Django's test client, signed in, and prints
one JSON object per line: {"name", "p50_ms", "p95_ms", "queries", ...}.
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sys
import tempfile
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import emit, percentile

SLUG = "opps-bench"
STAGE_SHARE = [  # key, share of the deals
    ("qualification", 0.20), ("needs_analysis", 0.15), ("proposal", 0.10),
    ("negotiation", 0.05), ("closed_won", 0.25), ("closed_lost", 0.25),
]  # fmt: skip


def build(*, users: int, opportunities: int, accounts: int, seed: int) -> None:
    from django.db import connection
    from django.utils import timezone

    from guanxi.customers.models import Account
    from guanxi.platform import services
    from guanxi.platform.ids import new_public_id
    from guanxi.platform.models import Membership, Role, Workspace
    from guanxi.sales.models import Opportunity, Stage

    rng = random.Random(seed)
    started = time.perf_counter()
    old = Workspace.objects.filter(slug=SLUG).first()
    if old is not None:
        raise SystemExit(f"workspace {SLUG} exists: run with --rebuild on a fresh database")
    workspace = services.create_workspace(slug=SLUG, name="商机基准")
    roles = {r.key: r for r in Role.objects.for_workspace(workspace)}

    def member(username: str, role: str, *, team=None, manager=None) -> Membership:
        user = services.create_user(username=username, last_name="王", first_name=username)
        return services.add_member(
            workspace=workspace, user=user, role=roles[role], team=team, manager=manager
        )

    member("admin", "administrator")
    head = member("head", "sales_manager")
    regions = [member(f"region{i}", "sales_manager", manager=head) for i in range(10)]
    leads, teams = [], []
    for index in range(50):
        team = services.create_team(workspace=workspace, name=f"销售{index}组")
        teams.append(team)
        leads.append(
            member(f"lead{index}", "sales_manager", team=team, manager=regions[index // 5])
        )
    reps = []
    for index in range(users - 1 - 1 - len(regions) - len(leads)):
        lead = leads[index % len(leads)]
        reps.append(member(f"rep{index}", "sales_rep", team=lead.team, manager=lead))
    emit(name="setup_users", seconds=round(time.perf_counter() - started, 1), users=users)

    now = timezone.now()
    Account.objects.bulk_create(
        [
            Account(
                workspace=workspace,
                public_id=new_public_id("acc"),
                name=f"客户 {i:05d} 有限公司",
                sort_key=f"kehu {i:05d}",
                owner_id=rng.choice(reps).user_id,
                created_at=now,
                updated_at=now,
            )
            for i in range(accounts)
        ],
        batch_size=5000,
    )
    account_ids = list(
        Account.objects.for_workspace(workspace).values_list("pk", flat=True).order_by("pk")
    )
    stages = {s.key: s for s in Stage.objects.for_workspace(workspace)}
    pipeline_id = stages["qualification"].pipeline_id
    keys = [key for key, _share in STAGE_SHARE]
    weights = [share for _key, share in STAGE_SHARE]
    # most deals belong to reps, some to team leads
    owners = [(m.user_id, m.team_id) for m in reps] * 9 + [(m.user_id, m.team_id) for m in leads]
    fields = [
        f for f in Opportunity._meta.concrete_fields if not f.primary_key
    ]  # every column but the id
    columns = ", ".join(f'"{f.column}"' for f in fields)
    today = date.today()
    started = time.perf_counter()
    with connection.cursor() as cursor:
        sql = f'COPY "{Opportunity._meta.db_table}" ({columns}) FROM STDIN'
        with cursor.cursor.copy(sql) as copy:
            for index in range(opportunities):
                stage = stages[rng.choices(keys, weights)[0]]
                owner_id, team_id = rng.choice(owners)
                created = now - timedelta(seconds=rng.randint(0, 730 * 86400))
                updated = created + timedelta(
                    seconds=rng.randint(0, int((now - created).total_seconds()))
                )
                amount = Decimal(rng.randint(1, 2000) * 1000)
                values = {
                    "workspace": workspace.pk, "public_id": new_public_id("opp"),
                    "created_at": created, "created_by": owner_id, "updated_at": updated,
                    "updated_by": owner_id, "version": 1, "deleted_at": None, "deleted_by": None,
                    "name": f"商机 {index:06d}", "account": rng.choice(account_ids),
                    "contact": None, "pipeline": pipeline_id, "stage": stage.pk,
                    "amount": amount, "currency": "USD" if rng.random() < 0.03 else "CNY",
                    "probability": stage.probability,
                    "expected_close_date": today + timedelta(days=rng.randint(-600, 365)),
                    "next_step": "", "competitors": "",
                    "loss_reason": "预算取消" if stage.is_lost else "", "lead_source": "",
                    "owner": owner_id, "team": team_id,
                    "closed_at": updated if stage.is_closed else None,
                }  # fmt: skip
                copy.write_row([values[f.name] for f in fields])
    emit(name="setup_opportunities", seconds=round(time.perf_counter() - started, 1),
         opportunities=opportunities, accounts=accounts)  # fmt: skip


def vacuum() -> None:
    from django.db import connection

    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    emit(name="vacuum_analyze", seconds=round(time.perf_counter() - started, 1))


def measure(name: str, client, paths: list[str], *, requests: int, **extra) -> None:
    """p50/p95 of ``requests`` GETs cycling over ``paths`` (after a warm-up), and the
    queries of one."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for path in paths * 3:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
    timings = []
    for index in range(requests):
        path = paths[index % len(paths)]
        start = time.perf_counter_ns()
        client.get(path)
        timings.append((time.perf_counter_ns() - start) / 1e6)
    with CaptureQueriesContext(connection) as queries:
        html = client.get(paths[0]).content
    emit(name=name, p50_ms=percentile(timings, 0.5), p95_ms=percentile(timings, 0.95),
         queries=len(queries), html_kb=round(len(html) / 1024, 1), n=requests, **extra)  # fmt: skip


def run(*, requests: int) -> None:
    from django.test import Client

    from guanxi.platform.context import acting_in
    from guanxi.platform.models import Membership, Workspace
    from guanxi.sales.models import Opportunity

    workspace = Workspace.objects.get(slug=SLUG)
    members = {
        m.user.username: m
        for m in Membership.objects.for_workspace(workspace)
        .filter(user__username__in=["admin", "region3", "rep7"])
        .select_related("user")
    }
    with acting_in(workspace):
        total = Opportunity.objects.count()
    clients = {}
    for who, member in members.items():
        clients[who] = Client(HTTP_HOST="127.0.0.1")
        clients[who].force_login(member.user)
        clients[who].get("/")
    emit(
        name="dataset",
        opportunities=total,
        users=Membership.objects.for_workspace(workspace).count(),
    )

    admin = clients["admin"]
    measure("list_first_page", admin, ["/opportunities/"], requests=requests, user="admin")
    measure("list_filtered", admin,
            ["/opportunities/?status=open&close_after=2027-01-01&close_before=2027-06-30",
             "/opportunities/?status=open&owner=rep7", "/opportunities/?status=won&sort=-updated"],
            requests=requests, user="admin")  # fmt: skip
    # a page deep in the keyset: follow "Show more" 2,000 pages (100,000 rows) in
    cursor_path, url = None, "/opportunities/"
    for _ in range(2000):
        html = admin.get(url, headers={"HX-Request": "true"} if "cursor" in url else {}).content
        found = re.search(rb'hx-get="\?([^"]*cursor=[^"]+)"', html)
        if not found:
            break
        url = "/opportunities/?" + found.group(1).decode().replace("&amp;", "&")
        cursor_path = url
    measure("list_deep_page", admin, [cursor_path], requests=requests, user="admin",
            rows_before=100_000)  # fmt: skip
    measure("list_sorted_by_amount", admin, ["/opportunities/?sort=-amount"],
            requests=requests, user="admin")  # fmt: skip
    measure("list_rep", clients["rep7"], ["/opportunities/"], requests=requests, user="rep")
    for who, label in (("admin", "administrator"), ("region3", "manager of ~100"),
                       ("rep7", "rep")):  # fmt: skip
        measure(f"board_{'manager' if who == 'region3' else label.split()[0]}", clients[who],
                ["/opportunities/board/"], requests=requests, user=label)  # fmt: skip
    measure("board_filtered", admin, ["/opportunities/board/?owner=rep7&close=this_year"],
            requests=requests, user="administrator")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--opportunities", type=int, default=200_000)
    parser.add_argument("--accounts", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="drop and refill the database")
    args = parser.parse_args()
    url = os.environ.get("GUANXI_DATABASE_URL", "")
    if not url.startswith("postgres"):
        raise SystemExit("set GUANXI_DATABASE_URL to a PostgreSQL database (e.g. opps_bench)")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ.setdefault("GUANXI_HOME", tempfile.mkdtemp())
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings.dev"
    os.environ["GUANXI_DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command

    from guanxi.platform.models import Workspace

    if args.rebuild:
        from django.db import connection

        with connection.cursor() as cursor:
            cursor.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public")
    call_command("migrate", verbosity=0)
    if not Workspace.objects.filter(slug=SLUG).exists():
        build(users=args.users, opportunities=args.opportunities, accounts=args.accounts,
              seed=args.seed)  # fmt: skip
        vacuum()
    run(requests=args.requests)


if __name__ == "__main__":
    main()

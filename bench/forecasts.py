"""Forecast roll-up at scale: 1,000 people in a six-level manager tree, 200,000 opportunities.

    createdb -h 127.0.0.1 -U postgres forecasts_bench
    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/forecasts_bench python bench/forecasts.py

Uses the PostgreSQL database in GUANXI_DATABASE_URL as it is (migrates it; builds the data
once, in the workspace "fcbench", and reuses it on later runs: drop and create the
database to build it anew), runs
VACUUM ANALYZE, then times GET /api/v1/forecasts?period=… in process for the top manager and
for managers further down. Prints one JSON object per line:
{"name", "p50_ms", "p95_ms", "queries", …}.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

SLUG = "fcbench"
FAN_OUT = 4  # reports per manager on the first five levels
LEVELS = 6


def emit(**figures) -> None:
    print(json.dumps(figures, ensure_ascii=False), flush=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)


def build_tree(workspace, people: int) -> list[list]:
    """Levels of memberships: 1, 4, 16, 64, 256 managers, the rest reps under the last."""
    from guanxi.platform import services
    from guanxi.platform.models import Role

    roles = {r.key: r for r in Role.objects.for_workspace(workspace)}
    levels: list[list] = []
    made = 0

    def add(level: int, manager) -> object:
        nonlocal made
        user = services.create_user(username=f"fc{made}", last_name="王", first_name=str(made))
        made += 1
        role = roles["sales_manager"] if level < LEVELS - 1 else roles["sales_rep"]
        return services.add_member(workspace=workspace, user=user, role=role, manager=manager)

    levels.append([add(0, None)])
    for level in range(1, LEVELS - 1):
        levels.append([add(level, boss) for boss in levels[-1] for _ in range(FAN_OUT)])
    leads = levels[-1]
    remaining = people - made
    levels.append([add(LEVELS - 1, leads[i % len(leads)]) for i in range(remaining)])
    return levels


def build_opportunities(workspace, owners: list, count: int, seed: int = 7) -> None:
    from guanxi.customers.models import Account
    from guanxi.platform.ids import new_public_id
    from guanxi.sales.models import Opportunity, Pipeline, Stage

    rng = random.Random(seed)
    pipeline = Pipeline.objects.for_workspace(workspace).get(key="sales")
    stages = list(Stage.objects.for_workspace(workspace).filter(pipeline=pipeline))
    accounts = Account.objects.bulk_create(
        Account(workspace=workspace, public_id=new_public_id("acc"), name=f"客户 {i}")
        for i in range(200)
    )
    zone = ZoneInfo(workspace.time_zone)
    first_day = date(2025, 7, 1)
    span = (date(2027, 6, 30) - first_day).days
    batch: list = []
    now = datetime.now(tz=zone)
    for index in range(count):
        stage = rng.choice(stages)
        close = first_day + timedelta(days=rng.randrange(span))
        owner = rng.choice(owners)
        batch.append(
            Opportunity(
                workspace=workspace,
                public_id=new_public_id("opp"),
                name=f"商机 {index}",
                account=rng.choice(accounts),
                pipeline=pipeline,
                stage=stage,
                amount=Decimal(rng.randrange(1_000, 2_000_000)) / 100,
                currency="USD" if rng.random() < 0.05 else "CNY",
                probability=stage.probability,
                expected_close_date=close,
                owner_id=owner.user_id,
                team_id=owner.team_id,
                closed_at=datetime.combine(close, datetime.min.time(), zone)
                + timedelta(hours=rng.randrange(24))
                if stage.is_closed
                else None,
                created_at=now,
                updated_at=now,
            )
        )
        if len(batch) == 5000:
            Opportunity.objects.bulk_create(batch)
            batch = []
    Opportunity.objects.bulk_create(batch)


def timed(client, path: str, headers: dict, requests: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(5):
        response = client.get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
    samples = []
    for _ in range(requests):
        start = time.perf_counter_ns()
        client.get(path, headers=headers)
        samples.append((time.perf_counter_ns() - start) / 1e6)
    with CaptureQueriesContext(connection) as queries:
        client.get(path, headers=headers)
    return samples, len(queries)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1000)
    parser.add_argument("--opportunities", type=int, default=200_000)
    parser.add_argument("--requests", type=int, default=50)
    parser.add_argument("--period", default="2026-Q4")
    args = parser.parse_args()
    if not os.environ.get("GUANXI_DATABASE_URL", "").startswith("postgres"):
        raise SystemExit("set GUANXI_DATABASE_URL to a PostgreSQL database of its own")
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings.dev"
    os.environ["GUANXI_DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client

    from guanxi.platform import services
    from guanxi.platform.models import Membership, Workspace

    call_command("migrate", verbosity=0)
    workspace = Workspace.objects.filter(slug=SLUG).first()
    if workspace is None:
        start = time.perf_counter()
        workspace = services.create_workspace(slug=SLUG, name="Forecast 基准")
        levels = build_tree(workspace, args.people)
        tree_seconds = round(time.perf_counter() - start, 1)
        start = time.perf_counter()
        everyone = [m for level in levels for m in level]
        build_opportunities(workspace, everyone, args.opportunities)
        emit(name="build", people=len(everyone), opportunities=args.opportunities,
             tree_s=tree_seconds, opportunities_s=round(time.perf_counter() - start, 1))  # fmt: skip
    members = list(Membership.objects.for_workspace(workspace).order_by("path", "id"))
    by_depth: dict[int, list] = {}
    for member in members:
        by_depth.setdefault(member.path.count("/") - 2, []).append(member)
    with connection.cursor() as cursor:
        start = time.perf_counter()
        cursor.execute("VACUUM ANALYZE")
        emit(name="vacuum_analyze", seconds=round(time.perf_counter() - start, 1))

    client = Client(HTTP_HOST="127.0.0.1")
    subtree = {m.pk: sum(1 for o in members if o.path.startswith(m.path)) for m in members}
    for name, member in (
        ("forecast_top", by_depth[0][0]),
        ("forecast_level2", by_depth[1][0]),
        ("forecast_level3", by_depth[2][0]),
        ("forecast_level4", by_depth[3][0]),
        ("forecast_rep", by_depth[max(by_depth)][0]),
    ):
        _, token = services.create_api_token(membership=member, name="bench")
        samples, queries = timed(
            client,
            f"/api/v1/forecasts?period={args.period}",
            {"Authorization": f"Bearer {token}"},
            args.requests,
        )
        emit(name=name, p50_ms=percentile(samples, 0.5), p95_ms=percentile(samples, 0.95),
             queries=queries, subtree=subtree[member.pk], requests=args.requests)  # fmt: skip


if __name__ == "__main__":
    main()

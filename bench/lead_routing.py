"""Lead routing figures: 10,000 leads created and routed one by one, as a web form's request
does it (the lead service: the lead validated, routed before it is inserted — scoring, 50
assignment rules, the SLA due time —, inserted with its history record, the assignment
audited and notified, committed), among 1,000 users in 50 teams of a workspace that has
``--existing`` earlier leads (20,000: routed, then most of them worked); then 10,000 more
created through the lead service and routed together (``leads.created_together``: an
import's batch, bulk intake) in transactions of ``--together`` leads.

    python bench/lead_routing.py                  # SQLite in a temp folder
    createdb -h 127.0.0.1 -U postgres routing_bench
    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/routing_bench python bench/lead_routing.py

Prints one JSON object per line: the whole path (leads/s, p50/p95 ms, queries per lead)
and the routing part alone (the receivers' time). Each run makes a new workspace in the
database it is given (migrated first).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
import time
import uuid
from pathlib import Path

PROVINCES = ["广东省", "浙江省", "江苏省", "上海市", "北京市", "四川省", "湖北省", "山东省",
             "福建省", "河南省", "湖南省", "安徽省", "天津市", "重庆市", "陕西省", "辽宁省"]  # fmt: skip
CITIES = ["广州", "深圳", "杭州", "宁波", "南京", "苏州", "上海", "北京", "成都", "武汉",
          "青岛", "厦门", "郑州", "长沙", "合肥", "天津", "重庆", "西安", "沈阳"]  # fmt: skip
INDUSTRIES = ["Telecom", "Manufacturing", "Retail", "Finance", "Education", "Energy",
              "Healthcare", "Logistics"]  # fmt: skip
PRODUCTS = ["光纤模块", "光缆", "交换机", "Fibre modules", "ERP 集成", "售后服务"]
TITLES = ["销售总监", "采购经理", "工程师", "Purchasing Manager", "CEO", "助理", "IT Director"]
SOURCES = ["web", "web", "web", "partner", "trade_show", "campaign", "referral", "api"]
DOMAINS = ["qq.com", "163.com", "guangtong.cn", "example.com.cn", "gmail.com", "huaxin.com"]


def emit(**figures) -> None:
    print(json.dumps(figures, ensure_ascii=False), flush=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


def build(
    slug: str, users: int, teams: int, assignment_rules: int, scoring_rules: int,
    existing: int = 0,
):  # fmt: skip
    """The workspace: users in teams, the rules, the SLA policies and ``existing`` leads that
    came in before (routed together, then most of them worked: a quarter stay open)."""
    from guanxi.platform import services as platform
    from guanxi.platform.models import Role
    from guanxi.sales.lead_routing import services as routing

    rng = random.Random(7)
    workspace = platform.create_workspace(slug=slug, name="Bench 基准")
    roles = {r.key: r for r in Role.objects.for_workspace(workspace)}
    admin = platform.add_member(workspace=workspace, user=platform.create_user(
        username=f"{slug}-admin"), role=roles["administrator"])  # fmt: skip
    team_rows = [platform.create_team(workspace=workspace, name=f"Team {i}") for i in range(teams)]
    members = []
    per_team = users // teams
    for t, team in enumerate(team_rows):
        manager = platform.add_member(
            workspace=workspace, user=platform.create_user(username=f"{slug}-m{t}"),
            role=roles["sales_manager"], team=team,
        )  # fmt: skip
        members.append(manager)
        for i in range(per_team - 1):
            members.append(platform.add_member(
                workspace=workspace, user=platform.create_user(username=f"{slug}-r{t}-{i}"),
                role=roles["sales_rep"], team=team, manager=manager,
            ))  # fmt: skip
    by = admin.user
    fields = [("title", "contains", "总监", 20), ("title", "contains", "经理", 10),
              ("title", "contains", "Manager", 10), ("title", "contains", "Director", 20),
              ("email_domain", "not_free_mail", "", 10), ("consent", "is_set", "", 5),
              ("company", "is_set", "", 5), ("source", "equals", "partner", 15),
              ("source", "in", ["referral", "trade_show"], 10)]  # fmt: skip
    for i in range(scoring_rules):
        if i < len(fields):
            field, operator, value, points = fields[i]
        elif i % 10 == 0:
            field, operator, value, points = "behaviour", "events", "inbound", 3
        else:
            field, operator = rng.choice([("region", "equals"), ("industry", "in"),
                                          ("product_interest", "contains"),
                                          ("city", "in")])  # fmt: skip
            pool = {"region": PROVINCES, "industry": INDUSTRIES, "product_interest": PRODUCTS,
                    "city": CITIES}[field]  # fmt: skip
            value = rng.choice(pool) if operator != "in" else rng.sample(pool, 2)
            points = rng.randint(-10, 15)
        routing.create_scoring_rule(
            workspace=workspace, by=by, name=f"Score {i}", field=field, operator=operator,
            value=value, points=points, half_life_days=14 if field == "behaviour" else None,
        )  # fmt: skip
    for i in range(assignment_rules):
        team = team_rows[i % teams]
        conditions = {}
        if i % 3 == 0:
            conditions["regions"] = [PROVINCES[i % len(PROVINCES)]]
        if i % 3 == 1:
            conditions["cities"] = rng.sample(CITIES, 2)
        if i % 4 == 0:
            conditions["industries"] = [INDUSTRIES[i % len(INDUSTRIES)]]
        if i % 5 == 0:
            conditions["min_score"] = 20
        if i % 7 == 0:
            conditions["sources"] = ["partner"]
        method = ["round_robin", "least_loaded", "round_robin", "user"][i % 4]
        target = {"user": members[i * 7 % len(members)].user} if method == "user" else {
            "team": team}  # fmt: skip
        routing.create_assignment_rule(workspace=workspace, by=by, name=f"Rule {i}",
                                       method=method, **conditions, **target)  # fmt: skip
    routing.update_routing_settings(workspace=workspace, by=by, fallback_method="round_robin",
                                    fallback_team=team_rows[-1],
                                    holidays=["2026-10-01", "2026-10-02"])  # fmt: skip
    routing.create_sla_policy(workspace=workspace, by=by, name="Partners", sources=["partner"],
                              first_touch_minutes=60)  # fmt: skip
    routing.create_sla_policy(workspace=workspace, by=by, name="Hot", min_score=30,
                              first_touch_minutes=120)  # fmt: skip
    routing.create_sla_policy(workspace=workspace, by=by, name="Everyone",
                              first_touch_minutes=240)  # fmt: skip
    from django.db import connection

    if existing:
        add_existing_leads(workspace, existing)
    if connection.vendor == "postgresql":
        # statistics as autovacuum would have them (some servers run without it)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return workspace


def add_existing_leads(workspace, count: int) -> None:
    """``count`` leads of the past, routed together by the rules, then worked: 60 % were
    disqualified, 15 % are nurtured, 10 % are being worked and 15 % are still new."""
    from django.db import transaction
    from django.db.models import F, IntegerField, Value
    from django.db.models.functions import Mod

    from guanxi.platform.context import acting_in
    from guanxi.sales import leads as lead_services
    from guanxi.sales.models import Lead

    rng = random.Random(3)
    with acting_in(workspace):
        for start in range(0, count, 500):
            with transaction.atomic(), lead_services.created_together(by=None):
                for n in range(start, min(count, start + 500)):
                    fields = lead_fields(rng, 10**8 + n)
                    name = fields.pop("display_name")
                    source, consent = fields.pop("source"), fields.pop("consent")
                    lead_services.create_lead(workspace=workspace, by=None, source=source,
                                              full_name=name, consent=consent,
                                              source_detail="earlier", **fields)  # fmt: skip
    leads = Lead.objects.for_workspace(workspace).annotate(
        bucket=Mod(F("id"), Value(20), output_field=IntegerField())
    )
    leads.filter(bucket__lt=12).update(status=Lead.Status.DISQUALIFIED,
                                       disqualify_reason="no budget")  # fmt: skip
    leads.filter(bucket__gte=12, bucket__lt=15).update(status=Lead.Status.NURTURING)
    leads.filter(bucket__gte=15, bucket__lt=17).update(status=Lead.Status.WORKING)


def lead_fields(rng: random.Random, n: int) -> dict:
    return {
        "display_name": f"客户{n}", "title": rng.choice(TITLES),
        "company": rng.choice(["", "华信科技", "光通股份"]),
        "email": f"c{n}@{rng.choice(DOMAINS)}", "region": rng.choice(PROVINCES),
        "city": rng.choice(CITIES), "country": "CN", "language": "zh-hans",
        "industry": rng.choice(INDUSTRIES), "product_interest": rng.choice(PRODUCTS),
        "source": rng.choice(SOURCES), "consent": rng.random() < 0.5,
    }  # fmt: skip


def run(args: argparse.Namespace, db: str) -> None:
    import django

    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings.dev"
    os.environ["GUANXI_DEBUG"] = "false"
    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test.utils import CaptureQueriesContext

    from guanxi.platform.context import acting_in
    from guanxi.sales import leads as lead_services
    from guanxi.sales.lead_routing import receivers
    from guanxi.sales.models import Lead
    from guanxi.sales.signals import lead_created, lead_creating

    call_command("migrate", verbosity=0)
    slug = f"bench-{uuid.uuid4().hex[:6]}"
    started = time.perf_counter()
    workspace = build(
        slug,
        args.users,
        args.teams,
        args.assignment_rules,
        args.scoring_rules,
        existing=args.existing,
    )
    emit(db=db, step="setup", users=args.users, teams=args.teams,
         assignment_rules=args.assignment_rules, scoring_rules=args.scoring_rules,
         seconds=round(time.perf_counter() - started, 1))  # fmt: skip
    rng = random.Random(11)
    routing_ms: list[float] = []

    def timed_routing(sender, **kwargs):
        start = time.perf_counter_ns()
        receivers.on_lead_creating(sender, **kwargs)
        routing_ms.append((time.perf_counter_ns() - start) / 1e6)

    def timed_announcement(sender, **kwargs):
        start = time.perf_counter_ns()
        receivers.on_lead_created(sender, **kwargs)
        routing_ms[-1] += (time.perf_counter_ns() - start) / 1e6

    # measure the receivers' own time: swap the connected ones for timed wrappers
    lead_creating.disconnect(dispatch_uid="lead_routing.creating")
    lead_creating.connect(timed_routing, dispatch_uid="lead_routing.creating.bench")
    lead_created.disconnect(dispatch_uid="lead_routing.created")
    lead_created.connect(timed_announcement, dispatch_uid="lead_routing.created.bench")

    def create(n: int, detail: str) -> None:
        fields = lead_fields(rng, n)
        name = fields.pop("display_name")
        source, consent = fields.pop("source"), fields.pop("consent")
        lead_services.create_lead(workspace=workspace, by=None, source=source, full_name=name,
                                  consent=consent, source_detail=detail, **fields)  # fmt: skip

    def one(n: int) -> None:
        create(n, "one")

    with acting_in(workspace):
        for n in range(100):  # warm up: compiled rules, connections
            one(n)
        routing_ms.clear()
        samples = []
        began = time.perf_counter()
        for n in range(100, 100 + args.leads):
            start = time.perf_counter_ns()
            one(n)
            samples.append((time.perf_counter_ns() - start) / 1e6)
        elapsed = time.perf_counter() - began
        with CaptureQueriesContext(connection) as queries:
            for n in range(10**6, 10**6 + 200):
                one(n)
        # the same leads as web intake in bulk: routed together per transaction of
        # --together leads

        def together(start: int, count: int) -> None:
            with transaction.atomic(), lead_services.created_together(by=None):
                for n in range(start, start + count):
                    create(n, "bulk")

        size = args.together
        began = time.perf_counter()
        batch_ms = []
        for start in range(2 * 10**6, 2 * 10**6 + args.leads, size):
            t0 = time.perf_counter_ns()
            together(start, min(size, 2 * 10**6 + args.leads - start))
            batch_ms.append((time.perf_counter_ns() - t0) / 1e6)
        elapsed_together = time.perf_counter() - began
        with CaptureQueriesContext(connection) as batch_queries:
            together(3 * 10**6, size)
    bulk = Lead.objects.for_workspace(workspace).filter(source_detail="bulk")
    routed = bulk.filter(owner__isnull=False).count()
    emit(db=db, step="create+route together", leads=args.leads, batch=size,
         leads_per_s=round(args.leads / elapsed_together, 1),
         batch_p50_ms=percentile(batch_ms, 0.5), batch_p95_ms=percentile(batch_ms, 0.95),
         queries_per_lead=round(len(batch_queries) / size, 2),
         assigned_share=round(routed / (args.leads + size), 3))  # fmt: skip
    owned = (
        Lead.objects.for_workspace(workspace)
        .filter(owner__isnull=False)
        .filter(source_detail="one")
        .count()
    )
    emit(db=db, step="create+route", leads=args.leads,
         leads_per_s=round(args.leads / elapsed, 1), p50_ms=percentile(samples, 0.5),
         p95_ms=percentile(samples, 0.95), queries_per_lead=round(len(queries) / 200, 2),
         assigned_share=round(owned / (args.leads + 300), 3),
         cache_seconds=os.environ.get("GUANXI_LEAD_RULES_CACHE_SECONDS", "0"))  # fmt: skip
    emit(db=db, step="routing only (receivers)", p50_ms=percentile(routing_ms, 0.5),
         p95_ms=percentile(routing_ms, 0.95),
         mean_ms=round(sum(routing_ms) / len(routing_ms), 3))  # fmt: skip
    from guanxi.sales.lead_routing import services

    start = time.perf_counter()
    result = services.rescore_leads(workspace=workspace)
    emit(db=db, step="rescore", **result, seconds=round(time.perf_counter() - start, 2))
    start = time.perf_counter()
    import datetime as dt

    from django.utils import timezone

    result = services.escalate_overdue_leads(now=timezone.now() + dt.timedelta(days=30),
                                             workspace=workspace, limit=1000)  # fmt: skip
    emit(db=db, step="sla sweep (1,000 overdue)", **result,
         seconds=round(time.perf_counter() - start, 2))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--teams", type=int, default=50)
    parser.add_argument("--assignment-rules", type=int, default=50)
    parser.add_argument("--scoring-rules", type=int, default=30)
    parser.add_argument("--existing", type=int, default=20_000,
                        help="leads in the workspace before the run (most of them worked)")  # fmt: skip
    parser.add_argument("--together", type=int, default=500,
                        help="leads per transaction when created and routed together")  # fmt: skip
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    with tempfile.TemporaryDirectory() as home:
        os.environ.setdefault("GUANXI_HOME", home)
        url = os.environ.get("GUANXI_DATABASE_URL", "")
        if not url.startswith("postgres"):
            os.environ["GUANXI_DATABASE_URL"] = f"sqlite:///{home}/bench.sqlite3"
        run(args, "postgresql" if url.startswith("postgres") else "sqlite")


if __name__ == "__main__":
    main()

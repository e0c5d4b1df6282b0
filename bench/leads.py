"""Web-to-lead figures: public form posts end to end (middleware, endpoint, validation,
normalization, the lead saved and announced) through Django's test client.

    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/leads_bench python bench/leads.py
    python bench/leads.py --leads 2000                 # SQLite in a temp folder

It runs with the development settings, where routing asks for every lead whether the rules
changed; ``GUANXI_LEAD_RULES_CACHE_SECONDS=5`` in the environment routes as the production
settings do.

Builds the workspace of ``bench/lead_routing.py`` (``--users`` users in 50 teams, 50
assignment rules, 30 scoring rules, three follow-up policies, ``--existing`` earlier leads —
routed, most of them worked —, statistics gathered; with ``--no-rules``, the ``guanxi
generate`` sales force of five teams, no rules and no earlier leads), opens its web form,
then posts ``--leads`` submissions
(JSON and form-encoded alternately, from many client addresses; with ``--workers N``, N
processes post at once, as N web server workers would) with the rate limits
raised for the run. Prints one JSON object per line: leads/s, p50/p95 ms, and the queries
one submission costs. The database named in GUANXI_DATABASE_URL is migrated and kept; each
run makes a workspace of its own in it.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path


def emit(**figures) -> None:
    print(json.dumps(figures, ensure_ascii=False), flush=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


FAMILY = "王李张刘陈杨黄赵吴周"
GIVEN = ("芳", "伟", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军")
PRODUCTS = ("光纤", "交换机", "云服务", "安防", "")


def submission(index: int) -> dict:
    from lead_routing import CITIES, PROVINCES, TITLES

    return {
        "name": FAMILY[index % 10] + GIVEN[(index // 10) % 10],
        "company": f"星河科技{index % 997}",
        "title": TITLES[index % len(TITLES)],
        "region": PROVINCES[index % len(PROVINCES)],
        "phone": f"139{index:08d}",
        "email": f"visitor{index}@example.cn" if index % 2 else "",
        "city": CITIES[index % len(CITIES)],
        "product_interest": PRODUCTS[index % len(PRODUCTS)],
        "message": "请联系我，了解报价。",
        "consent": True,
        "source_detail": "官网-联系我们",
    }


def run(
    db: str, *, leads: int, users: int, workers: int, rules: bool, existing: int = 0,
    profile: str = "",
) -> None:  # fmt: skip
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings.dev")
    os.environ["GUANXI_DEBUG"] = "false"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from guanxi.customers.generate import sales_force
    from guanxi.platform import services
    from guanxi.platform.models import Membership, Team
    from guanxi.sales import web_to_lead
    from guanxi.sales.models import Lead

    call_command("migrate", verbosity=0)
    # the bench measures throughput, not the flood protection
    settings.GUANXI_WEB_TO_LEAD_PER_IP = (10**9, 60)
    settings.GUANXI_WEB_TO_LEAD_PER_WORKSPACE = (10**9, 60)

    slug = f"leadbench-{uuid.uuid4().hex[:8]}"
    start = time.perf_counter()
    if rules:
        from lead_routing import build

        workspace = build(
            slug, users, teams=50, assignment_rules=50, scoring_rules=30, existing=existing
        )
        admin = Membership.objects.for_workspace(workspace).get(user__username=f"{slug}-admin")
    else:
        workspace = services.create_workspace(slug=slug, name="线索基准")
        admin = services.add_member(
            workspace=workspace,
            user=services.create_user(username=f"{slug}.admin"),
            role=workspace_role(workspace, "administrator"),
        )
        sales_force(workspace, users)
    web_to_lead.update_form_settings(
        membership=admin, expected_version=None, is_enabled=True, require_consent=True,
        consent_text="我同意贵公司就产品信息与我联系。", redirect_hosts="www.example.cn",
    )  # fmt: skip
    before = Lead.objects.for_workspace(workspace).count()
    emit(bench="leads_setup", db=db, users=Membership.objects.for_workspace(workspace).count(),
         existing_leads=before,
         teams=Team.objects.for_workspace(workspace).count(),
         seconds=round(time.perf_counter() - start, 2))  # fmt: skip

    url = f"/api/v1/web-to-lead/{slug}"
    # one client (one handler: the middleware is built once, as in a server process), many
    # visitors' addresses
    client = Client(HTTP_HOST="127.0.0.1")

    def post(index: int):
        data = submission(index)
        address = f"198.51.{index % 1000 // 250}.{index % 250 + 1}"
        if index % 2:
            return client.post(url, json.dumps(data), content_type="application/json",
                               REMOTE_ADDR=address)  # fmt: skip
        data["consent"] = "on"
        return client.post(url, data, REMOTE_ADDR=address)

    for index in range(50):  # warm up: imports, caches, prepared plans
        assert post(10**7 + index).status_code == 201
    with CaptureQueriesContext(connection) as queries:
        post(10**7 + 99)
    per_lead = len(queries)

    connection.close()  # each worker process opens its own
    warmed_up = timezone.now()
    began = time.perf_counter()
    if profile:
        import cProfile
        import pstats

        with cProfile.Profile() as profiler:
            samples = post_range(post, range(leads))
        profiler.dump_stats(profile)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
    elif workers == 1:
        samples = post_range(post, range(leads))
    else:
        import multiprocessing

        chunks = [range(w, leads, workers) for w in range(workers)]
        with multiprocessing.get_context("fork").Pool(workers) as pool:
            parts = pool.starmap(worker_post, [(url, chunk) for chunk in chunks])
        samples = [sample for part in parts for sample in part]
    elapsed = time.perf_counter() - began
    stored = Lead.objects.for_workspace(workspace).count()
    assert stored == leads + 51 + before, stored  # every accepted submission is a lead
    assigned = (
        Lead.objects.for_workspace(workspace)
        .filter(owner__isnull=False, created_at__gte=warmed_up)
        .count()
    )
    emit(bench="web_to_lead", db=db, leads=leads, users=users, workers=workers, rules=rules,
         existing_leads=before, assigned_share=round(assigned / leads, 3),
         seconds=round(elapsed, 2), leads_per_s=round(leads / elapsed, 1),
         p50_ms=percentile(samples, 0.5), p95_ms=percentile(samples, 0.95),
         p99_ms=percentile(samples, 0.99), queries_per_lead=per_lead)  # fmt: skip


def post_range(post, indexes) -> list[float]:
    samples = []
    for index in indexes:
        tick = time.perf_counter_ns()
        response = post(index)
        samples.append((time.perf_counter_ns() - tick) / 1e6)
        if response.status_code != 201:
            raise SystemExit(f"submission {index}: {response.status_code} {response.content!r}")
    return samples


def worker_post(url: str, indexes) -> list[float]:
    """One of ``--workers`` processes, like one web server worker: its own connection."""
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR=f"203.0.113.{os.getpid() % 250 + 1}")

    def post(index: int):
        return client.post(url, json.dumps(submission(index)), content_type="application/json")

    return post_range(post, indexes)


def workspace_role(workspace, key: str):
    from guanxi.platform.models import Role

    return Role.objects.for_workspace(workspace).get(key=key)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leads", type=int, default=10_000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=1, help="processes posting at once")
    parser.add_argument("--existing", type=int, default=20_000,
                        help="leads in the workspace before the run (with the rules only)")  # fmt: skip
    parser.add_argument("--no-rules", dest="rules", action="store_false",
                        help="five teams and no routing rules")  # fmt: skip
    parser.add_argument("--profile", metavar="FILE", default="",
                        help="one process under cProfile; stats to FILE, the top to stderr")  # fmt: skip
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    url = os.environ.get("GUANXI_DATABASE_URL", "")
    if url.startswith("postgres"):
        run("postgresql", leads=args.leads, users=args.users, workers=args.workers,
            rules=args.rules, existing=args.existing, profile=args.profile)  # fmt: skip
        return
    with tempfile.TemporaryDirectory() as home:
        os.environ["GUANXI_HOME"] = home
        os.environ["GUANXI_DATABASE_URL"] = f"sqlite:///{home}/bench.sqlite3"
        run("sqlite", leads=args.leads, users=args.users, workers=args.workers, rules=args.rules,
            existing=args.existing, profile=args.profile)  # fmt: skip


if __name__ == "__main__":
    main()

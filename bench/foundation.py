"""Foundation figures: in-process authenticated API requests and `guanxi demo --no-serve`.

    python bench/foundation.py                       # SQLite in a temp folder
    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/test python bench/foundation.py

Prints one JSON object per line. Uses a throwaway database (a temp SQLite file, or a new
PostgreSQL database next to the one in GUANXI_DATABASE_URL, dropped at the end).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit


def emit(**figures) -> None:
    print(json.dumps(figures, ensure_ascii=False), flush=True)


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 3)


@contextmanager
def throwaway_database():
    base = os.environ.get("GUANXI_DATABASE_URL", "")
    if not base.startswith("postgres"):
        with tempfile.TemporaryDirectory() as home:
            os.environ["GUANXI_DATABASE_URL"] = f"sqlite:///{home}/bench.sqlite3"
            yield "sqlite"
        return
    import psycopg

    name = f"guanxi_bench_{uuid.uuid4().hex[:8]}"
    parts = urlsplit(base)
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["GUANXI_DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
    try:
        yield "postgresql"
    finally:
        from django.db import connections

        connections.close_all()
        with psycopg.connect(admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def build_data(users: int):
    from guanxi.platform import services
    from guanxi.platform.models import Role

    workspace = services.create_workspace(slug="bench", name="Bench 基准")
    roles = {r.key: r for r in Role.objects.for_workspace(workspace)}
    teams = [services.create_team(workspace=workspace, name=f"Team {i}") for i in range(5)]
    managers = []
    for index, team in enumerate(teams):
        user = services.create_user(username=f"manager{index}")
        managers.append(
            services.add_member(
                workspace=workspace, user=user, role=roles["sales_manager"], team=team
            )
        )
    reps = []
    for index in range(users):
        team_index = index % len(teams)
        user = services.create_user(username=f"rep{index}", last_name="张", first_name=str(index))
        reps.append(
            services.add_member(
                workspace=workspace,
                user=user,
                role=roles["sales_rep"],
                team=teams[team_index],
                manager=managers[team_index],
            )
        )
    return managers, reps


def timed(client, path: str, headers: dict, requests: int) -> tuple[list[float], int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for _ in range(50):
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


def api_figures(db: str, *, requests: int, users: int) -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings.dev"
    os.environ["GUANXI_DEBUG"] = "false"
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client

    from guanxi.platform import services

    call_command("migrate", verbosity=0)
    managers, reps = build_data(users)
    client = Client(HTTP_HOST="127.0.0.1")

    _, rep_token = services.create_api_token(membership=reps[0], name="bench")
    samples, queries = timed(
        client, "/api/v1/me", {"Authorization": f"Bearer {rep_token}"}, requests
    )
    emit(bench="api_me", db=db, requests=requests, p50_ms=percentile(samples, 0.5),
         p95_ms=percentile(samples, 0.95), p99_ms=percentile(samples, 0.99), queries=queries)  # fmt: skip

    _, manager_token = services.create_api_token(membership=managers[0], name="bench")
    headers = {"Authorization": f"Bearer {manager_token}"}
    path = f"/api/v1/users/{reps[5].public_id}"
    samples, queries = timed(client, path, headers, requests)
    emit(bench="api_user_detail", db=db, requests=requests, p50_ms=percentile(samples, 0.5),
         p95_ms=percentile(samples, 0.95), p99_ms=percentile(samples, 0.99), queries=queries)  # fmt: skip

    samples, queries = timed(client, "/api/v1/users?limit=50", headers, max(100, requests // 10))
    cursor, pages = None, 0
    while True:
        url = "/api/v1/users?limit=50" + (f"&cursor={cursor}" if cursor else "")
        body = client.get(url, headers=headers).json()
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    last_samples, _ = timed(client, url, headers, max(100, requests // 10))
    emit(bench="api_users_list", db=db, users=users + len(managers), pages=pages,
         p50_ms=percentile(samples, 0.5), p95_ms=percentile(samples, 0.95),
         last_page_p95_ms=percentile(last_samples, 0.95), queries=queries)  # fmt: skip


def demo_figure() -> None:
    with tempfile.TemporaryDirectory() as home:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("GUANXI_", "DJANGO_"))}
        env["GUANXI_HOME"] = home
        start = time.perf_counter()
        result = subprocess.run(
            [sys.executable, "-m", "guanxi", "demo", "--no-serve"],
            env=env,
            capture_output=True,
            text=True,
        )
        seconds = round(time.perf_counter() - start, 2)
        if result.returncode != 0 or "password:" not in result.stdout:
            print(result.stdout, result.stderr, file=sys.stderr)
            raise SystemExit("guanxi demo --no-serve failed")
        emit(bench="demo_no_serve", db="sqlite", seconds=seconds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--users", type=int, default=200)
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    with tempfile.TemporaryDirectory() as home:
        os.environ["GUANXI_HOME"] = home
        with throwaway_database() as db:
            api_figures(db, requests=args.requests, users=args.users)
    demo_figure()


if __name__ == "__main__":
    main()

"""Customer-master figures at scale: customer 360, search, filtered and sorted contact lists.

On data loaded by `guanxi generate` (1M customers / 20M interactions for the published
figures):

    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gen \\
        python -m guanxi generate --customers 1000000 --interactions 20000000 --heavy 50000
    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gen python bench/customer_master.py

or on a throwaway database it fills first (`--generate CUSTOMERS:INTERACTIONS`; SQLite when
GUANXI_DATABASE_URL is unset):

    python bench/customer_master.py --generate 1000000:2000000

Prints one JSON object per line: p50/p95 ms and the queries of one request.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from foundation import emit, percentile, throwaway_database


def measure(name, call, samples, *, db, **extra):
    """Time ``call(sample)`` for every sample (after a warm-up pass) and count its queries."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    for sample in samples[: max(5, len(samples) // 10)]:
        call(sample)
    timings = []
    for sample in samples:
        start = time.perf_counter_ns()
        call(sample)
        timings.append((time.perf_counter_ns() - start) / 1e6)
    with CaptureQueriesContext(connection) as queries:
        call(samples[0])
    emit(bench=name, db=db, n=len(timings), p50_ms=percentile(timings, 0.5),
         p95_ms=percentile(timings, 0.95), max_ms=round(max(timings), 3),
         queries=len(queries), **extra)  # fmt: skip


def run(db: str, *, workspace_slug: str, requests: int, seed: int, only: str = "") -> None:
    from django.test import Client

    from guanxi.customers.models import Contact, ContactPoint
    from guanxi.platform import services
    from guanxi.platform.context import acting_in
    from guanxi.platform.models import Membership, Role, Workspace
    from guanxi.timeline.models import Interaction

    rng = random.Random(seed)
    workspace = Workspace.objects.get(slug=workspace_slug)
    admin_role = Role.objects.for_workspace(workspace).get(key="administrator")
    admin = Membership.objects.for_workspace(workspace).filter(role=admin_role).first()
    if admin is None:
        user = services.create_user(username=f"{workspace_slug}.bench-admin")
        admin = services.add_member(workspace=workspace, user=user, role=admin_role)
    rep = (
        Membership.objects.for_workspace(workspace)
        .filter(role__key="sales_rep")
        .select_related("user")
        .order_by("pk")
        .first()
    )
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {}
    for who, membership in (("admin", admin), ("rep", rep)):
        _, token = services.create_api_token(membership=membership, name="bench")
        headers[who] = {"Authorization": f"Bearer {token}"}

    def get(who, path, params=None):
        response = client.get("/api/v1" + path, params or {}, headers=headers[who])
        assert response.status_code == 200, (path, response.status_code, response.content[:300])
        return response.json()

    with acting_in(workspace):
        total_contacts = Contact.objects.count()
        max_pk = Contact.objects.order_by("-pk").values_list("pk", flat=True).first()
        min_pk = Contact.objects.order_by("pk").values_list("pk", flat=True).first()
        sample_pks = [rng.randint(min_pk, max_pk) for _ in range(requests * 3)]
        contacts = list(
            Contact.objects.filter(pk__in=sample_pks).values_list(
                "pk", "public_id", "display_name", "owner_id"
            )[:requests]
        )
        mine = list(
            Contact.objects.filter(owner_id=rep.user_id)
            .order_by("?" if total_contacts < 50_000 else "pk")
            .values_list("public_id", flat=True)[:requests]
        )
        heaviest = Interaction.objects.filter(contact_id=min_pk).count()
        points = {
            kind: list(
                ContactPoint.objects.filter(
                    kind=kind, contact_id__in=[c[0] for c in contacts]
                ).values_list("value", flat=True)
            )
            for kind in ("phone", "email")
        }
    emit(bench="dataset", db=db, contacts=total_contacts, first_contact_interactions=heaviest)

    sections = set(only.split(",")) if only else {"360", "search", "list", "web"}

    # --- customer 360 -------------------------------------------------------------------------
    ids = [c[1] for c in contacts]
    heavy_id = Contact.objects.for_workspace(workspace).get(pk=min_pk).public_id
    if "360" in sections:
        _customer_360(get, ids, heavy_id, mine, db=db, requests=requests, heaviest=heaviest)
    if "search" in sections:
        _search(get, contacts, points, db=db, requests=requests)
    if "list" in sections:
        _lists(get, db=db, requests=requests)
    if "web" in sections:
        _web(admin, rep, ids, heavy_id, mine, contacts, db=db, requests=requests)


def _web(admin, rep, ids, heavy_id, mine, contacts, *, db, requests):
    """Server time of the web pages (HTML), signed in with a session."""
    import re
    from urllib.parse import unquote

    from django.test import Client

    from guanxi.customers.normalize import _pinyin, has_han

    clients = {}
    for who, membership in (("admin", admin), ("rep", rep)):
        clients[who] = Client(HTTP_HOST="127.0.0.1")
        clients[who].force_login(membership.user)
    sizes = {}

    def page(who, path, **headers):
        response = clients[who].get(path, headers=headers)
        assert response.status_code == 200, (path, response.status_code)
        sizes[path.split("?")[0].count("/")] = len(response.content)
        return response.content.decode()

    for who in ("admin", "rep"):
        cursors, cursor = [None], None
        for _ in range(min(requests, 100)):
            html = page(who, "/contacts/" + (f"?cursor={cursor}" if cursor else ""))
            found = re.search(r"cursor=([^\"&]+)", html)
            if not found:
                break
            cursor = unquote(found.group(1))
            cursors.append(found.group(1))
        measure("web_contact_list_first_page", lambda _, who=who: page(who, "/contacts/"),
                [None] * min(requests, 100), db=db, user=who)  # fmt: skip
        measure("web_contact_list_any_page",
                lambda c, who=who: page(who, "/contacts/" + (f"?cursor={c}" if c else "")),
                cursors, db=db, user=who, pages=len(cursors))  # fmt: skip
    measure("web_record_page", lambda i: page("admin", f"/contacts/{i}/"), ids, db=db)
    measure("web_record_page_rep", lambda i: page("rep", f"/contacts/{i}/"), mine, db=db)
    html = page("admin", f"/contacts/{heavy_id}/")
    measure("web_record_page_long_timeline", lambda i: page("admin", f"/contacts/{i}/"),
            [heavy_id] * requests, db=db, html_bytes=len(html.encode()))  # fmt: skip
    names = [c[2] for c in contacts]
    typed = []
    for name in names:
        if has_han(name):
            syllables = _pinyin(name, personal=True)
            typed += [name[:1], name, "".join(s[0] for s in syllables), "".join(syllables)[:4]]
        else:
            typed += [name[:3], name]
    typed = (typed * (requests // max(1, len(typed)) + 1))[:requests]
    for who in ("admin", "rep"):
        measure("web_search_as_you_type",
                lambda q, who=who: page(who, f"/search/?q={q}", HX_Request="true"),
                typed, db=db, user=who)  # fmt: skip


def _customer_360(get, ids, heavy_id, mine, *, db, requests, heaviest):
    measure("contact_360_api", lambda i: get("admin", f"/contacts/{i}/360"), ids, db=db,
            user="admin")  # fmt: skip
    measure("contact_360_api_long_timeline", lambda i: get("admin", f"/contacts/{i}/360"),
            [heavy_id] * requests, db=db, interactions=heaviest)  # fmt: skip
    measure("contact_360_api_rep", lambda i: get("rep", f"/contacts/{i}/360"), mine, db=db,
            user="rep")  # fmt: skip
    measure("contact_timeline_page_long", lambda i: get("admin", f"/contacts/{i}/timeline"),
            [heavy_id] * requests, db=db)  # fmt: skip


def _search(get, contacts, points, *, db, requests):
    from guanxi.customers.normalize import _pinyin, has_han

    names = [c[2] for c in contacts]
    han = [n for n in names if has_han(n)]
    queries = {
        "han_name": han,
        "pinyin_full": ["".join(_pinyin(n, personal=True)) for n in han],
        "pinyin_initials": ["".join(s[0] for s in _pinyin(n, personal=True)) for n in han],
        "latin_name": [n for n in names if not has_han(n)],
        "phone_last4": [p[-4:] for p in points["phone"]],
        "phone_last6": [p[-6:] for p in points["phone"]],
        "phone_full": points["phone"],
        "email": points["email"],
    }
    for kind, qs in queries.items():
        if not qs:
            continue
        qs = (qs * (requests // len(qs) + 1))[:requests]
        for who in ("admin", "rep"):
            measure(f"search_{kind}", lambda q, who=who: get(who, "/search", {"q": q}), qs,
                    db=db, user=who)  # fmt: skip


def _lists(get, *, db, requests):
    for who in ("admin", "rep"):
        for label, params in (
            ("by_name", {"sort": "name", "limit": 50}),
            ("recent", {"sort": "-updated_at", "limit": 50}),
            ("stage_by_name", {"lifecycle_stage": "customer", "sort": "name", "limit": 50}),
        ):
            cursors, cursor = [None], None
            for _ in range(min(requests, 200)):
                page = get(who, "/contacts", {**params, **({"cursor": cursor} if cursor else {})})
                cursor = page["next_cursor"]
                if cursor is None:
                    break
                cursors.append(cursor)

            def page(c, who=who, params=params):
                return get(who, "/contacts", {**params, **({"cursor": c} if c else {})})

            measure(f"contact_list_{label}", page, cursors, db=db, user=who,
                    pages=len(cursors))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", default="scale")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--generate", help="CUSTOMERS:INTERACTIONS into a throwaway database")
    parser.add_argument("--only", default="", help="Comma-separated: 360, search, list, web.")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
    os.environ["DJANGO_SETTINGS_MODULE"] = "guanxi.settings.dev"
    os.environ["GUANXI_DEBUG"] = "false"
    if not args.generate:
        os.environ.setdefault("GUANXI_HOME", tempfile.mkdtemp())
        import django

        django.setup()
        from django.db import connection

        run(connection.vendor, workspace_slug=args.workspace, requests=args.requests,
            seed=args.seed, only=args.only)  # fmt: skip
        return
    customers, interactions = (int(n) for n in args.generate.split(":"))
    with tempfile.TemporaryDirectory() as home:
        os.environ["GUANXI_HOME"] = home
        with throwaway_database() as db:
            import django

            django.setup()
            from django.core.management import call_command

            call_command("migrate", verbosity=0)
            call_command("generate", customers=customers, interactions=interactions,
                         heavy=min(interactions, 50_000), workspace=args.workspace)  # fmt: skip
            run(db, workspace_slug=args.workspace, requests=args.requests, seed=args.seed,
                only=args.only)  # fmt: skip


if __name__ == "__main__":
    main()

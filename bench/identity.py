"""Real-time duplicate matching at scale: POST /api/v1/contacts/match and
POST /api/v1/accounts/match against the customers of a workspace loaded by `guanxi generate`.

    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gen python bench/identity.py

Each question is asked about a customer that exists: the same phone in another format, the
name in pinyin with the company, the name alone (common names have hundreds of namesakes),
a name with a typo plus the company or the city (when the data has addresses); for accounts,
the name written in the other script (pinyin, or traditional characters), the legal name,
and the phone. Prints one JSON object per line: p50/p95 ms, the queries of one request,
``found_share`` (an answer had candidates) and ``target_share`` (the customer asked about
was among them).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings.dev")
os.environ.setdefault("GUANXI_DEBUG", "false")

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from foundation import percentile  # noqa: E402

from guanxi.customers import normalize  # noqa: E402
from guanxi.customers.models import (  # noqa: E402
    Account,
    AccountContact,
    Address,
    Contact,
    ContactPoint,
)
from guanxi.platform import services  # noqa: E402
from guanxi.platform.models import Membership, Role, Workspace  # noqa: E402

Question = tuple[dict, str]  # (request body, public id of the customer asked about)


def _typo(name: str) -> str:
    return name[:-1] + ("x" if name[-1:].isascii() else "玮")


def _local(value: str) -> str:
    local = value[3:] if value.startswith("+86") else value
    return f"{local[:3]} {local[3:7]} {local[7:]}"


def contact_questions(workspace: Workspace, n: int, seed: int) -> dict[str, list[Question]]:
    rnd = random.Random(seed)
    contacts_of = Contact.objects.for_workspace(workspace)
    top = contacts_of.order_by("-id").values_list("id", flat=True)[0]
    bottom = contacts_of.order_by("id").values_list("id", flat=True)[0]
    ids = rnd.sample(range(bottom, top + 1), min(n * 3, top - bottom + 1))
    contacts = {c.pk: c for c in contacts_of.filter(pk__in=ids)}
    phones = dict(ContactPoint.objects.for_workspace(workspace)
                  .filter(contact_id__in=contacts, kind="phone").values_list("contact_id", "value"))  # fmt: skip
    companies = dict(AccountContact.objects.for_workspace(workspace)
                     .filter(contact_id__in=contacts).values_list("contact_id", "account__name"))  # fmt: skip
    cities = dict(Address.objects.for_workspace(workspace)
                  .filter(contact_id__in=contacts).exclude(city="").values_list("contact_id", "city"))  # fmt: skip
    kinds = ("phone", "pinyin_and_company", "name_only", "typo_and_company", "typo_and_city")
    result: dict[str, list[Question]] = {kind: [] for kind in kinds}

    def ask(kind: str, body: dict, contact: Contact) -> None:
        if len(result[kind]) < n:
            result[kind].append((body, contact.public_id))

    for pk, contact in contacts.items():
        name = contact.display_name
        if pk in phones:
            ask("phone", {"full_name": name, "phone": _local(phones[pk])}, contact)
        if pk in companies:
            pinyin = " ".join(normalize._pinyin(name, personal=True))
            ask("pinyin_and_company", {"full_name": pinyin, "company": companies[pk]}, contact)
            ask("typo_and_company", {"full_name": _typo(name), "company": companies[pk]}, contact)
        ask("name_only", {"full_name": name}, contact)
        if pk in cities:
            ask("typo_and_city", {"full_name": _typo(name), "city": cities[pk]}, contact)
    return result


def account_questions(workspace: Workspace, n: int, seed: int) -> dict[str, list[Question]]:
    rnd = random.Random(seed + 1)
    accounts_of = Account.objects.for_workspace(workspace)
    top = accounts_of.order_by("-id").values_list("id", flat=True)[0]
    bottom = accounts_of.order_by("id").values_list("id", flat=True)[0]
    ids = rnd.sample(range(bottom, top + 1), min(n * 20, top - bottom + 1))
    accounts = {a.pk: a for a in accounts_of.filter(pk__in=ids)}
    phones = dict(ContactPoint.objects.for_workspace(workspace)
                  .filter(account_id__in=accounts, kind="phone").values_list("account_id", "value"))  # fmt: skip
    result: dict[str, list[Question]] = {"account_other_script": [], "account_legal_name": [],
                                         "account_phone": []}  # fmt: skip
    for pk, account in accounts.items():
        if normalize.has_han(account.name):
            other = normalize.to_traditional(account.name, by_character=True)
            if other == account.name:
                other = " ".join(normalize._pinyin(account.name))
        else:
            other = account.name.upper()
        if len(result["account_other_script"]) < n:
            result["account_other_script"].append(({"name": other}, account.public_id))
        if account.legal_name and len(result["account_legal_name"]) < n:
            body = {"name": normalize.to_simplified(account.legal_name, by_character=True)}
            result["account_legal_name"].append((body, account.public_id))
        if pk in phones and len(result["account_phone"]) < n:
            result["account_phone"].append(({"phone": _local(phones[pk])}, account.public_id))
    return result


def bench_member(workspace: Workspace) -> Membership:
    """An administrator of the workspace (one is added when the generator made none)."""
    member = Membership.objects.for_workspace(workspace).filter(role__key="administrator").first()
    if member is None:
        role = Role.objects.for_workspace(workspace).get(key="administrator")
        member = services.create_member(
            workspace=workspace, username=f"bench-admin-{workspace.slug}", role=role
        )
    return member


def run(client: Client, headers: dict, path: str, kind: str, questions: list[Question],
        count: int) -> None:  # fmt: skip
    if not questions:
        return
    for body, _target in questions[:5]:  # warm-up
        client.post(path, body, content_type="application/json", headers=headers)
    samples, in_sql, found, hit = [], [], 0, 0
    spent = [0]

    def timed(execute, sql, params, many, context):
        tick = time.perf_counter_ns()
        try:
            return execute(sql, params, many, context)
        finally:
            spent[0] += time.perf_counter_ns() - tick

    for body, target in questions:
        spent[0] = 0
        start = time.perf_counter_ns()
        with connection.execute_wrapper(timed):
            response = client.post(path, body, content_type="application/json", headers=headers)
        samples.append((time.perf_counter_ns() - start) / 1e6)
        in_sql.append(spent[0] / 1e6)
        candidates = response.json()["candidates"]
        found += bool(candidates)
        hit += any(c["id"] == target for c in candidates)
    with CaptureQueriesContext(connection) as queries:
        client.post(path, questions[0][0], content_type="application/json", headers=headers)
    print(json.dumps({
        "bench": f"match_{kind}", "db": connection.vendor, "customers": count,
        "n": len(samples), "p50_ms": round(percentile(samples, 0.5), 1),
        "p95_ms": round(percentile(samples, 0.95), 1),
        "sql_p50_ms": round(percentile(in_sql, 0.5), 1),
        "sql_p95_ms": round(percentile(in_sql, 0.95), 1), "found_share": round(found / len(samples), 3),
        "target_share": round(hit / len(samples), 3), "queries": len(queries),
    }), flush=True)  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", default="scale")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    parser.add_argument("--only", default="", help="Comma-separated question kinds to ask.")
    parser.add_argument("--profile", metavar="FILE", default="",
                        help="run under cProfile; stats to FILE, the top to stderr")  # fmt: skip
    args = parser.parse_args()
    if args.profile:
        import cProfile
        import pstats

        with cProfile.Profile() as profiler:
            ask(args)
        profiler.dump_stats(args.profile)
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("tottime").print_stats(30)
        return
    ask(args)


def ask(args: argparse.Namespace) -> None:
    workspace = Workspace.objects.get(slug=args.workspace)
    _token, secret = services.create_api_token(membership=bench_member(workspace),
                                               name="bench identity")  # fmt: skip
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"Authorization": f"Bearer {secret}"}
    only = {kind for kind in args.only.split(",") if kind}
    contacts = Contact.objects.for_workspace(workspace).count()
    for kind, questions in contact_questions(workspace, args.requests, args.seed).items():
        if not only or kind in only:
            run(client, headers, "/api/v1/contacts/match", kind, questions, contacts)
    accounts = Account.objects.for_workspace(workspace).count()
    for kind, questions in account_questions(workspace, args.requests, args.seed).items():
        if not only or kind in only:
            run(client, headers, "/api/v1/accounts/match", kind, questions, accounts)


if __name__ == "__main__":
    main()

"""Real-time duplicate matching at scale: POST /api/v1/contacts/match against the contacts of
a workspace loaded by `guanxi generate`.

    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gen python bench/identity.py

Three kinds of question, each asked about contacts that exist: the same phone in another
format, the same name in pinyin with the company, and a name with a typo plus the city.
Prints one JSON object per line: p50/p95 ms and the queries of one request.
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
from guanxi.customers.models import AccountContact, Address, Contact, ContactPoint  # noqa: E402
from guanxi.platform import services  # noqa: E402
from guanxi.platform.models import Membership, Workspace  # noqa: E402


def questions(workspace: Workspace, n: int, seed: int) -> dict[str, list[dict]]:
    rnd = random.Random(seed)
    top = Contact.objects.for_workspace(workspace).order_by("-id").values_list("id", flat=True)[0]
    ids = rnd.sample(range(1, top), n * 3)
    contacts = {c.pk: c for c in Contact.objects.for_workspace(workspace).filter(pk__in=ids)}
    phones = dict(ContactPoint.objects.for_workspace(workspace)
                  .filter(contact_id__in=contacts, kind="phone").values_list("contact_id", "value"))  # fmt: skip
    companies = dict(AccountContact.objects.for_workspace(workspace)
                     .filter(contact_id__in=contacts).values_list("contact_id", "account__name"))  # fmt: skip
    cities = dict(Address.objects.for_workspace(workspace)
                  .filter(contact_id__in=contacts).values_list("contact_id", "city"))  # fmt: skip
    result: dict[str, list[dict]] = {"phone": [], "pinyin_and_company": [], "typo_and_city": []}
    for pk, contact in contacts.items():
        if pk in phones and len(result["phone"]) < n:
            value = phones[pk]
            local = value[3:] if value.startswith("+86") else value
            result["phone"].append({"full_name": contact.display_name,
                                    "phone": f"{local[:3]} {local[3:7]} {local[7:]}"})  # fmt: skip
        if pk in companies and len(result["pinyin_and_company"]) < n:
            pinyin = " ".join(normalize._pinyin(contact.display_name, personal=True))
            result["pinyin_and_company"].append({"full_name": pinyin, "company": companies[pk]})
        if pk in cities and len(result["typo_and_city"]) < n:
            name = contact.display_name
            typo = name[:-1] + ("x" if name[-1:].isascii() else "玮")
            result["typo_and_city"].append({"full_name": typo, "city": cities[pk]})
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--workspace", default="scale")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    workspace = Workspace.objects.get(slug=args.workspace)
    admin = Membership.objects.for_workspace(workspace).filter(role__key="administrator").first()
    _token, secret = services.create_api_token(membership=admin, name="bench identity")
    client = Client(HTTP_HOST="127.0.0.1")
    headers = {"Authorization": f"Bearer {secret}"}
    count = Contact.objects.for_workspace(workspace).count()
    for kind, bodies in questions(workspace, args.requests, args.seed).items():
        for body in bodies[:5]:  # warm-up
            client.post(
                "/api/v1/contacts/match", body, content_type="application/json", headers=headers
            )
        samples, found = [], 0
        for body in bodies:
            start = time.perf_counter_ns()
            response = client.post("/api/v1/contacts/match", body, content_type="application/json",
                                   headers=headers)  # fmt: skip
            samples.append((time.perf_counter_ns() - start) / 1e6)
            found += bool(response.json()["candidates"])
        with CaptureQueriesContext(connection) as queries:
            client.post("/api/v1/contacts/match", bodies[0], content_type="application/json",
                        headers=headers)  # fmt: skip
        print(json.dumps({
            "bench": f"match_{kind}", "db": connection.vendor, "contacts": count, "n": len(samples),
            "p50_ms": round(percentile(samples, 0.5), 1), "p95_ms": round(percentile(samples, 0.95), 1),
            "found_share": round(found / len(samples), 3), "queries": len(queries),
        }), flush=True)  # fmt: skip


if __name__ == "__main__":
    main()

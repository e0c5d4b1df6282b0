"""Batch duplicate detection at scale: time and peak memory of `guanxi dedupe` on a whole
workspace, and how many planted duplicates it finds.

Plants N duplicates first (``--plant``): copies of random contacts written as another
person would enter them — the Han name in pinyin, or in traditional characters, or with a
letter swapped in a Latin name — with the same phone in another format (the original's
number is marked shared, as a family or switchboard number would be) and the same company.
Each copy's external id names its original, so the clusters can be checked. Then runs the
scan in a child process, as a user would:

    GUANXI_DATABASE_URL=postgres://postgres@127.0.0.1:5432/gen \\
        python bench/dedupe.py --workspace scale --plant 2000

Prints one JSON object per line.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "guanxi.settings.dev")
os.environ.setdefault("GUANXI_DEBUG", "false")
django.setup()

from guanxi.customers import normalize, services  # noqa: E402
from guanxi.customers.models import AccountContact, Contact, ContactPoint  # noqa: E402
from guanxi.platform.context import acting_in  # noqa: E402
from guanxi.platform.models import Membership, Workspace  # noqa: E402

PLANTED = "twin:"


def other_format(e164: str, rng: random.Random) -> str:
    if e164.startswith("+86") and len(e164) == 14:
        n = e164[3:]
        return rng.choice(
            [f"+86 {n[:3]} {n[3:7]} {n[7:]}", f"{n[:3]}-{n[3:7]}-{n[7:]}", f"0086{n}"]
        )
    if e164.startswith("+1") and len(e164) == 12:
        n = e164[2:]
        return f"+1 ({n[:3]}) {n[3:6]}-{n[6:]}"
    return e164


def variant_name(contact: Contact, rng: random.Random) -> tuple[str, str]:
    family, given = contact.family_name, contact.given_name
    if normalize.has_han(family + given):
        if rng.random() < 0.5:
            pinyin_family = "".join(normalize._pinyin(family, personal=True)).capitalize()
            return pinyin_family, "".join(normalize._pinyin(given)).capitalize()
        return normalize.to_traditional(family, by_character=True), normalize.to_traditional(
            given, by_character=True
        )
    if len(given) > 3 and rng.random() < 0.5:
        i = rng.randrange(1, len(given) - 2)
        given = given[:i] + given[i + 1] + given[i] + given[i + 2 :]
    return family, given


def plant(workspace: Workspace, membership: Membership, count: int, seed: int) -> int:
    rng = random.Random(seed)
    contacts = Contact.objects.for_workspace(workspace)
    if contacts.filter(external_id__startswith=PLANTED).exists():
        return contacts.filter(external_id__startswith=PLANTED).count()
    ids = list(contacts.values_list("pk", flat=True))
    chosen = rng.sample(ids, count)
    made = 0
    for pk in chosen:
        original = contacts.get(pk=pk)
        phone = (
            ContactPoint.objects.for_workspace(workspace)
            .filter(contact=original, kind="phone")
            .order_by("-is_primary", "pk")
            .first()
        )
        if phone is None:
            continue
        ContactPoint.objects.filter(pk=phone.pk).update(is_shared=True)
        link = AccountContact.objects.for_workspace(workspace).filter(contact=original).first()
        family, given = variant_name(original, rng)
        point = services.ContactPointInput(
            kind="phone", value=other_format(phone.value, rng), is_shared=True
        )
        services.create_contact(
            workspace=workspace, by=membership.user, family_name=family, given_name=given,
            account=link.account if link else None, contact_points=[point],
            external_id=f"{PLANTED}{original.public_id}",
        )  # fmt: skip
        made += 1
    return made


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workspace", default="scale")
    parser.add_argument("--plant", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=3)
    args = parser.parse_args()
    workspace = Workspace.objects.get(slug=args.workspace)
    membership = (
        Membership.objects.for_workspace(workspace)
        .filter(role__key="administrator")
        .select_related("user", "workspace")
        .order_by("pk")
        .first()
    )
    started = time.monotonic()
    with acting_in(workspace, membership):
        planted = plant(workspace, membership, args.plant, args.seed)
    print(json.dumps({"planted": planted, "seconds": round(time.monotonic() - started, 1)}))
    output = Path(tempfile.mkdtemp()) / "clusters.csv"
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "guanxi", "dedupe", "--workspace", args.workspace,
         "--output", str(output)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    seconds = time.monotonic() - started
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss // 1024
    sys.stderr.write(result.stderr[-3000:])
    if result.returncode != 0:
        raise SystemExit(result.returncode)
    counts = json.loads(result.stdout.strip().splitlines()[-1])
    with output.open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    cluster_of = {row["contact_id"]: row["cluster_id"] for row in rows}
    twins = Contact.objects.for_workspace(workspace).filter(external_id__startswith=PLANTED)
    found = 0
    for public_id, external_id in twins.values_list("public_id", "external_id"):
        original = external_id[len(PLANTED) :]
        if public_id in cluster_of and cluster_of.get(original) == cluster_of[public_id]:
            found += 1
    print(json.dumps({
        "contacts": counts["contacts"], "seconds": round(seconds, 1), "peak_rss_mb": peak,
        "pairs": counts["pairs"], "clusters": counts["clusters"], "planted": planted,
        "planted_found": found, "recall_planted": round(found / planted, 4) if planted else None,
        "contacts_in_clusters": len(rows), "phases_s": counts.get("seconds"),
    }))  # fmt: skip


if __name__ == "__main__":
    main()

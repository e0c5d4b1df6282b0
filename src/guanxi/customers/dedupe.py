"""Batch duplicate detection: a probabilistic record-linkage model over a whole workspace.

The model is Fellegi–Sunter as Splink implements it, run on DuckDB in the process (the same
settings run on Spark for data that outgrows one machine: Splink generates the SQL for
either). It is trained without labels on the workspace's own contacts — the chance that two
random records are one person from deterministic rules, the u-probabilities (how often
fields agree by chance) from random pairs, the m-probabilities (how often they agree for
one person) by expectation–maximisation — and then scores every pair that shares a
blocking key: a phone, an e-mail, a name with a company, city or birthday.

Names are compared as letters: Han names by their pinyin (traditional characters first
made simplified), Latin names casefolded without accents, so 张伟, 張偉 and Zhang Wei agree;
either order is recognised ("Wei Zhang" typed into the wrong boxes).

``score_frames`` is the model on any table with the standard columns (it is how the FEBRL
benchmark is run); ``scan`` extracts a workspace's contacts, scores them, proposes pairs
above the workspace's review threshold as ``DuplicatePair`` rows for the review queue, and
merges pairs that share an identifier above the auto-merge threshold, when one is set.
"""

from __future__ import annotations

import logging
import re
import time
import unicodedata
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from guanxi.customers import normalize
from guanxi.customers.models import (
    AccountContact,
    Address,
    Contact,
    ContactPoint,
    DedupeRun,
    DuplicatePair,
    IdentitySettings,
)
from guanxi.platform.ids import new_public_id

logger = logging.getLogger(__name__)

# The standard columns of a table to score; a comparison joins the model only when its
# column has values. ``unique_id`` identifies a row; ``source_dataset`` tells two tables
# apart when linking them.
NAME_COLUMNS = ("family", "given")
COLUMNS = (
    "family", "given", "birthday", "phone", "email", "company", "city", "street",
    "postcode", "region", "id_number",
)  # fmt: skip
# What reviewers read: the field a comparison looks at.
FIELD_LABELS = {
    "name": lambda: _("name"), "birthday": lambda: _("birthday"), "phone": lambda: _("phone"),
    "email": lambda: _("e-mail"), "company": lambda: _("company"), "city": lambda: _("city"),
    "street": lambda: _("street"), "postcode": lambda: _("postcode"),
    "region": lambda: _("province/state"), "id_number": lambda: _("ID number"),
}  # fmt: skip
IDENTIFIERS = ("phone", "email")
BATCH = 5_000


# --- features -------------------------------------------------------------------------------
_LETTERS = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=200_000)
def name_key(text: str, *, family: bool = False) -> str:
    """A name part as comparable letters: pinyin for Han (a surname read as a surname),
    casefolded Latin without accents or punctuation otherwise."""
    text = (text or "").strip()
    if not text:
        return ""
    if normalize.has_han(text):
        syllables = normalize._pinyin(text.replace(" ", ""), personal=family)
        return "".join(syllables)
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _LETTERS.sub("", plain)


@lru_cache(maxsize=100_000)
def text_key(text: str) -> str:
    """Company, city, street: simplified, casefolded, spaces collapsed."""
    text = (text or "").strip()
    if not text:
        return ""
    if normalize.has_han(text):
        text = normalize.to_simplified(text, by_character=True)
    return " ".join(text.casefold().split())


def digits(text: str) -> str:
    return "".join(ch for ch in str(text or "") if ch.isdigit())


# --- the model ------------------------------------------------------------------------------
def _present(frames: list[Any]) -> set[str]:
    return {
        column
        for column in COLUMNS
        if any(column in f.columns and f[column].notna().any() for f in frames)
    }


def _comparisons(present: set[str]) -> list[Any]:
    import splink.comparison_library as cl

    comparisons = []
    if set(NAME_COLUMNS) <= present:
        comparisons.append(
            cl.ForenameSurnameComparison(
                "given", "family", jaro_winkler_thresholds=[0.92, 0.8],
                forename_surname_concat_col_name="full_name",
            ).configure(term_frequency_adjustments=True)
        )  # fmt: skip
    if "birthday" in present:
        comparisons.append(
            cl.DateOfBirthComparison(
                "birthday", input_is_string=True,  # ISO dates, in every dialect
                datetime_thresholds=[1, 1, 10], datetime_metrics=["month", "year", "year"],
            )
        )  # fmt: skip
    if "phone" in present:
        comparisons.append(cl.LevenshteinAtThresholds("phone", [1, 2]))
    if "email" in present:
        comparisons.append(cl.EmailComparison("email"))
    if "company" in present:
        comparisons.append(cl.JaroWinklerAtThresholds("company", [0.95, 0.85]))
    if "city" in present:
        comparisons.append(cl.ExactMatch("city").configure(term_frequency_adjustments=True))
    if "street" in present:
        comparisons.append(cl.JaroWinklerAtThresholds("street", [0.95, 0.8]))
    if "postcode" in present:
        comparisons.append(cl.LevenshteinAtThresholds("postcode", [1, 2]))
    if "region" in present:
        comparisons.append(cl.ExactMatch("region"))
    if "id_number" in present:
        comparisons.append(cl.LevenshteinAtThresholds("id_number", [1, 2]))
    return comparisons


# Pairs are scored when they share one of these keys; a rule joins when its columns have
# values. A name alone is no key at scale (张伟 is thousands of people): it comes with a
# company, a city, a birthday or a postcode.
BLOCKING = (
    ("phone",), ("email",), ("id_number",),
    ("family", "given", "birthday"), ("family", "given", "company"),
    ("family", "given", "city"), ("family", "given", "postcode"),
    ("family", "birthday"), ("given", "birthday"),
    ("given", "company"), ("family", "company"),
    ("postcode", "street"),
)  # fmt: skip
DETERMINISTIC = (("phone",), ("email",), ("id_number",), ("family", "given", "birthday"))
# Expectation-maximisation sessions, from the purest block down: within a shared phone or
# e-mail nearly every pair is one person, so the model learns what such pairs look like; a
# name with a company is left out — at scale it pairs up namesakes who work at one of many
# companies of the same name, which teaches the model that matches differ in everything.
# Two sessions between them learn every comparison; what none learns keeps its prior.
EM_BLOCKS = (("phone",), ("email",), ("id_number",), ("family", "given", "birthday"))
EM_SESSIONS = 2


def _rules(keys: Iterable[tuple[str, ...]], present: set[str]) -> list[Any]:
    from splink import block_on

    return [block_on(*key) for key in keys if set(key) <= present]


@dataclass
class Scored:
    pairs: (
        Any  # DataFrame: unique_id_l, unique_id_r, [source_dataset_l/r,] match_probability, gamma_*
    )
    clusters: Any | None  # DataFrame: unique_id, cluster_id (dedupe only)
    model: dict[str, Any]
    seconds: dict[str, float]


def score_frames(
    frames: list[Any], *, threshold: float, link: bool = False, seed: int = 1,
    max_u_pairs: float = 2e6, cluster: bool = True, db_api: Any = None,
) -> Scored:  # fmt: skip
    """Train the model on ``frames`` (pandas, the standard columns plus ``unique_id``) and
    score the pairs sharing a blocking key at or above ``threshold``. One frame: duplicates
    within it; two with ``link``: records of one that are records of the other.
    ``db_api`` runs the model elsewhere than in an in-process DuckDB — Splink's
    ``SparkAPI(spark_session=…)`` for data beyond one machine."""
    from splink import DuckDBAPI, Linker, SettingsCreator

    times: dict[str, float] = {}
    started = time.monotonic()
    present = _present(frames)
    if set(NAME_COLUMNS) <= present:
        for frame in frames:  # the whole name, for how common it is (term frequencies)
            frame["full_name"] = frame["family"].fillna("") + " " + frame["given"].fillna("")
    settings = SettingsCreator(
        link_type="link_only" if link else "dedupe_only",
        comparisons=_comparisons(present),
        blocking_rules_to_generate_predictions=_rules(BLOCKING, present),
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=True,
    )
    api = db_api if db_api is not None else DuckDBAPI()
    tables = [
        api.register(frame, dataset_display_name=f"records_{i}") for i, frame in enumerate(frames)
    ]
    linker = Linker(tables if link else tables[0], settings, log_level=logging.ERROR)
    deterministic = _rules(DETERMINISTIC, present)
    linker.training.estimate_probability_two_random_records_match(deterministic, recall=0.8)
    records = sum(len(frame) for frame in frames)
    if not linker._settings_obj._probability_two_random_records_match:
        # no two records share an identifier (yet): assume about one record in a hundred has
        # a duplicate rather than none — with none, no pair could ever score above zero
        linker._settings_obj._probability_two_random_records_match = 0.02 / max(records, 2)
    linker.training.estimate_u_using_random_sampling(max_pairs=max_u_pairs, seed=seed)
    linker = _with_unseen_u(linker, tables if link else tables[0], 0.5 / max_u_pairs)
    # each session fixes the comparisons its block agrees on and learns the others; two
    # sessions between them must cover every comparison
    # each session fixes the comparisons its block agrees on and learns the others; a
    # session that cannot learn (too few pairs in a small workspace) is left out, the model
    # as it was before it restored (a failed session leaves its block's comparisons out)
    learnt = 0
    for rule in _rules(EM_BLOCKS, present):
        before = linker.misc.save_model_to_json()
        try:
            linker.training.estimate_parameters_using_expectation_maximisation(rule)
        except Exception as exc:  # Splink raises plain exceptions here
            logger.info("EM on %s left out: %s", rule, exc)
            linker = Linker(tables if link else tables[0], before, log_level=logging.ERROR)
            continue
        learnt += 1
        if learnt == EM_SESSIONS:
            break
    times["train"] = round(time.monotonic() - started, 1)
    started = time.monotonic()
    predictions = linker.inference.predict(threshold_match_probability=threshold)
    pairs = predictions.as_pandas_dataframe()
    times["predict"] = round(time.monotonic() - started, 1)
    clusters = None
    if cluster and not link:
        started = time.monotonic()
        clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
            predictions, threshold_match_probability=threshold
        )
        clusters = clustered.as_pandas_dataframe()[["unique_id", "cluster_id"]]
        times["cluster"] = round(time.monotonic() - started, 1)
    model = linker.misc.save_model_to_json()
    return Scored(pairs=pairs, clusters=clusters, model=model, seconds=times)


def _with_unseen_u(linker: Any, tables: Any, rare: float) -> Any:
    """Agreement levels never seen among the random pairs (two records sharing a phone, in
    a million) are rarer than one in the sample: give them that u instead of none."""
    from splink import Linker

    model = linker.misc.save_model_to_json()
    changed = False
    for comparison in model["comparisons"]:
        for level in comparison["comparison_levels"]:
            if level.get("is_null_level") or level.get("u_probability") is not None:
                continue
            level["u_probability"] = rare
            changed = True
    return Linker(tables, model, log_level=logging.ERROR) if changed else linker


def evidence(row: Any, tops: dict[str, int]) -> list[dict[str, str]]:
    """What a scored pair agreed and disagreed on, language-neutral: [{"field", "level"}],
    level one of same / similar / different (fields empty on either side are left out).
    ``tops``: each comparison's strongest level (see ``_agreement_levels``)."""
    result = []
    for column, top in tops.items():
        gamma = row.get(f"gamma_{column}")
        if gamma is None or gamma < 0:
            continue
        field = "name" if column in ("given_family", "family_given", "full_name") else column
        if gamma == 0:
            level = "different"
        elif gamma >= top:
            level = "same"
        else:
            level = "similar"
        result.append({"field": field, "level": level})
    return result


def describe_evidence(items: list[dict[str, str]]) -> list[str]:
    """The evidence in the reader's language: "same phone", "similar name"…"""
    words = {"same": _("same %(field)s"), "similar": _("similar %(field)s"),
             "different": _("different %(field)s")}  # fmt: skip
    result = []
    for item in items:
        field = item["field"]
        label = FIELD_LABELS[field]() if field in FIELD_LABELS else field
        result.append(words.get(item["level"], "%(field)s") % {"field": label})
    return result


def _agreement_levels(pairs: Any, model: dict[str, Any]) -> dict[str, int]:
    """Comparison -> its strongest level (gamma), for the comparisons the pairs carry."""
    tops = {}
    for comparison in model.get("comparisons", []):
        name = comparison["output_column_name"]
        levels = [lvl for lvl in comparison["comparison_levels"] if not lvl.get("is_null_level")]
        # levels run from the strongest agreement down to "else" (gamma 0)
        if f"gamma_{name}" in pairs.columns:
            tops[name] = len(levels) - 1
    return tops


# --- a workspace's contacts -----------------------------------------------------------------
def extract(workspace_id: int) -> Any:
    """The workspace's live contacts as a frame of the standard columns: names as letters,
    the primary (else first) phone and e-mail, first company, first address."""
    import pandas as pd

    contacts = Contact.objects.for_workspace(workspace_id).order_by("pk")
    rows = contacts.values_list("pk", "family_name", "given_name", "birthday").iterator(
        chunk_size=BATCH
    )
    index: dict[int, int] = {}
    ids, family, given, birthday = [], [], [], []
    for pk, fam, giv, born in rows:
        index[pk] = len(ids)
        ids.append(pk)
        family.append(name_key(fam, family=True) or None)
        given.append(name_key(giv) or None)
        birthday.append(born.isoformat() if born else None)
    size = len(ids)
    phone: list[str | None] = [None] * size
    email: list[str | None] = [None] * size
    points = (
        ContactPoint.objects.for_workspace(workspace_id)
        .filter(kind__in=IDENTIFIERS, contact__isnull=False)
        .order_by("contact_id", "-is_primary", "pk")
        .values_list("contact_id", "kind", "match_key")
    )
    for contact_id, kind, key in points.iterator(chunk_size=BATCH):
        at = index.get(contact_id)
        if at is None:
            continue
        column = phone if kind == "phone" else email
        if column[at] is None:
            column[at] = key
    company: list[str | None] = [None] * size
    links = (
        AccountContact.objects.for_workspace(workspace_id)
        .filter(account__deleted_at__isnull=True)
        .order_by("contact_id", "-is_primary", "pk")
        .values_list("contact_id", "account__name")
    )
    for contact_id, name in links.iterator(chunk_size=BATCH):
        at = index.get(contact_id)
        if at is not None and company[at] is None:
            company[at] = text_key(name) or None
    city: list[str | None] = [None] * size
    street: list[str | None] = [None] * size
    postcode: list[str | None] = [None] * size
    region: list[str | None] = [None] * size
    addresses = (
        Address.objects.for_workspace(workspace_id)
        .filter(contact__isnull=False)
        .order_by("contact_id", "-is_primary", "pk")
        .values_list("contact_id", "city", "street", "postcode", "region")
    )
    for contact_id, town, road, code, province in addresses.iterator(chunk_size=BATCH):
        at = index.get(contact_id)
        if at is None or city[at] is not None or street[at] is not None:
            continue
        city[at], street[at] = text_key(town) or None, text_key(road) or None
        postcode[at], region[at] = (code or "").strip() or None, text_key(province) or None
    columns = {"unique_id": ids, "family": family, "given": given, "birthday": birthday,
               "phone": phone, "email": email, "company": company, "city": city,
               "street": street, "postcode": postcode, "region": region}  # fmt: skip
    return pd.DataFrame(columns)


def identity_settings(workspace_id: int) -> IdentitySettings:
    found = IdentitySettings.objects.for_workspace(workspace_id).first()
    return found or IdentitySettings(workspace_id=workspace_id)


def start_run(*, membership: Any, threshold: float | None = None) -> DedupeRun:
    """A new scan, queued: needs "add" on scans. ``threshold`` overrides the workspace's
    review threshold for this scan."""
    from guanxi.platform.errors import Forbidden
    from guanxi.platform.visibility import may_add

    if not may_add(membership, DedupeRun.object_type):
        raise Forbidden(action="add", object_type=DedupeRun.object_type)
    rules = identity_settings(membership.workspace_id)
    run = DedupeRun(
        workspace_id=membership.workspace_id,
        threshold=rules.review_threshold if threshold is None else threshold,
        created_by=membership.user, updated_by=membership.user,
    )  # fmt: skip
    run.save()
    return run


Progress = Callable[[str], None]


def scan(run: DedupeRun, *, progress: Progress | None = None, db_api: Any = None) -> dict[str, Any]:
    """Score the workspace's contacts and store what the run proposes (see module doc);
    ``db_api`` as for ``score_frames``."""
    say = progress or (lambda message: None)
    DedupeRun.objects.for_workspace(run.workspace_id).filter(pk=run.pk).update(status=DedupeRun.Status.RUNNING,
                                               started_at=timezone.now())  # fmt: skip
    try:
        counts = _scan(run, say, db_api)
    except Exception as exc:
        DedupeRun.objects.for_workspace(run.workspace_id).filter(pk=run.pk).update(
            status=DedupeRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}",
            finished_at=timezone.now(),
        )  # fmt: skip
        raise
    return counts


def _scan(run: DedupeRun, say: Progress, db_api: Any) -> dict[str, Any]:
    started = time.monotonic()
    frame = extract(run.workspace_id)
    seconds = {"extract": round(time.monotonic() - started, 1)}
    say(f"{len(frame)} contacts read in {seconds['extract']} s")
    counts: dict[str, Any] = {"contacts": len(frame), "pairs": 0, "clusters": 0, "merged": 0}
    if len(frame) < 2:
        _finish(run, counts, {}, seconds)
        return counts
    scored = score_frames([frame], threshold=run.threshold, db_api=db_api)
    seconds.update(scored.seconds)
    say(f"{len(scored.pairs)} pairs at or above {run.threshold} "
        f"(trained in {scored.seconds['train']} s, scored in {scored.seconds['predict']} s)")  # fmt: skip
    started = time.monotonic()
    counts.update(_store(run, frame, scored))
    seconds["store"] = round(time.monotonic() - started, 1)
    _finish(run, counts, scored.model, seconds)
    return counts


def _finish(run: DedupeRun, counts: dict, model: dict, seconds: dict) -> None:
    counts["seconds"] = seconds
    DedupeRun.objects.for_workspace(run.workspace_id).filter(pk=run.pk).update(
        status=DedupeRun.Status.DONE, counts=counts, model=model, finished_at=timezone.now()
    )
    run.refresh_from_db()


def _store(run: DedupeRun, frame: Any, scored: Scored) -> dict[str, int]:
    pairs = scored.pairs
    tops = _agreement_levels(pairs, scored.model)
    cluster_of: dict[int, str] = {}
    if scored.clusters is not None:
        cluster_of = dict(
            zip(scored.clusters["unique_id"].tolist(), scored.clusters["cluster_id"].tolist(),
                strict=True)
        )  # fmt: skip
    rejected = set(
        DuplicatePair.objects.for_workspace(run.workspace_id)
        .filter(status=DuplicatePair.Status.REJECTED)
        .values_list("contact_a_id", "contact_b_id")
    )
    phones = dict(zip(frame["unique_id"].tolist(), frame["phone"].tolist(), strict=True))
    emails = dict(zip(frame["unique_id"].tolist(), frame["email"].tolist(), strict=True))
    now = timezone.now()
    batch: list[DuplicatePair] = []
    written = 0
    clusters: set[str] = set()
    with transaction.atomic():
        # a new scan replaces what earlier scans proposed and nobody decided yet
        DuplicatePair.objects.for_workspace(run.workspace_id).filter(
            status=DuplicatePair.Status.PROPOSED
        ).exclude(run=run).delete()
        for row in pairs.to_dict("records"):
            a, b = sorted((int(row["unique_id_l"]), int(row["unique_id_r"])))
            if (a, b) in rejected:
                continue
            shared = ""
            if phones.get(a) and phones.get(a) == phones.get(b):
                shared = "phone"
            elif emails.get(a) and emails.get(a) == emails.get(b):
                shared = "email"
            cluster = str(cluster_of.get(a, a))
            clusters.add(cluster)
            batch.append(
                DuplicatePair(
                    workspace_id=run.workspace_id, run=run, public_id=new_public_id("dup"),
                    contact_a_id=a, contact_b_id=b, cluster=cluster,
                    score=round(float(row["match_probability"]), 6),
                    reasons=evidence(row, tops), identifier=shared,
                    created_at=now, updated_at=now, created_by=run.created_by,
                )
            )  # fmt: skip
            if len(batch) >= BATCH:
                DuplicatePair.objects.bulk_create(batch)
                written += len(batch)
                batch = []
        DuplicatePair.objects.bulk_create(batch)
        written += len(batch)
    merged = auto_merge(run)
    return {"pairs": written, "clusters": len(clusters), "merged": merged}


def auto_merge(run: DedupeRun) -> int:
    """Merge the pairs that share an identifier and score at or above the workspace's
    auto-merge threshold, as the person who started the scan (their rights apply)."""
    from guanxi.customers import merging
    from guanxi.platform.errors import GuanxiError
    from guanxi.platform.models import Membership

    rules = identity_settings(run.workspace_id)
    if rules.auto_merge_threshold is None or run.created_by_id is None:
        return 0
    membership = (
        Membership.objects.for_workspace(run.workspace_id)
        .select_related("user", "workspace", "role")
        .filter(user_id=run.created_by_id, is_active=True)
        .first()
    )
    if membership is None:
        return 0
    merged = 0
    candidates = (
        DuplicatePair.objects.for_workspace(run.workspace_id)
        .filter(run=run, status=DuplicatePair.Status.PROPOSED,
                                     score__gte=rules.auto_merge_threshold)
        .exclude(identifier="").order_by("-score", "pk")
    )  # fmt: skip
    for pair in candidates:
        live = Contact.objects.for_workspace(run.workspace_id).filter(
            pk__in=[pair.contact_a_id, pair.contact_b_id]
        )
        contacts = {c.pk: c for c in live}
        if len(contacts) < 2:  # one of them went in an earlier merge of this loop
            continue
        try:
            merge = merging.merge_contacts(
                membership=membership, survivor=contacts[pair.contact_a_id],
                merged=[contacts[pair.contact_b_id]],
            )  # fmt: skip
        except GuanxiError as exc:
            logger.info("auto-merge of %s skipped: %s", pair, exc)
            continue
        DuplicatePair.objects.for_workspace(run.workspace_id).filter(pk=pair.pk).update(
            status=DuplicatePair.Status.AUTO_MERGED, merge=merge, decided_at=timezone.now()
        )
        merged += 1
    return merged


def cluster_rows(run: DedupeRun) -> Iterable[tuple[str, str, str, float]]:
    """One row per contact in a proposed cluster: (contact public id, external id, cluster,
    best score of its pairs)."""
    best: dict[int, tuple[str, float]] = {}
    pairs = (
        DuplicatePair.objects.for_workspace(run.workspace_id)
        .filter(run=run)
        .values_list("contact_a_id", "contact_b_id", "cluster", "score")
    )
    for a, b, cluster, score in pairs.iterator(chunk_size=BATCH):
        for pk in (a, b):
            if pk not in best or best[pk][1] < score:
                best[pk] = (cluster, score)
    rows = []
    ids = sorted(best)
    for start in range(0, len(ids), BATCH):
        people = Contact._base_manager.filter(pk__in=ids[start : start + BATCH]).values_list(
            "pk", "public_id", "external_id"
        )
        for pk, public_id, external_id in people:
            cluster, score = best[pk]
            rows.append((cluster, pk, public_id, external_id, score))
    rows.sort()
    for cluster, _pk, public_id, external_id, score in rows:
        yield public_id, external_id, cluster, score


def spark_api(master: str) -> Any:
    """Splink's Spark backend on a Spark session at ``master`` (``local[2]``,
    ``spark://host:7077``…) with Splink's string-similarity functions loaded; needs pyspark
    (``pip install "guanxi[spark]"``) and Java."""
    import tempfile

    from pyspark.sql import SparkSession
    from splink.backends.spark import SparkAPI, similarity_jar_location

    session = (
        SparkSession.builder.master(master)
        .appName("guanxi-dedupe")
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", "8")
        .getOrCreate()
    )
    session.sparkContext.setCheckpointDir(tempfile.mkdtemp(prefix="guanxi-spark-"))
    return SparkAPI(spark_session=session)

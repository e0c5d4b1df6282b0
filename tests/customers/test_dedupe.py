"""Batch duplicate detection: accuracy on published and bilingual data, what a scan stores,
the review rules (rejected pairs stay rejected), auto-merge, the CLI contract."""

from __future__ import annotations

import csv
import json
import os
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command

from guanxi.customers import dedupe, testsets
from guanxi.customers.models import Contact, DedupeRun, DuplicatePair, IdentitySettings
from guanxi.platform.context import acting_in
from guanxi.platform.errors import Forbidden
from tests.customers.twins import make_twins
from tests.factories import make_member

DATA = Path(__file__).resolve().parent.parent / "data"
# The accuracy check loads 1,188 contacts through the services and scores them in DuckDB:
# the database only hands the contacts over, which the other scans here cover on both
# databases. It runs once, in the SQLite pass.
ACCURACY_ONCE = pytest.mark.skipif(
    bool(os.environ.get("GUANXI_DATABASE_URL")),
    reason="the model runs in DuckDB: its accuracy is measured in the SQLite pass",
)


def test_febrl4_linkage_f1_at_least_0995():
    """The published FEBRL 4 linkage task: 5,000 people in two files, one-to-one."""
    left = testsets.febrl_frame(DATA / "febrl" / "dataset4a.csv")
    right = testsets.febrl_frame(DATA / "febrl" / "dataset4b.csv")
    scored = dedupe.score_frames([left, right], threshold=0.9, link=True)
    found = {
        (testsets.febrl_person(a), testsets.febrl_person(b))
        for a, b in zip(scored.pairs["unique_id_l"], scored.pairs["unique_id_r"], strict=True)
    }
    truth = {(testsets.febrl_person(r), testsets.febrl_person(r)) for r in left["unique_id"]}
    result = testsets.scores(found, truth)
    assert result["f1"] >= 0.995, result
    assert result["precision"] >= 0.995, result


@pytest.fixture
def admin(workspace):
    return make_member(workspace=workspace, role_key="administrator", username="steward")


def _scan(membership, **kwargs):
    with acting_in(membership.workspace, membership):
        run = dedupe.start_run(membership=membership, **kwargs)
        dedupe.scan(run)
    run.refresh_from_db()
    return run


@ACCURACY_ONCE
def test_bilingual_set_precision_and_recall(workspace, admin, tmp_path):
    """Han / pinyin / traditional forms, phone formats, typos, swapped names; namesakes and
    colleagues as hard negatives. Scored as pairs within the proposed clusters."""
    rows = testsets.read_bilingual(DATA / "identity" / "bilingual.csv")
    truth = testsets.load_bilingual(workspace=workspace, by=admin.user, rows=rows)
    output = tmp_path / "clusters.csv"
    out = StringIO()
    call_command("dedupe", "--workspace", workspace.slug, "--output", str(output), stdout=out,
                 stderr=StringIO())  # fmt: skip
    counts = json.loads(out.getvalue().strip().splitlines()[-1])
    assert counts["contacts"] == len(rows)
    with output.open(encoding="utf-8") as handle:
        written = list(csv.DictReader(handle))
    assert list(written[0]) == ["contact_id", "external_id", "cluster_id", "score"]
    pk_of = dict(Contact.objects.for_workspace(workspace).values_list("public_id", "pk"))
    clusters = {pk_of[row["contact_id"]]: row["cluster_id"] for row in written}
    result = testsets.scores(testsets.cluster_pairs(clusters), testsets.true_pairs(truth))
    assert result["precision"] >= 0.99, result
    assert result["recall"] >= 0.95, result
    run = DedupeRun.objects.for_workspace(workspace).get(public_id=counts["run"])
    assert run.status == DedupeRun.Status.DONE and run.model["comparisons"]
    assert counts["clusters"] == len(set(clusters.values()))


@pytest.fixture
def twins(workspace, admin):
    return make_twins(workspace, admin.user)


def test_scan_proposes_pairs_with_evidence(workspace, admin, twins):
    run = _scan(admin)
    pairs = {
        (p.contact_a_id, p.contact_b_id): p for p in DuplicatePair.objects.for_workspace(workspace)
    }
    for person, twin in twins:
        pair = pairs[(person.pk, twin.pk)]
        assert pair.status == DuplicatePair.Status.PROPOSED and pair.score >= run.threshold
        assert pair.identifier == "phone"
        assert {"field": "phone", "level": "same"} in pair.reasons
        assert "same phone" in dedupe.describe_evidence(pair.reasons)
    assert run.counts["pairs"] == len(pairs) and run.counts["merged"] == 0


def test_rejected_pairs_stay_rejected_and_new_scans_replace_open_proposals(workspace, admin, twins):
    _scan(admin)
    first = DuplicatePair.objects.for_workspace(workspace).order_by("pk")
    rejected = first[0]
    DuplicatePair.objects.for_workspace(workspace).filter(pk=rejected.pk).update(
        status=DuplicatePair.Status.REJECTED
    )
    open_before = first.filter(status=DuplicatePair.Status.PROPOSED).count()
    second = _scan(admin)
    current = DuplicatePair.objects.for_workspace(workspace)
    assert current.filter(status=DuplicatePair.Status.PROPOSED).count() == open_before
    assert set(
        current.filter(status=DuplicatePair.Status.PROPOSED).values_list("run", flat=True)
    ) == {second.pk}
    again = current.filter(contact_a=rejected.contact_a, contact_b=rejected.contact_b)
    assert list(again.values_list("status", flat=True)) == [DuplicatePair.Status.REJECTED]


def test_auto_merge_only_identifier_pairs_above_the_threshold(workspace, admin, twins):
    IdentitySettings.objects.create(workspace=workspace, auto_merge_threshold=0.95)
    run = _scan(admin)
    merged = DuplicatePair.objects.for_workspace(workspace).filter(
        status=DuplicatePair.Status.AUTO_MERGED
    )
    assert run.counts["merged"] == merged.count() == len(twins)
    for pair in merged:
        assert pair.identifier and pair.score >= 0.95 and pair.merge is not None
    live = set(Contact.objects.for_workspace(workspace).values_list("pk", flat=True))
    for person, twin in twins:
        assert person.pk in live and twin.pk not in live


def test_no_auto_merge_without_a_threshold(workspace, admin, twins):
    run = _scan(admin)
    assert run.counts["merged"] == 0
    assert Contact.objects.for_workspace(workspace).count() == 50


def test_a_sales_rep_may_not_scan(workspace):
    rep = make_member(workspace=workspace, role_key="sales_rep")
    with pytest.raises(Forbidden):
        dedupe.start_run(membership=rep)


def test_cli_rejects_bad_arguments(workspace, admin):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="threshold"):
        call_command("dedupe", "--workspace", workspace.slug, "--threshold", "2")
    with pytest.raises(CommandError, match="unknown workspace"):
        call_command("dedupe", "--workspace", "nope")

"""The duplicates API: scans, the queue with its visibility rule, reject, merge (pair and
cluster) with undo putting pairs back, the rules."""

from __future__ import annotations

import pytest

from guanxi.customers.models import Contact, DuplicatePair
from tests.customers.twins import make_twins
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def twins(workspace, admin):
    return make_twins(workspace, admin.user)


def _scan(api, admin):
    response = api(admin).post("/duplicates/scans", {"wait": True})
    assert response.status_code == 201, response.content
    return response.json()


def test_scan_then_review_queue(api, admin, twins):
    scan = _scan(api, admin)
    assert scan["status"] == "done" and scan["counts"]["contacts"] == 50
    page = api(admin).get("/duplicates").json()
    ids = {(p["contact_a"]["id"], p["contact_b"]["id"]) for p in page["items"]}
    for original, twin in twins:
        assert (original.public_id, twin.public_id) in ids
    first = page["items"][0]
    assert first["scan_id"] == scan["id"] and "same phone" in first["reasons"]
    assert api(admin).get(f"/duplicates/scans/{scan['id']}").json()["status"] == "done"


def test_background_scan_answers_202(api, admin, twins):
    response = api(admin).post("/duplicates/scans", {})
    assert response.status_code == 202  # the test settings run tasks at once
    assert api(admin).get(f"/duplicates/scans/{response.json()['id']}").json()["status"] == "done"


def test_rep_neither_scans_nor_sees_the_queue(api, admin, rep, twins):
    _scan(api, admin)
    assert api(rep).post("/duplicates/scans", {"wait": True}).status_code == 403
    assert api(rep).get("/duplicates").json()["items"] == []


def test_a_pair_with_an_invisible_contact_is_not_shown(api, workspace, admin, team):
    """A sales manager sees everyone; a dealer user (team scope) only their team's."""
    dealer = make_member(workspace=workspace, role_key="dealer_user", team=team)
    make_twins(workspace, admin.user, twins=3)
    _scan(api, admin)
    assert len(api(admin).get("/duplicates").json()["items"]) >= 3
    # dealers have no right on the queue at all; and a manager sees every pair
    assert api(dealer).get("/duplicates").json()["items"] == []
    manager = make_member(workspace=workspace, role_key="sales_manager")
    assert len(api(manager).get("/duplicates").json()["items"]) >= 3


def test_reject_then_rescan_does_not_propose_again(api, admin, twins):
    _scan(api, admin)
    pair = api(admin).get("/duplicates").json()["items"][0]
    rejected = api(admin).post(f"/duplicates/{pair['id']}/reject")
    assert rejected.status_code == 200 and rejected.json()["status"] == "rejected"
    _scan(api, admin)
    again = api(admin).get("/duplicates").json()["items"]
    assert (pair["contact_a"]["id"], pair["contact_b"]["id"]) not in {
        (p["contact_a"]["id"], p["contact_b"]["id"]) for p in again
    }
    assert api(admin).post(f"/duplicates/{pair['id']}/reject").status_code == 404


def test_merge_a_pair_and_undo_puts_it_back(api, workspace, admin, twins):
    _scan(api, admin)
    original, twin = twins[0]
    pair = next(p for p in api(admin).get("/duplicates").json()["items"]
                if p["contact_a"]["id"] == original.public_id)  # fmt: skip
    merged = api(admin).post(f"/duplicates/{pair['id']}/merge",
                             {"survivor_id": twin.public_id,
                              "fields": {"family_name": original.public_id,
                                         "given_name": original.public_id}})  # fmt: skip
    assert merged.status_code == 201, merged.content
    body = merged.json()
    assert body["survivor_id"] == twin.public_id and body["merged_ids"] == [original.public_id]
    survivor = Contact.objects.for_workspace(workspace).get(pk=twin.pk)
    assert survivor.display_name == original.display_name
    record = DuplicatePair.objects.for_workspace(workspace).get(public_id=pair["id"])
    assert record.status == DuplicatePair.Status.MERGED and record.merge is not None
    assert api(admin).post(f"/merges/{body['id']}/undo").status_code == 200
    record.refresh_from_db()
    assert record.status == DuplicatePair.Status.PROPOSED and record.merge is None
    assert Contact.objects.for_workspace(workspace).filter(pk=original.pk).exists()


def test_merge_survivor_must_be_in_the_pair(api, admin, twins):
    _scan(api, admin)
    pair = api(admin).get("/duplicates").json()["items"][0]
    other = twins[5][0].public_id
    response = api(admin).post(f"/duplicates/{pair['id']}/merge", {"survivor_id": other})
    assert response.status_code == 422


def test_rules_are_validated_versioned_and_admin_only(api, admin, rep):
    rules = api(admin).get("/duplicates/rules").json()
    assert rules == {"review_threshold": 0.9, "auto_merge_threshold": None,
                     "trusted_sources": [], "version": 1}  # fmt: skip
    bad = api(admin).patch("/duplicates/rules", {"review_threshold": 0.95,
                                                "auto_merge_threshold": 0.9})  # fmt: skip
    assert bad.status_code == 422 and "auto_merge_threshold" in bad.content.decode()
    ok = api(admin).patch("/duplicates/rules", {"review_threshold": 0.92,
                                               "auto_merge_threshold": 0.99, "version": 1})  # fmt: skip
    assert ok.status_code == 200 and ok.json()["auto_merge_threshold"] == 0.99
    assert ok.json()["version"] == 2
    stale = api(admin).patch("/duplicates/rules", {"review_threshold": 0.9, "version": 1})
    assert stale.status_code == 409
    assert api(rep).patch("/duplicates/rules", {"review_threshold": 0.9}).status_code == 403
    assert api(rep).get("/duplicates/rules").status_code == 404

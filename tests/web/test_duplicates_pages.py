"""Duplicate pages: the review queue (query budget, who sees it), scanning from the page,
rejecting in place, merging side by side with chosen values, undoing, the rules section."""

from __future__ import annotations

import pytest

from guanxi.customers import dedupe
from guanxi.customers.models import Contact, DuplicatePair, IdentitySettings, Merge
from guanxi.platform.context import acting_in
from tests.customers.twins import make_twins
from tests.web.test_pages import browser

pytestmark = pytest.mark.django_db


@pytest.fixture
def scanned(workspace, admin):
    twins = make_twins(workspace, admin.user)
    with acting_in(workspace, admin):
        dedupe.scan(dedupe.start_run(membership=admin))
    return twins


def test_queue_shows_pairs_side_by_side_within_budget(admin, scanned,
                                                      django_assert_max_num_queries):  # fmt: skip
    client = browser(admin)
    with django_assert_max_num_queries(12):
        page = client.get("/duplicates/review/")
    html = page.content.decode()
    assert page.status_code == 200
    original, twin = scanned[0]
    assert original.display_name in html and twin.display_name in html
    assert "same phone" in html and "+8613812340000" in html
    assert "Last scan" in html and "Merge…" in html and "Not the same person" in html


def test_queue_pages_with_show_more(admin, workspace, scanned):
    client = browser(admin)
    page = client.get("/duplicates/review/").content.decode()
    total = DuplicatePair.objects.for_workspace(workspace).count()
    if total > 20:
        assert "Show more" in page


def test_rep_may_not_open_the_queue(rep, scanned):
    assert browser(rep).get("/duplicates/review/").status_code == 403


def test_scan_from_the_page(admin, workspace):
    make_twins(workspace, admin.user, twins=2)
    client = browser(admin)
    response = client.post("/duplicates/review/scan/")
    assert response.status_code == 302
    page = client.get("/duplicates/review/").content.decode()
    assert "Scan started" in page and "42 contacts" in page
    assert DuplicatePair.objects.for_workspace(workspace).count() >= 2


def test_reject_in_place(admin, workspace, scanned):
    pair = DuplicatePair.objects.for_workspace(workspace).order_by("-score").first()
    response = browser(admin).post(f"/duplicates/review/{pair.public_id}/reject/",
                                   headers={"HX-Request": "true"})  # fmt: skip
    assert "Marked as different people" in response.content.decode()
    pair.refresh_from_db()
    assert pair.status == DuplicatePair.Status.REJECTED


def test_merge_side_by_side_then_undo(admin, workspace, scanned):
    original, twin = scanned[0]
    client = browser(admin)
    form = client.get(f"/contacts/merge/?ids={original.public_id}&ids={twin.public_id}")
    html = form.content.decode()
    assert form.status_code == 200 and 'name="survivor"' in html
    assert f'name="field_family_name" value="{twin.public_id}"' in html
    response = client.post("/contacts/merge/", {
        "ids": [original.public_id, twin.public_id], "survivor": original.public_id,
        "field_given_name": twin.public_id,
    })  # fmt: skip
    merge = Merge.objects.for_workspace(workspace).get()
    assert response["Location"] == f"/merges/{merge.public_id}/"
    survivor = Contact.objects.for_workspace(workspace).get(pk=original.pk)
    assert survivor.given_name == twin.given_name and survivor.family_name == original.family_name
    assert not Contact.objects.for_workspace(workspace).filter(pk=twin.pk).exists()
    pair = DuplicatePair.objects.for_workspace(workspace).get(contact_a=original, contact_b=twin)
    assert pair.status == DuplicatePair.Status.MERGED
    detail = client.get(f"/merges/{merge.public_id}/").content.decode()
    assert "Undo this merge" in detail
    client.post(f"/merges/{merge.public_id}/undo/")
    assert Contact.objects.for_workspace(workspace).filter(pk=twin.pk).exists()
    pair.refresh_from_db()
    assert pair.status == DuplicatePair.Status.PROPOSED


def test_merge_needs_change_on_every_contact(rep, admin, workspace):
    a, b = make_twins(workspace, admin.user, twins=1)[0]
    client = browser(rep)  # may see them, may change only their own
    page = client.get(f"/contacts/merge/?ids={a.public_id}&ids={b.public_id}")
    html = page.content.decode()
    assert "You may not change all of these contacts" in html and "disabled" in html
    response = client.post("/contacts/merge/", {"ids": [a.public_id, b.public_id]})
    assert response.status_code == 403
    assert Contact.objects.for_workspace(workspace).filter(pk__in=[a.pk, b.pk]).count() == 2


def test_rules_section(admin, rep, workspace):
    client = browser(admin)
    assert "Duplicate rules" in client.get("/settings/duplicates/").content.decode()
    response = client.post("/settings/duplicates/", {"review_threshold": "0.95",
                                                      "auto_merge_threshold": "0.9",
                                                      "version": "1"})  # fmt: skip
    assert "cannot be below the threshold" in response.content.decode()
    client.post("/settings/duplicates/", {"review_threshold": "0.92",
                                          "auto_merge_threshold": "0.99",
                                          "trusted_sources": "erp\r\n\r\n import\n",
                                          "version": "1"})  # fmt: skip
    rules = IdentitySettings.objects.for_workspace(workspace).get()
    assert (rules.review_threshold, rules.auto_merge_threshold) == (0.92, 0.99)
    assert rules.trusted_sources == ["erp", "import"]
    assert "erp\nimport</textarea>" in client.get("/settings/duplicates/").content.decode()
    assert browser(rep).get("/settings/duplicates/").status_code == 403


def test_contact_list_links_to_the_queue(admin, rep):
    assert "/duplicates/review/" in browser(admin).get("/contacts/").content.decode()
    assert "/duplicates/review/" not in browser(rep).get("/contacts/").content.decode()

"""In Chromium: scanning for duplicates, rejecting a pair in place, merging side by side
with chosen values and taking the merge back; accessible, and usable on a phone in Chinese."""

from __future__ import annotations

import pytest

from guanxi.customers.models import Contact, DuplicatePair, Merge
from tests.browser.conftest import PASSWORD, axe_violations, horizontal_overflow, sign_in
from tests.browser.test_customer_pages import shot
from tests.customers.twins import make_twins
from tests.factories import make_member, make_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def manager():
    workspace = make_workspace(slug="acme", name="ACME 贸易", language="en")
    member = make_member(workspace=workspace, role_key="sales_manager", username="wang.fang")
    member.user.set_password(PASSWORD)
    member.user.save()
    twins = make_twins(workspace, member.user, owner=member.user, twins=4)
    return member, twins


def test_scan_reject_merge_and_undo(new_page, manager):
    member, twins = manager
    workspace = member.workspace
    page = new_page()
    sign_in(page, "wang.fang")
    page.goto("/contacts/")
    page.click("a[href='/duplicates/review/']")
    page.click("form[action='/duplicates/review/scan/'] button")
    page.locator("article.gx-dup").first.wait_for()
    assert page.locator("article.gx-dup").count() >= 4
    assert axe_violations(page) == []
    shot(page, "duplicates-review")
    # the least likely pair: not the same person, in place
    last = page.locator("article.gx-dup").last
    pair_id = last.get_attribute("id").removeprefix("pair-")
    last.locator("button", has_text="Not the same person").click()
    page.locator("[role=status]", has_text="Marked as different people").wait_for()
    assert (
        DuplicatePair.objects.for_workspace(workspace).get(public_id=pair_id).status == "rejected"
    )
    # merge the first pair: keep the Han record, take the pinyin record's given name
    original, twin = twins[0]
    page.click(f"a[href*='ids={original.public_id}'][href*='ids={twin.public_id}']")
    page.wait_for_url("**/contacts/merge/**")
    assert axe_violations(page) == []
    page.check(f"input[name=survivor][value={original.public_id}]")
    page.check(f"input[name=field_given_name][value={twin.public_id}]")
    shot(page, "duplicates-merge")
    page.click("form.gx-form button[type=submit]")
    page.wait_for_url("**/merges/mrg_*/")
    survivor = Contact.objects.for_workspace(workspace).get(pk=original.pk)
    assert survivor.given_name == twin.given_name
    assert not Contact.objects.for_workspace(workspace).filter(pk=twin.pk).exists()
    page.click("form[action$='/undo/'] button")
    page.locator(".gx-messages", has_text="Merge undone").wait_for()
    assert Contact.objects.for_workspace(workspace).filter(pk=twin.pk).exists()
    assert Merge.objects.for_workspace(workspace).get().undone_at is not None
    assert axe_violations(page) == []


def test_review_queue_fits_a_phone_in_chinese(new_page, manager):
    page = new_page(width=360, height=740, locale="zh-CN")
    sign_in(page, "wang.fang")
    page.goto("/duplicates/review/")
    page.click("form[action='/duplicates/review/scan/'] button")
    page.locator("article.gx-dup").first.wait_for()
    assert "重复" in page.locator("h1").inner_text()
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []

"""The customer pages in a real browser: sign in, search by pinyin initials, the record page,
logging a call, languages, visibility, phone width, accessibility."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from guanxi.customers import services as customers
from guanxi.customers.services import ContactPointInput
from tests.browser.conftest import PASSWORD, axe_violations, horizontal_overflow, sign_in
from tests.factories import make_member, make_team, make_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
SCREENSHOTS = os.environ.get("GUANXI_SCREENSHOTS")  # a folder to save page screenshots in


@pytest.fixture
def world():
    workspace = make_workspace(slug="acme", name="ACME 贸易", language="zh-hans")
    east, south = (
        make_team(workspace=workspace, name="华东"),
        make_team(workspace=workspace, name="华南"),
    )
    rep = make_member(workspace=workspace, role_key="sales_rep", team=east, username="li.na")
    other = make_member(workspace=workspace, role_key="sales_rep", team=south, username="chen.jie")
    for member in (rep, other):
        member.user.set_password(PASSWORD)
        member.user.save()
    account = customers.create_account(
        workspace=workspace, by=rep.user, name="上海远景贸易有限公司"
    )
    mine = customers.create_contact(
        workspace=workspace, by=rep.user, family_name="张", given_name="伟", account=account,
        contact_points=[
            ContactPointInput(kind="phone", value="138 0013 8000", consents={"marketing": "granted"}),
            ContactPointInput(kind="email", value="zhang.wei@yuanjing.cn"),
        ],
    )  # fmt: skip
    theirs = customers.create_contact(
        workspace=workspace, by=other.user, family_name="Wong", given_name="Mary"
    )
    return {"rep": rep, "mine": mine, "theirs": theirs, "account": account}


def shot(page, name):
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / f"{name}.png"), full_page=True)


def test_find_by_initials_log_a_call_and_see_it(new_page, world):
    page = new_page()
    sign_in(page, "li.na")
    page.fill("#gx-q", "zw")
    result = page.locator("#gx-search-results a", has_text="张伟")
    result.wait_for()
    shot(page, "search")
    result.click()
    page.wait_for_url(f"**/contacts/{world['mine'].public_id}/")
    assert page.locator("h1").inner_text() == "张伟"
    assert page.locator("a[href='tel:+8613800138000']").count() == 1
    assert page.locator("a[href='mailto:zhang.wei@yuanjing.cn']").count() == 1

    page.select_option("#gx-log-channel", "phone")
    page.fill("#gx-log-subject", "报价跟进 follow-up")
    page.click("#gx-log-form button[type=submit]")
    page.locator("#gx-timeline-list li", has_text="报价跟进 follow-up").wait_for()
    assert page.locator("[role=status]").count() == 1
    shot(page, "contact")


def test_lists_and_record_pages_are_accessible(new_page, world):
    page = new_page()
    sign_in(page, "li.na")
    for path in ("/", "/contacts/", "/accounts/", f"/contacts/{world['mine'].public_id}/",
                 f"/accounts/{world['account'].public_id}/", "/search/?q=zhang",
                 "/contacts/new/", f"/contacts/{world['mine'].public_id}/edit/",
                 "/password/change/", "/activities/", "/activities/week/"):  # fmt: skip
        page.goto(path)
        assert axe_violations(page) == [], path
    page.goto("/contacts/")
    shot(page, "contacts")


def test_signed_out_pages_are_accessible(new_page, world):
    page = new_page()
    for path in ("/login/", "/password/reset/"):
        page.goto(path)
        assert axe_violations(page) == [], path


def test_another_teams_contact_is_not_found(new_page, world):
    page = new_page()
    sign_in(page, "li.na")
    response = page.goto(f"/contacts/{world['theirs'].public_id}/")
    assert response.status == 404
    assert "Mary" not in page.content()
    assert page.locator("h1").inner_text() == "Not found"


def test_simplified_chinese_leaves_no_english_in_the_interface(new_page, world):
    page = new_page()
    sign_in(page, "li.na")
    with page.expect_navigation():
        page.select_option("#gx-language", "zh-hans")
    page.goto(f"/contacts/{world['mine'].public_id}/")
    text = page.locator("body").inner_text()
    # what may stay Latin: the brand, data (names, e-mail, usernames) and codes
    # (English is the language switcher's own name for English)
    allowed = {"Guanxi", "ACME", "zhang", "wei", "yuanjing", "English"}
    words = {w for w in re.findall(r"[A-Za-z]{3,}", text)} - allowed
    assert words == set(), words
    assert "联系方式" in text and "时间线" in text
    shot(page, "contact-zh-hans")


@pytest.mark.parametrize("path", ["/", "/contacts/", "contact"])
def test_phone_width_has_no_horizontal_scroll(new_page, world, path):
    page = new_page(width=360, height=740)
    sign_in(page, "li.na")
    page.goto(f"/contacts/{world['mine'].public_id}/" if path == "contact" else path)
    assert horizontal_overflow(page) <= 0
    if path == "contact":
        shot(page, "contact-phone")


def test_create_an_account_and_a_contact_with_a_chinese_name(new_page, world):
    page = new_page()
    sign_in(page, "li.na")
    page.goto("/accounts/")
    page.click("text=New account")
    page.fill("#id_name", "杭州西湖茶业有限公司")
    page.fill("#id_phone", "0571 8765 4321")
    page.click("button:has-text('Save')")
    page.wait_for_url("**/accounts/acc_*/")
    assert page.locator("h1").inner_text() == "杭州西湖茶业有限公司"
    assert page.locator("a[href='tel:+8657187654321']").count() == 1

    page.click("text=New contact")
    page.fill("#id_family_name", "陈")
    page.fill("#id_given_name", "静")
    page.fill("#id_phone", "12345")  # not a number: refused inline, input kept
    page.click("button:has-text('Save')")
    page.locator(".gx-invalid #id_phone").wait_for()  # the answer is a new page: wait for it
    assert page.input_value("#id_family_name") == "陈"
    page.fill("#id_phone", "139 0000 1234")
    page.click("button:has-text('Save')")
    page.wait_for_url("**/contacts/con_*/")
    assert page.locator("h1").inner_text() == "陈静"
    assert page.locator("a[href='tel:+8613900001234']").count() == 1  # stored normalized
    assert page.locator("text=杭州西湖茶业有限公司").count() >= 1
    page.fill("#gx-q", "cj")
    page.locator("#gx-search-results a", has_text="陈静").wait_for()


def test_edit_conflict_shows_what_changed_and_never_overwrites_silently(new_page, world):
    path = f"/contacts/{world['mine'].public_id}/edit/"
    first, second = new_page(), new_page()
    for page in (first, second):
        sign_in(page, "li.na")
        page.goto(path)
    first.fill("#id_given_name", "伟明")
    first.click("button:has-text('Save')")
    first.wait_for_url(f"**/contacts/{world['mine'].public_id}/")

    second.fill("#id_given_name", "伟强")
    second.click("button:has-text('Save')")
    conflict = second.locator(".gx-conflict")
    conflict.wait_for()
    assert "伟明" in conflict.inner_text()  # what the other person saved
    assert second.input_value("#id_given_name") == "伟强"  # and the user's own input kept
    first.reload()
    assert first.locator("h1").inner_text() == "张伟明"  # nothing overwritten yet
    second.click("button:has-text('Save')")  # knowingly apply theirs over
    second.wait_for_url(f"**/contacts/{world['mine'].public_id}/")
    assert second.locator("h1").inner_text() == "张伟强"


def test_new_contact_form_points_at_an_existing_phone(new_page, world):
    page = new_page()
    sign_in(page, "li.na")
    page.goto("/contacts/new/")
    page.fill("#id_family_name", "张")
    page.fill("#id_phone", "138-0013-8000")
    page.locator("#gx-duplicates a", has_text="张伟").wait_for()

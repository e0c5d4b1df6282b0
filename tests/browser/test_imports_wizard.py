"""In Chromium: the import wizard from upload to undo, accessible, in Chinese too."""

from __future__ import annotations

from pathlib import Path

import pytest

from guanxi.customers.models import Contact
from tests.browser.conftest import PASSWORD, axe_violations, horizontal_overflow, sign_in
from tests.browser.test_customer_pages import shot
from tests.factories import make_member, make_team, make_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "contacts-zh.csv"


@pytest.fixture
def rep(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    workspace = make_workspace(slug="acme", name="ACME 贸易", language="zh-hans")
    member = make_member(workspace=workspace, role_key="sales_rep",
                         team=make_team(workspace=workspace, name="华东"), username="li.na")  # fmt: skip
    member.user.set_password(PASSWORD)
    member.user.save()
    return member


def test_import_business_cards_check_fix_and_undo(new_page, rep):
    page = new_page()
    sign_in(page, "li.na")
    page.goto("/contacts/")
    page.click("a[href='/imports/?type=contacts']")
    assert axe_violations(page) == []
    page.set_input_files("#gx-import-file", str(SAMPLE))
    page.click("form.gx-form button[type=submit]")
    page.wait_for_url("**/imports/imp_*/")
    assert page.locator("#gx-field-1").input_value() == "phone"  # 手机
    assert axe_violations(page) == []
    page.click("button[value=check]")
    page.locator("td", has_text="12345").first.wait_for()
    shot(page, "import-check")
    page.click("button[value=run]")
    page.locator("#gx-result").wait_for()
    assert Contact.objects.for_workspace(rep.workspace).count() == 6
    assert page.locator("a[href$='errors/?format=csv']").count() == 1
    assert axe_violations(page) == []
    page.click("form.gx-danger button")
    page.locator("[role=status]", has_text="Undone").wait_for()
    assert Contact.objects.for_workspace(rep.workspace).count() == 0


def test_import_page_fits_a_phone_in_chinese(new_page, rep):
    page = new_page(width=360, height=740, locale="zh-CN")
    sign_in(page, "li.na")
    page.goto("/imports/")
    assert "导入" in page.locator("h1").inner_text()
    assert horizontal_overflow(page) <= 0

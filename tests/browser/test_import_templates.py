"""In Chromium: save a mapping as a template with a default, see it suggested for the next
file and apply it; a list exported in the background and downloaded. Accessible; fits a
phone in Chinese."""

from __future__ import annotations

from pathlib import Path

import pytest

from guanxi.customers import services as customers
from guanxi.customers.models import Contact, ExportJob, ImportJob, ImportTemplate
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


def _upload(page):
    page.goto("/imports/?type=contacts")
    page.set_input_files("#gx-import-file", str(SAMPLE))
    page.click("form.gx-form button[type=submit]")
    page.wait_for_url("**/imports/imp_*/")


def test_save_a_template_then_apply_it_to_the_next_file(new_page, rep):
    page = new_page()
    sign_in(page, "li.na")
    _upload(page)
    assert page.locator("#gx-template").count() == 0  # no templates yet
    page.select_option("#gx-transform-2", "lower")  # 邮箱
    page.fill("#gx-default-5", "上海")  # 城市, where the file leaves it blank
    page.select_option("#gx-extra-field-0", "source")
    page.fill("#gx-extra-value-0", "展会")
    page.fill("#gx-template-name", "展会名片")
    page.check("#gx-template-shared")
    assert axe_violations(page) == []
    page.click("button[value=save_template]")
    page.locator("[role=status]", has_text="展会名片").wait_for()
    template = ImportTemplate.objects.for_workspace(rep.workspace).get()
    assert template.is_shared and template.defaults == {"city": "上海", "source": "展会"}
    assert template.mapping["邮箱"]["transform"] == "lower"

    _upload(page)  # the same file again: the template is suggested
    assert page.locator("#gx-template").input_value() == template.public_id
    assert "展会名片" in page.locator("#gx-template-help").inner_text()
    assert axe_violations(page) == []
    shot(page, "import-template")
    page.click("button[value=apply_template]")
    page.locator("[role=status]", has_text="展会名片").wait_for()
    assert page.locator("#gx-transform-2").input_value() == "lower"
    assert page.locator("#gx-default-5").input_value() == "上海"
    job = ImportJob.objects.for_workspace(rep.workspace).latest("id")
    assert job.defaults == {"city": "上海", "source": "展会"}
    page.click("button[value=run]")
    page.locator("#gx-result").wait_for()
    sources = set(Contact.objects.for_workspace(rep.workspace).values_list("source", flat=True))
    assert sources == {"展会"}


def test_export_in_the_background_and_download(new_page, rep):
    for i in range(3):
        customers.create_contact(workspace=rep.workspace, by=rep.user, family_name="张",
                                 given_name=f"伟{i}")  # fmt: skip
    page = new_page(width=360, height=740, locale="zh-CN")
    sign_in(page, "li.na")
    page.goto("/contacts/")
    page.click("a[href*='background=1']")
    page.wait_for_url("**/exports/")
    job = ExportJob.objects.for_workspace(rep.workspace).get()
    link = page.locator(f"a[href='/exports/{job.public_id}/download/']")
    link.wait_for()
    assert horizontal_overflow(page) <= 0
    assert axe_violations(page) == []
    with page.expect_download() as download:
        link.click()
    text = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert len(text.strip().splitlines()) == 4

"""A lead in a real browser: typed into the form, converted with an opportunity, landing on
the new account — at phone width, with no serious accessibility violation on the way."""

from __future__ import annotations

import re

import pytest

from guanxi.sales.models import Lead, Opportunity
from tests.browser.conftest import PASSWORD, axe_violations, horizontal_overflow, sign_in
from tests.factories import make_member, make_team, make_workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]


def test_create_a_lead_convert_it_and_land_on_the_account(new_page):
    workspace = make_workspace(slug="acme", name="ACME 贸易")
    rep = make_member(workspace=workspace, role_key="sales_rep",
                      team=make_team(workspace=workspace, name="华东"), username="li.na")  # fmt: skip
    rep.user.set_password(PASSWORD)
    rep.user.save()
    page = new_page(width=360, height=800)
    sign_in(page, "li.na")
    page.goto("/leads/new/")
    assert axe_violations(page) == []
    page.fill("#id_family_name", "王")
    page.fill("#id_given_name", "芳")
    page.fill("#id_company", "星河科技")
    page.fill("#id_phone", "139 1234 5678")
    page.fill("#id_product_interest", "光纤")
    page.select_option("#id_source", "trade_show")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/leads/lead_[0-9a-z]{26}/$"))
    assert page.locator("h1").inner_text() == "王芳"
    assert axe_violations(page) == []
    assert horizontal_overflow(page) == 0
    page.click("a[href$='/convert/']")
    page.wait_for_url(re.compile(r"/convert/$"))
    assert axe_violations(page) == []
    page.fill("#id_opportunity_name", "星河 光纤 2027")
    page.fill("#id_amount", "88000")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/accounts/acc_[0-9a-z]{26}/$"))
    assert page.locator("h1").inner_text() == "星河科技"
    assert axe_violations(page) == []
    lead = Lead.objects.for_workspace(workspace).get()
    opportunity = Opportunity.objects.for_workspace(workspace).get()
    assert lead.status == "converted" and lead.converted_opportunity == opportunity
    assert opportunity.amount == 88000 and opportunity.account == lead.converted_account


def test_business_cards_become_leads_on_a_phone(new_page, tmp_path):
    workspace = make_workspace(slug="acme", name="ACME 贸易")
    rep = make_member(workspace=workspace, role_key="sales_rep",
                      team=make_team(workspace=workspace, name="华东"), username="li.na")  # fmt: skip
    rep.user.set_password(PASSWORD)
    rep.user.save()
    card = tmp_path / "card.vcf"
    card.write_text("BEGIN:VCARD\nVERSION:3.0\nN:孙;丽;;;\nFN:孙丽\nORG:东方光电\n"
                    "TEL;TYPE=CELL:13712345678\nEMAIL:sun.li@dongfang.cn\nEND:VCARD\n",
                    encoding="utf-8")  # fmt: skip
    page = new_page(width=360, height=800)
    sign_in(page, "li.na")
    page.goto("/leads/")
    page.click("a[href='/leads/cards/']")
    page.wait_for_url(re.compile(r"/leads/cards/$"))
    assert axe_violations(page) == []
    assert horizontal_overflow(page) == 0
    page.set_input_files("#id_file", str(card))
    page.fill("#id_met_at", "光博会")
    page.check("#id_consent")
    page.click("main button[type=submit]")
    page.wait_for_url(re.compile(r"/leads/lead_[0-9a-z]{26}/$"))
    assert page.locator("h1").inner_text() == "孙丽"
    lead = Lead.objects.for_workspace(workspace).get()
    assert (lead.source, lead.source_detail, lead.consent) == ("business_card", "光博会", True)
    assert lead.owner == rep.user

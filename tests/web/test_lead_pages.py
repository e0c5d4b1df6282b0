"""Lead pages: list, record, form, status, call log, conversion, web-to-lead settings."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from guanxi.customers import services as customers
from guanxi.customers.models import Account
from guanxi.sales import leads, web_to_lead
from guanxi.sales.models import Lead, Opportunity
from tests.factories import make_member

pytestmark = pytest.mark.django_db


def browser(member):
    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(member.user)
    return client


@pytest.fixture
def some_leads(rep):
    made = [
        leads.create_lead(
            workspace=rep.workspace,
            by=rep.user,
            full_name=f"王{i}",
            phone=f"1380013800{i}",
            company=f"公司{i}",
        )
        for i in range(8)
    ]
    Lead.objects.for_workspace(rep.workspace).filter(pk=made[0].pk).update(
        sla_due_at=timezone.now() - timedelta(hours=2), score=42
    )
    return made


def test_list_shows_my_leads_with_score_and_overdue(rep, some_leads, django_assert_max_num_queries):
    client = browser(rep)
    with django_assert_max_num_queries(12):
        response = client.get("/leads/")
    page = response.content.decode()
    assert response.status_code == 200
    assert page.count('data-label="Score"') == 8 and ">42<" in page
    assert "gx-overdue" in page
    with django_assert_max_num_queries(12):
        page = client.get("/leads/?who=all&q=王3&status=open").content.decode()
    assert page.count('data-label="Score"') == 1


def test_list_hides_other_teams_leads(rep, admin, some_leads):
    page = browser(admin).get("/leads/?who=all").content.decode()
    assert page.count('data-label="Score"') == 8  # the administrator sees all
    stranger = make_member(workspace=rep.workspace, role_key="sales_rep", username="stranger")
    page = browser(stranger).get("/leads/?who=all").content.decode()
    assert 'data-label="Score"' not in page


def test_detail_within_budget_and_hidden_is_404(rep, some_leads, django_assert_max_num_queries):
    lead = some_leads[0]
    leads.log_touch(lead=lead, by=rep.user, subject="首次电话")
    client = browser(rep)
    with django_assert_max_num_queries(12):
        response = client.get(f"/leads/{lead.public_id}/")
    assert response.status_code == 200 and "首次电话" in response.content.decode()
    stranger = make_member(workspace=rep.workspace, role_key="sales_rep", username="stranger")
    assert browser(stranger).get(f"/leads/{lead.public_id}/").status_code == 404


def test_new_edit_and_form_errors(rep, django_assert_max_num_queries):
    client = browser(rep)
    with django_assert_max_num_queries(12):
        assert client.get("/leads/new/").status_code == 200
    response = client.post("/leads/new/", {"family_name": "", "phone": "", "source": "manual"})
    assert response.status_code == 200 and "gx-invalid" in response.content.decode()
    response = client.post("/leads/new/", {"family_name": "李", "given_name": "雷",
                                           "phone": "13912345678", "source": "trade_show"})  # fmt: skip
    assert response.status_code == 302
    lead = Lead.objects.for_workspace(rep.workspace).get()
    assert lead.display_name == "李雷" and lead.owner == rep.user
    with django_assert_max_num_queries(12):
        assert client.get(f"/leads/{lead.public_id}/edit/").status_code == 200
    response = client.post(f"/leads/{lead.public_id}/edit/", {
        "family_name": "李", "given_name": "雷", "phone": "13912345678", "company": "星河",
        "source": "trade_show", "version": 1})  # fmt: skip
    assert response.status_code == 302
    assert Lead.objects.for_workspace(rep.workspace).get().company == "星河"


def test_status_and_disqualify_reason(rep, some_leads):
    lead = some_leads[1]
    client = browser(rep)
    url = f"/leads/{lead.public_id}/status/"
    response = client.post(url, {"status": "disqualified", "version": 1})
    assert response.status_code == 422 and "gx-invalid" in response.content.decode()
    response = client.post(url, {"status": "working", "version": 1})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == "working" and lead.first_touched_at is not None


def test_log_a_call_is_the_first_touch(rep, some_leads):
    lead = some_leads[2]
    response = browser(rep).post(f"/leads/{lead.public_id}/log/",
                                 {"channel": "phone", "subject": "介绍产品"},
                                 HTTP_HX_REQUEST="true")  # fmt: skip
    assert response.status_code == 200 and "介绍产品" in response.content.decode()
    lead.refresh_from_db()
    assert lead.first_touched_at is not None


def test_convert_page_shows_the_plan_and_lands_on_the_account(rep, some_leads,
                                                             django_assert_max_num_queries):  # fmt: skip
    existing = customers.create_account(workspace=rep.workspace, by=rep.user, name="公司3",
                                        industry="制造")  # fmt: skip
    lead = some_leads[3]
    leads.update_lead(lead=lead, by=rep.user, expected_version=1, industry="零售")
    client = browser(rep)
    with django_assert_max_num_queries(12):
        response = client.get(f"/leads/{lead.public_id}/convert/")
    page = response.content.decode()
    assert "公司3" in page and "制造" in page and "零售" in page  # differs: kept
    response = client.post(f"/leads/{lead.public_id}/convert/",
                           {"create_opportunity": "on", "opportunity_name": "公司3 项目",
                            "amount": "5000"})  # fmt: skip
    assert response.status_code == 302
    assert response["Location"] == f"/accounts/{existing.public_id}/"
    opportunity = Opportunity.objects.for_workspace(rep.workspace).get()
    assert opportunity.account == existing and opportunity.amount == 5000
    assert Account.objects.for_workspace(rep.workspace).count() == 1


def test_web_to_lead_settings_page(admin, rep, django_assert_max_num_queries):
    client = browser(admin)
    with django_assert_max_num_queries(12):
        response = client.get("/settings/web-to-lead/")
    assert response.status_code == 200
    response = client.post("/settings/web-to-lead/", {
        "is_enabled": "on", "require_consent": "on", "consent_text": "",
        "redirect_hosts": "www.acme.cn", "version": 1})  # fmt: skip
    assert "gx-invalid" in response.content.decode()
    response = client.post("/settings/web-to-lead/", {
        "is_enabled": "on", "require_consent": "on", "consent_text": "我同意联系",
        "redirect_hosts": "www.acme.cn", "version": 1})  # fmt: skip
    assert response.status_code == 302
    page = client.get("/settings/web-to-lead/").content.decode()
    assert "/api/v1/web-to-lead/acme" in page and "website_url" in page and "我同意联系" in page
    assert web_to_lead.form_settings(admin.workspace).is_enabled
    assert browser(rep).get("/settings/web-to-lead/").status_code == 403

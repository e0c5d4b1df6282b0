"""The lead API, conversion through it, and the public web-to-lead endpoint."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.test import Client, override_settings

from guanxi.customers import services as customers
from guanxi.platform.models import AuditEvent, Membership
from guanxi.sales import web_to_lead
from guanxi.sales.models import Lead
from guanxi.sales.signals import lead_created, lead_creating
from tests.factories import make_member, make_team


@pytest.fixture(autouse=True)
def _fresh_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def form(admin):
    return web_to_lead.update_form_settings(
        membership=admin, expected_version=None, is_enabled=True, require_consent=True,
        consent_text="我同意贵公司就产品信息与我联系。", redirect_hosts="www.acme.cn",
    )  # fmt: skip


def _post(slug: str, data: dict, *, as_json: bool = True, ip: str = "203.0.113.7", **headers):
    client = Client(HTTP_HOST="127.0.0.1", REMOTE_ADDR=ip)
    url = f"/api/v1/web-to-lead/{slug}"
    if as_json:
        return client.post(url, json.dumps(data), content_type="application/json", **headers)
    return client.post(url, data, **headers)


VISITOR = {"name": "王芳", "company": "星河科技", "phone": "139 1234 5678", "consent": True,
           "product_interest": "光纤", "source_detail": "官网-联系我们"}  # fmt: skip


# --- web-to-lead ------------------------------------------------------------------------------
def test_web_form_json_creates_a_lead_with_consent(form, admin):
    seen = []
    lead_created.connect(receiver := lambda sender, lead, actor, **kw: seen.append(actor))
    try:
        response = _post("acme", VISITOR)
    finally:
        lead_created.disconnect(receiver)
    assert response.status_code == 201, response.content
    lead = Lead.objects.for_workspace(admin.workspace).get()
    assert (lead.family_name, lead.given_name, lead.phone) == ("王", "芳", "+8613912345678")
    assert lead.source == "web" and lead.source_detail == "官网-联系我们"
    assert lead.consent and lead.consent_text == form.consent_text and lead.consent_at
    assert lead.submitted_ip == "203.0.113.7"
    assert lead.owner is None and seen == [None]  # the routing receivers' to assign


def test_web_form_encoded_redirects_to_an_allowed_host(form, admin):
    data = {**VISITOR, "consent": "on", "redirect": "https://www.acme.cn/thanks"}
    response = _post("acme", data, as_json=False)
    assert response.status_code == 303 and response["Location"] == "https://www.acme.cn/thanks"
    assert Lead.objects.for_workspace(admin.workspace).count() == 1
    response = _post("acme", {**data, "redirect": "https://evil.example/"}, as_json=False)
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "redirect"


def test_web_form_html_answers_pages(form):
    response = _post("acme", {**VISITOR, "consent": "on"}, as_json=False, HTTP_ACCEPT="text/html")
    assert response.status_code == 201 and b"<h1>" in response.content
    response = _post("acme", {"name": "x"}, as_json=False, HTTP_ACCEPT="text/html")
    assert response.status_code == 422 and b"phone" in response.content


@pytest.mark.parametrize(
    ("data", "fields"),
    [
        ({"phone": "13912345678", "consent": True}, {"name"}),
        ({"name": "王芳", "consent": True}, {"phone"}),
        ({"name": "王芳", "email": "nope", "consent": True}, {"email"}),
        ({"name": "王芳", "phone": "13912345678"}, {"consent"}),
        ({"name": "王芳", "phone": "13912345678", "consent": "false"}, {"consent"}),
    ],
)
def test_web_form_validation_names_fields(form, admin, data, fields):
    response = _post("acme", data)
    assert response.status_code == 422
    assert {e["field"] for e in response.json()["errors"]} == fields
    assert not Lead.objects.for_workspace(admin.workspace).exists()


def test_honeypot_is_answered_but_not_stored(form, admin):
    response = _post("acme", {**VISITOR, "website_url": "http://spam.example"})
    assert response.status_code == 201
    assert not Lead.objects.for_workspace(admin.workspace).exists()


def test_closed_or_unknown_form_is_404(workspace):
    assert _post("acme", VISITOR).status_code == 404  # never opened
    assert _post("nobody", VISITOR).status_code == 404


@override_settings(GUANXI_WEB_TO_LEAD_PER_IP=(2, 60), GUANXI_WEB_TO_LEAD_PER_WORKSPACE=(3, 60))
def test_rate_limits_per_ip_and_per_workspace(form, admin):
    assert [_post("acme", VISITOR).status_code for _ in range(2)] == [201, 201]
    limited = _post("acme", VISITOR)
    assert limited.status_code == 429 and 1 <= int(limited["Retry-After"]) <= 60
    assert limited.json()["code"] == "rate_limited"
    assert _post("acme", VISITOR, ip="198.51.100.1").status_code == 201  # another visitor
    assert _post("acme", VISITOR, ip="198.51.100.2").status_code == 429  # the workspace's
    assert Lead.objects.for_workspace(admin.workspace).count() == 3


def _failing_before_insert(sender, lead, actor, **kwargs):
    lead.score, lead.owner_id = 5, lead.workspace.memberships.first().user_id
    raise RuntimeError("routing down")


def _failing_after_insert(sender, lead, actor, **kwargs):
    Lead.objects.for_workspace(lead.workspace_id).filter(pk=lead.pk).update(score=5)
    raise RuntimeError("routing down")


@pytest.mark.parametrize("signal, receiver", [
    (lead_creating, _failing_before_insert), (lead_created, _failing_after_insert)])  # fmt: skip
def test_a_failing_receiver_does_not_lose_the_lead(form, admin, signal, receiver):
    signal.connect(receiver)
    try:
        response = _post("acme", VISITOR)
    finally:
        signal.disconnect(receiver)
    assert response.status_code == 201
    lead = Lead.objects.for_workspace(admin.workspace).get()
    # what the receiver set or wrote is undone, the lead kept, once
    assert (lead.score, lead.owner_id, lead.sla_due_at) == (0, None, None)
    assert lead.history.count() == 1 and lead.history.get().score == 0
    assert AuditEvent.objects.filter(action="sales.lead.routing_failed").count() == 1


def test_web_form_query_count(form, django_assert_max_num_queries):
    _post("acme", VISITOR)  # warm caches
    # routing (its savepoint, the rules stamp, release), then the lead's savepoint, the lead,
    # its history record, release; served in autocommit, routing needs no savepoint
    with django_assert_max_num_queries(7):
        assert _post("acme", VISITOR, ip="198.51.100.9").status_code == 201


def test_form_settings_api(api, admin, rep):
    client = api(admin)
    response = client.patch("/web-to-lead-settings", {"is_enabled": True, "require_consent": True})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "consent_text"
    response = client.patch("/web-to-lead-settings", {
        "is_enabled": True, "require_consent": False, "redirect_hosts": ["WWW.Acme.cn"]})  # fmt: skip
    assert response.status_code == 200, response.content
    assert response.json()["redirect_hosts"] == ["www.acme.cn"]
    assert response.json()["endpoint"].endswith("/api/v1/web-to-lead/acme")
    assert api(rep).get("/web-to-lead-settings").status_code == 404


# --- the lead API -----------------------------------------------------------------------------
def test_create_list_filter_and_paginate(api, rep, admin):
    client = api(rep)
    response = client.post("/leads", {"name": "Anna Schmidt", "email": "anna@example.de",
                                      "company": "Schmidt GmbH", "source": "trade_show"})  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["family_name"], body["given_name"], body["owner"]) == ("Schmidt", "Anna", "li.na")
    for index in range(3):
        client.post("/leads", {"name": f"李{index}", "phone": f"1380013800{index}"})
    api(admin).post("/leads", {"name": "管理员的", "phone": "13900000000"})
    assert len(client.get("/leads").json()["items"]) == 4  # not the admin's: other team
    assert [r["id"] for r in client.get("/leads", source="trade_show").json()["items"]] == [
        body["id"]
    ]
    assert len(client.get("/leads", q="schmidt").json()["items"]) == 1
    assert len(client.get("/leads", q="0013800").json()["items"]) == 3
    assert len(client.get("/leads", owner="me", status="open").json()["items"]) == 4
    first = client.get("/leads", limit=3).json()
    second = client.get("/leads", limit=3, cursor=first["next_cursor"]).json()
    assert len(first["items"]) == 3 and len(second["items"]) == 1
    assert second["next_cursor"] is None


def test_patch_needs_version_and_disqualify_needs_reason(api, rep):
    client = api(rep)
    lead = client.post("/leads", {"name": "王芳", "phone": "13912345678"}).json()
    url = f"/leads/{lead['id']}"
    assert client.patch(url, {"status": "working"}).status_code == 428
    response = client.patch(url, {"status": "disqualified", "version": 1})
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "disqualify_reason"
    response = client.patch(url, {"status": "converted", "version": 1})
    assert response.status_code == 422
    response = client.patch(url, {"status": "working"}, headers={"If-Match": '"1"'})
    assert response.status_code == 200 and response.json()["first_touched_at"]
    assert client.patch(url, {"title": "x", "version": 1}).status_code == 409
    assert client.delete(url).status_code == 403  # a rep may not delete
    assert client.get(url).status_code == 200


def test_convert_endpoint(api, rep):
    client = api(rep)
    lead = client.post("/leads", {"name": "王芳", "phone": "13912345678", "company": "星河科技"})
    lead_id = lead.json()["id"]
    response = client.post(f"/leads/{lead_id}/convert", {
        "create_opportunity": True, "opportunity_name": "星河 光纤 2027", "amount": "88000.50"})  # fmt: skip
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["account_created"] and body["contact_created"] and body["kept"] == []
    opportunity = client.get(f"/opportunities/{body['opportunity_id']}").json()
    assert opportunity["name"] == "星河 光纤 2027" and opportunity["amount"] == "88000.50"
    assert opportunity["account_id"] == body["account_id"]
    assert opportunity["contact_id"] == body["contact_id"]
    detail = client.get(f"/leads/{lead_id}").json()
    assert detail["status"] == "converted" and detail["converted_account_id"] == body["account_id"]
    again = client.post(f"/leads/{lead_id}/convert", {"create_opportunity": False})
    assert again.status_code == 422


def test_convert_with_ids_respects_visibility(api, rep, workspace):
    other_team = make_team(workspace=workspace, name="华北")
    stranger = make_member(workspace=workspace, role_key="sales_rep", team=other_team,
                           username="stranger")  # fmt: skip
    hidden = customers.create_account(workspace=workspace, by=stranger.user, name="别人的客户")
    client = api(rep)
    lead_id = client.post("/leads", {"name": "王芳", "phone": "13912345678"}).json()["id"]
    response = client.post(f"/leads/{lead_id}/convert", {"account_id": hidden.public_id})
    assert response.status_code == 404
    mine = customers.create_account(workspace=workspace, by=rep.user, name="我的客户")
    response = client.post(f"/leads/{lead_id}/convert", {"account_id": mine.public_id,
                                                         "amount": 1})  # fmt: skip
    assert response.status_code == 200 and response.json()["account_id"] == mine.public_id
    assert Membership.objects.for_workspace(workspace).count() == 2


# The form settings are one record per workspace, reached without an id: each role's rights
# on them, checked here rather than in the per-record matrix of tests/authz.
SETTINGS_RIGHTS = {
    "administrator": (200, 200),
    "marketer": (200, 200),
    "sales_manager": (200, 403),
    "sales_rep": (404, 404),
    "service_manager": (404, 404),
    "service_agent": (404, 404),
    "contact_center_agent": (404, 404),
    "dealer_user": (404, 404),
    "analyst": (404, 404),
}


@pytest.mark.parametrize(("role_key", "statuses"), SETTINGS_RIGHTS.items())
def test_form_settings_rights_per_role(api, workspace, role_key, statuses):
    from tests.factories import make_workspace

    other = make_workspace(slug="elsewhere")
    member = make_member(workspace=workspace, role_key=role_key, username="actor")
    client = api(member)
    view = client.get("/web-to-lead-settings").status_code
    change = client.patch("/web-to-lead-settings", {"is_enabled": True}).status_code
    assert (view, change) == statuses
    # whatever one workspace does, another's form stays as it was
    assert not web_to_lead.form_settings(other).is_enabled
    assert web_to_lead.form_settings(workspace).is_enabled == (change == 200)

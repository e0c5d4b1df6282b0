"""``on_duplicate`` on POST /contacts and POST /accounts: error, create, and merge into the
existing record (filled, not replaced; through the services; visibility and rights)."""

from __future__ import annotations

import pytest

from guanxi.customers.models import Account, Contact
from guanxi.platform.models import AuditEvent
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def zhang(api, rep):
    body = {"family_name": "张", "given_name": "伟", "occupation": "",
            "contact_points": [{"kind": "phone", "value": "138 0013 8000"}]}  # fmt: skip
    response = api(rep).post("/contacts", body)
    assert response.status_code == 201, response.content
    return response.json()


def test_merge_fills_the_existing_contact_and_answers_200(api, rep, zhang):
    client = api(rep)
    account = client.post("/accounts", {"name": "远景贸易"}).json()
    new = {"full_name": "Zhang Wei", "occupation": "采购经理", "birthday": "1985-03-02",
           "tags": ["VIP"], "account_id": account["id"], "title": "经理",
           "contact_points": [{"kind": "phone", "value": "+86 138-0013-8000"},
                              {"kind": "email", "value": "zhang.wei@yuanjing.cn"}],
           "addresses": [{"country": "CN", "city": "上海"}]}  # fmt: skip
    response = client.post("/contacts?on_duplicate=merge", new)
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["id"] == zhang["id"] and body["merged"]["into"] == zhang["id"]
    assert body["merged"]["score"] >= 0.95 and body["merged"]["reasons"]
    assert set(body["merged"]["filled"]) >= {"occupation", "birthday", "tags", "contact_points",
                                             "addresses", "accounts"}  # fmt: skip
    assert body["display_name"] == "张伟"  # the name it had stays
    assert body["occupation"] == "采购经理" and body["birthday"] == "1985-03-02"
    assert sorted(p["kind"] for p in body["contact_points"]) == ["email", "phone"]
    assert body["accounts"][0]["name"] == "远景贸易" and body["tags"] == ["VIP"]
    assert body["version"] > zhang["version"]
    assert Contact.objects.for_workspace(rep.workspace).count() == 1
    contact = Contact.objects.for_workspace(rep.workspace).get()
    assert contact.history.filter(occupation="采购经理").exists()
    assert AuditEvent.objects.filter(action="customers.contact.merged_on_entry").exists()


def test_merge_replaces_nothing(api, rep):
    client = api(rep)
    first = {"family_name": "Dubois", "given_name": "Émilie", "occupation": "CFO",
             "contact_points": [{"kind": "email", "value": "emilie@dubois.fr"}]}  # fmt: skip
    existing = client.post("/contacts", first).json()
    again = {"family_name": "Dubois", "given_name": "Emily", "occupation": "Buyer",
             "gender": "female", "contact_points": [{"kind": "email", "value": "Emilie@Dubois.fr"}]}  # fmt: skip
    body = client.post("/contacts?on_duplicate=merge", again).json()
    assert body["id"] == existing["id"]
    assert (body["given_name"], body["occupation"], body["gender"]) == ("Émilie", "CFO", "female")
    assert body["merged"]["filled"] == ["gender"]


def test_merge_without_a_shared_identifier_creates(api, rep, zhang):
    response = api(rep).post(
        "/contacts?on_duplicate=merge", {"family_name": "张", "given_name": "伟"}
    )
    assert response.status_code == 201 and response.json()["id"] != zhang["id"]
    assert "merged" not in response.json()


def test_merge_into_a_contact_one_may_see_but_not_change_is_refused_as_error(
    api, workspace, team, zhang
):
    teammate = make_member(workspace=workspace, role_key="sales_rep", team=team, username="mate")
    body = {"family_name": "张", "given_name": "伟",
            "contact_points": [{"kind": "phone", "value": "13800138000"}]}  # fmt: skip
    response = api(teammate).post("/contacts?on_duplicate=merge", body)
    assert response.status_code == 409 and response.json()["code"] == "possible_duplicate"
    assert response.json()["candidates"][0]["id"] == zhang["id"]


def test_merge_into_a_contact_one_may_not_see_reveals_nothing(api, workspace, zhang):
    stranger = make_member(workspace=workspace, role_key="sales_rep", username="stranger")
    body = {"family_name": "张", "given_name": "伟",
            "contact_points": [{"kind": "phone", "value": "13800138000"}]}  # fmt: skip
    response = api(stranger).post("/contacts?on_duplicate=merge", body)
    assert response.status_code == 409 and response.json()["code"] == "contact_point_taken"
    assert zhang["id"] not in response.content.decode() and "张伟" not in response.content.decode()
    assert Contact.objects.for_workspace(workspace).count() == 1


def test_account_on_duplicate_error_create_and_merge(api, rep):
    client = api(rep)
    first = {"name": "上海远景贸易有限公司", "website": "https://www.yuanjing.cn",
             "contact_points": [{"kind": "phone", "value": "021 6234 5678"}]}  # fmt: skip
    existing = client.post("/accounts", first).json()
    same_name = {"name": "上海遠景貿易有限公司"}
    refused = client.post("/accounts?on_duplicate=error", same_name)
    assert refused.status_code == 409 and refused.json()["code"] == "possible_duplicate"
    assert refused.json()["candidates"][0]["id"] == existing["id"]
    assert client.post("/accounts?on_duplicate=merge", same_name).status_code == 201  # a name only
    by_domain = {"name": "Yuanjing Trading", "website": "yuanjing.cn/about", "industry": "trading",
                 "addresses": [{"country": "CN", "city": "上海"}]}  # fmt: skip
    merged = client.post("/accounts?on_duplicate=merge", by_domain)
    assert merged.status_code == 200, merged.content
    body = merged.json()
    assert body["id"] == existing["id"] and body["name"] == "上海远景贸易有限公司"
    assert body["industry"] == "trading" and body["addresses"][0]["city"] == "上海"
    assert set(body["merged"]["filled"]) == {"industry", "addresses"}
    assert any("yuanjing.cn" in r for r in body["merged"]["reasons"])
    assert client.post("/accounts?on_duplicate=create", same_name).status_code == 201
    assert Account.objects.for_workspace(rep.workspace).count() == 3


def test_account_merge_on_the_same_phone(api, rep):
    client = api(rep)
    first = {"name": "Pacific Crest Logistics",
             "contact_points": [{"kind": "phone", "value": "+852 2123 4567"}]}  # fmt: skip
    existing = client.post("/accounts", first).json()
    again = {"name": "Pacific Crest Logistics Limited", "legal_name": "太平物流有限公司",
             "contact_points": [{"kind": "phone", "value": "+85221234567"}]}  # fmt: skip
    body = client.post("/accounts?on_duplicate=merge", again).json()
    assert body["id"] == existing["id"] and body["legal_name"] == "太平物流有限公司"
    assert body["merged"]["filled"] == ["legal_name"]


def test_account_merge_needs_the_right_to_change_it(api, workspace, team, rep):
    first = {"name": "远景贸易", "contact_points": [{"kind": "email", "value": "info@yuanjing.cn"}]}
    existing = api(rep).post("/accounts", first).json()
    teammate = make_member(workspace=workspace, role_key="sales_rep", team=team, username="mate")
    again = {"name": "远景贸易", "contact_points": [{"kind": "email", "value": "INFO@yuanjing.cn"}]}
    refused = api(teammate).post("/accounts?on_duplicate=merge", again)
    assert refused.status_code == 409 and refused.json()["code"] == "possible_duplicate"
    assert refused.json()["candidates"][0]["id"] == existing["id"]
    stranger = make_member(workspace=workspace, role_key="sales_rep", username="stranger")
    hidden = api(stranger).post("/accounts?on_duplicate=merge", again)
    assert hidden.status_code == 409 and hidden.json()["code"] == "contact_point_taken"
    assert existing["id"] not in hidden.content.decode()


def test_merge_answers_with_the_version_it_saved(api, rep, zhang):
    client = api(rep)
    body = {"family_name": "张", "given_name": "伟", "gender": "male",
            "contact_points": [{"kind": "phone", "value": "13800138000"}]}  # fmt: skip
    merged = client.post("/contacts?on_duplicate=merge", body).json()
    stale = client.patch(
        f"/contacts/{zhang['id']}", {"occupation": "x", "version": zhang["version"]}
    )
    assert stale.status_code == 409 and stale.json()["code"] == "version_conflict"
    fresh = client.patch(
        f"/contacts/{zhang['id']}", {"occupation": "x", "version": merged["version"]}
    )
    assert fresh.status_code == 200

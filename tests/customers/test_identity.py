"""Identity resolution on entry: candidates, scores, reasons, visibility, on_duplicate."""

from __future__ import annotations

from datetime import date

import pytest

from guanxi.customers import services
from guanxi.customers.identity import match_contacts, name_similarity
from guanxi.customers.services import AddressInput, ContactPointInput
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("a, b, at_least", [
    ("张伟", "Zhang Wei", 1.0), ("张伟", "Wei Zhang", 1.0), ("張偉", "张伟", 1.0),
    ("Zhang Wei", "Zhang Wie", 0.85), ("欧阳娜娜", "Ouyang Nana", 1.0),
])  # fmt: skip
def test_names_compare_across_scripts_orders_and_typos(a, b, at_least):
    assert name_similarity(a, b) >= at_least


@pytest.mark.parametrize("a, b", [("张伟", "王芳"), ("Mary Wong", "Peter Chan"), ("李娜", "刘洋")])
def test_different_names_are_far(a, b):
    assert name_similarity(a, b) < 0.5


@pytest.fixture
def people(workspace, admin):
    account = services.create_account(workspace=workspace, by=admin.user, name="远景贸易")
    zhang = services.create_contact(
        workspace=workspace, by=admin.user, family_name="张", given_name="伟", account=account,
        birthday=date(1985, 3, 2),
        contact_points=[ContactPointInput(kind="phone", value="138 0013 8000"),
                        ContactPointInput(kind="email", value="zhang.wei@yuanjing.cn")],
        addresses=[AddressInput(country="CN", city="上海")],
    )  # fmt: skip
    other_zhang = services.create_contact(workspace=workspace, by=admin.user, family_name="张",
                                          given_name="伟", addresses=[AddressInput(country="CN", city="北京")])  # fmt: skip
    wong = services.create_contact(workspace=workspace, by=admin.user, family_name="Wong",
                                   given_name="Mary", account=account)  # fmt: skip
    return {"zhang": zhang, "other_zhang": other_zhang, "wong": wong, "account": account}


def test_same_mobile_is_near_certain_with_its_reason(admin, people):
    found, hidden = match_contacts(user=admin, full_name="Zhang Wei", phone="+86 138-0013-8000")
    assert found[0].contact == people["zhang"] and found[0].score >= 0.97 and hidden == 0
    assert any("+8613800138000" in r for r in found[0].reasons)
    assert any("Zhang Wei ≈ 张伟" in r for r in found[0].reasons)


def test_name_with_company_and_city_beats_the_namesake(admin, people):
    found, _hidden = match_contacts(
        user=admin, full_name="Wei Zhang", company="远景贸易", city="上海"
    )
    assert found[0].contact == people["zhang"] and found[0].score >= 0.9
    assert "same company 远景贸易" in found[0].reasons and "same city 上海" in found[0].reasons
    assert all(c.score < found[0].score for c in found[1:])


def test_a_namesake_elsewhere_is_listed_below_when_the_company_has_none(admin, people):
    found, _hidden = match_contacts(user=admin, full_name="Wei Zhang", company="远景贸易")
    assert found[0].contact == people["zhang"]
    found, _hidden = match_contacts(user=admin, full_name="王芳", company="远景贸易", city="北京")
    assert not found  # nobody of that name, and the company's people are other names
    found, _hidden = match_contacts(
        user=admin, full_name="Zhang Wei", company="其他公司", city="北京"
    )
    assert found[0].contact == people["other_zhang"] and "same city 北京" in found[0].reasons


def test_a_typo_in_the_name_is_found_through_the_company(admin, people):
    found, _hidden = match_contacts(user=admin, full_name="Mary Wang", company="远景贸易")
    assert found and found[0].contact == people["wong"] and found[0].score >= 0.7


def test_a_different_birthday_weakens(admin, people):
    same, _h = match_contacts(user=admin, full_name="张伟", birthday=date(1985, 3, 2))
    other, _h = match_contacts(user=admin, full_name="张伟", birthday=date(1990, 1, 1))
    score = {c.contact.pk: c.score for c in same}
    assert score[people["zhang"].pk] > {c.contact.pk: c.score for c in other}.get(
        people["zhang"].pk, 0
    )


def test_others_records_are_counted_not_shown(workspace, people):
    stranger = make_member(workspace=workspace, role_key="sales_rep", username="stranger")
    found, hidden = match_contacts(user=stranger, full_name="张伟", phone="13800138000")
    assert found == [] and hidden == 1


def test_api_match_and_on_duplicate(api, admin, people):
    client = api(admin)
    response = client.post("/contacts/match", {"family_name": "張", "given_name": "偉",
                                               "email": "ZHANG.WEI@yuanjing.cn"})  # fmt: skip
    body = response.json()
    assert response.status_code == 200 and body["candidates"][0]["id"] == people["zhang"].public_id
    assert body["candidates"][0]["score"] >= 0.95
    new = {"family_name": "张", "given_name": "伟",
           "contact_points": [{"kind": "email", "value": "zhang.wei@yuanjing.cn", "is_shared": True}]}  # fmt: skip
    refused = client.post("/contacts?on_duplicate=error", new)
    assert refused.status_code == 409 and refused.json()["code"] == "possible_duplicate"
    assert refused.json()["candidates"][0]["id"] == people["zhang"].public_id
    fresh = {"family_name": "司马", "given_name": "光"}
    assert client.post("/contacts?on_duplicate=error", fresh).status_code == 201

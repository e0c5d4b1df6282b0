"""Customer master through the API: contract, normalization, clashes, consent, custom fields,
filters, locking, soft delete, query budgets."""

from __future__ import annotations

import pytest

from guanxi.customers.models import Contact
from guanxi.platform import services as platform_services
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(api, rep):
    return api(rep)


def test_create_contact_normalizes_contact_points(client):
    response = client.post(
        "/contacts",
        {
            "family_name": "张",
            "given_name": "伟",
            "external_id": "crm-42",
            "contact_points": [
                {"kind": "phone", "value": "138 0013 8000", "label": "mobile"},
                {"kind": "email", "value": "Zhang.Wei@Example.COM"},
            ],
        },
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["display_name"] == "张伟"
    assert body["owner"] == "li.na"
    assert body["lifecycle_stage"] == "lead"
    points = {p["kind"]: p for p in body["contact_points"]}
    assert points["phone"]["value"] == "+8613800138000"
    assert points["phone"]["raw_value"] == "138 0013 8000"
    assert points["email"]["value"] == "Zhang.Wei@example.com"
    assert body["id"].startswith("con_") and body["version"] == 1


def test_create_account_and_link_contact(client):
    account = client.post("/accounts", {"name": "上海远景贸易有限公司", "external_id": "erp-1"})
    assert account.status_code == 201, account.content
    account_id = account.json()["id"]
    contact = client.post(
        "/contacts", {"full_name": "欧阳娜娜", "account_id": account_id, "title": "采购经理"}
    ).json()
    assert (contact["family_name"], contact["given_name"]) == ("欧阳", "娜娜")
    assert contact["accounts"] == [
        {"account_id": account_id, "name": "上海远景贸易有限公司", "title": "采购经理",
         "role": "", "is_primary": True}
    ]  # fmt: skip
    listed = client.get(f"/accounts/{account_id}/contacts").json()
    assert [c["id"] for c in listed["items"]] == [contact["id"]]
    assert client.get("/accounts", external_id="erp-1").json()["items"][0]["id"] == account_id


@pytest.mark.parametrize(
    ("point", "field", "reason"),
    [
        ({"kind": "phone", "value": "12345"}, "contact_points.0.value", "not a valid number"),
        ({"kind": "email", "value": "not-an-email"}, "contact_points.0.value", ""),
        ({"kind": "pager", "value": "x"}, "contact_points.0.kind", "must be one of"),
    ],
)
def test_invalid_contact_point_is_422_naming_field(client, point, field, reason):
    response = client.post("/contacts", {"family_name": "李", "contact_points": [point]})
    assert response.status_code == 422, response.content
    error = response.json()["errors"][0]
    assert error["field"] == field
    assert reason in error["message"]
    assert not Contact.objects.dangerously_all_workspaces().exists()  # nothing half-written


def test_contact_point_clash_names_visible_owner(client):
    first = client.post(
        "/contacts", {"family_name": "张", "given_name": "伟",
                      "contact_points": [{"kind": "phone", "value": "13800138000"}]}
    ).json()  # fmt: skip
    clash = client.post(
        "/contacts", {"family_name": "王", "contact_points": [{"kind": "phone", "value": "+86 138-0013-8000"}]}
    )  # fmt: skip
    assert clash.status_code == 409
    body = clash.json()
    assert body["code"] == "contact_point_taken"
    assert body["existing"] == {"type": "contact", "id": first["id"], "display_name": "张伟"}


def test_clash_with_invisible_record_does_not_leak(api, rep, workspace):
    other_team = platform_services.create_team(workspace=workspace, name="South")
    stranger = make_member(workspace=workspace, team=other_team)
    api(stranger).post(
        "/contacts", {"family_name": "秘", "contact_points": [{"kind": "email", "value": "x@y.cn"}]}
    )
    clash = api(rep).post(
        "/contacts", {"family_name": "王", "contact_points": [{"kind": "email", "value": "X@Y.CN"}]}
    )
    assert clash.status_code == 409
    assert clash.json()["existing"] is None
    assert "秘" not in clash.json()["detail"]


def test_shared_household_phone(client):
    phone = {"kind": "phone", "value": "021 6552 9988", "is_shared": True}
    assert (
        client.post("/contacts", {"family_name": "陈", "contact_points": [phone]}).status_code
        == 201
    )
    assert client.post("/contacts", {"family_name": "陈", "given_name": "二",
                                     "contact_points": [phone]}).status_code == 201  # fmt: skip


def test_consent_is_recorded_and_current(client):
    contact = client.post(
        "/contacts",
        {"family_name": "Smith", "given_name": "Anna",
         "contact_points": [{"kind": "email", "value": "anna@example.com",
                             "consents": {"marketing": "granted"}, "consent_source": "web form"}]},
    ).json()  # fmt: skip
    point = contact["contact_points"][0]
    assert point["consents"]["marketing"]["status"] == "granted"
    withdrawn = client.post(
        f"/contact-points/{point['id']}/consents",
        {"purpose": "marketing", "status": "withdrawn", "source": "unsubscribe link"},
    )
    assert withdrawn.status_code == 201
    assert withdrawn.json()["consents"]["marketing"]["status"] == "withdrawn"


def test_custom_fields_validated(api, admin, rep):
    admin_client = api(admin)
    created = admin_client.post(
        "/custom-fields",
        {
            "applies_to": "customers.contact",
            "key": "budget",
            "label": "预算",
            "field_type": "money",
        },
    )
    assert created.status_code == 201, created.content
    admin_client.post(
        "/custom-fields",
        {"applies_to": "customers.contact", "key": "segment", "label": "Segment",
         "field_type": "choice", "choices": ["retail", "wholesale"]},
    )  # fmt: skip
    client = api(rep)
    bad = client.post(
        "/contacts",
        {"family_name": "李", "custom_fields": {"budget": "lots", "segment": "x", "nope": 1}},
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {
        "custom_fields.budget", "custom_fields.segment", "custom_fields.nope"
    }  # fmt: skip
    good = client.post(
        "/contacts",
        {"family_name": "李", "custom_fields": {"budget": "1200.5", "segment": "retail"}},
    ).json()
    assert good["custom_fields"] == {
        "budget": {"amount": "1200.50", "currency": "CNY"}, "segment": "retail"
    }  # fmt: skip
    filtered = client.get("/contacts", **{"cf.segment": "retail"}).json()["items"]
    assert [c["id"] for c in filtered] == [good["id"]]


def test_stale_version_is_409_and_patch_works(client):
    contact = client.post("/contacts", {"family_name": "赵"}).json()
    path = f"/contacts/{contact['id']}"
    assert client.patch(path, {"given_name": "敏", "version": 1}).json()["display_name"] == "赵敏"
    stale = client.patch(path, {"given_name": "雷", "version": 1})
    assert stale.status_code == 409
    assert stale.json()["current_version"] == 2


def test_delete_soft_deletes(client, api, admin):
    contact = client.post("/contacts", {"family_name": "钱"}).json()
    assert client.delete(f"/contacts/{contact['id']}").status_code == 403  # reps may not delete
    assert api(admin).delete(f"/contacts/{contact['id']}").status_code == 204
    assert client.get(f"/contacts/{contact['id']}").status_code == 404
    assert (
        Contact.objects.dangerously_all_workspaces(include_deleted=True)
        .filter(public_id=contact["id"], deleted_at__isnull=False)
        .exists()
    )


def test_duplicate_external_id_is_409(client):
    assert client.post("/accounts", {"name": "A", "external_id": "x1"}).status_code == 201
    again = client.post("/accounts", {"name": "B", "external_id": "x1"})
    assert again.status_code == 409
    assert again.json()["code"] == "external_id_taken"


def test_list_filters_sort_and_pages(client):
    for name in ["Charlie", "alpha", "Bravo", "张三", "Delta"]:
        client.post("/accounts", {"name": name, "tags": ["vip"] if name != "Delta" else []})
    body = client.get("/accounts", tag="vip", limit=2).json()
    names = [a["name"] for a in body["items"]]
    while body["next_cursor"]:
        body = client.get("/accounts", tag="vip", limit=2, cursor=body["next_cursor"]).json()
        names += [a["name"] for a in body["items"]]
    assert names == ["alpha", "Bravo", "Charlie", "张三"]  # 张三 sorts as "zhang san"
    assert client.get("/accounts", sort="sideways").status_code == 422


def test_list_query_budget(client, django_assert_max_num_queries):
    for index in range(12):
        client.post(
            "/contacts",
            {"family_name": "孙", "given_name": str(index), "tags": ["a", "b"],
             "contact_points": [{"kind": "email", "value": f"s{index}@example.com"}],
             "addresses": [{"country": "CN", "region": "上海市", "city": "上海市",
                            "district": "浦东新区", "street": "世纪大道100号"}]},
        )  # fmt: skip
    client.get("/me")
    with django_assert_max_num_queries(9):
        body = client.get("/contacts", limit=50).json()
    assert len(body["items"]) == 12
    assert body["items"][0]["addresses"][0]["formatted"].startswith("上海市上海市浦东新区")


def test_lifecycle_presets(api, admin):
    stages = api(admin).post("/lifecycle-stages/presets/real_estate").json()
    assert [s["key"] for s in stages] == [
        "prospect", "pre-owner", "run-in-owner", "stable-owner", "long-time-owner"
    ]  # fmt: skip
    keys = [s["key"] for s in api(admin).get("/lifecycle-stages").json()]
    assert keys[:5] == ["lead", "prospect", "customer", "loyal", "former"]
    assert "long-time-owner" in keys

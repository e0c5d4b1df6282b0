"""Exports of lists: what is in them, who may export what, formulas neutralized, audited."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
import vobject

from guanxi.customers import services as customers
from guanxi.customers.exports import neutralize
from guanxi.customers.services import ContactPointInput
from guanxi.platform.models import AuditEvent
from tests.factories import make_member
from tests.web.test_pages import browser

pytestmark = pytest.mark.django_db


@pytest.fixture
def book(workspace, rep, team):
    account = customers.create_account(workspace=workspace, by=rep.user, name="远景贸易")
    mine = [
        customers.create_contact(
            workspace=workspace,
            by=rep.user,
            family_name="张",
            given_name=f"伟{i}",
            account=account,
            tags=["vip"],
            occupation="=cmd|' /C calc'!A0" if i == 0 else "采购",
            contact_points=[
                ContactPointInput(kind="phone", value=f"138 0013 80{i:02d}"),
                ContactPointInput(kind="email", value=f"w{i}@yuanjing.cn"),
            ],
        )
        for i in range(5)
    ]
    colleague = make_member(workspace=workspace, role_key="sales_rep", team=team, username="wang")
    theirs = customers.create_contact(workspace=workspace, by=colleague.user, family_name="王",
                                      given_name="芳")  # fmt: skip
    return {"mine": mine, "theirs": theirs, "account": account}


def _csv(response):
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_has_the_lists_columns_and_only_what_i_may_export(rep, book):
    response = browser(rep).get(
        "/contacts/export/", {"format": "csv", "cols": "phone,email,tags,occupation"}
    )
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = _csv(response)
    assert rows[0] == ["id", "name", "Phone", "E-mail", "Tags", "Occupation"]
    names = sorted(row[1] for row in rows[1:])
    assert names == [f"张伟{i}" for i in range(5)]  # a rep exports their own, not the team's
    first = next(row for row in rows if row[1] == "张伟0")
    assert first[2] == "+8613800138000" and first[4] == "vip"
    assert first[5].startswith("'=cmd")  # a formula is text, not run
    event = AuditEvent.objects.get(action="contact.exported")
    assert event.data["format"] == "csv" and event.actor == rep.user


def test_filters_apply_to_the_export(rep, book):
    rows = _csv(browser(rep).get("/contacts/export/", {"format": "csv", "tag": "nobody"}))
    assert rows[1:] == []


def test_xlsx_and_vcard(rep, book):
    client = browser(rep)
    response = client.get("/contacts/export/", {"format": "xlsx", "cols": "company,phone"})
    workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    sheet = workbook.active
    values = list(sheet.values)
    assert values[0] == ("id", "name", "Company", "Phone") and len(values) == 6
    assert ("远景贸易", "+8613800138001") in {(v[2], v[3]) for v in values[1:]}
    cards = b"".join(client.get("/contacts/export/", {"format": "vcf"}).streaming_content)
    parsed = list(vobject.readComponents(cards.decode()))
    assert len(parsed) == 5
    card = next(c for c in parsed if c.fn.value == "张伟1")
    assert card.n.value.family == "张" and card.tel.value == "+8613800138001"
    assert card.org.value == ["远景贸易"]
    accounts = client.get("/accounts/export/", {"format": "vcf"})
    assert accounts.status_code == 302  # vCard is for contacts


def test_ticked_rows_export(rep, admin, book):
    client = browser(admin)
    ids = [book["mine"][1].public_id, book["theirs"].public_id]
    response = client.post("/contacts/bulk/", {"action": "export", "format": "csv", "ids": ids})
    assert sorted(row[1] for row in _csv(response)[1:]) == ["张伟1", "王芳"]


def test_no_export_permission_no_export(workspace, book):
    agent = make_member(workspace=workspace, role_key="service_agent", username="agent")
    response = browser(agent).get("/contacts/export/", {"format": "csv"})
    assert response.status_code == 403
    assert 'href="/contacts/export/' not in browser(agent).get("/contacts/").content.decode()


@pytest.mark.parametrize("value, expected", [
    ("=1+1", "'=1+1"), ("+8613800138000", "+8613800138000"), ("-5", "-5"),
    ("+1+cmd|' /C calc'!A0", "'+1+cmd|' /C calc'!A0"), ("-2+3", "'-2+3"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\t=1", "'\t=1"),
    ("张伟", "张伟"), ("", ""), (None, ""), (12, "12"),
])  # fmt: skip
def test_neutralize(value, expected):
    assert neutralize(value) == expected


def test_api_export(api, rep, admin, book):
    client = api(rep)
    response = client.get("/contacts/export", format="csv", columns="phone,cf.nothing")
    assert response.status_code == 422 and "cf.nothing" in response.json()["errors"][0]["message"]
    rows = _csv(client.get("/contacts/export", format="csv", columns="phone,tags", tag="vip"))
    assert rows[0] == ["id", "name", "Phone", "Tags"] and len(rows) == 6
    accounts = _csv(api(admin).get("/accounts/export", format="csv"))
    assert [row[1] for row in accounts[1:]] == ["远景贸易"]
    assert api(admin).get("/accounts/export", format="vcf").status_code == 422


def test_api_export_needs_the_export_permission(api, workspace, book):
    agent = make_member(workspace=workspace, role_key="service_agent", username="agent")
    assert api(agent).get("/contacts/export", format="csv").status_code == 403

"""Imports of leads through the engine: Chinese and English headers, business cards (vCard),
routing of every imported lead like a web lead, matches by external id / phone / e-mail
(in the workspace and earlier in the file), per-row errors naming their column, the same
file twice, update and undo, and the command line."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import timezone

from guanxi.customers.imports import engine, mapping, readers
from guanxi.platform.context import acting_in
from guanxi.sales import leads
from guanxi.sales.lead_routing import services as routing
from guanxi.sales.models import Lead
from tests.factories import make_member, make_team

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"
CSV = SAMPLES / "leads-zh.csv"
CARDS = SAMPLES / "business-cards.vcf"


@pytest.fixture(autouse=True)
def media(settings, tmp_path, workspace):
    settings.MEDIA_ROOT = tmp_path
    with acting_in(workspace):
        yield


def job_for(member, data: bytes | str, name="leads.csv", **kwargs):
    upload = data.encode() if isinstance(data, str) else data
    return engine.create_job(
        membership=member, kind="leads", upload=upload, file_name=name, **kwargs
    )


def _leads(workspace):
    return {lead.external_id or lead.email: lead for lead in Lead.objects.for_workspace(workspace)}


def test_headers_in_chinese_and_english_and_the_vcard_columns_are_recognised():
    zh = mapping.suggest(CSV.read_text(encoding="utf-8").splitlines()[0].split(","), "leads")
    assert {column: spec["field"] for column, spec in zh.items()} == {
        "线索编号": "external_id", "姓名": "full_name", "公司": "company", "职位": "title",
        "手机": "phone", "邮箱": "email", "省份": "region", "城市": "city", "行业": "industry",
        "意向产品": "product_interest", "来源": "source", "展会名称": "source_detail",
        "同意联系": "consent", "备注": "message",
    }  # fmt: skip
    cards = mapping.suggest(list(readers.VCARD_COLUMNS), "leads")
    fields = {spec["field"] for spec in cards.values()}
    assert {"family_name", "given_name", "phone", "phone2", "email", "company", "title",
            "city", "region", "country", "message", "website"} <= fields  # fmt: skip


def test_a_trade_show_list_becomes_routed_scored_leads(admin, workspace):
    east = make_team(workspace=workspace, name="华东")
    reps = [make_member(workspace=workspace, team=east, username=f"east{i}") for i in range(2)]
    routing.create_assignment_rule(workspace=workspace, by=admin.user, name="江浙",
                                   regions=["江苏省", "浙江省"], method="round_robin", team=east)  # fmt: skip
    routing.create_scoring_rule(workspace=workspace, by=admin.user, name="Buyer",
                                field="title", operator="contains", value="经理", points=20)  # fmt: skip
    routing.create_sla_policy(workspace=workspace, by=admin.user, name="All",
                              first_touch_minutes=240)  # fmt: skip
    job = job_for(admin, CSV.read_bytes())
    assert engine.dry_run(job)["created"] == 5
    assert not Lead.objects.for_workspace(workspace).exists()
    job = engine.run(job)
    assert job.counts["created"] == 5 and job.counts["errors"] == 0
    stored = _leads(workspace)
    chen = stored["TS-001"]
    assert (chen.family_name, chen.given_name, chen.phone) == ("陈", "晓明", "+8613912345601")
    assert (chen.source, chen.source_detail) == ("trade_show", "2026 光博会")
    assert chen.consent and "leads.csv" in chen.consent_text and chen.consent_at is not None
    assert chen.owner in {r.user for r in reps} and chen.team == east  # the rule routed it
    assert chen.score == 20 and chen.sla_due_at is not None
    assert {stored["TS-001"].owner, stored["TS-004"].owner} == {r.user for r in reps}
    assert stored["TS-002"].consent is False and stored["TS-002"].consent_text == ""
    assert stored["TS-003"].phone == "+390212345678" and stored["TS-003"].source == "trade_show"
    assert stored["TS-005"].source == "referral" and stored["TS-005"].company == ""
    # nobody's rule matched Guangdong: whoever imported works it
    assert stored["TS-002"].owner == admin.user


def test_business_cards_from_a_vcard_file(admin, workspace):
    job = job_for(admin, CARDS.read_bytes(), name="cards.vcf",
                  defaults={"source": "business_card", "source_detail": "光博会"})  # fmt: skip
    job = engine.run(job)
    assert job.counts["created"] == 2, job.dry_run_counts
    zhou = Lead.objects.for_workspace(workspace).get(email="zhou.hui@guanggu-tel.cn")
    assert (zhou.display_name, zhou.company, zhou.title) == ("周慧", "光谷通信", "销售总监")
    assert (zhou.source, zhou.source_detail) == ("business_card", "光博会")
    assert (zhou.country, zhou.region, zhou.city) == ("CN", "湖北省", "武汉")
    assert zhou.phone == "+8613612345678"
    assert "400G" in zhou.message and "027-87654321" in zhou.message  # the office line kept
    anna = Lead.objects.for_workspace(workspace).get(email="anna.mueller@netzwerk.example")
    assert (anna.country, anna.website) == ("DE", "https://netzwerk.example")


def test_bad_rows_name_their_column_and_the_rest_go_in(admin, workspace):
    text = ("姓名,手机,邮箱,来源,同意联系,国家\n"
            "李雷,12345,,展会,是,中国\n"
            "韩梅梅,13800138001,,传单,是,中国\n"
            "王芳,13800138002,,展会,也许,中国\n"
            ",,,展会,是,中国\n"
            "张伟,13800138003,,展会,是,亚特兰蒂斯\n"
            "赵磊,13800138004,,展会,是,中国\n")  # fmt: skip
    job = engine.run(job_for(admin, text))
    assert job.counts["created"] == 1 and job.counts["errors"] == 5
    errors = {(e["line"], e["column"]) for e in _error_rows(job)}
    assert errors >= {(2, "手机"), (3, "来源"), (4, "同意联系"), (5, "姓名"), (5, "手机"),
                      (6, "国家")}  # fmt: skip
    assert Lead.objects.for_workspace(workspace).get().display_name == "赵磊"


def _error_rows(job):
    from guanxi.customers.models import ImportRow

    return [
        {"line": row.line, **error}
        for row in ImportRow.objects.filter(job=job, outcome="error").order_by("line")
        for error in row.errors
    ]


def test_a_lead_already_reported_is_skipped_or_updated_and_undo_restores(admin, workspace):
    earlier = leads.create_lead(workspace=workspace, by=admin.user, full_name="陈晓明",
                                phone="13912345601", company="华信")  # fmt: skip
    text = ("姓名,手机,邮箱,公司,职位\n"
            "陈晓明,13912345601,,华信光电,采购经理\n"
            "Lucy Li,,lucy@example.cn,Li & Co,CEO\n"
            "Lucy Li,,LUCY@example.cn,Li & Co,CEO\n")  # fmt: skip
    job = engine.run(job_for(admin, text))
    # the first row is the lead already open; the third is the second one's twin
    assert (job.counts["created"], job.counts["skipped"]) == (1, 2)
    assert Lead.objects.for_workspace(workspace).count() == 2
    again = engine.run(job_for(admin, text))
    assert (again.counts["created"], again.counts["skipped"]) == (0, 3)
    updating = engine.run(job_for(admin, text, policy="update"))
    assert updating.counts["updated"] == 1  # the twins match and change nothing
    earlier.refresh_from_db()
    assert (earlier.company, earlier.title) == ("华信光电", "采购经理")
    engine.undo(updating, by=admin.user)
    earlier.refresh_from_db()
    assert (earlier.company, earlier.title) == ("华信", "")
    engine.undo(job, by=admin.user)
    assert list(Lead.objects.for_workspace(workspace)) == [earlier]


def test_a_converted_or_closed_lead_does_not_stop_a_new_one(admin, workspace):
    old = leads.create_lead(workspace=workspace, by=admin.user, full_name="陈晓明",
                            phone="13912345601")  # fmt: skip
    leads.change_status(lead=old, by=admin.user, expected_version=old.version,
                        status="disqualified", reason="无预算")  # fmt: skip
    job = engine.run(job_for(admin, "姓名,手机\n陈晓明,13912345601\n"))
    assert job.counts["created"] == 1


def test_a_rep_imports_what_the_role_allows(rep, workspace):
    job = engine.run(job_for(rep, "姓名,手机,负责人\n李娜,13800138009,root\n"))
    assert job.counts["errors"] == 1  # giving a lead to someone else needs the assign right
    job = engine.run(job_for(rep, "姓名,手机\n李娜,13800138009\n"))
    assert Lead.objects.for_workspace(workspace).get().owner == rep.user


def test_from_the_command_line(admin, workspace):
    out = StringIO()
    call_command("import", str(CARDS), "--type", "leads", "--workspace", "acme", "--user",
                 "root", "--default", "source=business_card", stdout=out, stderr=StringIO())  # fmt: skip
    assert json.loads(out.getvalue())["created"] == 2
    assert set(Lead.objects.for_workspace(workspace).values_list("source", flat=True)) == {
        "business_card"
    }


# --- business cards from the page and the API --------------------------------------------------
ONE_CARD = (
    "BEGIN:VCARD\r\nVERSION:3.0\r\nN:孙;丽;;;\r\nFN:孙丽\r\nORG:东方光电\r\n"
    "TEL;TYPE=CELL:13712345678\r\nEMAIL:sun.li@dongfang.cn\r\nEND:VCARD\r\n"
).encode()


def _browser(member):
    from django.test import Client

    client = Client(HTTP_HOST="127.0.0.1")
    client.force_login(member.user)
    return client


def test_cards_page_one_card_opens_its_lead_and_many_go_to_the_import(rep, workspace):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = _browser(rep)
    page = client.get("/leads/cards/")
    assert page.status_code == 200 and b'accept=".vcf' in page.content
    assert b"/leads/cards/" in client.get("/leads/").content
    response = client.post("/leads/cards/", {
        "file": SimpleUploadedFile("card.vcf", ONE_CARD, "text/vcard"), "met_at": "客户拜访",
        "consent": "on",
    })  # fmt: skip
    lead = Lead.objects.for_workspace(workspace).get()
    assert response.status_code == 302 and response["Location"] == f"/leads/{lead.public_id}/"
    assert (lead.source, lead.source_detail, lead.consent) == ("business_card", "客户拜访", True)
    assert lead.owner == rep.user
    response = client.post("/leads/cards/", {
        "file": SimpleUploadedFile("cards.vcf", CARDS.read_bytes() + ONE_CARD, "text/vcard")})  # fmt: skip
    assert response.status_code == 302 and response["Location"].startswith("/imports/imp_")
    followed = client.get(response["Location"])
    assert "2 leads from 3 cards; 1 already known" in followed.content.decode()
    wrong = client.post("/leads/cards/", {
        "file": SimpleUploadedFile("list.csv", CSV.read_bytes(), "text/csv")})  # fmt: skip
    assert wrong.status_code == 422 and "vCard" in wrong.content.decode()


def test_cards_through_the_api(api, rep, workspace):
    client = api(rep)
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = client.client.post(
        "/api/v1/leads/cards",
        {"file": SimpleUploadedFile("cards.vcf", CARDS.read_bytes()), "met_at": "光博会"},
        headers={"Authorization": f"Bearer {client.token}"},
    )  # fmt: skip
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["counts"]["created"] == 2 and body["import_id"].startswith("imp_")
    assert {lead["source"] for lead in body["leads"]} == {"business_card"}
    assert {lead["source_detail"] for lead in body["leads"]} == {"光博会"}
    wrong = client.client.post(
        "/api/v1/leads/cards", {"file": SimpleUploadedFile("x.csv", b"name,phone\n")},
        headers={"Authorization": f"Bearer {client.token}"},
    )  # fmt: skip
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "file"
    analyst = api(make_member(workspace=workspace, role_key="analyst"))
    refused = analyst.client.post(
        "/api/v1/leads/cards", {"file": SimpleUploadedFile("c.vcf", ONE_CARD)},
        headers={"Authorization": f"Bearer {analyst.token}"},
    )  # fmt: skip
    assert refused.status_code == 403  # reading leads is not adding them
    assert _browser(analyst.membership).get("/leads/cards/").status_code == 403


def test_twins_in_one_batch_with_create_and_update(admin, workspace):
    text = ("线索编号,姓名,手机,职位\n"
            "X-1,王芳,13800138071,\n"
            "X-1,王芳,13800138071,采购经理\n")  # fmt: skip
    created = engine.run(job_for(admin, text, policy="create"))
    assert (created.counts["created"], created.counts["errors"]) == (1, 1)  # one id, one lead
    assert _error_rows(created)[0]["column"] == "线索编号"
    Lead.objects.for_workspace(workspace).update(deleted_at=timezone.now())
    updated = engine.run(job_for(admin, text, policy="update"))
    assert (updated.counts["created"], updated.counts["updated"]) == (1, 1)
    lead = Lead.objects.for_workspace(workspace).get(deleted_at__isnull=True)
    assert lead.title == "采购经理" and lead.owner == admin.user
    assert lead.history.filter(history_type="+").count() == 1

"""Imports of interactions onto contacts' timelines: mapping of English and Chinese headers,
contacts found by external id, phone or e-mail (only those the importer can see), date-time
formats in the workspace's time zone, idempotent external ids, resume, undo, the report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from guanxi.customers.imports import engine, interactions, mapping
from guanxi.customers.models import ImportRow
from guanxi.customers.services import ContactPointInput, create_account, create_contact
from guanxi.platform.context import acting_in
from guanxi.platform.errors import ValidationFailed
from guanxi.timeline.models import Interaction
from tests.factories import make_member

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.fixture(autouse=True)
def media(settings, tmp_path, workspace):
    settings.MEDIA_ROOT = tmp_path
    with acting_in(workspace):
        yield


@pytest.fixture
def people(admin, rep):
    """Zhang (external id C-1, a phone, at an account) owned by the rep; Wang (an e-mail)
    owned by the administrator."""
    company = create_account(workspace=admin.workspace, by=admin.user, name="远景贸易")
    zhang = create_contact(
        workspace=admin.workspace, by=rep.user, owner=rep.user, full_name="张伟",
        external_id="C-1", account=company,
        contact_points=[ContactPointInput(kind="phone", value="13800138000")],
    )  # fmt: skip
    wang = create_contact(
        workspace=admin.workspace, by=admin.user, full_name="王芳",
        contact_points=[ContactPointInput(kind="email", value="Wang.Fang@Example.cn")],
    )  # fmt: skip
    return {"zhang": zhang, "wang": wang, "company": company}


def job_for(member, text, name="log.csv", **kwargs):
    return engine.create_job(
        membership=member, kind="interactions", upload=text.encode(), file_name=name, **kwargs
    )


LOG = (
    "客户编号,手机,邮箱,渠道,方向,时间,主题,内容,记录编号\n"
    "C-1,,,电话,呼入,2024-03-15 14:30,询价,问了报价,R1\n"
    ",138 0013 8000,,微信,outbound,2024/3/16 9:05,,发了资料,R2\n"
    ",,WANG.FANG@example.cn,email,inbound,2024年3月17日 10时00分,回复,,R3\n"
    ",13900000000,,电话,呼出,2024-03-18,,,R4\n"
    "C-1,,,飞鸽,呼入,昨天,,,R5\n"
    "C-1,,,电话,呼入,2024-03-15 14:30,询价,again,R1\n"
)


def test_headers_in_chinese_and_english_are_recognised():
    zh = mapping.suggest(["客户编号", "手机", "邮箱", "渠道", "方向", "时间", "主题", "内容",
                          "记录编号", "坐席"], "interactions")  # fmt: skip
    assert {c: m["field"] for c, m in zh.items()} == {
        "客户编号": "contact_external_id", "手机": "phone", "邮箱": "email",
        "渠道": "channel", "方向": "direction", "时间": "occurred_at", "主题": "subject",
        "内容": "body", "记录编号": "external_id", "坐席": "actor",
    }  # fmt: skip
    en = mapping.suggest(["Customer ID", "Mobile", "E-mail", "Channel", "Direction", "Date",
                          "Subject", "Notes", "ID"], "interactions")  # fmt: skip
    assert [m["field"] for m in en.values()] == [
        "contact_external_id", "phone", "email", "channel", "direction", "occurred_at",
        "subject", "body", "external_id",
    ]  # fmt: skip


def test_a_contact_column_is_required(admin):
    job = job_for(admin, "渠道,时间\n电话,2024-01-01\n")
    with pytest.raises(ValidationFailed) as caught:
        engine.set_mapping(job=job, mapping={"渠道": "channel", "时间": "occurred_at"})
    assert "external id, phone or e-mail" in str(caught.value)
    counts = engine.dry_run(job)  # as suggested: each row says what it lacks
    assert counts["errors"] == 1
    assert "external id, phone or e-mail" in counts["errors_sample"][0]["message"]


@pytest.mark.parametrize("text, expected", [
    ("2024-03-15 14:30", datetime(2024, 3, 15, 14, 30, tzinfo=SHANGHAI)),
    ("2024-03-15T14:30:00+00:00", datetime(2024, 3, 15, 14, 30, tzinfo=UTC)),
    ("2024-03-15T06:30:00Z", datetime(2024, 3, 15, 6, 30, tzinfo=UTC)),
    ("2024/3/15 14:30", datetime(2024, 3, 15, 14, 30, tzinfo=SHANGHAI)),
    ("2024年3月15日 14时30分", datetime(2024, 3, 15, 14, 30, tzinfo=SHANGHAI)),
    ("2024年3月15日", datetime(2024, 3, 15, tzinfo=SHANGHAI)),
    ("15/03/2024 14:30", datetime(2024, 3, 15, 14, 30, tzinfo=SHANGHAI)),
    ("03/15/2024 2:30 pm", datetime(2024, 3, 15, 14, 30, tzinfo=SHANGHAI)),
    ("20240315143000", datetime(2024, 3, 15, 14, 30, tzinfo=SHANGHAI)),
    ("1710484200", datetime(2024, 3, 15, 6, 30, tzinfo=UTC)),
    ("２０２４-０３-１５ １４:３０", datetime(2024, 3, 15, 14, 30, tzinfo=SHANGHAI)),
    ("yesterday", None),
])  # fmt: skip
def test_date_time_formats(text, expected):
    assert interactions.parse_datetime(text, SHANGHAI) == expected


def test_dry_run_then_run_onto_the_timelines(admin, people):
    job = job_for(admin, LOG)
    assert job.mapping["时间"]["field"] == "occurred_at"
    counts = engine.dry_run(job)
    assert Interaction.objects.for_workspace(admin.workspace).count() == 0
    assert counts["total"] == 6 and counts["created"] == 3 and counts["errors"] == 2
    assert counts["skipped"] == 1 and counts["duplicates"] == 1
    errors = {(e["line"], e["column"]): e for e in counts["errors_sample"]}
    assert "no contact you can see" in errors[(5, "手机")]["message"]
    assert errors[(5, "手机")]["value"] == "13900000000"
    assert (6, "渠道") in errors and (6, "时间") in errors  # every problem of the row
    job = engine.run(job)
    assert job.counts == {"total": 6, "created": 3, "updated": 0, "skipped": 1, "review": 0,
                          "duplicates": 1, "errors": 2}  # fmt: skip
    zhang, wang = people["zhang"], people["wang"]
    stored = {i.external_id: i for i in Interaction.objects.for_workspace(admin.workspace)}
    assert set(stored) == {"R1", "R2", "R3"}
    call = stored["R1"]
    assert (call.contact_id, call.channel, call.direction) == (zhang.pk, "phone", "inbound")
    assert call.account_id == people["company"].pk  # the contact's primary account
    assert call.occurred_at == datetime(2024, 3, 15, 6, 30, tzinfo=UTC)  # Shanghai time
    assert (call.subject, call.body, call.actor_id) == ("询价", "问了报价", admin.user_id)
    assert call.public_id.startswith("int_") and len(call.public_id) == 30
    assert stored["R2"].contact_id == zhang.pk and stored["R2"].channel == "wechat"
    assert stored["R3"].contact_id == wang.pk  # the e-mail matched whatever its case
    assert stored["R3"].occurred_at == datetime(2024, 3, 17, 2, 0, tzinfo=UTC)
    # the same file again: every external id is stored already
    again = engine.run(job_for(admin, LOG))
    assert again.counts["created"] == 0 and again.counts["skipped"] == 4
    assert Interaction.objects.for_workspace(admin.workspace).count() == 3


def test_contacts_the_importer_cannot_see_are_errors(admin, rep, people):
    other = make_member(workspace=admin.workspace, role_key="sales_rep", username="other.rep")
    text = "手机,邮箱,渠道,方向,时间\n13800138000,,电话,呼入,2024-03-15 14:30\n"
    job = engine.run(job_for(other, text))
    assert job.counts["errors"] == 1 and job.counts["created"] == 0
    error = ImportRow.objects.get(job=job).errors[0]
    assert error["column"] == "手机" and "no contact you can see" in error["message"]
    mine = engine.run(job_for(rep, text))  # the rep owns Zhang
    assert mine.counts["created"] == 1


def test_defaults_fill_empty_cells_and_unknown_defaults_are_refused(admin, people):
    text = "邮箱,时间,内容\nwang.fang@example.cn,2024-05-01 08:00,你好\n"
    job = engine.run(job_for(admin, text, defaults={"channel": "wechat", "direction": "in"}))
    assert job.counts["created"] == 1
    assert Interaction.objects.for_workspace(admin.workspace).get().channel == "wechat"
    with pytest.raises(ValidationFailed):
        job_for(admin, text, defaults={"colour": "blue"})


def test_resume_after_a_stop_loses_and_doubles_nothing(admin, people):
    lines = ["客户编号,渠道,方向,时间,记录编号"]
    lines += [f"C-1,电话,呼入,2024-01-01 08:{i:02d},E{i}" for i in range(25)]
    job = job_for(admin, "\n".join(lines))
    engine.run(job, batch=10, stop_after=1)
    job.refresh_from_db()
    assert job.checkpoint == 11
    assert Interaction.objects.for_workspace(admin.workspace).count() == 10
    engine.run(job, batch=10)
    job.refresh_from_db()
    assert job.status == "done" and job.counts["created"] == 25
    assert Interaction.objects.for_workspace(admin.workspace).count() == 25


def test_undo_takes_them_off_and_the_file_can_come_in_again(admin, people):
    job = engine.run(job_for(admin, LOG))
    assert engine.undo(job, by=admin.user) == {"removed": 3, "restored": 0}
    assert Interaction.objects.for_workspace(admin.workspace, include_deleted=True).count() == 0
    assert engine.run(job_for(admin, LOG)).counts["created"] == 3


def test_error_report_has_the_rows_as_they_were(admin, people):
    job = engine.run(job_for(admin, LOG))
    header, rows = engine.error_report(job)
    rows = list(rows)
    assert header[-2:] == ["line", "errors"] and len(rows) == 2
    assert rows[0][1] == "13900000000" and "no contact you can see" in rows[0][-1]


def test_cli(admin, people, tmp_path):
    path = tmp_path / "calls.csv"
    path.write_text("Customer ID,Date,Subject\nC-1,2024-03-15 14:30,Call back\n", encoding="utf-8")
    out = StringIO()
    call_command("import", str(path), "--type", "interactions", "--workspace",
                 admin.workspace.slug, "--default", "channel=phone", "--default",
                 "direction=outbound", stdout=out, stderr=StringIO())  # fmt: skip
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["created"] == 1 and result["errors"] == 0
    assert Interaction.objects.for_workspace(admin.workspace).get().subject == "Call back"


def test_api(api, admin, people):
    client = api(admin)
    upload = client.client.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("log.csv", LOG.encode()), "type": "interactions",
         "dry_run": "true"},
        headers=client._headers(None),
    )  # fmt: skip
    assert upload.status_code == 201, upload.content
    job = upload.json()
    assert job["type"] == "interactions" and job["dry_run"]["created"] == 3
    ran = client.post(f"/imports/{job['id']}/run?wait=true")
    assert ran.status_code == 200 and ran.json()["counts"]["created"] == 3
    assert client.post(f"/imports/{job['id']}/undo").json()["status"] == "undone"


def test_wizard(admin, people):
    from tests.web.test_pages import browser

    client = browser(admin)
    assert '<option value="interactions"' in client.get("/imports/").content.decode()
    upload = client.post("/imports/", {"file": SimpleUploadedFile("log.csv", LOG.encode()),
                                       "type": "interactions", "policy": "skip"})  # fmt: skip
    job = engine.ImportJob.objects.for_workspace(admin.workspace).get()
    assert upload["Location"] == f"/imports/{job.public_id}/" and job.kind == "interactions"
    page = client.get(upload["Location"]).content.decode()
    assert '<option value="occurred_at" selected>' in page
    form = {f"field-{i}": job.mapping[column]["field"] for i, column in enumerate(job.columns)}
    done = client.post(upload["Location"], {**form, "policy": "skip", "step": "run"})
    assert done.status_code == 302
    job.refresh_from_db()
    assert (job.status, job.error, job.counts.get("created")) == ("done", "", 3)
    assert Interaction.objects.for_workspace(admin.workspace).count() == 3

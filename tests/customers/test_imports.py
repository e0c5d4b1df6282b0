"""Imports: reading every format and encoding, mapping, dry run, policies, resuming, undo."""

from __future__ import annotations

import json
from io import StringIO
from pathlib import Path

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command

from guanxi.customers.imports import engine, mapping, readers
from guanxi.customers.models import Account, Contact, ContactPoint, ImportJob, ImportRow
from guanxi.customers.services import ContactPointInput, create_contact
from guanxi.platform.context import acting_in
from tests.factories import make_member

pytestmark = pytest.mark.django_db
SAMPLES = Path(__file__).resolve().parents[2] / "docs" / "samples"


@pytest.fixture(autouse=True)
def media(settings, tmp_path, workspace):
    settings.MEDIA_ROOT = tmp_path
    with acting_in(workspace):  # for the related managers the assertions use
        yield


def job_for(member, name, content, **kwargs):
    data = content if isinstance(content, bytes) else content.encode()
    return engine.create_job(membership=member, kind=kwargs.pop("kind", "contacts"),
                             upload=data, file_name=name, **kwargs)  # fmt: skip


def sample(name):
    return (SAMPLES / name).read_bytes()


def test_chinese_english_and_traditional_headers_are_recognised():
    columns = ["姓名", "手機", "電子郵件", "公司名稱", "職位", "城市", "省", "備註", "Office Phone"]
    suggested = mapping.suggest(columns, "contacts")
    assert {c: m["field"] for c, m in suggested.items()} == {
        "姓名": "full_name", "手機": "phone", "電子郵件": "email", "公司名稱": "company",
        "職位": "title", "城市": "city", "省": "region", "Office Phone": "phone2",
    }  # fmt: skip
    english = mapping.suggest(["First Name", "Last Name", "E-mail Address", "Mobile", "Phone"],
                              "contacts")  # fmt: skip
    assert [m["field"] for m in english.values()] == [
        "given_name", "family_name", "email", "phone", "phone2"]  # fmt: skip


@pytest.mark.parametrize("encoding", ["utf_8", "utf_8_sig", "gb18030", "big5"])
def test_encodings_are_detected(admin, encoding):
    text = "姓名,手機\n張偉,13800138000\n陳傑,13700001111\n" * 3
    job = job_for(admin, "people.csv", text.encode(encoding))
    assert job.encoding.replace("-", "_").lower() in (
        encoding,
        "gbk" if encoding == "gb18030" else encoding,
    )
    rows = [row for _line, row in readers.rows(Path(job.file_path), engine.file_info(job))]
    assert rows[0] == {"姓名": "張偉", "手機": "13800138000"}


def test_dry_run_counts_and_explains_without_keeping_anything(admin):
    job = job_for(admin, "contacts-zh.csv", sample("contacts-zh.csv"))
    counts = engine.dry_run(job)
    assert Contact.objects.for_workspace(admin.workspace).count() == 0
    assert counts["total"] == 12 and counts["errors"] == 3
    assert counts["created"] == 6 and counts["skipped"] == 3 and counts["duplicates"] == 3
    lines = {(e["line"], e["column"]) for e in counts["errors_sample"]}
    assert (4, "手机") in lines  # 12345: too short
    assert (5, "邮箱") in lines  # chen.jie@
    assert (6, "姓名") in lines  # no name
    message = next(e for e in counts["errors_sample"] if e["line"] == 4)
    assert message["value"] == "12345" and "12345" in message["message"]


def test_run_creates_links_and_keeps_formulas_as_text(admin):
    job = engine.run(job_for(admin, "contacts-zh.csv", sample("contacts-zh.csv")))
    assert job.status == "done"
    assert job.counts == {"total": 12, "created": 6, "updated": 0, "skipped": 3, "review": 0,
                          "duplicates": 3, "errors": 3}  # fmt: skip
    contacts = Contact.objects.for_workspace(admin.workspace)
    zhang = contacts.get(external_id="C-001")
    assert (zhang.family_name, zhang.given_name) == ("张", "伟")
    assert zhang.memberships.get().account.name == "上海远景贸易有限公司"
    assert {t.name for t in zhang.tags.all()} == {"vip", "展会"}
    assert contacts.get(external_id="C-011").family_name == "欧阳"  # compound family name
    assert contacts.get(external_id="C-007").family_name == "Wong"
    formula = Account.objects.for_workspace(admin.workspace).get(name__startswith="=cmd")
    assert formula.name == "=cmd|' /C calc'!A0"  # stored as typed; exports neutralize it
    errors = ImportRow.objects.filter(job=job, outcome="error").order_by("line")
    assert [r.line for r in errors] == [4, 5, 6]
    assert errors[0].data["姓名"] == "李娜"  # the original row, for the error report


def test_second_import_skips_updates_or_sets_aside(admin):
    engine.run(job_for(admin, "contacts-zh.csv", sample("contacts-zh.csv")))
    again = engine.run(job_for(admin, "contacts-zh.csv", sample("contacts-zh.csv")))
    assert again.counts["created"] == 0 and again.counts["skipped"] == 9
    changed = "姓名,手机,职位,标签\n张伟,13800138000,采购总监,老客户\n"
    update = engine.run(job_for(admin, "update.csv", changed, policy="update"))
    assert update.counts["updated"] == 1
    zhang = Contact.objects.for_workspace(admin.workspace).get(external_id="C-001")
    assert zhang.occupation == "" and "老客户" in {t.name for t in zhang.tags.all()}
    review = engine.run(job_for(admin, "review.csv", changed, policy="review"))
    assert review.counts["review"] == 1
    assert ImportRow.objects.get(job=review, outcome="review").matched_id == zhang.pk


def test_update_then_undo_restores(admin, rep):
    contact = create_contact(workspace=admin.workspace, by=admin.user, family_name="钱",
                             given_name="多", occupation="会计",
                             contact_points=[ContactPointInput(kind="phone", value="13500001111")])  # fmt: skip
    text = "手机,职业,邮箱,标签\n13500001111,财务总监,qian.duo@example.cn,大客户\n"
    job = engine.run(job_for(admin, "update.csv", text, policy="update"))
    contact.refresh_from_db()
    assert contact.occupation == "财务总监"
    assert (
        ContactPoint.objects.for_workspace(admin.workspace)
        .filter(contact=contact, kind="email")
        .exists()
    )
    result = engine.undo(job, by=admin.user)
    assert result == {"removed": 0, "restored": 1}
    contact.refresh_from_db()
    assert contact.occupation == "会计"
    assert (
        not ContactPoint.objects.for_workspace(admin.workspace)
        .filter(contact=contact, kind="email")
        .exists()
    )
    assert not contact.tags.exists()


def test_undo_removes_what_the_import_created(admin):
    job = engine.run(job_for(admin, "contacts-zh.csv", sample("contacts-zh.csv")))
    assert engine.undo(job, by=admin.user)["removed"] == 6
    assert Contact.objects.for_workspace(admin.workspace).count() == 0
    # and the same file comes in again cleanly: nothing left claims its phones
    assert (
        engine.run(job_for(admin, "contacts-zh.csv", sample("contacts-zh.csv"))).counts["created"]
        == 6
    )


def test_a_stopped_import_resumes_with_no_row_lost_or_doubled(admin):
    lines = ["姓名,手机"] + [f"客户{i},139{i:08d}" for i in range(25)]
    job = job_for(admin, "many.csv", "\n".join(lines))
    engine.run(job, batch=10, stop_after=1)  # as if killed after the first batch
    job.refresh_from_db()
    assert job.checkpoint == 11 and Contact.objects.for_workspace(admin.workspace).count() == 10
    engine.run(job, batch=10)
    job.refresh_from_db()
    assert job.status == "done" and job.counts["created"] == 25 and job.counts["total"] == 25
    assert Contact.objects.for_workspace(admin.workspace).count() == 25


def test_xlsx_vcard_and_json_lines(admin, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(["Name", "Mobile", "Birthday"])
    sheet.append(["Li Lei", 13800001234, "1990/05/04"])
    path = tmp_path / "people.xlsx"
    workbook.save(path)
    job = engine.run(job_for(admin, "people.xlsx", path.read_bytes()))
    assert job.counts["created"] == 1
    lilei = Contact.objects.for_workspace(admin.workspace).get(given_name="Li")
    assert str(lilei.birthday) == "1990-05-04"
    cards = engine.run(job_for(admin, "cards.vcf", sample("cards.vcf")))
    assert cards.counts["created"] == 2
    liu = Contact.objects.for_workspace(admin.workspace).get(family_name="刘")
    assert liu.memberships.get().account.name == "星河科技"
    assert liu.addresses.get().city == "杭州"
    lines = '{"family_name": "吴", "given_name": "凡", "email": "wu@example.cn"}\n{broken\n'
    jsonl = engine.run(job_for(admin, "more.jsonl", lines))
    assert jsonl.counts["created"] == 1 and jsonl.counts["errors"] == 1


def test_accounts_sample(admin):
    job = engine.run(job_for(admin, "accounts-en.csv", sample("accounts-en.csv"), kind="accounts"))
    assert job.counts["created"] == 2 and job.counts["errors"] == 2
    errors = {r.line: r.errors[0] for r in ImportRow.objects.filter(job=job, outcome="error")}
    assert errors[4]["column"] == "Company Name" and errors[5]["column"] == "Website"


@pytest.mark.parametrize("content, message", [
    (b"", "empty"),
    ("姓名\n".encode("utf-16"), "not a text file"),
    (b"a,a\n1,2\n", "different names"),
    (b"PK\x03\x04garbage", "Excel"),
])  # fmt: skip
def test_files_that_cannot_be_read_say_why(admin, content, message):
    from guanxi.platform.errors import ValidationFailed

    name = "x.xlsx" if content.startswith(b"PK") else "x.csv"
    with pytest.raises(ValidationFailed) as caught:
        job_for(admin, name, content)
    assert message in str(caught.value)
    assert not ImportJob.objects.for_workspace(admin.workspace).exists()


def test_ragged_rows_are_errors_not_crashes(admin):
    job = engine.run(job_for(admin, "r.csv", "姓名,手机\n张三,13800001111,extra\n李四\n"))
    assert job.counts["errors"] == 1 and job.counts["created"] == 1
    assert "3 cells" in ImportRow.objects.get(job=job, outcome="error").errors[0]["message"]


def test_mapping_is_checked(admin):
    from guanxi.platform.errors import ValidationFailed

    job = job_for(admin, "contacts-zh.csv", sample("contacts-zh.csv"))
    with pytest.raises(ValidationFailed) as caught:
        engine.set_mapping(job=job, mapping={"手机": "phone", "邮箱": "phone", "nope": "email"})
    text = str(caught.value)
    assert "already filled" in text and "no such column" in text
    with pytest.raises(ValidationFailed) as caught:
        engine.set_mapping(job=job, mapping={"标签": "tags"})
    assert "map a column to" in str(caught.value)


def test_cli_prints_progress_and_one_json_line(admin, tmp_path):
    path = tmp_path / "contacts-zh.csv"
    path.write_bytes(sample("contacts-zh.csv"))
    out, err = StringIO(), StringIO()
    call_command("import", str(path), "--type", "contacts", "--workspace", admin.workspace.slug,
                 "--dry-run", stdout=out, stderr=err)  # fmt: skip
    result = json.loads(out.getvalue().strip().splitlines()[-1])
    assert result["created"] == 6 and result["errors"] == 3 and result["duplicates"] == 3
    assert "line 4" in err.getvalue()
    out = StringIO()
    call_command("import", str(path), "--workspace", admin.workspace.slug, "--policy", "skip",
                 stdout=out, stderr=StringIO())  # fmt: skip
    done = json.loads(out.getvalue().strip().splitlines()[-1])
    assert done["created"] == 6
    assert Contact.objects.for_workspace(admin.workspace).count() == 6


def test_api_upload_check_run_and_error_report(api, admin, rep):
    client = api(rep)
    upload = client.client.post(
        "/api/v1/imports",
        {"file": SimpleUploadedFile("contacts-zh.csv", sample("contacts-zh.csv")),
         "type": "contacts", "policy": "skip", "dry_run": "true"},
        headers=client._headers(None),
    )  # fmt: skip
    assert upload.status_code == 201, upload.content
    job = upload.json()
    assert job["mapping"]["手机"]["field"] == "phone" and job["dry_run"]["errors"] == 3
    ran = client.post(f"/imports/{job['id']}/run?wait=true")
    assert ran.status_code == 200 and ran.json()["counts"]["created"] == 6
    report = client.get(f"/imports/{job['id']}/errors", format="csv")
    text = b"".join(report.streaming_content).decode("utf-8-sig")
    lines = text.strip().splitlines()
    assert lines[0].endswith("line,errors") and len(lines) == 4
    assert "李娜" in lines[1] and "手机" in lines[1]
    # another rep does not see it
    other = make_member(workspace=admin.workspace, role_key="sales_rep", username="other.rep")
    assert api(other).get(f"/imports/{job['id']}").status_code == 404
    assert api(admin).get(f"/imports/{job['id']}").status_code == 200  # administrators do
    undone = client.post(f"/imports/{job['id']}/undo")
    assert undone.json()["status"] == "undone"
    assert Contact.objects.for_workspace(admin.workspace).count() == 0


@pytest.mark.django_db(transaction=True)  # the worker opens and closes its own connections
def test_api_large_imports_go_to_the_background(api, admin, settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default"]}}  # fmt: skip
    client = api(admin)
    lines = "\n".join(["姓名,手机"] + [f"客户{i},139{i:08d}" for i in range(30)])
    upload = client.client.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("many.csv", lines.encode())},
        headers=client._headers(None),
    )  # fmt: skip
    job_id = upload.json()["id"]
    queued = client.post(f"/imports/{job_id}/run")
    assert queued.status_code == 202 and queued.json()["status"] == "queued"
    from django_tasks_db.models import DBTaskResult

    assert DBTaskResult.objects.filter(task_path__endswith="run_import").count() == 1
    call_command("worker", "--batch", stdout=StringIO(), stderr=StringIO())
    assert client.get(f"/imports/{job_id}").json()["counts"]["created"] == 30


def test_cli_maps_with_a_saved_template_by_name(admin, tmp_path):
    from django.core.management.base import CommandError

    from guanxi.customers import import_templates

    text = "Name,Mobile,Where\n张伟,13800138000,上海\n"
    path = tmp_path / "cards.csv"
    path.write_text(text, encoding="utf-8")
    import_templates.create_template(
        membership=admin, kind="contacts", name="名片",
        mapping={"Name": {"field": "full_name"}, "Mobile": {"field": "phone"},
                 "Where": {"field": "city"}},
        defaults={"source": "展会"},
    )  # fmt: skip
    out = StringIO()
    call_command("import", str(path), "--workspace", admin.workspace.slug, "--mapping", "名片",
                 stdout=out, stderr=StringIO())  # fmt: skip
    assert json.loads(out.getvalue().strip().splitlines()[-1])["created"] == 1
    contact = Contact.objects.for_workspace(admin.workspace).get()
    assert contact.source == "展会" and contact.display_name == "张伟"
    with pytest.raises(CommandError, match="no file and no contacts import template"):
        call_command("import", str(path), "--workspace", admin.workspace.slug,
                     "--mapping", "没有这个模板")  # fmt: skip

"""Background exports: the file has what the author may export when it runs, formulas
neutralized; the author is notified; failures are recorded; old files are removed."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import openpyxl
import pytest
import vobject
from django.core.management import call_command
from django.utils import timezone

from guanxi.customers import export_jobs
from guanxi.customers import services as customers
from guanxi.customers.models import ExportJob
from guanxi.customers.services import ContactPointInput
from guanxi.platform import services
from guanxi.platform.errors import Forbidden, ValidationFailed
from guanxi.platform.models import AuditEvent, Notification, Role
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def book(workspace, rep, team):
    mine = [
        customers.create_contact(
            workspace=workspace, by=rep.user, family_name="张", given_name=f"伟{i}",
            tags=["vip"] if i % 2 else [],
            occupation="=HYPERLINK(\"http://x\")" if i == 0 else "采购",
            contact_points=[ContactPointInput(kind="phone", value=f"138 0013 80{i:02d}")],
        )
        for i in range(5)
    ]  # fmt: skip
    colleague = make_member(workspace=workspace, role_key="sales_rep", team=team, username="wang")
    theirs = customers.create_contact(workspace=workspace, by=colleague.user, family_name="王",
                                      given_name="芳")  # fmt: skip
    return {"mine": mine, "theirs": theirs, "colleague": colleague}


def _csv(job: ExportJob) -> list[list[str]]:
    text = Path(job.file_path).read_text(encoding="utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def test_csv_export_in_the_background(rep, book):
    job = export_jobs.start_export(
        membership=rep, kind="contacts", fmt="csv", columns=["phone", "tags", "occupation"],
        query="format=csv",
    )  # fmt: skip
    job.refresh_from_db()  # the test settings run tasks at once
    assert job.status == "done" and job.rows == 5 and job.finished_at is not None
    assert job.file_name.startswith("contacts-") and job.file_name.endswith(".csv")
    assert Path(job.file_path).parent == export_jobs.storage_dir(rep.workspace_id)
    assert job.file_size == Path(job.file_path).stat().st_size
    rows = _csv(job)
    assert rows[0] == ["id", "name", "Phone", "Tags", "Occupation"]
    assert sorted(r[1] for r in rows[1:]) == [f"张伟{i}" for i in range(5)]  # not the team's
    first = next(r for r in rows if r[1] == "张伟0")
    assert first[2] == "+8613800138000" and first[4].startswith("'=HYPERLINK")
    event = AuditEvent.objects.get(action="contact.exported")
    assert event.data["rows"] == 5 and event.data["background"] and event.actor == rep.user
    assert event.object_id == job.public_id
    note = Notification.objects.for_workspace(rep.workspace).get(recipient=rep.user)
    assert note.kind == "export.done" and note.url == f"export:{job.public_id}"
    assert note.data == {"file": job.file_name, "rows": 5}


def test_filters_and_ticked_rows(rep, book):
    tagged = export_jobs.start_export(membership=rep, kind="contacts", fmt="csv",
                                      filters={"tag": "vip"})  # fmt: skip
    tagged.refresh_from_db()
    assert tagged.rows == 2
    ids = [book["mine"][0].public_id, book["theirs"].public_id]
    ticked = export_jobs.start_export(membership=rep, kind="contacts", fmt="csv", ids=ids)
    ticked.refresh_from_db()
    assert [r[1] for r in _csv(ticked)[1:]] == ["张伟0"]  # not exportable: left out


def test_xlsx_and_vcard(rep, book):
    xlsx = export_jobs.start_export(membership=rep, kind="contacts", fmt="xlsx",
                                    columns=["phone", "occupation"])  # fmt: skip
    xlsx.refresh_from_db()
    sheet = openpyxl.load_workbook(xlsx.file_path).active
    values = list(sheet.values)
    assert values[0] == ("id", "name", "Phone", "Occupation") and len(values) == 6
    assert any(str(v[3]).startswith("'=HYPERLINK") for v in values[1:])
    vcf = export_jobs.start_export(membership=rep, kind="contacts", fmt="vcf")
    vcf.refresh_from_db()
    cards = list(vobject.readComponents(Path(vcf.file_path).read_text(encoding="utf-8")))
    assert vcf.rows == 5 and len(cards) == 5


def test_what_is_checked_when_asking(workspace, rep, book):
    with pytest.raises(ValidationFailed, match="vCard"):
        export_jobs.start_export(membership=rep, kind="accounts", fmt="vcf")
    with pytest.raises(ValidationFailed, match="unknown"):
        export_jobs.start_export(membership=rep, kind="contacts", fmt="csv", columns=["shoe"])
    agent = make_member(workspace=workspace, role_key="service_agent", username="agent")
    with pytest.raises(Forbidden):  # may view contacts, not export them
        export_jobs.start_export(membership=agent, kind="contacts", fmt="csv")
    assert not ExportJob.objects.for_workspace(workspace).exists()


def test_the_job_runs_with_the_authors_rights_when_it_runs(settings, workspace, rep, book):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    job = export_jobs.start_export(membership=rep, kind="contacts", fmt="csv")
    assert job.status == "queued"
    # the role loses the export grant before the worker gets to it
    role = Role.objects.for_workspace(workspace).get(key="sales_rep")
    permissions = role.grants()
    permissions["customers.contact"] = {**permissions["customers.contact"], "export": "none"}
    services.update_role(role=role, by=rep.user, expected_version=role.version,
                         permissions=permissions)  # fmt: skip
    export_jobs.run(job)
    job.refresh_from_db()
    assert job.status == "failed" and "export" in job.error and not job.file_path
    assert not list(export_jobs.storage_dir(workspace.pk).glob("*"))
    note = Notification.objects.for_workspace(workspace).get(recipient=rep.user)
    assert note.kind == "export.failed"
    # a member who left: failed, nobody to notify
    second = export_jobs.start_export(membership=book["colleague"], kind="contacts", fmt="csv")
    services.remove_member(membership=book["colleague"], by=rep.user)
    export_jobs.run(second)
    second.refresh_from_db()
    assert second.status == "failed" and "no longer a member" in second.error


def test_old_files_are_removed(rep, book):
    job = export_jobs.start_export(membership=rep, kind="contacts", fmt="csv")
    job.refresh_from_db()
    path = Path(job.file_path)
    assert export_jobs.remove_old_files(days=7) == 0 and path.exists()
    ExportJob.objects.for_workspace(rep.workspace).filter(pk=job.pk).update(
        finished_at=timezone.now() - timedelta(days=8)
    )
    out = io.StringIO()
    call_command("prune_exports", "--days", "7", stdout=out)
    assert '"removed": 1' in out.getvalue() and not path.exists()
    job.refresh_from_db()
    assert job.file_path == "" and job.status == "done"
    with pytest.raises(ValidationFailed, match="removed"):
        export_jobs.open_download(job=job, membership=rep)


def test_downloads_are_the_authors_and_audited(rep, book):
    job = export_jobs.start_export(membership=rep, kind="contacts", fmt="csv")
    assert export_jobs.get_mine(membership=book["colleague"], public_id=job.public_id) is None
    job = export_jobs.get_mine(membership=rep, public_id=job.public_id)
    with export_jobs.open_download(job=job, membership=rep) as handle:
        assert handle.read(3) == "\ufeff".encode()
    assert (
        AuditEvent.objects.filter(action="export.downloaded", object_id=job.public_id).count() == 1
    )


@pytest.mark.django_db(transaction=True)  # the worker opens and closes its own connections
def test_the_real_queue_and_worker(settings, workspace, rep, book):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend",
                                  "QUEUES": ["default"]}}  # fmt: skip
    job = export_jobs.start_export(membership=rep, kind="contacts", fmt="xlsx")
    assert job.status == "queued"
    assert DBTaskResult.objects.filter(task_path__endswith="run_export_job").count() == 1
    call_command("worker", "--batch", stdout=io.StringIO(), stderr=io.StringIO())
    job.refresh_from_db()
    assert job.status == "done" and job.rows == 5 and Path(job.file_path).exists()

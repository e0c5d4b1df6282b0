"""Background exports in pages and over the API: long lists (or when asked) become a job,
the exports page lists them, the file downloads to its author only."""

from __future__ import annotations

import csv
import io

import pytest

from guanxi.customers import services as customers
from guanxi.customers.models import ExportJob
from guanxi.platform.models import AuditEvent, Notification
from tests.factories import make_member
from tests.web.test_pages import browser

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def book(workspace, rep):
    return [
        customers.create_contact(
            workspace=workspace,
            by=rep.user,
            family_name="张",
            given_name=f"伟{i}",
            tags=["vip"] if i < 2 else [],
        )
        for i in range(4)
    ]


def _rows(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_a_short_list_streams_a_long_one_goes_to_the_background(settings, workspace, rep, book):
    client = browser(rep)
    streamed = client.get("/contacts/export/", {"format": "csv"})
    assert "attachment" in streamed["Content-Disposition"]
    assert not ExportJob.objects.for_workspace(workspace).exists()
    settings.EXPORT_BACKGROUND_ROWS = 3
    queued = client.get("/contacts/export/", {"format": "csv", "tag": "", "cols": "tags"})
    assert queued.status_code == 302 and queued["Location"] == "/exports/"
    job = ExportJob.objects.for_workspace(workspace).get()
    assert job.status == "done" and job.rows == 4 and job.params["columns"] == ["tags"]
    # asked for, with the list's filters
    settings.EXPORT_BACKGROUND_ROWS = 50_000
    client.get("/contacts/export/", {"format": "xlsx", "tag": "vip", "background": "1"})
    asked = ExportJob.objects.for_workspace(workspace).latest("id")
    assert (
        asked.file_format == "xlsx"
        and asked.rows == 2
        and asked.params["filters"] == {"tag": "vip"}
    )
    assert "background" not in asked.params["query"]


def test_exports_page_and_download(workspace, rep, team, book, django_assert_max_num_queries):
    client = browser(rep)
    client.get("/contacts/export/", {"format": "csv", "background": "1"})
    job = ExportJob.objects.for_workspace(workspace).get()
    with django_assert_max_num_queries(12):
        page = client.get("/exports/")
    html = page.content.decode()
    assert job.file_name in html and f"/exports/{job.public_id}/download/" in html
    assert "Done" in html
    with django_assert_max_num_queries(12):
        download = client.get(f"/exports/{job.public_id}/download/")
    assert download["Content-Disposition"].startswith("attachment")
    assert job.file_name in download["Content-Disposition"]
    rows = _rows(b"".join(download.streaming_content))
    assert len(rows) == 5
    assert AuditEvent.objects.filter(action="export.downloaded").count() == 1
    # another member of the same team: not theirs, 404; not on their page
    colleague = make_member(workspace=workspace, role_key="sales_manager", team=team,
                            username="boss")  # fmt: skip
    other = browser(colleague)
    assert other.get(f"/exports/{job.public_id}/download/").status_code == 404
    assert job.file_name not in other.get("/exports/").content.decode()
    # the notification leads to the exports page
    note = Notification.objects.for_workspace(workspace).get(recipient=rep.user)
    opened = client.post(f"/notifications/{note.public_id}/")
    assert opened["Location"] == "/exports/"
    # while a job runs, the table polls
    ExportJob.objects.for_workspace(workspace).filter(pk=job.pk).update(status="running")
    partial = client.get("/exports/", headers={"HX-Request": "true"}).content.decode()
    assert 'hx-trigger="every 2s"' in partial and "<h1>" not in partial


def test_list_offers_the_background_export(rep, book):
    html = browser(rep).get("/contacts/").content.decode()
    assert "background=1" in html and 'href="/exports/"' in html


# --- API --------------------------------------------------------------------------------------
def test_api_background_export(api, workspace, rep, team, book):
    client = api(rep)
    created = client.post(
        "/contacts/export/jobs", {"format": "csv", "tag": "vip", "columns": "tags"}
    )
    assert created.status_code == 202, created.content
    body = created.json()
    assert body["status"] == "done" and body["rows"] == 2  # tests run tasks at once
    assert body["download_url"] == f"/api/v1/exports/{body['id']}/download"
    assert client.get(f"/exports/{body['id']}").json()["file_size"] > 0
    download = client.get(f"/exports/{body['id']}/download")
    assert download.status_code == 200
    rows = _rows(b"".join(download.streaming_content))
    assert rows[0] == ["id", "name", "Tags"] and len(rows) == 3
    assert [item["id"] for item in client.get("/exports").json()["items"]] == [body["id"]]
    # another member: 404 for both; a role without "export": 403
    colleague = make_member(workspace=workspace, role_key="sales_manager", team=team,
                            username="boss")  # fmt: skip
    other = api(colleague)
    assert other.get(f"/exports/{body['id']}").status_code == 404
    assert other.get(f"/exports/{body['id']}/download").status_code == 404
    agent = make_member(workspace=workspace, role_key="service_agent", username="agent")
    denied = api(agent).post("/contacts/export/jobs", {"format": "csv"})
    assert denied.status_code == 403
    assert client.post("/accounts/export/jobs", {"format": "vcf"}).status_code == 422
    assert client.post("/contacts/export/jobs", {"columns": "shoe"}).status_code == 422


def test_api_download_before_the_file_is_ready(settings, api, rep, book):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    client = api(rep)
    body = client.post("/accounts/export/jobs", {"format": "xlsx"}).json()
    assert body["status"] == "queued" and body["download_url"] is None
    assert client.get(f"/exports/{body['id']}/download").status_code == 422

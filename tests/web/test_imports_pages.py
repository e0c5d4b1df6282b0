"""The import wizard in pages: upload, map, check, import, error report, undo."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.customers.models import Contact, ImportJob
from tests.factories import make_member
from tests.web.test_pages import browser

pytestmark = pytest.mark.django_db
SAMPLE = Path(__file__).resolve().parents[2] / "docs" / "samples" / "contacts-zh.csv"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_wizard_from_upload_to_undo(workspace, rep, django_assert_max_num_queries):
    client = browser(rep)
    assert 'href="/imports/?type=contacts"' in client.get("/contacts/").content.decode()
    upload = client.post("/imports/", {"file": SimpleUploadedFile("名片.csv", SAMPLE.read_bytes()),
                                       "type": "contacts", "policy": "skip"})  # fmt: skip
    job = ImportJob.objects.for_workspace(workspace).get()
    assert upload["Location"] == f"/imports/{job.public_id}/"
    with django_assert_max_num_queries(12):
        page = client.get(upload["Location"]).content.decode()
    assert "张伟 · 王芳 · 李娜" in page  # first rows shown beside their column
    assert '<option value="phone" selected>' in page
    form = {f"field-{i}": m for i, m in enumerate(
        ["full_name", "phone", "email", "company", "title", "city", "region", "tags",
         "external_id", ""])}  # fmt: skip
    checked = client.post(upload["Location"], {**form, "policy": "skip", "step": "check"})
    html = checked.content.decode()
    assert "12345" in html and "To create" in html
    assert Contact.objects.for_workspace(workspace).count() == 0
    done = client.post(upload["Location"], {**form, "policy": "skip", "step": "run"})
    assert done.status_code == 302
    result = client.get(upload["Location"]).content.decode()
    assert "Result" in result and f"/imports/{job.public_id}/errors/?format=csv" in result
    assert Contact.objects.for_workspace(workspace).count() == 6
    report = client.get(f"/imports/{job.public_id}/errors/", {"format": "csv"})
    assert "李娜" in b"".join(report.streaming_content).decode("utf-8-sig")
    client.post(f"/imports/{job.public_id}/undo/")
    assert Contact.objects.for_workspace(workspace).count() == 0


def test_mapping_errors_are_shown(workspace, rep):
    client = browser(rep)
    client.post("/imports/", {"file": SimpleUploadedFile("a.csv", SAMPLE.read_bytes())})
    job = ImportJob.objects.for_workspace(workspace).get()
    response = client.post(f"/imports/{job.public_id}/", {"field-0": "phone", "field-1": "phone",
                                                          "step": "check"})  # fmt: skip
    assert response.status_code == 422 and "already filled" in response.content.decode()


def test_bad_files_and_other_peoples_imports(workspace, rep):
    client = browser(rep)
    response = client.post("/imports/", {"file": SimpleUploadedFile("x.csv", b"")})
    assert response.status_code == 422 and "empty" in response.content.decode()
    client.post("/imports/", {"file": SimpleUploadedFile("a.csv", SAMPLE.read_bytes())})
    job = ImportJob.objects.for_workspace(workspace).get()
    other = make_member(workspace=workspace, role_key="sales_rep", username="other.rep")
    assert browser(other).get(f"/imports/{job.public_id}/").status_code == 404
    analyst = make_member(workspace=workspace, role_key="analyst", username="ana")
    refused = browser(analyst).post(
        "/imports/", {"file": SimpleUploadedFile("a.csv", SAMPLE.read_bytes())}
    )
    assert refused.status_code == 422 and "may not add" in refused.content.decode()

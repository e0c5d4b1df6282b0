"""Rows an import set aside for review: listed with what they matched, decided one by one
(update the match, create someone else, skip), counted, and undone with the import."""

from __future__ import annotations

import pytest

from guanxi.customers.imports import engine, review
from guanxi.customers.models import Contact, ContactPoint, ImportRow
from guanxi.customers.services import ContactPointInput, create_contact
from guanxi.platform.context import acting_in
from guanxi.platform.errors import ValidationFailed
from tests.customers.test_imports import job_for
from tests.web.test_pages import browser

pytestmark = pytest.mark.django_db
ROWS = (
    "姓名,手机,邮箱,职业\n"
    "張偉,138-0013-8000,,采购总监\n"  # line 2: the same mobile as 张伟
    "王芳,13900001234,wang.fang@hengda.com,会计\n"  # line 3: the same e-mail as 王芳
    "赵云,13600009999,zhao.yun@example.cn,\n"  # line 4: nobody: created
    "钱多,13500001111,,\n"  # line 5: the same mobile as 钱多
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path, workspace):
    settings.MEDIA_ROOT = tmp_path
    with acting_in(workspace):
        yield


@pytest.fixture
def existing(admin):
    def make(family, given, kind, value):
        return create_contact(workspace=admin.workspace, by=admin.user, family_name=family,
                              given_name=given,
                              contact_points=[ContactPointInput(kind=kind, value=value)])  # fmt: skip

    return {
        "zhang": make("张", "伟", "phone", "13800138000"),
        "wang": make("王", "芳", "email", "wang.fang@hengda.com"),
        "qian": make("钱", "多", "phone", "13500001111"),
    }


def test_decide_each_row_then_undo(admin, existing):
    job = engine.run(job_for(admin, "review.csv", ROWS, policy="review"))
    assert job.counts["review"] == 3 and job.counts["created"] == 1
    waiting = review.pending(job, admin)
    assert [(p.row.line, p.match.pk) for p in waiting] == [
        (2, existing["zhang"].pk), (3, existing["wang"].pk), (5, existing["qian"].pk)
    ]  # fmt: skip
    review.decide(job=job, line=2, decision="update", membership=admin)
    zhang = Contact.objects.get(pk=existing["zhang"].pk)
    assert zhang.occupation == "采购总监"
    # someone else with the e-mail 王芳 holds: the services refuse, the row waits on
    with pytest.raises(ValidationFailed) as refused:
        review.decide(job=job, line=3, decision="create", membership=admin)
    assert (
        refused.value.errors[0][0] == "row.邮箱"
        and "already belongs to" in refused.value.errors[0][1]
    )
    review.decide(job=job, line=3, decision="skip", membership=admin)
    job.refresh_from_db()
    assert job.counts["review"] == 1 and job.counts["updated"] == 1 and job.counts["skipped"] == 1
    assert [p.row.line for p in review.pending(job, admin)] == [5]
    with pytest.raises(ValidationFailed):
        review.decide(job=job, line=2, decision="update", membership=admin)  # decided already
    with pytest.raises(ValidationFailed):
        review.decide(job=job, line=5, decision="merge", membership=admin)
    engine.undo(job, by=admin.user)
    assert Contact.objects.get(pk=existing["zhang"].pk).occupation == ""
    assert not Contact.objects.filter(given_name="云").exists()


def test_create_someone_else_when_nothing_clashes(admin, existing):
    text = "姓名,手机,邮箱\n钱多多,13500001111,qian@example.cn\n"
    job = engine.run(job_for(admin, "review.csv", text, policy="review"))
    ContactPoint.objects.filter(contact=existing["qian"]).update(is_shared=True)
    with pytest.raises(ValidationFailed):  # the new record's copy is not marked shared
        review.decide(job=job, line=2, decision="create", membership=admin)
    row = ImportRow.objects.get(job=job, line=2)
    assert row.outcome == "review"


def test_import_page_lists_rows_for_review_and_decides(admin, existing):
    job = engine.run(job_for(admin, "review.csv", ROWS, policy="review"))
    client = browser(admin)
    page = client.get(f"/imports/{job.public_id}/").content.decode()
    assert "Rows for review" in page and "張偉" in page and "Same: update it" in page
    response = client.post(f"/imports/{job.public_id}/review/2/", {"decision": "update"})
    assert response.status_code == 302
    assert Contact.objects.get(pk=existing["zhang"].pk).occupation == "采购总监"
    page = client.get(f"/imports/{job.public_id}/").content.decode()
    assert "Line 2 done" in page and "張偉" not in page.split("Rows for review")[1]


def test_api_lists_and_decides(api, admin, existing):
    job = engine.run(job_for(admin, "review.csv", ROWS, policy="review"))
    listed = api(admin).get(f"/imports/{job.public_id}/review").json()
    assert [r["line"] for r in listed] == [2, 3, 5]
    assert listed[0]["matched_id"] == existing["zhang"].public_id
    decided = api(admin).post(f"/imports/{job.public_id}/review/5", {"decision": "update"})
    assert decided.status_code == 200 and decided.json()["outcome"] == "updated"
    bad = api(admin).post(f"/imports/{job.public_id}/review/5", {"decision": "update"})
    assert bad.status_code == 422

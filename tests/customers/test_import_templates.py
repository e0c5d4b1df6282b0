"""Saved import mappings: save from an import, offer (own and shared), best fit, apply through
the engine's checks, defaults for empty cells, rename/delete with versions, the API."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from guanxi.customers import import_templates
from guanxi.customers.imports import engine
from guanxi.customers.models import Contact, ImportJob, ImportTemplate
from guanxi.platform import services
from guanxi.platform.context import acting_in
from guanxi.platform.errors import Forbidden, NotFound, ValidationFailed, VersionConflict
from guanxi.platform.models import AuditEvent
from tests.factories import make_member, make_workspace

pytestmark = pytest.mark.django_db

CARDS = (
    "姓名,手機,邮箱,来源\n张伟,13800138000,zw@example.cn,\n王芳,13900139000,wf@example.cn,展会\n"
)


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def upload(membership, text=CARDS, name="cards.csv", kind="contacts"):
    return engine.create_job(membership=membership, kind=kind, upload=text.encode(), file_name=name)


def test_save_from_a_job_and_apply_to_a_file_of_the_same_shape(rep):
    job = upload(rep)
    engine.set_mapping(
        job=job,
        mapping={"姓名": {"field": "full_name", "transform": "trim"},
                 "手機": {"field": "phone", "transform": "trim"},
                 "邮箱": {"field": "email", "transform": "lower"},
                 "来源": {"field": "source", "transform": "upper"}},
        policy="update", defaults={"source": "名片", "tags": "vip"},
    )  # fmt: skip
    template = import_templates.save_from_job(membership=rep, job=job, name="名片 ")
    assert template.name == "名片" and template.policy == "update" and not template.is_shared
    assert template.mapping["邮箱"] == {"field": "email", "transform": "lower"}
    assert template.defaults == {"source": "名片", "tags": "vip"}
    assert AuditEvent.objects.filter(action="import_template.created").count() == 1
    # the next file spells a header in simplified characters and adds a column
    second = upload(rep, "姓名,手机,邮箱,来源,备注\n李娜,13700137000,LN@Example.cn,,x\n")
    import_templates.apply_template(template=template, job=second)
    second.refresh_from_db()
    assert second.mapping == {
        "姓名": {"field": "full_name", "transform": "trim"},
        "手机": {"field": "phone", "transform": "trim"},
        "邮箱": {"field": "email", "transform": "lower"},
        "来源": {"field": "source", "transform": "upper"},
    }
    assert second.policy == "update" and second.defaults == {"source": "名片", "tags": "vip"}
    engine.run(second)
    contact = Contact.objects.for_workspace(rep.workspace).get(given_name="娜")
    assert contact.source == "名片"  # the empty cell took the default
    with acting_in(rep.workspace):
        assert [t.name for t in contact.tags.all()] == ["vip"]


def test_a_template_is_checked_like_a_mapping(rep):
    job = upload(rep)
    with pytest.raises(ValidationFailed) as caught:
        import_templates.create_template(
            membership=rep, kind="contacts", name="bad",
            mapping={"A": "phone", "B": "phone", "C": "nonsense"},
            defaults={"shoe_size": "42"}, policy="maybe",
        )  # fmt: skip
    fields = {field for field, _message in caught.value.errors}
    assert {"mapping.B", "mapping.C", "defaults.shoe_size", "policy"} <= fields
    # a template whose headers the file lacks leaves nothing to identify a record: refused
    template = import_templates.create_template(
        membership=rep, kind="contacts", name="other file", mapping={"Mobile": "phone"}
    )
    with pytest.raises(ValidationFailed, match="map a column"):
        import_templates.apply_template(template=template, job=job)
    accounts = import_templates.create_template(
        membership=rep, kind="accounts", name="companies", mapping={"公司": "name"}
    )
    with pytest.raises(ValidationFailed, match="template"):
        import_templates.apply_template(template=accounts, job=job)


def test_names_are_unique_per_kind(rep):
    import_templates.create_template(membership=rep, kind="contacts", name="名片",
                                     mapping={"姓名": "full_name"})  # fmt: skip
    with pytest.raises(ValidationFailed, match="already exists"):
        import_templates.create_template(membership=rep, kind="contacts", name="名片",
                                         mapping={"姓名": "full_name"})  # fmt: skip
    import_templates.create_template(membership=rep, kind="accounts", name="名片",
                                     mapping={"公司": "name"})  # fmt: skip


def test_own_and_shared_templates_are_offered_and_the_best_fit_suggested(workspace, rep, team):
    colleague = make_member(workspace=workspace, role_key="sales_rep", team=team, username="wang")
    mine = import_templates.create_template(
        membership=rep, kind="contacts", name="mine", mapping={"姓名": "full_name", "手机": "phone"}
    )
    shared = import_templates.create_template(
        membership=colleague, kind="contacts", name="shared", is_shared=True,
        mapping={"姓名": "full_name", "手机": "phone", "邮箱": "email", "公司": "company"},
    )  # fmt: skip
    import_templates.create_template(
        membership=colleague, kind="contacts", name="private", mapping={"姓名": "full_name"}
    )
    offered = list(import_templates.usable_templates(membership=rep, kind="contacts"))
    assert offered == [mine, shared]
    best = import_templates.best_fit(offered, ["姓名", "手机", "邮箱", "地址"])
    assert best.template == shared and (best.present, best.total) == (3, 4)
    assert import_templates.best_fit(offered, ["Name", "Mobile"]) is None
    # the other workspace sees none of them
    elsewhere = make_member(workspace=make_workspace(slug="other"), role_key="administrator")
    assert list(import_templates.usable_templates(membership=elsewhere)) == []
    # a colleague's shared template may be used, not changed
    with pytest.raises(NotFound):
        import_templates.get_template(membership=rep, public_id=shared.public_id, action="change")
    assert import_templates.get_template(membership=rep, public_id=shared.public_id) == shared


def test_roles_that_may_not_import_get_no_templates(workspace, rep):
    import_templates.create_template(
        membership=rep, kind="contacts", name="shared", is_shared=True,
        mapping={"姓名": "full_name"},
    )  # fmt: skip
    role = services.create_role(workspace=workspace, key="readers", name="Readers", permissions={})
    reader = make_member(workspace=workspace, role_key="readers", username="reader")
    assert reader.role == role and not import_templates.may_use_templates(reader)
    assert list(import_templates.usable_templates(membership=reader)) == []
    with pytest.raises(Forbidden):
        import_templates.create_template(
            membership=reader, kind="contacts", name="x", mapping={"姓名": "full_name"}
        )


def test_rename_share_and_delete_with_versions(rep):
    template = import_templates.create_template(
        membership=rep, kind="contacts", name="名片", mapping={"姓名": "full_name"}
    )
    import_templates.update_template(
        template=template, by=rep.user, expected_version=1, name="展会名片", is_shared=True
    )
    template.refresh_from_db()
    assert (template.name, template.is_shared, template.version) == ("展会名片", True, 2)
    with pytest.raises(VersionConflict):
        import_templates.update_template(
            template=template, by=rep.user, expected_version=1, name="x"
        )
    event = AuditEvent.objects.get(action="import_template.changed")
    assert event.data["name_before"] == "名片"
    import_templates.delete_template(template=template, by=rep.user)
    assert not ImportTemplate.objects.for_workspace(rep.workspace).exists()
    assert AuditEvent.objects.filter(action="import_template.deleted").count() == 1


# --- API --------------------------------------------------------------------------------------
def test_api_templates(api, workspace, rep, team):
    client = api(rep)
    job = upload(rep)
    saved = client.post(
        "/imports/templates",
        {"name": "名片", "import_id": job.public_id, "defaults": {"source": "展会"}},
    )
    assert saved.status_code == 201, saved.content
    body = saved.json()
    assert body["type"] == "contacts" and body["is_mine"] and body["owner"] == "li.na"
    assert body["mapping"]["手機"]["field"] == "phone" and body["defaults"] == {"source": "展会"}
    template_id = body["id"]
    listed = client.get("/imports/templates", type="contacts").json()
    assert [t["id"] for t in listed] == [template_id]
    assert (
        client.post("/imports/templates", {"name": "x", "mapping": {"A": "nope"}}).status_code
        == 422
    )

    second = upload(rep)
    engine.set_mapping(job=second, mapping={"姓名": "full_name"})
    applied = client.post(
        f"/imports/templates/{template_id}/apply", {"import_id": second.public_id}
    )
    assert applied.status_code == 200, applied.content
    assert applied.json()["mapping"]["手機"]["field"] == "phone"

    renamed = client.patch(f"/imports/templates/{template_id}", {"name": "展会名片", "version": 1})
    assert renamed.status_code == 200 and renamed.json()["name"] == "展会名片"
    assert renamed["ETag"] == '"2"'
    stale = client.patch(f"/imports/templates/{template_id}", {"name": "y", "version": 1})
    assert stale.status_code == 409
    assert client.patch(f"/imports/templates/{template_id}", {"name": "y"}).status_code == 428

    # a colleague: not shared, so not found; once shared, usable but not changeable
    colleague = make_member(workspace=workspace, role_key="sales_rep", team=team, username="wang")
    other = api(colleague)
    assert other.get(f"/imports/templates/{template_id}").status_code == 404
    client.patch(f"/imports/templates/{template_id}", {"is_shared": True, "version": 2})
    assert other.get(f"/imports/templates/{template_id}").status_code == 200
    assert (
        other.patch(f"/imports/templates/{template_id}", {"name": "z", "version": 3}).status_code
        == 404
    )
    assert other.delete(f"/imports/templates/{template_id}").status_code == 404
    # applying to someone else's import: not found
    assert other.post(f"/imports/templates/{template_id}/apply",
                      {"import_id": second.public_id}).status_code == 404  # fmt: skip
    assert client.delete(f"/imports/templates/{template_id}").status_code == 204
    assert client.get(f"/imports/templates/{template_id}").status_code == 404
    assert ImportJob.objects.for_workspace(workspace).count() == 2


def test_api_upload_still_reaches_imports(api, rep):
    """/imports/templates is its own path; /imports/{id} still answers for imports."""
    client = api(rep)
    created = client.client.post(
        "/api/v1/imports", {"file": SimpleUploadedFile("a.csv", CARDS.encode())},
        headers=client._headers(None),
    )  # fmt: skip
    assert client.get(f"/imports/{created.json()['id']}").status_code == 200
    assert client.get("/imports/templates").json() == []


# --- the wizard -------------------------------------------------------------------------------
def test_wizard_saves_suggests_and_applies_templates(workspace, rep, django_assert_max_num_queries):
    from tests.web.test_pages import browser

    client = browser(rep)
    job = upload(rep)
    url = f"/imports/{job.public_id}/"
    form = {"field-0": "full_name", "transform-0": "trim", "field-1": "phone",
            "transform-1": "trim", "field-2": "email", "transform-2": "lower", "field-3": "source",
            "default-3": "名片", "extra-field-0": "tags", "extra-value-0": "展会",
            "policy": "update"}  # fmt: skip
    saved = client.post(url, {**form, "step": "save_template", "template_name": "名片",
                              "template_shared": "on"})  # fmt: skip
    assert saved.status_code == 302
    template = ImportTemplate.objects.for_workspace(workspace).get()
    assert saved["Location"] == f"{url}?template={template.public_id}"
    assert template.is_shared and template.policy == "update"
    assert template.defaults == {"source": "名片", "tags": "展会"}
    assert template.mapping["邮箱"] == {"field": "email", "transform": "lower"}
    job.refresh_from_db()
    assert job.defaults == {"source": "名片", "tags": "展会"}
    page = client.get(url).content.decode()
    assert 'value="名片"' in page and '<option value="tags" selected>' in page

    # a new file of the same shape: the template is suggested, and applying it maps it
    second = upload(rep)
    with django_assert_max_num_queries(12):
        page = client.get(f"/imports/{second.public_id}/").content.decode()
    assert f'<option value="{template.public_id}" selected>' in page
    assert "Suggested: “名片”" in page and "4 of its 4 columns" in page
    applied = client.post(f"/imports/{second.public_id}/",
                          {"step": "apply_template", "template": template.public_id})  # fmt: skip
    assert applied.status_code == 302
    second.refresh_from_db()
    assert second.mapping == template.mapping and second.policy == "update"
    # the check runs with the defaults
    checked = client.post(f"/imports/{second.public_id}/", {**form, "step": "check"})
    assert checked.status_code == 200 and "To update" in checked.content.decode()


def test_wizard_refuses_a_bad_default_or_template(workspace, rep):
    from tests.web.test_pages import browser

    client = browser(rep)
    job = upload(rep)
    url = f"/imports/{job.public_id}/"
    bad = client.post(url, {"field-0": "full_name", "extra-field-0": "shoe", "extra-value-0": "42",
                            "step": "check"})  # fmt: skip
    assert bad.status_code == 422 and "unknown field" in bad.content.decode()
    nameless = client.post(url, {"field-0": "full_name", "step": "save_template"})
    assert nameless.status_code == 422 and "must not be empty" in nameless.content.decode()
    missing = client.post(url, {"step": "apply_template", "template": "imt_nothing"}, follow=True)
    assert "not found" in missing.content.decode()


def test_imports_page_lists_templates_to_rename_share_and_delete(
    workspace, rep, team, django_assert_max_num_queries
):
    from tests.web.test_pages import browser

    mine = import_templates.create_template(
        membership=rep, kind="contacts", name="名片", mapping={"姓名": "full_name"}
    )
    colleague = make_member(workspace=workspace, role_key="sales_rep", team=team, username="wang")
    theirs = import_templates.create_template(
        membership=colleague, kind="contacts", name="展会", is_shared=True,
        mapping={"姓名": "full_name"},
    )  # fmt: skip
    client = browser(rep)
    with django_assert_max_num_queries(12):
        page = client.get("/imports/").content.decode()
    assert f"/imports/templates/{mine.public_id}/" in page and "展会" in page
    assert f"/imports/templates/{theirs.public_id}/" not in page  # not mine to change
    url = f"/imports/templates/{mine.public_id}/"
    client.post(url, {"name": "名片 2026", "is_shared": "on", "version": "1", "step": "save"})
    mine.refresh_from_db()
    assert (mine.name, mine.is_shared, mine.version) == ("名片 2026", True, 2)
    stale = client.post(url, {"name": "x", "version": "1", "step": "save"}, follow=True)
    assert "changed by someone else" in stale.content.decode()
    other = f"/imports/templates/{theirs.public_id}/"
    assert client.post(other, {"step": "delete"}).status_code == 404
    client.post(url, {"step": "delete"})
    assert list(import_templates.usable_templates(membership=rep)) == [theirs]


def test_wizard_keeps_every_value_for_every_row(workspace, rep):
    from tests.web.test_pages import browser

    job = upload(rep)
    values = {"source": "展会", "tags": "vip", "city": "上海", "occupation": "采购"}
    engine.set_mapping(job=job, mapping={"姓名": "full_name", "手機": "phone"}, defaults=values)
    client = browser(rep)
    page = client.get(f"/imports/{job.public_id}/").content.decode()
    assert 'name="extra-field-3"' in page and 'name="extra-field-4"' in page  # one more, blank
    form = {"field-0": "full_name", "field-1": "phone", "step": "check"}
    form |= {f"extra-field-{i}": field for i, field in enumerate(values)}
    form |= {f"extra-value-{i}": value for i, value in enumerate(values.values())}
    client.post(f"/imports/{job.public_id}/", form)
    job.refresh_from_db()
    assert job.defaults == values


def test_templates_for_a_log_of_interactions(workspace, rep):
    """Any kind of import keeps its mapping: a call log's columns too."""
    from pathlib import Path

    from tests.web.test_pages import browser

    sample = Path(__file__).resolve().parents[2] / "docs" / "samples" / "interactions-zh.csv"
    job = engine.create_job(
        membership=rep, kind="interactions", upload=sample.read_bytes(), file_name="log.csv"
    )
    client = browser(rep)
    url = f"/imports/{job.public_id}/"
    form = {f"field-{i}": spec["field"] for i, spec in enumerate(
        job.mapping.get(column, {"field": ""}) for column in job.columns)}  # fmt: skip
    saved = client.post(url, {**form, "step": "save_template", "template_name": "通话记录"})
    assert saved.status_code == 302, saved.content.decode()[:2000]
    template = ImportTemplate.objects.for_workspace(workspace).get()
    assert template.kind == "interactions" and template.mapping == job.mapping
    second = engine.create_job(
        membership=rep, kind="interactions", upload=sample.read_bytes(), file_name="log2.csv"
    )
    page = client.get(f"/imports/{second.public_id}/").content.decode()
    assert f'<option value="{template.public_id}" selected>' in page
    import_templates.apply_template(template=template, job=second)
    assert not list(import_templates.usable_templates(membership=rep, kind="contacts"))

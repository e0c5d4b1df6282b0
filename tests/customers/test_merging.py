"""Merge and unmerge: fields chosen, everything moved, everything back."""

from __future__ import annotations

from datetime import date

import pytest

from guanxi.customers import services
from guanxi.customers.merging import merge_contacts, unmerge
from guanxi.customers.models import AccountContact, Contact, ContactPoint
from guanxi.customers.services import AddressInput, ContactPointInput
from guanxi.platform.context import acting_in
from guanxi.platform.errors import ValidationFailed
from guanxi.timeline import services as timeline
from guanxi.timeline.models import Activity, Interaction
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.fixture
def pair(workspace, admin):
    with acting_in(workspace):
        account = services.create_account(workspace=workspace, by=admin.user, name="远景贸易")
        keep = services.create_contact(
            workspace=workspace, by=admin.user, family_name="张", given_name="伟", account=account,
            contact_points=[ContactPointInput(kind="phone", value="13800138000", is_shared=True)],
            tags=["vip"],
        )  # fmt: skip
        dupe = services.create_contact(
            workspace=workspace, by=admin.user, family_name="張", given_name="偉",
            occupation="采购经理", birthday=date(1985, 3, 2), external_id="ERP-7",
            contact_points=[ContactPointInput(kind="phone", value="138 0013 8000", is_shared=True),
                            ContactPointInput(kind="email", value="zw@yuanjing.cn")],
            addresses=[AddressInput(country="CN", city="上海")], tags=["展会"],
        )  # fmt: skip
        call = timeline.record_interaction(workspace=workspace, by=admin.user, channel="phone",
                                           direction="inbound", subject="来电", contact=dupe)  # fmt: skip
        task = timeline.create_activity(workspace=workspace, by=admin.user, kind="task",
                                        subject="回访", contact=dupe)  # fmt: skip
    return {"keep": keep, "dupe": dupe, "account": account,
            "call": call[0] if isinstance(call, tuple) else call, "task": task}  # fmt: skip


def test_merge_fills_moves_and_unmerge_restores(workspace, admin, pair):
    keep, dupe = pair["keep"], pair["dupe"]
    with acting_in(workspace):
        merge = merge_contacts(membership=admin, survivor=keep, merged=[dupe],
                               fields={"family_name": dupe.public_id})  # fmt: skip
        keep.refresh_from_db()
        assert keep.family_name == "張" and keep.given_name == "伟"  # chosen / kept
        assert keep.occupation == "采购经理" and keep.birthday == date(1985, 3, 2)  # filled
        assert keep.external_id == "ERP-7"
        assert not Contact.objects.filter(pk=dupe.pk).exists()
        points = ContactPoint.objects.filter(contact=keep)
        assert sorted(points.values_list("kind", flat=True)) == ["email", "phone"]  # no 2nd phone
        assert keep.addresses.get().city == "上海"
        assert {t.name for t in keep.tags.all()} == {"vip", "展会"}
        assert Interaction.objects.get(pk=pair["call"].pk).contact_id == keep.pk
        assert Activity.objects.get(pk=pair["task"].pk).contact_id == keep.pk

        unmerge(membership=admin, merge=merge)
        keep.refresh_from_db()
        dupe.refresh_from_db()
        assert dupe.deleted_at is None and dupe.external_id == "ERP-7"
        assert (keep.family_name, keep.occupation, keep.external_id) == ("张", "", "")
        assert sorted(ContactPoint.objects.filter(contact=dupe).values_list("kind", flat=True)) == [
            "email", "phone"]  # fmt: skip
        assert ContactPoint.objects.filter(contact=keep).count() == 1
        assert {t.name for t in keep.tags.all()} == {"vip"}
        assert {t.name for t in dupe.tags.all()} == {"展会"}
        assert Interaction.objects.get(pk=pair["call"].pk).contact_id == dupe.pk
        assert Activity.objects.get(pk=pair["task"].pk).contact_id == dupe.pk
        assert AccountContact.objects.filter(contact=keep).count() == 1
        with pytest.raises(ValidationFailed):
            unmerge(membership=admin, merge=merge)


def test_merge_needs_change_on_every_contact(workspace, admin, rep, pair):
    with acting_in(workspace), pytest.raises(ValidationFailed) as caught:
        merge_contacts(membership=rep, survivor=pair["keep"], merged=[pair["dupe"]])
    assert "may not change" in str(caught.value)


def test_merge_api(api, workspace, admin, rep, pair):
    client = api(admin)
    response = client.post("/contacts/merge", {"survivor_id": pair["keep"].public_id,
                                               "merged_ids": [pair["dupe"].public_id]})  # fmt: skip
    assert response.status_code == 201, response.content
    merge_id = response.json()["id"]
    assert client.get(f"/contacts/{pair['dupe'].public_id}").status_code == 404
    stranger = make_member(workspace=workspace, role_key="sales_rep", username="stranger")
    assert api(stranger).post(f"/merges/{merge_id}/undo").status_code == 404
    undone = client.post(f"/merges/{merge_id}/undo")
    assert undone.status_code == 200 and undone.json()["undone_at"]
    assert client.get(f"/contacts/{pair['dupe'].public_id}").status_code == 200
    bad = client.post("/contacts/merge", {"survivor_id": pair["keep"].public_id,
                                          "merged_ids": [pair["keep"].public_id]})  # fmt: skip
    assert bad.status_code == 422


def test_merge_keeps_the_most_trusted_sources_values(api, workspace, admin):
    """Ranked sources decide each field; unranked ones come last; without a value anywhere
    the survivor's emptiness stays; the survivor wins ties."""
    client = api(admin)
    rules = client.get("/duplicates/rules").json()
    assert rules["trusted_sources"] == []
    changed = client.patch("/duplicates/rules", {
        "review_threshold": 0.9, "trusted_sources": ["erp", " import ", "erp", ""],
        "version": rules["version"]})  # fmt: skip
    assert changed.status_code == 200, changed.content
    assert changed.json()["trusted_sources"] == ["erp", "import"]
    with acting_in(workspace):
        typed = services.create_contact(workspace=workspace, by=admin.user, family_name="李",
                                        given_name="娜", occupation="经理", source="web")  # fmt: skip
        erp = services.create_contact(workspace=workspace, by=admin.user, family_name="李",
                                      given_name="娜", occupation="采购总监", source="ERP",
                                      interests="光模块")  # fmt: skip
        imported = services.create_contact(workspace=workspace, by=admin.user, family_name="李",
                                           given_name="娜", occupation="采购", source="import",
                                           preferred_language="zh-hans")  # fmt: skip
        merge_contacts(membership=admin, survivor=typed, merged=[imported, erp])
        typed.refresh_from_db()
    assert typed.occupation == "采购总监"  # the ERP's, over the survivor's and the import's
    assert typed.interests == "光模块"  # only the ERP had one
    assert typed.preferred_language == "zh-hans"
    assert typed.source == "ERP"  # the source itself follows the same rule


def test_merge_without_ranking_keeps_survivor_then_newest(workspace, admin):
    with acting_in(workspace):
        old = services.create_contact(workspace=workspace, by=admin.user, family_name="王",
                                      given_name="芳", occupation="", source="web")  # fmt: skip
        first = services.create_contact(workspace=workspace, by=admin.user, family_name="王",
                                        given_name="芳", occupation="会计")  # fmt: skip
        second = services.create_contact(workspace=workspace, by=admin.user, family_name="王",
                                         given_name="芳", occupation="财务经理")  # fmt: skip
        merge_contacts(membership=admin, survivor=old, merged=[first, second])
        old.refresh_from_db()
    assert old.occupation == "财务经理"  # the survivor had none: the newest
    assert old.family_name == "王" and old.source == "web"  # the survivor's own

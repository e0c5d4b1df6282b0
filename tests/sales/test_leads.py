"""Lead services: capture, updates, status, first touch, delete, conversion."""

from __future__ import annotations

import pytest

from guanxi.customers import services as customers
from guanxi.customers.models import AccountContact, ContactPoint
from guanxi.platform.errors import Forbidden, ValidationFailed, VersionConflict
from guanxi.platform.models import AuditEvent
from guanxi.sales import leads
from guanxi.sales.models import Lead, Opportunity
from guanxi.sales.signals import lead_created, lead_first_touched
from guanxi.timeline.models import Activity, Interaction
from tests.factories import make_member


@pytest.fixture
def received():
    calls = []

    def created(sender, lead, actor, **kwargs):
        calls.append(("created", lead.pk, actor))

    def touched(sender, lead, actor, **kwargs):
        calls.append(("touched", lead.pk, actor))

    lead_created.connect(created)
    lead_first_touched.connect(touched)
    yield calls
    lead_created.disconnect(created)
    lead_first_touched.disconnect(touched)


def _lead(rep, **fields):
    fields.setdefault("full_name", "张伟")
    fields.setdefault("phone", "138 0013 8000")
    return leads.create_lead(workspace=rep.workspace, by=rep.user, **fields)


def test_create_normalizes_splits_and_owns(rep, received):
    lead = _lead(rep, email=" Wei.Zhang@Example.COM ", company="远景贸易")
    assert (lead.family_name, lead.given_name, lead.display_name) == ("张", "伟", "张伟")
    assert lead.phone == "+8613800138000"
    assert lead.email == "Wei.Zhang@example.com"
    assert lead.owner == rep.user and lead.team_id == rep.team_id  # nobody routed it
    assert lead.assigned_at is not None
    assert received == [("created", lead.pk, rep.user)]
    assert AuditEvent.objects.filter(action="sales.lead.created", object_id=lead.public_id).exists()


def test_a_receiver_that_assigns_wins(rep, admin):
    def route(sender, lead, actor, **kwargs):
        lead.owner = admin.user
        lead.save(update_fields=["owner"])

    lead_created.connect(route)
    try:
        lead = _lead(rep)
    finally:
        lead_created.disconnect(route)
    assert Lead.objects.for_workspace(rep.workspace).get(pk=lead.pk).owner == admin.user


@pytest.mark.parametrize(
    ("fields", "bad"),
    [
        ({"full_name": "", "phone": "13800138000"}, {"name"}),
        ({"full_name": "Ann", "phone": ""}, {"phone"}),
        ({"full_name": "Ann", "phone": "12345"}, {"phone"}),
        ({"full_name": "Ann", "phone": "", "email": "not-mail"}, {"email"}),
        ({"full_name": "Ann", "country": "Atlantis"}, {"country"}),
    ],
)
def test_create_validation_names_fields(rep, fields, bad):
    with pytest.raises(ValidationFailed) as caught:
        _lead(rep, **fields)
    assert {field for field, _message in caught.value.errors} == bad


@pytest.mark.parametrize(("written", "code"), [("中国", "CN"), ("中國", "CN"), ("China", "CN"),
                                               ("cn", "CN"), ("台灣", "TW"), ("美国", "US")])  # fmt: skip
def test_country_by_name_in_english_or_chinese(rep, written, code):
    assert _lead(rep, country=written).country == code


def test_company_only_lead_is_fine(rep):
    lead = leads.create_lead(workspace=rep.workspace, by=rep.user, company="ACME", email="a@b.cn")
    assert str(lead) == "ACME"


def test_only_assign_right_gives_another_owner(rep, admin):
    with pytest.raises(Forbidden):
        _lead(rep, owner=admin.user)
    assert _lead(admin, owner=rep.user).owner == rep.user


def test_update_with_version_and_conflict(rep):
    lead = _lead(rep)
    lead = leads.update_lead(lead=lead, by=rep.user, expected_version=1, company="星河",
                             given_name="伟强")  # fmt: skip
    assert (lead.company, lead.display_name, lead.version) == ("星河", "张伟强", 2)
    with pytest.raises(VersionConflict):
        leads.update_lead(lead=lead, by=rep.user, expected_version=1, title="CEO")
    with pytest.raises(ValidationFailed) as caught:
        leads.update_lead(lead=lead, by=rep.user, expected_version=2, phone="", email="")
    assert caught.value.errors[0][0] == "phone"


def test_status_rules(rep):
    lead = _lead(rep)
    with pytest.raises(ValidationFailed) as caught:
        leads.change_status(lead=lead, by=rep.user, expected_version=1, status="disqualified")
    assert caught.value.errors[0][0] == "disqualify_reason"
    with pytest.raises(ValidationFailed) as caught:
        leads.change_status(lead=lead, by=rep.user, expected_version=1, status="converted")
    assert caught.value.errors[0][0] == "status"
    lead = leads.change_status(lead=lead, by=rep.user, expected_version=1,
                               status="disqualified", reason="学生，无预算")  # fmt: skip
    assert lead.disqualify_reason == "学生，无预算"
    with pytest.raises(ValidationFailed):  # the reason stays required
        leads.update_lead(lead=lead, by=rep.user, expected_version=2, disqualify_reason=" ")
    assert AuditEvent.objects.filter(action="sales.lead.disqualified").count() == 1
    with pytest.raises(ValidationFailed):
        leads.convert_lead(lead=lead, by=rep.user, membership=rep, create_opportunity=False)


def test_first_touch_by_the_owner_only(rep, team, received):
    mate = make_member(workspace=rep.workspace, role_key="sales_rep", team=team, username="mate")
    lead = _lead(rep)
    leads.log_touch(lead=lead, by=mate.user, subject="同事代接")
    assert Lead.objects.for_workspace(rep.workspace).get(pk=lead.pk).first_touched_at is None
    leads.log_touch(lead=lead, by=rep.user, subject="首次电话")
    leads.log_touch(lead=lead, by=rep.user, subject="再次电话")
    stored = Lead.objects.for_workspace(rep.workspace).get(pk=lead.pk)
    assert stored.first_touched_at is not None and stored.version == 1
    assert [c[0] for c in received].count("touched") == 1
    assert Interaction.objects.for_workspace(rep.workspace).filter(lead=lead).count() == 3


def test_moving_new_to_working_is_the_first_touch(rep, received):
    lead = _lead(rep)
    lead = leads.change_status(lead=lead, by=rep.user, expected_version=1, status="working")
    assert lead.first_touched_at is not None
    assert received[-1] == ("touched", lead.pk, rep.user)


def test_delete_is_soft(rep):
    lead = _lead(rep)
    leads.delete_lead(lead=lead, by=rep.user)
    assert not Lead.objects.for_workspace(rep.workspace).filter(pk=lead.pk).exists()
    assert Lead.objects.for_workspace(rep.workspace, include_deleted=True).filter(pk=lead.pk)


# --- conversion -------------------------------------------------------------------------------
def test_convert_creates_account_contact_opportunity_and_moves_timeline(rep):
    lead = _lead(rep, company="远景贸易", email="zw@yuanjing.cn", title="采购经理",
                 product_interest="光纤")  # fmt: skip
    leads.log_touch(lead=lead, by=rep.user, subject="首次电话")
    leads.plan_activity(lead=lead, by=rep.user, kind="task", subject="发报价")
    result = leads.convert_lead(lead=lead, by=rep.user, membership=rep, amount="250000")
    assert result.account_created and result.contact_created
    assert result.account.name == "远景贸易"
    assert result.contact.display_name == "张伟"
    assert set(
        ContactPoint.objects.for_workspace(rep.workspace)
        .filter(contact=result.contact).values_list("value", flat=True)
    ) == {"+8613800138000", "zw@yuanjing.cn"}  # fmt: skip
    link = AccountContact.objects.for_workspace(rep.workspace).get(contact=result.contact)
    assert (link.account, link.title) == (result.account, "采购经理")
    opp = result.opportunity
    assert opp.name == "远景贸易 – 光纤" and opp.amount == 250000
    assert opp.stage.key == "qualification" and opp.currency == "CNY"
    lead.refresh_from_db()
    assert lead.status == "converted" and lead.converted_by == rep.user
    assert (lead.converted_account, lead.converted_contact, lead.converted_opportunity) == (
        result.account,
        result.contact,
        opp,
    )
    assert Interaction.objects.for_workspace(rep.workspace).get(lead=lead).contact == result.contact
    assert Activity.objects.for_workspace(rep.workspace).get(lead=lead).account == result.account
    assert AuditEvent.objects.filter(action="sales.lead.converted").count() == 1
    with pytest.raises(ValidationFailed):  # converted: not again
        leads.convert_lead(lead=lead, by=rep.user, membership=rep)


def test_convert_matches_by_phone_fills_and_keeps(rep):
    account = customers.create_account(workspace=rep.workspace, by=rep.user, name="远景贸易",
                                       industry="制造")  # fmt: skip
    contact = customers.create_contact(
        workspace=rep.workspace, by=rep.user, family_name="张", given_name="伟强",
        contact_points=[customers.ContactPointInput(kind="phone", value="13800138000")],
    )  # fmt: skip
    lead = _lead(rep, company="遠景貿易", industry="贸易", email="zw@yuanjing.cn", language="en")
    result = leads.convert_lead(lead=lead, by=rep.user, membership=rep, amount=10)
    assert (result.contact, result.account) == (contact, account)
    assert not result.contact_created and not result.account_created
    assert result.kept == ["account.industry", "contact.given_name"]  # 遠景貿易 = 远景贸易
    assert "contact.preferred_language" in result.filled
    contact.refresh_from_db()
    account.refresh_from_db()
    assert contact.given_name == "伟强" and account.industry == "制造"  # never overwritten
    assert ContactPoint.objects.for_workspace(rep.workspace).filter(
        contact=contact, kind="email", value="zw@yuanjing.cn").exists()  # fmt: skip
    assert AccountContact.objects.for_workspace(rep.workspace).filter(
        contact=contact, account=account).exists()  # fmt: skip
    assert Opportunity.objects.for_workspace(rep.workspace).get().contact == contact


def test_convert_a_name_alone_is_no_match(rep):
    customers.create_contact(workspace=rep.workspace, by=rep.user, family_name="张",
                             given_name="伟")  # fmt: skip
    lead = _lead(rep)
    result = leads.convert_lead(lead=lead, by=rep.user, membership=rep, create_opportunity=False)
    assert result.contact_created and result.account is None and result.opportunity is None


def test_convert_without_company_cannot_make_a_deal(rep):
    lead = _lead(rep)
    with pytest.raises(ValidationFailed) as caught:
        leads.convert_lead(lead=lead, by=rep.user, membership=rep)
    assert caught.value.errors[0][0] == "account_id"
    assert Lead.objects.for_workspace(rep.workspace).get(pk=lead.pk).status == "new"


def test_convert_validates_amount_and_rolls_back(rep):
    lead = _lead(rep, company="星河")
    with pytest.raises(ValidationFailed) as caught:
        leads.convert_lead(lead=lead, by=rep.user, membership=rep, amount="-1")
    assert caught.value.errors[0][0] == "amount"
    assert not Lead.objects.for_workspace(rep.workspace).filter(status="converted").exists()
    from guanxi.customers.models import Account

    assert not Account.objects.for_workspace(rep.workspace).exists()

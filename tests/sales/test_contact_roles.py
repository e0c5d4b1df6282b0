"""Contact roles of opportunities: services, API, visibility, merges."""

from __future__ import annotations

import pytest

from guanxi.customers import services as customers
from guanxi.customers.merging import merge_contacts, unmerge
from guanxi.platform.context import acting_in
from guanxi.platform.errors import ValidationFailed
from guanxi.sales import contact_roles, services
from guanxi.sales.models import OpportunityContactRole
from tests.factories import make_member, make_team

pytestmark = pytest.mark.django_db


@pytest.fixture
def account(workspace, rep):
    return customers.create_account(workspace=workspace, by=rep.user, name="远景贸易")


@pytest.fixture
def deal(workspace, rep, account):
    return services.create_opportunity(
        workspace=workspace, by=rep.user, name="光纤采购", account=account
    )


@pytest.fixture
def zhang(workspace, rep, account):
    return customers.create_contact(
        workspace=workspace, by=rep.user, family_name="张", given_name="伟", account=account
    )


@pytest.fixture
def li(workspace, rep, account):
    return customers.create_contact(
        workspace=workspace, by=rep.user, family_name="李", given_name="娜", account=account
    )


def roles_of(deal):
    return list(contact_roles.contact_roles(opportunity=deal).values_list("contact_id", "role",
                                                                        "is_primary"))  # fmt: skip


def test_set_change_and_remove_a_role(rep, deal, zhang):
    role, created = contact_roles.set_contact_role(
        opportunity=deal, contact=zhang, role="decision_maker", by=rep.user
    )
    assert created and role.public_id.startswith("ocr_")
    again, created = contact_roles.set_contact_role(
        opportunity=deal, contact=zhang, role="economic_buyer", is_primary=True, by=rep.user
    )
    assert not created and again.pk == role.pk and again.version == 2
    assert roles_of(deal) == [(zhang.pk, "economic_buyer", True)]
    contact_roles.remove_contact_role(role=again, by=rep.user)
    assert roles_of(deal) == []
    # removed rows stay (soft delete) and the contact can be given a role again
    assert OpportunityContactRole._base_manager.filter(opportunity=deal).count() == 1
    contact_roles.set_contact_role(opportunity=deal, contact=zhang, role="user", by=rep.user)
    assert roles_of(deal) == [(zhang.pk, "user", False)]


def test_one_primary_contact_per_deal(rep, deal, zhang, li):
    contact_roles.set_contact_role(
        opportunity=deal, contact=zhang, role="user", is_primary=True, by=rep.user
    )
    contact_roles.set_contact_role(
        opportunity=deal, contact=li, role="influencer", is_primary=True, by=rep.user
    )
    assert roles_of(deal)[0] == (li.pk, "influencer", True)
    assert (zhang.pk, "user", False) in roles_of(deal)


def test_validation(rep, deal, zhang):
    with pytest.raises(ValidationFailed) as error:
        contact_roles.set_contact_role(opportunity=deal, contact=zhang, role="boss", by=rep.user)
    assert error.value.errors[0][0] == "role"


def test_merging_contacts_moves_their_roles(workspace, rep, deal, account, zhang, li):
    other = services.create_opportunity(
        workspace=workspace, by=rep.user, name="第二单", account=account
    )
    contact_roles.set_contact_role(opportunity=deal, contact=li, role="influencer", by=rep.user)
    contact_roles.set_contact_role(opportunity=other, contact=li, role="user", by=rep.user)
    contact_roles.set_contact_role(
        opportunity=deal, contact=zhang, role="decision_maker", by=rep.user
    )
    with acting_in(workspace):
        merge = merge_contacts(survivor=zhang, merged=[li], membership=rep)
    # the deal where both played a part keeps the survivor's role; the other moves over
    assert roles_of(deal) == [(zhang.pk, "decision_maker", False)]
    assert roles_of(other) == [(zhang.pk, "user", False)]
    with acting_in(workspace):
        unmerge(merge=merge, membership=rep)
    assert sorted(roles_of(deal)) == sorted(
        [(zhang.pk, "decision_maker", False), (li.pk, "influencer", False)]
    )
    assert roles_of(other) == [(li.pk, "user", False)]


# --- API --------------------------------------------------------------------------------------
def test_api_add_list_delete(api, rep, deal, zhang):
    client = api(rep)
    path = f"/opportunities/{deal.public_id}/contact-roles"
    created = client.post(path, {"contact_id": zhang.public_id, "role": "technical_evaluator"})
    assert created.status_code == 201, created.content
    body = created.json()
    assert (body["contact_id"], body["role"], body["role_label"]) == (
        zhang.public_id, "technical_evaluator", "Technical evaluator"
    )  # fmt: skip
    same = client.post(path, {"contact_id": zhang.public_id, "role": "user", "is_primary": True})
    assert same.status_code == 200 and same.json()["is_primary"]
    listed = client.get(path).json()
    assert [(r["contact_name"], r["role"]) for r in listed] == [("张伟", "user")]
    assert client.delete(f"{path}/{body['id']}").status_code == 204
    assert client.get(path).json() == []
    assert client.delete(f"{path}/{body['id']}").status_code == 404


def test_api_validation_and_hidden_contacts(api, workspace, rep, deal, zhang):
    client = api(rep)
    path = f"/opportunities/{deal.public_id}/contact-roles"
    bad = client.post(path, {"contact_id": zhang.public_id, "role": "boss"})
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "role"
    south = make_team(workspace=workspace, name="华南")
    stranger = make_member(workspace=workspace, team=south, username="chen")
    hidden = customers.create_contact(
        workspace=workspace, by=stranger.user, family_name="Wong", given_name="Mary"
    )
    assert client.post(path, {"contact_id": hidden.public_id}).status_code == 404
    assert client.post(path, {"contact_id": "con_none"}).status_code == 404


def test_api_a_hidden_deal_is_a_404(api, workspace, account, rep, zhang):
    south = make_team(workspace=workspace, name="华南")
    stranger = make_member(workspace=workspace, team=south, username="chen")
    theirs = services.create_opportunity(
        workspace=workspace, by=stranger.user, name="Their deal", account=account
    )
    path = f"/opportunities/{theirs.public_id}/contact-roles"
    assert api(rep).get(path).status_code == 404
    assert api(rep).post(path, {"contact_id": zhang.public_id}).status_code == 404


def test_api_a_teammate_sees_but_may_not_change(api, workspace, team, rep, deal, zhang):
    mate = make_member(workspace=workspace, team=team, username="zhao")
    path = f"/opportunities/{deal.public_id}/contact-roles"
    assert api(mate).get(path).status_code == 200
    assert api(mate).post(path, {"contact_id": zhang.public_id}).status_code == 403

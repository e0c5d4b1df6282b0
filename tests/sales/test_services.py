"""Sales services: the default pipeline, opportunities with defaults from their stage,
validation, stage history, reopening won deals, optimistic locking, merges."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import translation

from guanxi.customers import services as customers
from guanxi.customers.merging import merge_contacts, unmerge
from guanxi.platform.audit import AuditEvent
from guanxi.platform.context import acting_in
from guanxi.platform.errors import Forbidden, ValidationFailed, VersionConflict
from guanxi.sales import services
from guanxi.sales.models import Opportunity, Pipeline, Stage, StageChange
from tests.factories import make_member, make_workspace

pytestmark = pytest.mark.django_db


def _fields(error: ValidationFailed) -> set[str]:
    return {field for field, _message in error.errors}


@pytest.fixture
def account(workspace, admin):
    return customers.create_account(workspace=workspace, by=admin.user, name="远景贸易")


@pytest.fixture
def pipeline(workspace):
    return Pipeline.objects.for_workspace(workspace).get(key="sales")


def stage(pipeline, key):
    return Stage.objects.for_workspace(pipeline.workspace_id).get(pipeline=pipeline, key=key)


@pytest.fixture
def deal(workspace, rep, account):
    return services.create_opportunity(
        workspace=workspace, by=rep.user, name="光纤采购", account=account, amount="120000"
    )


def test_every_new_workspace_gets_the_default_pipeline(workspace, pipeline):
    assert pipeline.is_default
    stages = list(Stage.objects.for_workspace(workspace).filter(pipeline=pipeline))
    assert [(s.key, s.probability, s.forecast_category, s.is_won, s.is_closed) for s in stages] == [
        ("qualification", 10, "pipeline", False, False),
        ("needs_analysis", 20, "pipeline", False, False),
        ("proposal", 50, "best_case", False, False),
        ("negotiation", 80, "commit", False, False),
        ("closed_won", 100, "closed", True, True),
        ("closed_lost", 0, "omitted", False, True),
    ]
    # stored in English, shown in the reader's language until renamed
    assert stages[0].name == "Qualification"
    with translation.override("en"):
        assert stages[0].display_name == "Qualification"
    stages[0].name = "Erstkontakt"
    assert stages[0].display_name == "Erstkontakt"
    assert services.create_default_pipeline(workspace=workspace) == pipeline  # idempotent


def test_create_takes_defaults_from_stage_and_workspace(workspace, rep, team, deal):
    assert deal.stage.key == "qualification" and deal.probability == 10
    assert deal.currency == workspace.currency == "CNY"
    assert deal.amount == Decimal("120000")
    assert deal.owner == rep.user and deal.team == team
    assert deal.closed_at is None
    change = StageChange.objects.for_workspace(workspace).get(opportunity=deal)
    assert change.from_stage is None and change.to_stage == deal.stage
    assert (change.amount, change.probability, change.changed_by) == (deal.amount, 10, rep.user)
    assert AuditEvent.objects.filter(action="sales.opportunity.created", object_id=deal.public_id)
    assert deal.history.count() == 1


@pytest.mark.parametrize(
    ("fields", "error_on"),
    [
        ({"amount": "-1"}, "amount"),
        ({"amount": "1.005"}, "amount"),
        ({"currency": "yuan"}, "currency"),
        ({"currency": "C1Y"}, "currency"),
        ({"probability": 101}, "probability"),
        ({"name": "  "}, "name"),
    ],
)
def test_validation_names_the_field(workspace, rep, account, fields, error_on):
    arguments = {"name": "报价", "account": account} | fields
    with pytest.raises(ValidationFailed) as caught:
        services.create_opportunity(workspace=workspace, by=rep.user, **arguments)
    assert error_on in _fields(caught.value)


def test_stage_of_another_pipeline(workspace, rep, account, pipeline):
    other = Pipeline.objects.create(workspace=workspace, key="renewals", name="Renewals")
    alien = Stage.objects.create(workspace=workspace, pipeline=other, key="due", name="Due")
    with pytest.raises(ValidationFailed) as caught:
        services.create_opportunity(
            workspace=workspace, by=rep.user, name="x", account=account, pipeline=pipeline,
            stage=alien,
        )  # fmt: skip
    assert _fields(caught.value) == {"stage"}


def test_account_of_another_workspace_is_missing(rep):
    elsewhere = make_workspace(slug="elsewhere")
    stranger = make_member(workspace=elsewhere, role_key="administrator")
    foreign = customers.create_account(workspace=elsewhere, by=stranger.user, name="别家")
    with pytest.raises(ValidationFailed) as caught:
        services.create_opportunity(workspace=rep.workspace, by=rep.user, name="x", account=foreign)
    assert _fields(caught.value) == {"account_id"}
    assert "elsewhere" not in str(caught.value) and foreign.public_id not in str(caught.value)


def test_moves_write_the_stage_history(workspace, rep, deal, pipeline):
    proposal = stage(pipeline, "proposal")
    deal = services.move_stage(opportunity=deal, stage=proposal, by=rep.user, expected_version=1)
    assert deal.probability == 50 and deal.version == 2
    deal = services.update_opportunity(
        opportunity=deal, by=rep.user, expected_version=2, amount=Decimal("90000"),
        probability=60,
    )  # fmt: skip
    assert deal.probability == 60  # overridden within the stage
    deal = services.move_stage(
        opportunity=deal, stage=stage(pipeline, "closed_won"), by=rep.user, expected_version=3
    )
    assert deal.probability == 100 and deal.closed_at is not None
    history = list(
        StageChange.objects.for_workspace(workspace).filter(opportunity=deal)
        .order_by("changed_at", "id").values_list("from_stage__key", "to_stage__key", "amount",
                                                  "probability")
    )  # fmt: skip
    assert history == [
        (None, "qualification", Decimal("120000.00"), 10),
        ("qualification", "proposal", Decimal("120000.00"), 50),
        ("proposal", "closed_won", Decimal("90000.00"), 100),
    ]
    assert AuditEvent.objects.filter(action="sales.opportunity.moved").count() == 2


def test_lost_needs_a_reason(rep, deal, pipeline):
    lost = stage(pipeline, "closed_lost")
    with pytest.raises(ValidationFailed) as caught:
        services.move_stage(opportunity=deal, stage=lost, by=rep.user, expected_version=1)
    assert _fields(caught.value) == {"loss_reason"}
    deal.refresh_from_db()
    deal = services.move_stage(
        opportunity=deal, stage=lost, by=rep.user, expected_version=1, loss_reason="价格太高"
    )
    assert deal.probability == 0 and deal.closed_at and deal.loss_reason == "价格太高"


def test_reopening_a_won_deal(workspace, team, account, pipeline):
    boss = make_member(workspace=workspace, role_key="sales_manager", username="boss")
    seller = make_member(workspace=workspace, team=team, manager=boss, username="seller")
    deal = services.create_opportunity(workspace=workspace, by=seller.user, name="光纤",
                                       account=account, stage=stage(pipeline, "closed_won"))  # fmt: skip
    assert deal.probability == 100 and deal.closed_at is not None
    negotiation = stage(pipeline, "negotiation")
    with pytest.raises(Forbidden):  # a rep may not un-win a deal
        services.move_stage(opportunity=deal, stage=negotiation, by=seller.user,
                            expected_version=1, reason="客户撤单")  # fmt: skip
    deal.refresh_from_db()
    with pytest.raises(ValidationFailed) as caught:  # the manager may, saying why
        services.move_stage(opportunity=deal, stage=negotiation, by=boss.user, expected_version=1)
    assert _fields(caught.value) == {"reason"}
    deal.refresh_from_db()
    deal = services.move_stage(opportunity=deal, stage=negotiation, by=boss.user,
                               expected_version=1, reason="客户撤单")  # fmt: skip
    assert deal.stage == negotiation and deal.closed_at is None and deal.probability == 80
    last = StageChange.objects.for_workspace(workspace).filter(opportunity=deal).last()
    assert last.reason == "客户撤单" and last.changed_by == boss.user
    assert AuditEvent.objects.filter(action="sales.opportunity.reopened").exists()


def test_stale_version_conflicts(rep, deal, pipeline):
    services.update_opportunity(opportunity=deal, by=rep.user, expected_version=1, name="A")
    stale = Opportunity.objects.for_workspace(deal.workspace).get(pk=deal.pk)
    stale.version = 1
    with pytest.raises(VersionConflict):
        services.update_opportunity(opportunity=stale, by=rep.user, expected_version=1, name="B")


def test_delete_is_soft(workspace, rep, deal):
    services.delete_opportunity(opportunity=deal, by=rep.user)
    assert not Opportunity.objects.for_workspace(workspace).filter(pk=deal.pk).exists()
    assert Opportunity.objects.for_workspace(workspace, include_deleted=True).get(pk=deal.pk)
    assert AuditEvent.objects.filter(action="sales.opportunity.deleted").exists()


def test_merge_moves_opportunities_and_unmerge_moves_them_back(workspace, admin, account):
    with acting_in(workspace):
        keep = customers.create_contact(workspace=workspace, by=admin.user, family_name="张",
                                        given_name="伟")  # fmt: skip
        dupe = customers.create_contact(workspace=workspace, by=admin.user, family_name="張",
                                        given_name="偉")  # fmt: skip
        deal = services.create_opportunity(workspace=workspace, by=admin.user, name="扩容",
                                           account=account, contact=dupe)  # fmt: skip
        merge = merge_contacts(membership=admin, survivor=keep, merged=[dupe])
        deal.refresh_from_db()
        assert deal.contact == keep
        unmerge(membership=admin, merge=merge)
        deal.refresh_from_db()
        assert deal.contact_id == dupe.pk

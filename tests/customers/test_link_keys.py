"""The name keys the database keeps on account links (triggers, guanxi.customers.linkkeys):
after every kind of write each link carries its account's key ('' for a deleted account)
and its person's, as computing them from the rows gives; and duplicate matching reads a
company's people from them."""

from __future__ import annotations

import pytest
from django.db import connection

from guanxi.customers import linkkeys, services
from guanxi.customers.generate import generate
from guanxi.customers.identity import match_contacts, name_key
from guanxi.customers.imports import engine
from guanxi.customers.merging import merge_contacts, unmerge
from guanxi.customers.models import Account, AccountContact, Contact
from guanxi.platform.context import acting_in

pytestmark = pytest.mark.django_db


def kept() -> dict[int, tuple[str, str]]:
    return {
        link.pk: (link.account_key, link.contact_key) for link in AccountContact._base_manager.all()
    }


def computed() -> dict[int, tuple[str, str]]:
    accounts = {a.pk: a for a in Account._base_manager.all()}
    contacts = {c.pk: c for c in Contact._base_manager.all()}
    result = {}
    for link in AccountContact._base_manager.all():
        account, contact = accounts[link.account_id], contacts[link.contact_id]
        live = account.deleted_at is None
        result[link.pk] = (account.sort_key.replace(" ", "") if live else "",
                           contact.sort_key.replace(" ", ""))  # fmt: skip
    return result


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_triggers_are_installed_by_migrate():
    assert linkkeys.installed(connection)


def test_every_kind_of_write_keeps_the_keys(workspace, admin):
    by = admin.user
    yuanjing = services.create_account(workspace=workspace, by=by, name="远景贸易")
    huaxin = services.create_account(workspace=workspace, by=by, name="Huaxin Tech")
    wang = services.create_contact(workspace=workspace, by=by, full_name="王伟", account=yuanjing)
    smith = services.create_contact(workspace=workspace, by=by, family_name="Smith",
                                    given_name="John", account=huaxin)  # fmt: skip
    services.link_contact(contact=wang, account=huaxin, by=by, title="顾问")
    assert kept() == computed()
    assert ("yuanjingmaoyi", "wangwei") in kept().values()
    # renames through the services and behind their back
    services.update_contact(contact=wang, by=by, expected_version=wang.version, given_name="芳")
    services.update_account(account=huaxin, by=by, expected_version=huaxin.version,
                            name="华信科技")  # fmt: skip
    Contact.objects.for_workspace(workspace).filter(pk=smith.pk).update(sort_key="smith jon")
    assert kept() == computed()
    assert ("huaxinkeji", "smithjon") in kept().values()
    # a link moved to another person and another account
    links = AccountContact.objects.for_workspace(workspace)
    links.filter(contact=smith).update(account=yuanjing)
    links.filter(contact=wang, account=huaxin).update(contact=smith)
    assert kept() == computed()
    # an account deleted, then restored
    services.delete_customer(customer=yuanjing, by=by)
    assert kept() == computed()
    assert {k for k, _c in kept().values()} == {"huaxinkeji", ""}
    Account._base_manager.filter(pk=yuanjing.pk).update(deleted_at=None)
    assert kept() == computed()
    assert "yuanjingmaoyi" in {k for k, _c in kept().values()}


def test_merges_and_unmerges_keep_the_keys(workspace, admin):
    by = admin.user
    account = services.create_account(workspace=workspace, by=by, name="远景贸易")
    keep = services.create_contact(workspace=workspace, by=by, full_name="王伟", account=account)
    dupe = services.create_contact(workspace=workspace, by=by, full_name="Wang Wei",
                                   account=services.create_account(
                                       workspace=workspace, by=by, name="星河科技"))  # fmt: skip
    with acting_in(workspace):
        merge = merge_contacts(membership=admin, survivor=keep, merged=[dupe])
        assert kept() == computed()
        unmerge(membership=admin, merge=merge)
    assert kept() == computed()


def test_imports_and_generated_data_have_their_keys(workspace, admin):
    upload = "姓名,手机,公司\n张伟,13800138000,远景贸易\n李娜,13900139000,华信科技\n"
    job = engine.run(engine.create_job(membership=admin, kind="contacts", upload=upload.encode(),
                                       file_name="people.csv"))  # fmt: skip
    assert job.counts["created"] == 2, job.counts
    generate(workspace=workspace, customers=60, interactions=0, seed=3, reps=2)
    assert kept() == computed()
    assert ("yuanjingmaoyi", "zhangwei") in kept().values()
    assert len(kept()) > 20


def test_a_rebuild_and_migrate_put_back_lost_triggers(workspace, admin):
    by = admin.user
    account = services.create_account(workspace=workspace, by=by, name="远景贸易")
    services.create_contact(workspace=workspace, by=by, full_name="王伟", account=account)
    # as if a later migration had rebuilt the table on SQLite (triggers dropped with it)
    linkkeys.uninstall(connection)
    assert not linkkeys.installed(connection)
    services.create_contact(workspace=workspace, by=by, full_name="李娜", account=account)
    assert kept() != computed()  # written while the triggers were missing
    linkkeys.ensure_installed(using=connection.alias)
    assert linkkeys.installed(connection) and kept() == computed()


def test_a_big_company_is_read_most_alike_first(workspace, admin):
    """Of a company with more people than are read, the namesakes, the names a letter away
    and those of the same family name come back — whoever else works there."""
    by = admin.user
    accounts = [services.create_account(workspace=workspace, by=by, name="远景贸易")
                for _ in range(3)]  # fmt: skip
    for n in range(70):
        services.create_contact(workspace=workspace, by=by, family_name="Li",
                                given_name=f"Person{n:02d}", account=accounts[n % 3])  # fmt: skip
    meant = services.create_contact(workspace=workspace, by=by, full_name="丁天佑",
                                    account=accounts[2])  # fmt: skip
    wong = services.create_contact(workspace=workspace, by=by, family_name="Wong",
                                   given_name="Mary", account=accounts[1])  # fmt: skip
    assert name_key(family="远景贸易", given="") == "yuanjingmaoyi"
    # the same family name at the company (the given name mistyped beyond one letter)
    found, _hidden = match_contacts(user=admin, full_name="丁天玮", company="远景贸易")
    assert meant in [c.contact for c in found]
    # a letter away
    found, _hidden = match_contacts(user=admin, full_name="Mary Wonx", company="远景贸易")
    assert found[0].contact == wong

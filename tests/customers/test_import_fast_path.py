"""The fast path of imports (rows written by COPY / executemany) stores exactly what the
services store for the same input; batches pipelined on PostgreSQL still see each other."""

from __future__ import annotations

import pytest
from django.db import connection
from hypothesis import example, given, settings
from hypothesis import strategies as st

from guanxi.customers import normalize, services
from guanxi.customers.imports import bulk, engine
from guanxi.customers.models import (
    Account,
    AccountContact,
    Address,
    Contact,
    ContactPoint,
    ImportRow,
)
from guanxi.customers.services import AddressInput, ContactPointInput
from guanxi.platform.context import acting_in
from guanxi.platform.services import create_custom_field
from tests.factories import make_member, make_workspace

pytestmark = pytest.mark.django_db

CONTACTS = (
    "姓名,手机,电话,邮箱,微信,公司,职位,标签,负责人,阶段,生日,性别,城市,区,地址,客户编号,等级\n"
    "张伟,138 0013 8000,021-6234 5678,Zhang.Wei@Example.CN,zhangwei_88,远景贸易,采购经理,"
    "vip、展会,li.na,customer,1985/6/1,男,上海,浦东新区,世纪大道 100 号,C-1,A\n"
    "欧阳娜娜,+86 139-0000-1111,,,,,,,,,,女,,,,C-2,\n"
    "Mary Wong,+852 9123 4567,,mary.wong@example.hk,,Harbour Trading,Buyer,,,,,,Hong Kong,,,C-3,\n"
    "Zoë Saldaña,,,ZOE@example.com,,远景贸易,,vip,,,,,,,,,\n"
)
FIELDS = ("family_name", "given_name", "display_name", "search_document", "sort_key", "gender",
          "birthday", "external_id", "value_tier", "owner_id", "team_id", "lifecycle_stage_id",
          "custom_fields", "source", "occupation")  # fmt: skip
POINT_FIELDS = ("kind", "label", "value", "match_key", "raw_value", "digits_reversed",
                "is_primary", "is_shared", "is_verified", "consent_state")  # fmt: skip


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def _service_contacts(workspace, by, owner):
    """The same four people, through the services."""
    with acting_in(workspace):
        stage = "customer"
        company = services.create_account(workspace=workspace, by=by, name="远景贸易", owner=by)
        harbour = services.create_account(workspace=workspace, by=by, name="Harbour Trading")
        return [
            services.create_contact(
                workspace=workspace, by=by, full_name="张伟", owner=owner, account=company,
                title="采购经理", tags=["vip", "展会"], lifecycle_stage=stage,
                birthday="1985-06-01", gender="male", external_id="C-1", value_tier="A",
                contact_points=[ContactPointInput(kind="phone", value="138 0013 8000"),
                                ContactPointInput(kind="phone", value="021-6234 5678"),
                                ContactPointInput(kind="email", value="Zhang.Wei@Example.CN"),
                                ContactPointInput(kind="wechat", value="zhangwei_88")],
                addresses=[AddressInput(country="CN", city="上海", district="浦东新区",
                                        street="世纪大道 100 号", is_primary=True)],
            ),
            services.create_contact(
                workspace=workspace, by=by, full_name="欧阳娜娜", gender="female",
                external_id="C-2",
                contact_points=[ContactPointInput(kind="phone", value="+86 139-0000-1111")],
            ),
            services.create_contact(
                workspace=workspace, by=by, family_name="Wong", given_name="Mary",
                account=harbour, title="Buyer", external_id="C-3",
                contact_points=[ContactPointInput(kind="phone", value="+852 9123 4567"),
                                ContactPointInput(kind="email", value="mary.wong@example.hk")],
                addresses=[AddressInput(country="CN", city="Hong Kong", is_primary=True)],
            ),
            services.create_contact(
                workspace=workspace, by=by, full_name="Zoë Saldaña", account=company,
                tags=["vip"],
                contact_points=[ContactPointInput(kind="email", value="ZOE@example.com")],
            ),
        ]  # fmt: skip


def _snapshot(contact, workspace):
    """What a contact is, in terms that do not depend on its workspace or ids."""
    with acting_in(workspace):
        points = ContactPoint.objects.for_workspace(workspace).filter(contact=contact)
        addresses = Address.objects.for_workspace(workspace).filter(contact=contact)
        links = AccountContact.objects.for_workspace(workspace).filter(contact=contact)
        return {
            **{name: getattr(contact, name) for name in FIELDS
               if not name.endswith("_id") or name == "external_id"},
            "owner": contact.owner.username, "team": contact.team and contact.team.name,
            "stage": contact.lifecycle_stage and contact.lifecycle_stage.key,
            "points": sorted(tuple(getattr(p, f) for f in POINT_FIELDS) for p in points),
            "addresses": [(a.country, a.region, a.city, a.district, a.street, a.postcode,
                           a.is_primary, a.label) for a in addresses],
            "links": [(link.account.name, link.title, link.is_primary) for link in links],
            "tags": sorted(t.name for t in contact.tags.all()),
            # one creation record (the services add more as they save again)
            "created": contact.history.filter(history_type="+").count(),
        }  # fmt: skip


def test_imported_contacts_are_stored_as_the_services_store_them(admin, rep, team):
    job = engine.create_job(membership=admin, kind="contacts", upload=CONTACTS.encode(),
                            file_name="people.csv")  # fmt: skip
    assert job.mapping["电话"]["field"] == "phone2"
    job = engine.run(job)
    assert job.counts["created"] == 4 and job.counts["errors"] == 0, ImportRow.objects.filter(
        job=job
    ).values_list("errors", flat=True)
    workspace = admin.workspace
    imported = {c.external_id or c.family_name: c for c in Contact.objects.for_workspace(workspace)}
    # the same people in a workspace of their own, through the services
    other = make_workspace(slug="other", name="Other")
    by = make_member(workspace=other, role_key="administrator", username="other.root")
    owner = make_member(workspace=other, role_key="sales_rep", username="other.li",
                        team=services_team(other, team.name))  # fmt: skip
    expected = _service_contacts(other, by.user, owner.user)
    for made in expected:
        got = imported[made.external_id or made.family_name]
        a, b = _snapshot(got, workspace), _snapshot(made, other)
        for snapshot, member in ((a, rep), (b, owner)):
            if snapshot["owner"] == member.user.username:
                snapshot["owner"] = "the rep"
            for who in (admin, by):
                if snapshot["owner"] == who.user.username:
                    snapshot["owner"] = "the importer"
        assert a == b, made.display_name
    # an account the import made for a company it did not find, as create_account makes it
    with acting_in(workspace):
        harbour = Account.objects.for_workspace(workspace).get(name="Harbour Trading")
        assert (harbour.search_document, harbour.sort_key) == (
            normalize.search_document("Harbour Trading", ""),
            normalize.sort_key(family="Harbour Trading", given=""),
        )
        assert harbour.owner_id == admin.user_id and harbour.history.count() == 1
        # one company row for both people working there
        assert Account.objects.for_workspace(workspace).filter(name="远景贸易").count() == 1


def services_team(workspace, name):
    from guanxi.platform.services import create_team

    return create_team(workspace=workspace, name=name)


def test_imported_accounts_are_stored_as_the_services_store_them(admin):
    text = "Company Name,Website,Phone,Industry\nAcme 贸易,WWW.Acme.com/,021-62345678,Retail\n"
    job = engine.run(engine.create_job(membership=admin, kind="accounts", upload=text.encode(),
                                       file_name="a.csv"))  # fmt: skip
    assert job.counts["created"] == 1, list(ImportRow.objects.filter(job=job).values("errors"))
    with acting_in(admin.workspace):
        imported = Account.objects.for_workspace(admin.workspace).get()
        made = services.create_account(
            workspace=admin.workspace, by=admin.user, name="Acme 贸易", website="WWW.Acme.com/",
            industry="Retail",
        )  # fmt: skip
    for name in ("name", "industry", "search_document", "sort_key"):
        assert getattr(imported, name) == getattr(made, name), name
    # the web address normalized, as update_account stores it
    assert imported.website == "https://www.acme.com/"


def test_custom_fields_and_addresses_are_checked_as_the_services_check_them(admin):
    create_custom_field(workspace=admin.workspace, applies_to="customers.contact", key="size",
                        label="鞋码", field_type="number")  # fmt: skip
    text = "姓名,鞋码,邮编\n李雷,42,200000\n韩梅梅,大,\n"
    job = engine.run(engine.create_job(membership=admin, kind="contacts", upload=text.encode(),
                                       file_name="c.csv"))  # fmt: skip
    errors = {r.line: r.errors for r in ImportRow.objects.filter(job=job, outcome="error")}
    # a postcode alone is not an address (the services refuse it); a number must be one
    assert set(errors) == {2, 3}
    assert errors[2][0]["column"] == "邮编" and errors[3][0]["column"] == "鞋码"


@settings(max_examples=300, deadline=None)
@given(
    local=st.from_regex(r"[A-Za-z0-9._%+!#'-]{1,70}", fullmatch=True),
    domain=st.sampled_from(["example.com", "Example.CN", "mail.163.com", "localhost", "a..b",
                            "xn--fiqs8s.cn", "中国.cn", "x.test", "-bad.com", "b.c0m"]),
    space=st.sampled_from(["", " ", "\u3000"]),
)  # fmt: skip
@example(local="WWW", domain="example.com", space="")  # RFC 2142 role mailboxes: lower-cased
@example(local="Sales", domain="Example.CN", space=" ")
def test_cached_email_normalization_equals_the_full_one(local, domain, space):
    address = f"{space}{local}@{domain}{space}"
    try:
        expected = normalize.normalize_email(address)
    except normalize.InvalidContactValue:
        with pytest.raises(normalize.InvalidContactValue):
            bulk.normalize_email(address)
        return
    assert bulk.normalize_email(address) == expected


@pytest.mark.django_db(transaction=True)  # batches then commit on a connection of their own
def test_batches_see_the_rows_of_the_batch_before_them(workspace, admin):
    lines = ["姓名,手机,客户编号"]
    for i in range(30):
        phone = f"139{i:08d}"
        if i in (12, 25):  # the phone of a row of the batch before
            phone = f"139{i - 10:08d}"
        lines.append(f"客户{i},{phone},{'K-3' if i == 21 else f'K-{i}'}")
    job = engine.create_job(membership=admin, kind="contacts", upload="\n".join(lines).encode(),
                            file_name="many.csv")  # fmt: skip
    job = engine.run(job, batch=10)
    assert job.counts["created"] == 27 and job.counts["skipped"] == 3
    with acting_in(workspace):
        contacts = Contact.objects.for_workspace(workspace)
        assert contacts.count() == 27
        skipped = {r.line for r in ImportRow.objects.filter(job=job)} ^ set(range(2, 32))
        assert skipped == {14, 23, 27}
    assert connection.vendor in ("sqlite", "postgresql")

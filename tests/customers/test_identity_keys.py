"""Matching at scale: name keys in any script, order or spacing, typos one edit away among
the people who share the evidence, index lookups only, bounded queries; account matching."""

from __future__ import annotations

from datetime import date

import pytest
from django.db import connection
from hypothesis import given
from hypothesis import strategies as st

from guanxi.customers import services
from guanxi.customers.identity import (
    company_similarity,
    match_accounts,
    match_contacts,
    name_key,
    name_keys,
    typo_keys,
    website_domain,
)
from guanxi.customers.models import Contact, NameKey
from guanxi.customers.services import AddressInput, ContactPointInput
from tests.factories import make_member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "typed",
    ["张伟", "張偉", "Zhang Wei", "Wei Zhang", "zhang wei", "ZHANG WEI", "zhangwei", "张 伟"],
)
def test_every_form_of_a_han_name_has_its_stored_key(typed):
    assert name_key(family="张", given="伟") in name_keys(typed)


@pytest.mark.parametrize("typed", ["Zixuan Jiang", "jiang zi xuan", "Jiang Zixuan", "姜子轩"])
def test_given_names_joined_or_not(typed):
    assert name_key(family="姜", given="子轩") in name_keys(typed)


def test_latin_names_either_order_without_accents():
    stored = name_key(family="Dubois", given="Émilie")
    assert stored in name_keys("Emilie Dubois") and stored in name_keys("dubois émilie")


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=5, max_size=12), st.data())
def test_one_edit_away_is_among_the_typo_keys(key, data):
    position = data.draw(st.integers(0, len(key) - 1))
    letter = data.draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz"))
    changed = key[:position] + letter + key[position + 1 :]
    dropped = key[:position] + key[position + 1 :]
    swapped = (
        key[:position] + key[position + 1 : position + 2] + key[position] + key[position + 2 :]
    )
    keys = set(typo_keys((key,))) | {key}
    assert {changed, dropped, swapped} <= keys


def test_short_names_have_no_typo_keys():
    assert typo_keys(("li",)) == []


@pytest.fixture
def people(workspace, admin):
    account = services.create_account(workspace=workspace, by=admin.user, name="远景贸易")
    made = {}
    for index, (family, given_name, city) in enumerate(
        [("Wong", "Mary", "Hong Kong"), ("Wong", "Mary", "Taipei"), ("张", "伟", "上海"),
         ("张", "伟", "北京"), ("Smith", "John", "Boston")]
    ):  # fmt: skip
        made[(family, given_name, city)] = services.create_contact(
            workspace=workspace, by=admin.user, family_name=family, given_name=given_name,
            addresses=[AddressInput(country="CN", city=city)],
            account=account if index == 4 else None,
        )  # fmt: skip
    return made | {"account": account}


def test_a_typo_with_the_city_finds_the_person_there_first(admin, people):
    found, _hidden = match_contacts(user=admin, full_name="Mary Wonx", city="Taipei")
    assert found[0].contact == people[("Wong", "Mary", "Taipei")]
    assert "same city Taipei" in found[0].reasons


def test_a_typo_alone_finds_the_namesakes_when_nobody_has_the_name_as_typed(admin, people):
    found, _hidden = match_contacts(user=admin, full_name="Mray Wong")
    assert {c.contact.display_name for c in found} == {"Mary Wong"}


def test_a_city_written_otherwise_still_counts(admin, people):
    found, _hidden = match_contacts(user=admin, full_name="Zhang Wei", city="上海市")
    assert found[0].contact == people[("张", "伟", "上海")] and found[0].score > found[1].score


def test_a_mistyped_name_at_the_company(admin, people):
    found, _hidden = match_contacts(user=admin, full_name="Jon Smiht", company="远景贸易")
    assert found[0].contact == people[("Smith", "John", "Boston")]


def test_only_visible_contacts_come_back(workspace, people):
    stranger = make_member(workspace=workspace, role_key="sales_rep", username="stranger")
    assert match_contacts(user=stranger, full_name="Mary Wonx", city="Taipei") == ([], 0)


def test_query_budget(admin, people, django_assert_max_num_queries):
    """Two lookups per identifier, the company's people, its namesakes there, the
    namesakes, the typos."""
    with django_assert_max_num_queries(8):
        match_contacts(user=admin, full_name="Mary Wonx", company="远景贸易", city="Taipei",
                       birthday=date(1990, 1, 1), phone="13900000000", email="x@y.cn")  # fmt: skip


def test_name_lookups_use_the_name_key_index(people):
    """The query's expression is the index's (a handful of rows would rather be scanned:
    scans are turned off to see that the index can serve)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
    rows = Contact._base_manager.alias(key=NameKey("sort_key"))
    plan = rows.filter(key__in=["wongmary", "marywong"]).order_by("key").explain()
    assert "contact_name_key" in plan


def test_company_names_compare_across_scripts():
    assert company_similarity("上海远景贸易有限公司", "上海遠景貿易有限公司") == 1.0
    assert company_similarity("上海远景贸易", "Shanghai Yuanjing Maoyi") == 1.0
    assert company_similarity("上海远景贸易", "北京华信科技") < 0.6


@pytest.mark.parametrize(
    "url, domain",
    [("https://www.Yuanjing.cn/about", "yuanjing.cn"), ("yuanjing.cn", "yuanjing.cn"), ("", "")],
)
def test_website_domain(url, domain):
    assert website_domain(url) == domain


@pytest.fixture
def accounts(workspace, admin):
    yuanjing = services.create_account(
        workspace=workspace, by=admin.user, name="上海远景贸易有限公司",
        website="https://www.yuanjing.cn",
        contact_points=[ContactPointInput(kind="phone", value="021 6234 5678")],
        addresses=[AddressInput(country="CN", city="上海")],
    )  # fmt: skip
    harbour = services.create_account(
        workspace=workspace, by=admin.user, name="Harbour Gate Trading Limited",
        legal_name="港灣貿易有限公司",
    )  # fmt: skip
    return {"yuanjing": yuanjing, "harbour": harbour}


@pytest.mark.parametrize(
    "question",
    [{"name": "上海遠景貿易有限公司"}, {"name": "Shanghai Yuanjing Maoyi Youxian Gongsi"},
     {"phone": "+86 21 6234 5678"}, {"website": "http://yuanjing.cn/contact"},
     {"name": "上海远景贸易有限公司", "city": "上海市"}],
)  # fmt: skip
def test_accounts_by_name_in_any_script_phone_or_domain(admin, accounts, question):
    found, hidden = match_accounts(user=admin, **question)
    assert found[0].account == accounts["yuanjing"] and hidden == 0


def test_accounts_by_legal_name(admin, accounts):
    found, _hidden = match_accounts(user=admin, name="港湾贸易有限公司")
    assert found[0].account == accounts["harbour"]
    assert "name 港湾贸易有限公司 ≈ 港灣貿易有限公司" in found[0].reasons


def test_a_shared_identifier_outranks_a_name(admin, accounts):
    by_phone, _h = match_accounts(user=admin, phone="02162345678")
    by_name, _h = match_accounts(user=admin, name="上海远景贸易有限公司")
    assert by_phone[0].identifier == "phone" and by_phone[0].score > by_name[0].score


def test_api_accounts_match_counts_what_it_hides(api, workspace, admin, accounts):
    body = api(admin).post("/accounts/match", {"name": "上海遠景貿易有限公司"}).json()
    assert body["candidates"][0]["id"] == accounts["yuanjing"].public_id
    assert set(body["candidates"][0]) == {"id", "display_name", "score", "reasons"}
    stranger = make_member(workspace=workspace, role_key="sales_rep", username="stranger")
    hidden = api(stranger).post("/accounts/match", {"phone": "021 6234 5678"}).json()
    assert hidden == {"candidates": [], "hidden": 1}


def test_the_index_is_the_one_the_migration_made():
    with connection.cursor() as cursor:
        names = connection.introspection.get_constraints(cursor, "customers_contact")
    assert "contact_name_key" in names


def test_matching_plans_for_the_values_and_leaves_the_connection_as_it_was(admin, people):
    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    connection.ensure_connection()
    before = connection.connection.prepare_threshold
    for _time in range(4):  # more runs than the threshold: still planned for its values
        found, _hidden = match_contacts(user=admin, full_name="Mary Wong", city="Taipei")
        assert found[0].contact == people[("Wong", "Mary", "Taipei")]
    assert connection.connection.prepare_threshold == before

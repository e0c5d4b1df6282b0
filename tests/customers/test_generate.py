"""`guanxi generate`: synthetic customers and timeline, bulk-loaded but shaped like real ones."""

from __future__ import annotations

import json
from io import StringIO

import phonenumbers
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from ulid import ULID

from guanxi.customers import normalize
from guanxi.customers.generate import generate, phone_number, public_id
from guanxi.customers.models import Account, AccountContact, Contact, ContactPoint
from guanxi.customers.search import search
from guanxi.platform.context import acting_in
from guanxi.timeline.models import Interaction
from tests.factories import make_member, make_workspace

pytestmark = pytest.mark.django_db


def test_public_ids_are_ulids_carrying_their_time():
    value = public_id("int", 1_700_000_000_123, 2**80 - 1)
    prefix, _, encoded = value.partition("_")
    assert prefix == "int" and len(encoded) == 26 and encoded == encoded.lower()
    parsed = ULID.from_str(encoded.upper())
    assert parsed.milliseconds == 1_700_000_000_123
    assert int(parsed) & (2**80 - 1) == 2**80 - 1


@pytest.mark.parametrize("region", ["CN", "HK", "TW", "US"])
@pytest.mark.parametrize("index", [0, 7, 123_456, 999_999, 1_999_999])
def test_phone_numbers_are_valid_in_their_numbering_plan(region, index):
    e164, national = phone_number(region, index)
    parsed = phonenumbers.parse(e164)
    assert phonenumbers.is_valid_number(parsed), e164
    assert phonenumbers.region_code_for_number(parsed) == region
    assert normalize.normalize_phone(e164, region="CN").national_digits == national


def _indexes(table):
    if connection.vendor != "postgresql":
        return set()
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s", [table])
        constraints = {row[0] for row in cursor.fetchall()}
        cursor.execute("SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass", [table])
        return constraints | {row[0] for row in cursor.fetchall()}


def test_loads_customers_points_and_timeline_as_the_services_would():
    workspace = make_workspace(slug="scale", name="Scale")
    before = {t: _indexes(t) for t in ("timeline_interaction", "customers_contact")}
    report = generate(workspace=workspace, customers=60, interactions=900, heavy=120, seed=3)

    assert (report.accounts, report.contacts, report.interactions) == (6, 54, 900)
    with acting_in(workspace):
        assert Account.objects.count() == 6
        assert Contact.objects.count() == 54
        assert AccountContact.objects.count() == report.account_links
        assert ContactPoint.objects.count() == report.contact_points
        assert Interaction.objects.count() == 900
        heavy = Contact.objects.get(public_id=report.heavy_contact)
        assert Interaction.objects.filter(contact=heavy).count() == 120
        for contact in Contact.objects.all():
            # what the services would have stored for this name
            assert contact.display_name == normalize.display_name(
                family=contact.family_name, given=contact.given_name
            )
            assert contact.owner_id is not None
        for point in ContactPoint.objects.filter(kind="phone"):
            phone = normalize.normalize_phone(point.value, region="CN")
            assert (phone.e164, phone.national_digits[::-1]) == (
                point.value,
                point.digits_reversed,
            )
        for point in ContactPoint.objects.filter(kind="email"):
            assert normalize.normalize_email(point.value) == point.value
        # each interaction of a contact at an account is on the account's timeline too
        linked = dict(AccountContact.objects.values_list("contact_id", "account_id"))
        for contact_id, account_id in Interaction.objects.values_list("contact_id", "account_id"):
            assert account_id == linked.get(contact_id)
        times = list(Interaction.objects.order_by("pk").values_list("occurred_at", flat=True))
        assert times == sorted(times)
    after = {t: _indexes(t) for t in before}
    assert after == before  # indexes and constraints dropped for the load are back


def test_generated_customers_are_found_by_search():
    workspace = make_workspace(slug="scale", name="Scale")
    generate(workspace=workspace, customers=40, interactions=0, seed=5)
    admin = make_member(workspace=workspace, role_key="administrator", username="boss")
    with acting_in(workspace, admin):
        han = Contact.objects.filter(family_name__regex=r"^[\u4e00-\u9fff]").first()
        assert han is not None
        pinyin = "".join(normalize._pinyin(han.display_name, personal=True))
        found = [r.id for r in search(user=admin.user, q=pinyin, limit=200)]
        assert han.public_id in found
        phone = ContactPoint.objects.filter(kind="phone", contact__isnull=False).first()
        found = [r.id for r in search(user=admin.user, q=phone.value[-6:], limit=200)]
        assert phone.contact.public_id in found


def test_same_seed_same_data():
    first = make_workspace(slug="one", name="One")
    second = make_workspace(slug="two", name="Two")
    generate(workspace=first, customers=30, interactions=50, seed=11)
    generate(workspace=second, customers=30, interactions=50, seed=11)

    def names(workspace):
        with acting_in(workspace):
            return list(Contact.objects.order_by("pk").values_list("display_name", flat=True))

    assert names(first) == names(second)


def test_command_prints_a_summary_and_refuses_bad_numbers():
    out, err = StringIO(), StringIO()
    call_command(
        "generate", "--customers", "20", "--interactions", "40", "--workspace", "bench",
        "--reps", "3", stdout=out, stderr=err,
    )  # fmt: skip
    summary = json.loads(out.getvalue())
    assert summary["contacts"] + summary["accounts"] == 20
    assert summary["interactions"] == 40
    assert "interactions:" in err.getvalue()
    with pytest.raises(CommandError) as failure:
        call_command("generate", "--customers", "1")
    assert failure.value.returncode == 2
    with pytest.raises(CommandError):
        call_command("generate", "--customers", "10", "--interactions", "5", "--heavy", "6")

"""Account fields as the services store them."""

from __future__ import annotations

import pytest

from guanxi.customers import normalize, services
from guanxi.customers.errors import DuplicateExternalId

pytestmark = pytest.mark.django_db


def test_the_website_is_stored_normalized_on_create_as_on_update(workspace, admin):
    typed = "WWW.Example.COM/"
    expected, _extra = normalize.normalize_contact_value(kind="web", value=typed, region="CN")
    account = services.create_account(workspace=workspace, by=admin.user, name="远景",
                                      website=typed)  # fmt: skip
    account.refresh_from_db()
    assert account.website == expected != typed


def test_external_ids_stay_unique_and_empty_ones_never_clash(workspace, admin):
    services.create_account(workspace=workspace, by=admin.user, name="甲", external_id="A-1")
    services.create_account(workspace=workspace, by=admin.user, name="乙")
    services.create_account(workspace=workspace, by=admin.user, name="丙")
    with pytest.raises(DuplicateExternalId):
        services.create_account(workspace=workspace, by=admin.user, name="丁", external_id="A-1")

"""The history manager class is built once per model, not on every read of ``.history``
(the library rebuilds it on every access, and reads it for every history row it writes)."""

from __future__ import annotations

import pytest

from guanxi.customers import services
from guanxi.customers.models import Account
from guanxi.platform.history import BuiltOnceHistoryManager
from guanxi.sales.models import Lead

pytestmark = pytest.mark.django_db


def test_the_history_manager_class_is_built_once():
    assert type(Lead.history) is type(Lead.history)
    assert isinstance(Lead.history, BuiltOnceHistoryManager)
    assert Account.history.model is not Lead.history.model  # the class is shared, not the model


def test_history_is_still_recorded_and_read(workspace, admin):
    account = services.create_account(workspace=workspace, by=admin.user, name="远景贸易")
    services.update_account(account=account, by=admin.user, expected_version=account.version,
                            name="远景科技")  # fmt: skip
    rows = list(account.history.order_by("history_date").values_list("name", "history_type"))
    assert rows[0] == ("远景贸易", "+") and rows[-1] == ("远景科技", "~")
    assert account.history.model is Account.history.model

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


def _indexed_columns(table: str) -> set[tuple[str, ...]]:
    from django.db import connection

    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, table)
    return {tuple(c["columns"]) for c in constraints.values() if c["index"] or c["primary_key"]}


@pytest.mark.parametrize("model", [Lead, Account])
def test_a_history_table_is_indexed_by_its_record_alone(model):
    history = model.history.model
    indexed = _indexed_columns(history._meta.db_table)
    assert indexed == {("history_id",), ("id",), ("history_date",), ("history_user_id",)}
    # the record's own table keeps its indexes
    assert ("owner_id",) in _indexed_columns(model._meta.db_table)

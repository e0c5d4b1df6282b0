"""One-row inserts by a statement built once: the same row as ``save()`` would write, and
history rows the same as the history library writes them."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from simple_history.signals import pre_create_historical_record

from guanxi.customers import services
from guanxi.customers.models import Account
from guanxi.platform import rowinsert
from guanxi.platform.audit import audit_event
from guanxi.platform.models import AuditEvent, Notification
from guanxi.platform.notifications import notify
from guanxi.sales.models import Lead

pytestmark = pytest.mark.django_db

SKIP = {"id", "public_id", "created_at", "updated_at"}


def _row(model, pk) -> dict:
    return {k: v for k, v in model.objects.filter(pk=pk).values().get().items() if k not in SKIP}


def test_insert_writes_the_row_save_writes(workspace, admin):
    saved = audit_event(action="test.thing", actor=admin.user, workspace=workspace,
                        data={"客户": "王芳", "n": 3})  # fmt: skip
    saved.save()
    inserted = audit_event(action="test.thing", actor=admin.user, workspace=workspace,
                           data={"客户": "王芳", "n": 3})  # fmt: skip
    with CaptureQueriesContext(connection) as queries:
        rowinsert.insert(inserted)
    assert len(queries) == 1 and inserted.pk is not None and not inserted._state.adding
    assert _row(AuditEvent, inserted.pk) == _row(AuditEvent, saved.pk)
    with pytest.raises(ValueError):
        rowinsert.insert(inserted)  # a row already written is not inserted again


def test_a_notification_gets_its_id_defaults_and_timestamps(workspace, admin, rep):
    note = notify(workspace=workspace, recipient=rep.user, kind="sales.lead_assigned",
                  by=admin.user, data={"lead": "王芳"}, url="/leads/x/")  # fmt: skip
    stored = Notification.objects.for_workspace(workspace).get(pk=note.pk)
    assert stored.public_id == note.public_id and stored.public_id.startswith(
        Notification.public_id_prefix
    )
    assert stored.created_at is not None and stored.version == note.version
    assert stored.read_at is None and stored.data == {"lead": "王芳"}


def test_a_history_row_holds_the_record_as_it_was_saved(workspace, admin):
    account = services.create_account(workspace=workspace, by=admin.user, name="远景贸易",
                                      industry="Retail")  # fmt: skip
    services.update_account(account=account, by=admin.user, expected_version=account.version,
                            name="远景科技")  # fmt: skip
    account.refresh_from_db()
    row = account.history.order_by("-history_date", "-history_id").first()
    assert row.history_type == "~"
    assert row.history_user_id is None  # outside a request nobody is known (the library's way)
    copied = {f.attname for f in Account.history.model._meta.concrete_fields}
    for field in Account._meta.concrete_fields:
        if field.attname in copied:  # all but the columns history leaves out
            assert getattr(row, field.attname) == getattr(account, field.attname), field.name


def test_listeners_of_the_history_signals_get_the_library_path(workspace, admin):
    seen = []

    def listener(sender, history_instance, **kwargs):
        seen.append(history_instance)

    pre_create_historical_record.connect(listener, sender=Account.history.model)
    try:
        account = services.create_account(workspace=workspace, by=admin.user, name="远景")
    finally:
        pre_create_historical_record.disconnect(listener, sender=Account.history.model)
    assert [row.name for row in seen] == ["远景"]
    assert account.history.count() == 1


def test_with_signals_the_save_signals_are_sent_and_history_written(workspace):
    from django.db.models.signals import post_save, pre_save

    from guanxi.platform.ids import new_public_id
    from guanxi.sales.models import Lead

    sent = []

    def pre(sender, instance, **kwargs):
        sent.append(("pre", instance.pk))

    def post(sender, instance, created, **kwargs):
        sent.append(("post", created, instance.pk))

    lead = Lead(workspace=workspace, source="web", family_name="王", given_name="芳",
                display_name="王芳", public_id=new_public_id(Lead.public_id_prefix))  # fmt: skip
    pre_save.connect(pre, sender=Lead)
    post_save.connect(post, sender=Lead)
    try:
        rowinsert.insert(lead, signals=True)
    finally:
        pre_save.disconnect(pre, sender=Lead)
        post_save.disconnect(post, sender=Lead)
    assert sent == [("pre", None), ("post", True, lead.pk)]
    history = list(Lead.history.filter(id=lead.pk).values_list("history_type", "display_name"))
    assert history == [("+", "王芳")]
    stored = Lead.objects.for_workspace(workspace).get(pk=lead.pk)
    assert stored.created_at is not None and stored.status == Lead.Status.NEW


def test_a_history_row_names_the_user_of_the_request(workspace, admin):
    account = services.create_account(workspace=workspace, by=admin.user, name="远景贸易")
    account._history_user = admin.user  # as the history middleware gives it in a request
    account.name = "远景科技"
    account.save()
    row = account.history.order_by("-history_date", "-history_id").first()
    assert (row.history_type, row.history_user_id, row.name) == ("~", admin.user.pk, "远景科技")


def test_wide_single_row_statements_are_parsed_once():
    queries = pytest.importorskip("psycopg._queries")
    assert queries.MAX_CACHED_STATEMENT_PARAMS >= 200
    lead_columns = len(rowinsert.columns(Lead.history.model))
    assert 50 < lead_columns <= queries.MAX_CACHED_STATEMENT_PARAMS

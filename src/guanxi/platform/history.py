"""Field history (django-simple-history) as every model here declares it.

``HistoricalRecords`` is the library's, with a history manager whose class is built once:
the library builds a new manager class (``Manager.from_queryset``, which inspects every
method of the queryset class) each time ``instance.history`` or ``Model.history`` is read —
and it reads it itself for every history row it writes. On a web form's request that
saves a lead and updates its history row, that was ~0.7 ms of ~9 ms.

A history table is read by the record it belongs to (its ``id``, newest first) and by
nothing else, so that is the only copied column indexed (with the library's own indexes on
``history_date`` and ``history_user``). The library indexes every copied foreign key and
unique column too — twelve more index entries per history row on a lead, each written with
every change and every imported row, and never read.

A history row is written by a statement built once per model (``guanxi.platform.rowinsert``)
from the record's values, without an instance of the historical model — unless someone
listens to the library's signals about history rows, which need that instance.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.utils import timezone
from simple_history.manager import HistoricalQuerySet, HistoryManager
from simple_history.models import HistoricalRecords as _HistoricalRecords
from simple_history.signals import post_create_historical_record, pre_create_historical_record

from guanxi.platform import rowinsert


class BuiltOnceHistoryManager(HistoryManager):
    """The library's manager; the class combining it with a queryset class is made once."""

    @classmethod
    def from_queryset(cls, queryset_class: type, class_name: str | None = None) -> type:
        return _combined(cls, queryset_class, class_name)


@cache
def _combined(manager: type, queryset_class: type, class_name: str | None) -> type:
    return super(BuiltOnceHistoryManager, manager).from_queryset(queryset_class, class_name)


class HistoricalRecords(_HistoricalRecords):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("history_manager", BuiltOnceHistoryManager)
        kwargs.setdefault("historical_queryset", HistoricalQuerySet)
        super().__init__(*args, **kwargs)

    def copy_fields(self, model: type) -> dict[str, Any]:
        fields = super().copy_fields(model)
        for name, field in fields.items():
            if name != model._meta.pk.name:  # the record's id: its history is read by it
                field.db_index = False
        return fields

    def create_historical_record(self, instance: Any, history_type: str, using: Any = None) -> None:
        model = getattr(instance, self.manager_name).model
        if (
            self.m2m_fields
            or getattr(model, "history_relation", None) is not None
            or pre_create_historical_record.has_listeners(model)
            or post_create_historical_record.has_listeners(model)
        ):
            super().create_historical_record(instance, history_type, using)
            return
        using = using if self.use_base_model_db else None
        values = {f.attname: getattr(instance, f.attname) for f in self.fields_included(instance)}
        user = self.get_history_user(instance)
        values.update(
            history_date=getattr(instance, "_history_date", None) or timezone.now(),
            history_change_reason=self.get_change_reason_for_object(instance, history_type, using),
            history_type=history_type,
            history_user_id=getattr(user, "pk", None),
        )
        if len(values) != len(rowinsert.columns(model)):  # columns of the library's own
            super().create_historical_record(instance, history_type, using)
            return
        rowinsert.insert_values(model, values, using=using)

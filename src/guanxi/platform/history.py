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
"""

from __future__ import annotations

from functools import cache
from typing import Any

from simple_history.manager import HistoricalQuerySet, HistoryManager
from simple_history.models import HistoricalRecords as _HistoricalRecords


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

"""One new row, inserted by a statement built once per model and set of columns.

``Model.save()`` compiles its INSERT anew on every call: the compiler quotes each column,
asks each field how to place its value and assembles the SQL — for a lead's sixty columns
more time than the database takes to insert the row. For rows written on every request
(a web form's lead, its history row, an audit event, a notification) ``insert`` does what
``save()`` does for a new row — related objects checked, each field's ``pre_save`` for
defaults such as ``auto_now_add``, its ``get_db_prep_save``, the primary key read back,
``pre_save``/``post_save`` sent when asked (field history listens to ``post_save``) — with
the SQL text kept per model. It does not call the model's own ``save()``: callers set what
that would (a public id). ``insert_values`` takes the values as a dict instead of an
instance. Queries go through Django's cursor, so they are counted, logged and wrapped like
any other.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model
from django.db.models.signals import post_save, pre_save


@cache
def _fields(model: type[Model]) -> dict[str, Field]:
    """Concrete fields by attribute name."""
    return {f.attname: f for f in model._meta.concrete_fields}


@cache
def columns(model: type[Model]) -> tuple[str, ...]:
    """The attribute names a new row is written with: all but an automatic primary key."""
    auto = model._meta.auto_field
    return tuple(f.attname for f in model._meta.concrete_fields if f is not auto)


@cache
def _statement(model: type[Model], alias: str, attnames: tuple[str, ...]) -> tuple[str, list]:
    connection = connections[alias]
    quote, meta = connection.ops.quote_name, model._meta
    fields = [_fields(model)[name] for name in attnames]
    sql = (
        f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})"
    )
    if connection.features.can_return_columns_from_insert:
        sql += f" RETURNING {quote(meta.db_table)}.{quote(meta.pk.column)}"
    return sql, fields


def insert_values(model: type[Model], values: dict[str, Any], *, using: str | None = None) -> Any:
    """Insert one row of ``model`` from ``values`` (attribute name -> Python value: every
    concrete column but an automatic primary key); returns the new primary key."""
    alias = using or router.db_for_write(model)
    connection = connections[alias]
    sql, fields = _statement(model, alias, tuple(values))
    params = [field.get_db_prep_save(values[field.attname], connection) for field in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        if connection.features.can_return_columns_from_insert:
            return cursor.fetchone()[0]
        return connection.ops.last_insert_id(cursor, model._meta.db_table, model._meta.pk.column)


def insert(obj: Model, *, using: str | None = None, signals: bool = False) -> Model:
    """Insert a new instance as ``save()`` would; the instance gets its primary key and is
    marked saved. With ``signals``, ``pre_save`` and ``post_save`` are sent as ``save()``
    sends them (field history listens to ``post_save``); a model's own ``save()`` is not
    called."""
    model = type(obj)
    if obj.pk is not None and model._meta.auto_field is not None:
        raise ValueError("rowinsert.insert writes new rows: this one has a primary key")
    alias = using or router.db_for_write(model)
    obj._prepare_related_fields_for_save(operation_name="save")
    if signals:
        pre_save.send(sender=model, instance=obj, raw=False, using=alias, update_fields=None)
    fields = _fields(model)
    values = {name: fields[name].pre_save(obj, True) for name in columns(model)}
    setattr(obj, model._meta.pk.attname, insert_values(model, values, using=alias))
    obj._state.adding, obj._state.db = False, alias
    if signals:
        post_save.send(sender=model, instance=obj, created=True, update_fields=None, raw=False,
                       using=alias)  # fmt: skip
    return obj
